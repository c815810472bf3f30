// /api/v1/users: registration and the signed-in user's own profile.
import { Hono } from "hono";
import { authenticate } from "../auth/authenticate";
import { database } from "../db/client";
import type { AppEnv } from "../env";
import { parseBody } from "../http/body";
import { clientIp } from "../http/client-info";
import { ApiError, tooManyRequests } from "../http/errors";
import { takeHourlySlot } from "../throttle/login-guard";
import { hashPassword } from "../passwords/hash";
import { authorityFor } from "../sessions/authority-client";
import { registerBody, updateProfileBody } from "./schemas";
import { insertUser, updateUserProfile } from "./user-store";
import { toPublicUser } from "./user-view";

export const userRoutes = new Hono<AppEnv>();

userRoutes.post("/", async (c) => {
  const input = parseBody(c, registerBody);
  // Each registration costs a password hash (~70 ms of CPU): limited per client IP, exactly.
  const slot = await takeHourlySlot(c.env.LOGIN_THROTTLE, clientIp(c.req.raw), c.get("config").registrationMaxPerHour);
  if (!slot.allowed) throw tooManyRequests("too_many_attempts", slot.retryAfterSeconds);
  const passwordHash = await hashPassword(input.password, { pepper: c.get("config").passwordPepper });
  const result = await insertUser(database(c.env.DB), {
    email: input.email,
    username: input.username ?? null,
    name: input.name ?? null,
    passwordHash,
    emailVerified: false,
  });
  if (result === "email_taken") throw new ApiError("email_taken", "An account with this email already exists");
  if (result === "username_taken") throw new ApiError("username_taken", "This username is taken");
  return c.json(toPublicUser(result), 201);
});

userRoutes.get("/me", authenticate({ apiKey: { resource: "user_profile", action: "read" } }), (c) =>
  c.json(c.get("principal").user),
);

userRoutes.patch("/me", authenticate({ apiKey: { resource: "user_profile", action: "update" } }), async (c) => {
  const changes = parseBody(c, updateProfileBody);
  const principal = c.get("principal");
  const result = await updateUserProfile(database(c.env.DB), principal.userId, changes);
  if (result === "username_taken") throw new ApiError("username_taken", "This username is taken");
  if (result === null || result === "email_taken") throw new ApiError("not_found", "User not found");
  const user = toPublicUser(result, principal.user.oauth_providers);
  // Cached sessions carry a copy of the user; refresh them so reads see the change.
  await authorityFor(c.env.USER_AUTHORITY, user.id).updateUser(user);
  return c.json(user);
});
