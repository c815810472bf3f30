// /api/v1/admin: user management and the audit log. Every route is guarded by admin()
// (a superuser at aal 2, fresh for writes, or a superuser's key with the admin
// permission); the work is in admin/admin-service.ts and admin/admin-writes.ts.
import { type Context, Hono } from "hono";
import { decodeCursor, encodeCursor, listAuditEvents, signInsPerDay } from "../admin/admin-store";
import { createUser, getUser, listUsers, userSessions } from "../admin/admin-service";
import {
  clearThrottle,
  deleteUser,
  resetFactors,
  revokeUserSession,
  revokeUserSessions,
  sendPasswordReset,
  updateUser,
} from "../admin/admin-writes";
import { auditQuery, createUserBody, statsQuery, throttleClearBody, updateUserBody, userListQuery } from "../admin/schemas";
import { keyUsage } from "../api-keys/key-service";
import { findUserKey, listUserKeys } from "../api-keys/key-store";
import { toKeyView } from "../api-keys/key-view";
import { listQuery, usageQuery } from "../api-keys/schemas";
import { admin } from "../auth/admin-guard";
import type { AppEnv } from "../auth/app-env";
import { parseBody, parseQuery } from "../http/body";
import { ApiError, queryValidationError } from "../http/errors";
import { sessionListItem } from "../auth/session-view";

export const adminRoutes = new Hono<AppEnv>();

const READ = admin({ resource: "admin_users", action: "read" });
const AUDIT = admin({ resource: "admin_audit", action: "read" });
const WRITE = admin({ resource: "admin_users", action: "write" });

const actor = (c: Context<AppEnv>) => ({ id: c.get("principal").userId });

function cursorOf(text: string | undefined, path: string) {
  if (text === undefined) return null;
  const cursor = decodeCursor(text);
  if (cursor === null) throw queryValidationError([{ path, message: "Not a cursor this service gave" }]);
  return cursor;
}

adminRoutes.get("/users", READ, async (c) => {
  const query = parseQuery(c, userListQuery);
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

adminRoutes.get("/events", AUDIT, async (c) => {
  const query = parseQuery(c, auditQuery);
  const page = await listAuditEvents(c.get("services").db, {
    userId: query.user_id,
    type: query.type,
    limit: query.limit,
    cursor: cursorOf(query.before, "before"),
  });
  return c.json({ items: page.items, next_cursor: page.next === null ? null : encodeCursor(page.next) });
});

// Additions to the contract, for the console: a user's API keys and a key's usage (as
// the owner sees them), and sign-ins per day across users.
adminRoutes.get("/users/:id/api-keys", READ, async (c) => {
  const page = parseQuery(c, listQuery);
  const result = await listUserKeys(c.get("services").db, c.req.param("id"), page);
  return c.json({ items: result.items.map((row) => toKeyView(row)), total: result.total });
});

adminRoutes.get("/users/:id/api-keys/:key_id/usage", READ, async (c) => {
  const { days } = parseQuery(c, usageQuery);
  const row = await findUserKey(c.get("services").db, c.req.param("id"), c.req.param("key_id"));
  if (row === null) throw new ApiError("not_found", "Not found");
  return c.json(await keyUsage(c.get("services"), row.id, days));
});

adminRoutes.get("/stats/sign-ins", AUDIT, async (c) => {
  const { days } = parseQuery(c, statsQuery);
  return c.json({ days, items: await signInsPerDay(c.get("services").d1, days) });
});
