// /api/v1/api-keys: key management for the signed-in user (never for a key), and
// verification for other services that accept this service's keys.
import { isAdminResource } from "../api-keys/permissions";
import { fresh, isFresh, reauthenticationRequired } from "../auth/fresh";
import { type Context, Hono } from "hono";
import { authenticate, setRateLimitHeaders, userPrincipal } from "../auth/authenticate";
import type { AppEnv } from "../auth/app-env";
import { recordEvent } from "../events/record-event";
import { parseBody, parseQuery } from "../http/body";
import { ApiError, tooManyRequests } from "../http/errors";
import type { KeyChanges } from "../api-keys/authority/api-key-authority";
import { createKey, keyUsage, revokeKey, updateKey } from "../api-keys/key-service";
import { findUserKey, listUserKeys } from "../api-keys/key-store";
import { toKeyView } from "../api-keys/key-view";
import { verifyKeyAnswer } from "../auth/verify-key";
import { takeDecided } from "../http/handover";
import { createKeyBody, keyInputOf, listQuery, updateKeyBody, usageQuery, verifyKeyBody } from "../api-keys/schemas";

export const apiKeyRoutes = new Hono<AppEnv>();

function notFound(): ApiError {
  return new ApiError("not_found", "API key not found");
}

/** Other services check a key here; the call counts against the key's rate limit. */
apiKeyRoutes.post("/verify", async (c) => {
  const input = parseBody(c, verifyKeyBody);
  const check = input.resource === undefined || input.action === undefined ? undefined : { resource: input.resource, action: input.action };
  const use = { endpoint: c.req.routePath, method: c.req.method, ip: c.get("services").ip };
  // A verdict a direct answer already reached (auth/direct-answers.ts) is not reached twice.
  const handed = takeDecided(c.req.raw, "key_verdict");
  const verdict = handed !== undefined ? handed.value : await verifyKeyAnswer(c.get("services"), input.api_key, use, check);
  if (verdict.valid) {
    setRateLimitHeaders(c, verdict.ratelimit);
    return c.json(verdict);
  }
  if (verdict.code === "invalid_api_key") return c.json(verdict);
  setRateLimitHeaders(c, verdict.ratelimit);
  throw tooManyRequests("rate_limited", verdict.retry_after, { valid: false, ratelimit: verdict.ratelimit });
});

// Each management route authenticates itself (not a `use("*")`), so a method a path
// does not have is 405 before any credential is asked for.
apiKeyRoutes.post("/", authenticate(), fresh(), async (c) => {
  const input = parseBody(c, createKeyBody);
  const key = keyInputOf(input);
  const { userId, session } = userPrincipal(c);
  mayGrant(c, input.permissions);
  const result = await createKey(c.get("services"), { userId, sessionId: session.id }, key);
  if (result.status === "too_many") {
    throw new ApiError("invalid_input", "Too many active API keys; revoke one first");
  }
  if (result.status === "gone") throw new ApiError("not_authenticated", "Not authenticated");
  await recordEvent(c.get("services").d1, {
    userId,
    type: "api_key_created",
    client: c.get("services").client,
    detail: { key_id: result.row.id, name: result.row.name },
  });
  return c.json({ ...toKeyView(result.row), api_key: result.key }, 201);
});

apiKeyRoutes.get("/", authenticate(), async (c) => {
  const page = parseQuery(c, listQuery);
  const { items, total } = await listUserKeys(c.get("services").db, userPrincipal(c).userId, page);
  return c.json({ items: items.map((row) => toKeyView(row)), total });
});

apiKeyRoutes.get("/:id", authenticate(), async (c) => {
  const row = await findUserKey(c.get("services").db, userPrincipal(c).userId, c.req.param("id"));
  if (row === null) throw notFound();
  return c.json(toKeyView(row));
});

apiKeyRoutes.patch("/:id", authenticate(), async (c) => {
  const input = parseBody(c, updateKeyBody);
  const changes: KeyChanges = {};
  if (input.name !== undefined) changes.name = input.name;
  if (input.permissions !== undefined) {
    // New permissions are a new grant: fresh, as creating a key is.
    const { session, userId } = userPrincipal(c);
    if (!isFresh(c.get("services"), session.assurance)) throw await reauthenticationRequired(c.get("services"), userId);
    mayGrant(c, input.permissions);
    changes.permissions = input.permissions;
  }
  if (input.rate_limits?.requests_per_minute !== undefined) changes.requestsPerMinute = input.rate_limits.requests_per_minute;
  if (input.rate_limits?.requests_per_day !== undefined) changes.requestsPerDay = input.rate_limits.requests_per_day;
  if (input.expires_at !== undefined) changes.expiresAt = input.expires_at === null ? null : Date.parse(input.expires_at);
  const result = await updateKey(c.get("services"), userPrincipal(c).userId, c.req.param("id"), changes);
  if (result.status === "not_found") throw notFound();
  if (result.status === "revoked") {
    throw new ApiError("invalid_input", "This API key is revoked and cannot change");
  }
  if (result.status === "expiry_later") {
    throw new ApiError("invalid_input", "expires_at can only move earlier", {
      errors: [{ path: "expires_at", message: "Can only move earlier" }],
    });
  }
  return c.json(toKeyView(result.row));
});

apiKeyRoutes.delete("/:id", authenticate(), async (c) => {
  const { userId } = userPrincipal(c);
  const before = await findUserKey(c.get("services").db, userId, c.req.param("id"));
  const row = await revokeKey(c.get("services"), userId, c.req.param("id"));
  if (row === null) throw notFound();
  if (before?.revokedAt === null) {
    await recordEvent(c.get("services").d1, {
      userId,
      type: "api_key_revoked",
      client: c.get("services").client,
      detail: { key_id: row.id, name: row.name },
    });
  }
  return c.body(null, 204);
});

apiKeyRoutes.get("/:id/usage", authenticate(), async (c) => {
  const { days } = parseQuery(c, usageQuery);
  const row = await findUserKey(c.get("services").db, userPrincipal(c).userId, c.req.param("id"));
  if (row === null) throw notFound();
  return c.json(await keyUsage(c.get("services"), row.id, days));
});

/**
 * admin_users / admin_audit are granted only by a session that may use the admin routes
 * itself: a superuser's, at aal 2 unless ADMIN_REQUIRE_MFA=false. A key never reaches
 * further than the session that made it.
 */
function mayGrant(c: Context<AppEnv>, permissions: Record<string, string[]>): void {
  if (!Object.keys(permissions).some(isAdminResource)) return;
  const { user, session } = userPrincipal(c);
  if (!user.is_superuser) throw new ApiError("forbidden", "Only an administrator's keys can hold admin permissions");
  if (c.get("services").config.admin.requireMfa && session.assurance.aal !== 2) {
    throw new ApiError("forbidden", "Admin permissions are granted only from a session signed in with a second factor (aal 2)");
  }
}
