// /api/v1/api-keys: key management for the signed-in user (never for a key), and
// verification for other services that accept this service's keys.
import { type Context, Hono } from "hono";
import { authenticate, setRateLimitHeaders, userPrincipal } from "../auth/authenticate";
import { database } from "../db/client";
import type { AppEnv } from "../env";
import { recordEvent } from "../events/record-event";
import { parseBody, parseInput } from "../http/body";
import { clientInfo, clientIp } from "../http/client-info";
import { ApiError, tooManyRequests } from "../http/errors";
import type { KeyChanges } from "./api-key-authority";
import { type KeyDeps, createKey, revokeKey, updateKey, useKey } from "./key-service";
import { findUserKey, listUserKeys, usageReport } from "./key-store";
import { toKeyView } from "./key-view";
import { hasPermission } from "./permissions";
import { createKeyBody, listQuery, updateKeyBody, usageQuery, verifyKeyBody } from "./schemas";

export const apiKeyRoutes = new Hono<AppEnv>();

function keyDeps(c: Context<AppEnv>): KeyDeps {
  return { db: database(c.env.DB), config: c.get("config"), keys: c.env.API_KEYS, authority: c.env.USER_AUTHORITY };
}

function notFound(): ApiError {
  return new ApiError("not_found", "API key not found");
}

/** Other services check a key here; the call counts against the key's rate limit. */
apiKeyRoutes.post("/verify", async (c) => {
  const input = parseBody(c, verifyKeyBody);
  const result = await useKey(keyDeps(c), input.api_key, {
    endpoint: c.req.routePath,
    method: c.req.method,
    ip: clientIp(c.req.raw),
  });
  if (result.status === "invalid") return c.json({ valid: false, code: "invalid_api_key" });
  setRateLimitHeaders(c, result.rateLimit);
  const ratelimit = result.rateLimit;
  if (result.status === "limited") {
    const error = tooManyRequests("rate_limited", result.retryAfterSeconds);
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return c.json({ ...error.toJSON(), valid: false, ratelimit }, 429);
  }
  const answer = {
    valid: true,
    key_id: result.key.id,
    user_id: result.key.userId,
    permissions: result.key.permissions,
    ratelimit,
  };
  if (input.resource === undefined || input.action === undefined) return c.json(answer);
  return c.json({ ...answer, allowed: hasPermission(result.key.permissions, input.resource, input.action) });
});

// Each management route authenticates itself (not a `use("*")`), so a method a path
// does not have is 405 before any credential is asked for.
apiKeyRoutes.post("/", authenticate(), async (c) => {
  const input = parseBody(c, createKeyBody);
  if (input.expires_at != null && Date.parse(input.expires_at) <= Date.now()) {
    throw new ApiError("invalid_request", "expires_at must be in the future", {
      status: 422,
      errors: [{ path: "expires_at", message: "Must be in the future" }],
    });
  }
  const { userId } = userPrincipal(c);
  const result = await createKey(keyDeps(c), userId, {
    name: input.name,
    permissions: input.permissions,
    rateLimits: {
      requestsPerMinute: input.rate_limits?.requests_per_minute ?? null,
      requestsPerDay: input.rate_limits?.requests_per_day ?? null,
    },
    expiresAt: input.expires_at == null ? null : new Date(input.expires_at).toISOString(),
  });
  if (result.status === "too_many") {
    throw new ApiError("invalid_request", "Too many active API keys; revoke one first", { status: 422 });
  }
  if (result.status === "gone") throw new ApiError("not_authenticated", "Not authenticated");
  await recordEvent(database(c.env.DB), {
    userId,
    type: "api_key_created",
    client: clientInfo(c.req.raw),
    detail: { key_id: result.row.id, name: result.row.name },
  });
  return c.json({ ...toKeyView(result.row), api_key: result.key }, 201);
});

apiKeyRoutes.get("/", authenticate(), async (c) => {
  const page = parseInput(listQuery, c.req.query());
  const { items, total } = await listUserKeys(database(c.env.DB), userPrincipal(c).userId, page);
  return c.json({ items: items.map((row) => toKeyView(row)), total });
});

apiKeyRoutes.get("/:id", authenticate(), async (c) => {
  const row = await findUserKey(database(c.env.DB), userPrincipal(c).userId, c.req.param("id"));
  if (row === null) throw notFound();
  return c.json(toKeyView(row));
});

apiKeyRoutes.patch("/:id", authenticate(), async (c) => {
  const input = parseBody(c, updateKeyBody);
  const changes: KeyChanges = {};
  if (input.name !== undefined) changes.name = input.name;
  if (input.permissions !== undefined) changes.permissions = input.permissions;
  if (input.rate_limits?.requests_per_minute !== undefined) changes.requestsPerMinute = input.rate_limits.requests_per_minute;
  if (input.rate_limits?.requests_per_day !== undefined) changes.requestsPerDay = input.rate_limits.requests_per_day;
  if (input.expires_at !== undefined) changes.expiresAt = input.expires_at === null ? null : Date.parse(input.expires_at);
  const result = await updateKey(keyDeps(c), userPrincipal(c).userId, c.req.param("id"), changes);
  if (result.status === "not_found") throw notFound();
  if (result.status === "revoked") {
    throw new ApiError("invalid_request", "This API key is revoked and cannot change", { status: 422 });
  }
  if (result.status === "expiry_later") {
    throw new ApiError("invalid_request", "expires_at can only move earlier", {
      status: 422,
      errors: [{ path: "expires_at", message: "Can only move earlier" }],
    });
  }
  return c.json(toKeyView(result.row));
});

apiKeyRoutes.delete("/:id", authenticate(), async (c) => {
  const { userId } = userPrincipal(c);
  const before = await findUserKey(database(c.env.DB), userId, c.req.param("id"));
  const row = await revokeKey(keyDeps(c), userId, c.req.param("id"));
  if (row === null) throw notFound();
  if (before?.revokedAt === null) {
    await recordEvent(database(c.env.DB), {
      userId,
      type: "api_key_revoked",
      client: clientInfo(c.req.raw),
      detail: { key_id: row.id, name: row.name },
    });
  }
  return c.body(null, 204);
});

apiKeyRoutes.get("/:id/usage", authenticate(), async (c) => {
  const { days } = parseInput(usageQuery, c.req.query());
  const row = await findUserKey(database(c.env.DB), userPrincipal(c).userId, c.req.param("id"));
  if (row === null) throw notFound();
  // Usage waits in the key's Durable Object for a batch; send it now so the report is exact.
  await c.env.API_KEYS.getByName(row.id).flushUsage();
  return c.json(await usageReport(c.env.DB, row.id, days));
});
