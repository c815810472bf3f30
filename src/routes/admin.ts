// /api/v1/admin: user management and the audit log. Every route is guarded by admin()
// (a superuser at aal 2, fresh for writes, or a superuser's key with the admin
// permission); the work is in admin/admin-service.ts.
import { type Context, Hono } from "hono";
import { decodeCursor, encodeCursor, listAuditEvents } from "../admin/admin-store";
import {
  clearThrottle,
  createUser,
  deleteUser,
  getUser,
  listUsers,
  resetFactors,
  revokeUserSession,
  revokeUserSessions,
  sendPasswordReset,
  updateUser,
  userSessions,
} from "../admin/admin-service";
import { auditQuery, createUserBody, throttleClearBody, updateUserBody, userListQuery } from "../admin/schemas";
import { admin } from "../auth/admin-guard";
import type { AppEnv } from "../auth/app-env";
import { parseBody, parseInput } from "../http/body";
import { validationError } from "../http/errors";
import { sessionListItem } from "./session-view";

export const adminRoutes = new Hono<AppEnv>();

const READ = admin({ resource: "admin_users", action: "read" });
const WRITE = admin({ resource: "admin_users", action: "write" });

const actor = (c: Context<AppEnv>) => ({ id: c.get("principal").userId });

function cursorOf(text: string | undefined, path: string) {
  if (text === undefined) return null;
  const cursor = decodeCursor(text);
  if (cursor === null) throw validationError([{ path, message: "Not a cursor this service gave" }]);
  return cursor;
}

adminRoutes.get("/users", READ, async (c) => {
  const query = parseInput(userListQuery, c.req.query());
  const page = await listUsers(c.get("services"), { query: query.query, limit: query.limit, cursor: cursorOf(query.cursor, "cursor") });
  return c.json({ items: page.items, next_cursor: page.next === null ? null : encodeCursor(page.next) });
});

adminRoutes.post("/users", WRITE, async (c) => {
  const input = parseBody(c, createUserBody);
  return c.json(await createUser(c.get("services"), actor(c), input), 201);
});

adminRoutes.get("/users/:id", READ, async (c) => c.json(await getUser(c.get("services"), c.req.param("id"))));

adminRoutes.patch("/users/:id", WRITE, async (c) => {
  const input = parseBody(c, updateUserBody);
  return c.json(await updateUser(c.get("services"), actor(c), c.req.param("id"), input));
});

adminRoutes.delete("/users/:id", WRITE, async (c) => {
  await deleteUser(c.get("services"), actor(c), c.req.param("id"));
  return c.body(null, 204);
});

adminRoutes.get("/users/:id/sessions", READ, async (c) => {
  const sessions = await userSessions(c.get("services"), c.req.param("id"));
  return c.json({ sessions: sessions.map((session) => sessionListItem(session, null)) });
});

adminRoutes.delete("/users/:id/sessions", WRITE, async (c) =>
  c.json({ revoked: await revokeUserSessions(c.get("services"), actor(c), c.req.param("id")) }),
);

adminRoutes.delete("/users/:id/sessions/:session_id", WRITE, async (c) => {
  await revokeUserSession(c.get("services"), actor(c), c.req.param("id"), c.req.param("session_id"));
  return c.body(null, 204);
});

adminRoutes.post("/users/:id/password-reset", WRITE, async (c) => {
  await sendPasswordReset(c.get("services"), actor(c), c.req.param("id"));
  return c.json({ detail: "A reset link is on its way" }, 202);
});

adminRoutes.delete("/users/:id/mfa", WRITE, async (c) => {
  await resetFactors(c.get("services"), actor(c), c.req.param("id"));
  return c.body(null, 204);
});

adminRoutes.post("/throttle/clear", WRITE, async (c) => {
  await clearThrottle(c.get("services"), actor(c), parseBody(c, throttleClearBody));
  return c.json({ detail: "Login throttling cleared" });
});

adminRoutes.get("/events", admin({ resource: "admin_audit", action: "read" }), async (c) => {
  const query = parseInput(auditQuery, c.req.query());
  const page = await listAuditEvents(c.get("services").db, {
    userId: query.user_id,
    type: query.type,
    limit: query.limit,
    cursor: cursorOf(query.before, "before"),
  });
  return c.json({ items: page.items, next_cursor: page.next === null ? null : encodeCursor(page.next) });
});
