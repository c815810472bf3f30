// /api/v1/users: registration and the signed-in user's own profile.
import { turnstile } from "../auth/turnstile-guard";
import { Hono } from "hono";
import { updateProfile } from "../account/profile";
import { register } from "../account/registration";
import type { AppEnv } from "../auth/app-env";
import { PROFILE_READ } from "../api-keys/grants";
import { authenticate } from "../auth/authenticate";
import { parseBody } from "../http/body";
import { registerBody, updateProfileBody } from "../users/schemas";

export const userRoutes = new Hono<AppEnv>();

userRoutes.post("/", turnstile("register"), async (c) => c.json(await register(c.get("services"), parseBody(c, registerBody)), 201));

userRoutes.get("/me", authenticate({ apiKey: PROFILE_READ }), (c) => c.json(c.get("principal").user));

userRoutes.patch("/me", authenticate({ apiKey: { resource: "user_profile", action: "update" } }), async (c) => {
  const changes = parseBody(c, updateProfileBody);
  return c.json(await updateProfile(c.get("services"), c.get("principal").user, changes));
});
