// /api/v1/orgs/{org}/api-keys: an organization's API keys, managed by anyone holding
// api_keys:manage in it (creating one needs a fresh session). A key acts for the
// organization: its permissions are within its maker's role when made, it counts against
// the organization (MAX_ORG_KEYS), and it is erased when the organization is deleted.
import { type Context, Hono } from "hono";
import type { AppEnv } from "../auth/app-env";
import { authenticate, userPrincipal } from "../auth/authenticate";
import { fresh, isFresh, reauthenticationRequired } from "../auth/fresh";
import { recordEvent } from "../events/record-event";
import { parseBody, parseQuery } from "../http/body";
import { ApiError } from "../http/errors";
import type { KeyChanges } from "../api-keys/authority/api-key-authority";
import { type KeyHolder, keyUsage, mintKey, toRecord, userKeyHolder } from "../api-keys/key-service";
import { findOrgKey, listOrgKeys, updateKeyRow, writeKeyRecord } from "../api-keys/key-store";
import { toKeyView } from "../api-keys/key-view";
import { createKeyBody, keyInputOf, listQuery, updateKeyBody, usageQuery } from "../api-keys/schemas";
import { actorOf, orgOf, settled } from "../orgs/org-service";
import { authorityFor } from "../sessions/authority-client";

export const orgKeyRoutes = new Hono<AppEnv>();

function notFound(): ApiError {
  return new ApiError("not_found", "API key not found");
}

/** The organization, with the caller's right to manage its keys checked there (and, with `permissions`, to give them). */
async function managed(c: Context<AppEnv>, permissions?: Record<string, string[]>) {
  const services = c.get("services");
  const org = await orgOf(services, c.req.param("org") ?? "");
  const actor = actorOf(services, userPrincipal(c).userId);
  settled(await org.stub.keyAccess(actor, permissions));
  return { ...org, actor };
}

orgKeyRoutes.post("/", authenticate(), fresh(), async (c) => {
  const input = parseBody(c, createKeyBody);
  const key = keyInputOf(input);
  const services = c.get("services");
  const { userId, session } = userPrincipal(c);
  const org = await orgOf(services, c.req.param("org") ?? "");
  const actor = actorOf(services, userId);
  // Held by both: the maker's authority (their session stands, the account is neither
  // disabled nor deleted, and a proof of the address ends it like every key they made),
  // and the organization's, which checks the maker's role and the key's permissions in
  // the same step as it reserves the id, and ends it with the organization.
  const maker = userKeyHolder(services, { userId, sessionId: session.id });
  const holder: KeyHolder = {
    async reserve(id) {
      const reserved = await maker.reserve(id);
      if (reserved !== "reserved") return reserved;
      let reservation: Awaited<ReturnType<KeyHolder["reserve"]>> = "gone";
      try {
        reservation = settled(await org.stub.reserveKey(actor, id, input.permissions)).reservation;
        return reservation;
      } finally {
        if (reservation !== "reserved") await maker.release(id);
      }
    },
    release: async (id) => {
      await Promise.all([maker.release(id), org.stub.releaseKey(id)]);
    },
    holds: async (id) => (await maker.holds(id)) && (await org.stub.holdsKey(id)),
  };
  const result = await mintKey(services, { userId, orgId: org.id }, key, holder);
  if (result.status === "too_many") throw new ApiError("invalid_input", "Too many active API keys in this organization; revoke one first");
  if (result.status === "gone") throw new ApiError("org_not_found", "Organization not found");
  await recordEvent(services.d1, {
    userId,
    type: "api_key_created",
    client: services.client,
    detail: { key_id: result.row.id, name: result.row.name, org_id: org.id },
  });
  return c.json({ ...toKeyView(result.row), api_key: result.key }, 201);
});

orgKeyRoutes.get("/", authenticate(), async (c) => {
  const page = parseQuery(c, listQuery);
  const { id } = await managed(c);
  const { items, total } = await listOrgKeys(c.get("services").db, id, page);
  return c.json({ items: items.map((row) => toKeyView(row)), total });
});

orgKeyRoutes.get("/:id", authenticate(), async (c) => {
  const { id } = await managed(c);
  const row = await findOrgKey(c.get("services").db, id, c.req.param("id"));
  if (row === null) throw notFound();
  return c.json(toKeyView(row));
});

orgKeyRoutes.patch("/:id", authenticate(), async (c) => {
  const input = parseBody(c, updateKeyBody);
  const services = c.get("services");
  if (input.permissions !== undefined) {
    // New permissions are a new grant: fresh, as creating a key is, and within the caller's role.
    const { session, userId } = userPrincipal(c);
    if (!isFresh(services, session.assurance)) throw await reauthenticationRequired(services, userId);
  }
  const org = await managed(c, input.permissions);
  const orgId = org.id;
  const row = await findOrgKey(services.db, orgId, c.req.param("id"));
  if (row === null) throw notFound();
  if (row.revokedAt !== null) throw new ApiError("invalid_input", "This API key is revoked and cannot change");
  const changes: KeyChanges = {};
  if (input.name !== undefined) changes.name = input.name;
  if (input.permissions !== undefined) changes.permissions = input.permissions;
  if (input.rate_limits?.requests_per_minute !== undefined) changes.requestsPerMinute = input.rate_limits.requests_per_minute;
  if (input.rate_limits?.requests_per_day !== undefined) changes.requestsPerDay = input.rate_limits.requests_per_day;
  if (input.expires_at !== undefined) changes.expiresAt = input.expires_at === null ? null : Date.parse(input.expires_at);
  // At the organization's authority, in its queue: the caller's standing and the change in one step.
  const result = settled(await org.stub.changeKey(org.actor, row.id, changes, toRecord(row))).update;
  if (result.status === "not_found") throw notFound();
  if (result.status === "revoked") throw new ApiError("invalid_input", "This API key is revoked and cannot change");
  if (result.status === "expiry_later") {
    throw new ApiError("invalid_input", "expires_at can only move earlier", {
      errors: [{ path: "expires_at", message: "Can only move earlier" }],
    });
  }
  const written = await writeKeyRecord(services.db, result.record);
  return c.json(toKeyView(written ?? (await findOrgKey(services.db, orgId, row.id)) ?? row));
});

orgKeyRoutes.delete("/:id", authenticate(), async (c) => {
  const services = c.get("services");
  const org = await managed(c);
  const row = await findOrgKey(services.db, org.id, c.req.param("id"));
  if (row === null) throw notFound();
  await services.keys.getByName(row.id).revoke();
  await Promise.all([org.stub.releaseKey(row.id), authorityFor(services.authority, row.userId).releaseApiKey(row.id)]);
  if (row.revokedAt === null) {
    const now = new Date().toISOString();
    await updateKeyRow(services.db, row.id, { revokedAt: now, updatedAt: now });
    await recordEvent(services.d1, {
      userId: org.actor.userId,
      type: "api_key_revoked",
      client: services.client,
      detail: { key_id: row.id, name: row.name, org_id: org.id },
    });
  }
  return c.body(null, 204);
});

orgKeyRoutes.get("/:id/usage", authenticate(), async (c) => {
  const { days } = parseQuery(c, usageQuery);
  const { id } = await managed(c);
  const row = await findOrgKey(c.get("services").db, id, c.req.param("id"));
  if (row === null) throw notFound();
  return c.json(await keyUsage(c.get("services"), row.id, days));
});
