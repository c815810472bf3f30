// The Durable Objects tested directly through their RPC methods.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PENDING_TIMEOUT_MS } from "../src/throttle/authority/throttle-policy";

const policy = { maxAttempts: 3, windowMs: 60_000 };

function throttle(): DurableObjectStub<import("../src/throttle/authority/login-throttle").LoginThrottle> {
  return env.LOGIN_THROTTLE.getByName(`test:${crypto.randomUUID()}`);
}

describe("LoginThrottle", () => {
  it("grants maxAttempts slots, then refuses with a Retry-After inside the window", async () => {
    const stub = throttle();
    for (let i = 0; i < 3; i++) {
      const slot = await stub.reserve(policy);
      expect(slot.allowed).toBe(true);
      if (slot.allowed) await stub.fail(slot.attemptId);
    }
    const refused = await stub.reserve(policy);
    expect(refused).toMatchObject({ allowed: false });
    if (!refused.allowed) {
      expect(refused.retryAfterSeconds).toBeGreaterThan(0);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
  });

  it("does not count released slots, and clear() forgets failures", async () => {
    const stub = throttle();
    for (let i = 0; i < 10; i++) {
      const slot = await stub.reserve(policy);
      expect(slot.allowed).toBe(true);
      if (slot.allowed) await stub.release(slot.attemptId);
    }
    for (let i = 0; i < 3; i++) {
      const slot = await stub.reserve(policy);
      if (slot.allowed) await stub.fail(slot.attemptId);
    }
    expect((await stub.reserve(policy)).allowed).toBe(false);
    await stub.clear();
    expect((await stub.reserve(policy)).allowed).toBe(true);
  });

  it("makes a newcomer wait for pending slots and then follow their outcome", async () => {
    const stub = throttle();
    const slots = await Promise.all([stub.reserve(policy), stub.reserve(policy), stub.reserve(policy)]);
    const waiting = stub.reserve(policy);
    for (const slot of slots) if (slot.allowed) await stub.fail(slot.attemptId);
    expect((await waiting).allowed).toBe(false);

    const other = throttle();
    const held = await Promise.all([other.reserve(policy), other.reserve(policy), other.reserve(policy)]);
    const queued = other.reserve(policy);
    for (const slot of held) if (slot.allowed) await other.release(slot.attemptId);
    expect((await queued).allowed).toBe(true);
  });

  it("counts a pending slot abandoned by a dead request as a failure", async () => {
    const stub = throttle();
    for (let i = 0; i < 3; i++) expect((await stub.reserve(policy)).allowed).toBe(true);
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE attempts SET at = at - ?", PENDING_TIMEOUT_MS + 1);
    });
    expect((await stub.reserve(policy)).allowed).toBe(false);
  });

  it("lets failures leave the window and deletes its storage by alarm", async () => {
    const stub = throttle();
    for (let i = 0; i < 3; i++) {
      const slot = await stub.reserve(policy);
      if (slot.allowed) await stub.fail(slot.attemptId);
    }
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE attempts SET at = at - ?", policy.windowMs + 1);
    });
    expect((await stub.reserve(policy)).allowed).toBe(true);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // The storage is gone, table and all (it is made again on the next attempt).
    const tables = await runInDurableObject(
      stub,
      (_instance, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'attempts'").one().n,
    );
    expect(tables).toBe(0);
    expect((await stub.reserve(policy)).allowed).toBe(true);
  });
});

describe("UserAuthority", () => {
  const client = {
    ip: "192.0.2.1",
    userAgent: "test",
    device: { browser: "unknown", os: "unknown", type: "unknown" as const },
    location: { country: "DE", city: "Berlin" },
  };

  function user(id: string): import("../src/users/user-view").PublicUser {
    return {
      id,
      email: `${id}@example.com`,
      username: null,
      name: null,
      email_verified: false,
      is_superuser: false,
      oauth_providers: [],
      created_at: new Date().toISOString(),
    };
  }

  function newSession(userId: string, n: number): import("../src/user-authority/user-authority").NewSession {
    const id = userId.replace(/-/g, "") + n.toString(16).padStart(16, "0");
    return {
      id,
      kind: "cookie",
      secretHash: `hash-${n}`,
      csrfHash: null,
      idleMs: 60_000,
      absoluteMs: 3_600_000,
      client,
      user: user(userId),
      credentialEpoch: 0,
      assurance: { aal: 1, amr: ["pwd"] },
      mfa: { id: `${id}m`, tokenHash: `mfa-${n}`, answer: { kind: "login", rememberMe: false, isNewUser: false, method: "password" } },
    };
  }

  it("keeps at most maxSessions and reports which ones it ended", async () => {
    const userId = crypto.randomUUID();
    const stub = env.USER_AUTHORITY.getByName(userId);
    const evictions: string[][] = [];
    for (let n = 1; n <= 4; n++) {
      const created = await stub.createSession(newSession(userId, n), 2);
      evictions.push(created.status === "created" ? created.evicted : ["refused"]);
    }
    expect(evictions[0]).toEqual([]);
    expect(evictions[1]).toEqual([]);
    expect(evictions[2]).toEqual([newSession(userId, 1).id]);
    expect(evictions[3]).toEqual([newSession(userId, 2).id]);
    const listed = await stub.listSessions();
    expect(listed.map((session) => session.id).sort()).toEqual([newSession(userId, 3).id, newSession(userId, 4).id].sort());
    expect(listed[0]?.location).toEqual({ country: "DE", city: "Berlin" });
  });

  it("authorizes only the right secret, and forgets revoked sessions in the authority and in KV", async () => {
    const userId = crypto.randomUUID();
    const stub = env.USER_AUTHORITY.getByName(userId);
    const session = newSession(userId, 1);
    await stub.createSession(session, 5);
    expect((await stub.authorize(session.id, "wrong")).status).toBe("unknown");
    expect((await stub.authorize(session.id, session.secretHash)).status).toBe("valid");
    expect(await env.SESSIONS.get(`session:${session.id}`)).not.toBeNull();
    expect(await stub.revokeSession(session.id)).toBe(true);
    expect(await stub.revokeSession(session.id)).toBe(false);
    expect((await stub.authorize(session.id, session.secretHash)).status).toBe("unknown");
    expect(await env.SESSIONS.get(`session:${session.id}`)).toBeNull();
  });

  it("books an alarm for the next expiry, and the alarm purges the expired session and its family from the principal record", async () => {
    const userId = crypto.randomUUID();
    const stub = env.USER_AUTHORITY.getByName(userId);
    const family = { ...newSession(userId, 1), kind: "token" as const, idleMs: 200, absoluteMs: 200 };
    const lasting = newSession(userId, 2);
    await stub.createSession(family, 5);
    await stub.createSession(lasting, 5);
    const booked = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(booked).not.toBeNull();
    expect(booked!).toBeLessThanOrEqual(Date.now() + 200);
    expect((await stub.readPrincipal())?.families).toEqual([family.id]);

    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const left = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql
        .exec<{ id: string }>("SELECT id FROM sessions")
        .toArray()
        .map((row) => row.id),
    );
    expect(left).toEqual([lasting.id]);
    const record = (await env.SESSIONS.get(`user:${userId}`, "json")) as { families: string[] } | null;
    expect(record?.families).toEqual([]);
    // The next alarm is the lasting session's expiry, a minute out.
    const next = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(next).toBeGreaterThan(Date.now() + 30_000);
  });

  it("purges expired pending sign-ins and answered challenges by alarm, and keeps live ones", async () => {
    const userId = crypto.randomUUID();
    const stub = env.USER_AUTHORITY.getByName(userId);
    await stub.createSession(newSession(userId, 1), 5);
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const now = Date.now();
      sql.exec(
        "INSERT INTO mfa_pending (id, token_hash, session, answer, expires_at) VALUES ('old', 'h', '{}', '{}', ?), ('live', 'h', '{}', '{}', ?)",
        now - 1,
        now + 60_000,
      );
      sql.exec("INSERT INTO used_challenges (challenge_hash, expires_at) VALUES ('old', ?), ('live', ?)", now - 1, now + 60_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const left = await runInDurableObject(stub, (_instance, state) => ({
      pending: state.storage.sql
        .exec<{ id: string }>("SELECT id FROM mfa_pending")
        .toArray()
        .map((row) => row.id),
      challenges: state.storage.sql
        .exec<{ challenge_hash: string }>("SELECT challenge_hash FROM used_challenges")
        .toArray()
        .map((row) => row.challenge_hash),
    }));
    expect(left).toEqual({ pending: ["live"], challenges: ["live"] });
  });

  it("counts what revokeAll ended, keeping the session it is told to keep", async () => {
    const userId = crypto.randomUUID();
    const stub = env.USER_AUTHORITY.getByName(userId);
    for (let n = 1; n <= 3; n++) await stub.createSession(newSession(userId, n), 5);
    expect(await stub.revokeAll(newSession(userId, 2).id)).toBe(2);
    expect((await stub.listSessions()).map((session) => session.id)).toEqual([newSession(userId, 2).id]);
    expect(await stub.revokeAll(null)).toBe(1);
  });
});

describe("ApiKeyAuthority", () => {
  const request = { endpoint: "/api/v1/users/me", method: "GET", ip: "198.51.100.1", defaultRequestsPerMinute: 600 };

  it("keeps exact window counts across a restart, before and after its usage is flushed, with one write per use", async () => {
    const id = crypto.randomUUID().replace(/-/g, "").slice(0, 8);
    const stub = env.API_KEYS.getByName(id);
    await stub.setRecord({
      id,
      userId: crypto.randomUUID(),
      name: "restart",
      version: 1,
      secretHash: "hash",
      permissions: {},
      limits: { requestsPerMinute: 5, requestsPerDay: null },
      expiresAt: null,
      revoked: false,
    });
    for (let i = 0; i < 3; i++) expect((await stub.use("hash", request)).status).toBe("allowed");

    const { ApiKeyAuthority } = await import("../src/api-keys/authority/api-key-authority");
    // A fresh instance over the same storage is what a restarted object is.
    const remainingAfterRestart = await runInDurableObject(stub, async (_instance, state) => {
      const restarted = new ApiKeyAuthority(state, env);
      const used = await restarted.use("hash", request);
      const rows = state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM usage_buffer").one().n;
      const counters = state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM counters").one().n;
      return { used, rows, counters };
    });
    expect(remainingAfterRestart.used).toMatchObject({ status: "allowed", rateLimit: { limit: 5, remaining: 1 } });
    // Four uses, four buffered rows, and nothing written to counters by a use.
    expect(remainingAfterRestart.rows).toBe(4);
    expect(remainingAfterRestart.counters).toBe(0);

    // The flush moves the counts to `counters` with the rows it sends; a restart after it still knows them.
    await stub.flushUsage();
    const afterFlush = await runInDurableObject(stub, async (_instance, state) => {
      const restarted = new ApiKeyAuthority(state, env);
      const rows = state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM usage_buffer").one().n;
      return { rows, fifth: await restarted.use("hash", request), sixth: await restarted.use("hash", request) };
    });
    expect(afterFlush.rows).toBe(0);
    expect(afterFlush.fifth).toMatchObject({ status: "allowed", rateLimit: { remaining: 0 } });
    expect(afterFlush.sixth).toMatchObject({ status: "limited" });
  });
});

describe("UserAuthority schema steps", () => {
  it("carry an older object's refresh history into the family-keyed table, and the rotation trigger records new hashes", async () => {
    const { USER_AUTHORITY_SCHEMA } = await import("../src/user-authority/schema");
    const { applySchema } = await import("../src/lib/sqlite-schema");
    // A scratch SQLite database: a fresh throttle object's storage, emptied.
    const scratch = env.LOGIN_THROTTLE.getByName(`schema:${crypto.randomUUID()}`);
    const result = await runInDurableObject(scratch, async (_instance, state) => {
      await state.storage.deleteAll();
      const sql = state.storage.sql;
      // Every step before the one that keyed the history by family.
      const before = USER_AUTHORITY_SCHEMA.findIndex((step) => String(step).includes("refresh_history_by_family"));
      expect(before).toBeGreaterThan(0);
      applySchema(sql, USER_AUTHORITY_SCHEMA.slice(0, before));
      sql.exec(
        `INSERT INTO sessions (id, kind, secret_hash, csrf_hash, created_at, last_activity, cached_activity, idle_ms, absolute_expires_at, ip, user_agent, browser, os, device_type)
         VALUES ('fam', 'token', 'h2', NULL, 0, 0, 0, 1000, 1000, '', '', '', '', '')`,
      );
      sql.exec("INSERT INTO refresh_history (secret_hash, family_id, rotated_at) VALUES ('h1', 'fam', 5)");
      applySchema(sql, USER_AUTHORITY_SCHEMA);
      sql.exec("UPDATE sessions SET secret_hash = 'h3', last_activity = 9 WHERE id = 'fam'");
      return sql
        .exec<{ family_id: string; secret_hash: string; rotated_at: number }>("SELECT * FROM refresh_history ORDER BY rotated_at")
        .toArray();
    });
    expect(result).toEqual([
      { family_id: "fam", secret_hash: "h1", rotated_at: 5 },
      { family_id: "fam", secret_hash: "h2", rotated_at: 9 },
    ]);
  });

  it("drop an older object's oauth_grants.last_used_at and keep its grants (a grant's last use is its session row's)", async () => {
    const { USER_AUTHORITY_SCHEMA } = await import("../src/user-authority/schema");
    const { applySchema } = await import("../src/lib/sqlite-schema");
    const scratch = env.LOGIN_THROTTLE.getByName(`schema:${crypto.randomUUID()}`);
    const rows = await runInDurableObject(scratch, async (_instance, state) => {
      await state.storage.deleteAll();
      const sql = state.storage.sql;
      applySchema(sql, USER_AUTHORITY_SCHEMA.slice(0, USER_AUTHORITY_SCHEMA.indexOf("ALTER TABLE oauth_grants DROP COLUMN last_used_at")));
      sql.exec(
        `INSERT INTO oauth_grants (id, client_id, client_name, scopes, resources, refresh, created_at, last_used_at)
         VALUES ('g1', 'c1', 'App', '[]', '[]', 1, 5, 7)`,
      );
      applySchema(sql, USER_AUTHORITY_SCHEMA);
      return sql.exec("SELECT * FROM oauth_grants").toArray();
    });
    expect(rows).toEqual([{ id: "g1", client_id: "c1", client_name: "App", scopes: "[]", resources: "[]", refresh: 1, created_at: 5 }]);
  });

  it("count every statement that may write, a failed or rolled-back one too, and none of the plain reads", async () => {
    const { LazySchema } = await import("../src/lib/sqlite-schema");
    const scratch = env.LOGIN_THROTTLE.getByName(`schema:${crypto.randomUUID()}`);
    const counts = await runInDurableObject(scratch, async (_instance, state) => {
      await state.storage.deleteAll();
      const schema = new LazySchema(state.storage.sql, ["CREATE TABLE t (v INTEGER NOT NULL)"]);
      const seen: Record<string, number> = { blank: schema.writes };
      schema.sql.exec("SELECT COUNT(*) FROM t").toArray();
      seen.created = schema.writes;
      schema.sql.exec("  select v FROM t").toArray();
      seen.read = schema.writes;
      schema.sql.exec("INSERT INTO t (v) VALUES (1)");
      seen.inserted = schema.writes;
      expect(() =>
        state.storage.transactionSync(() => {
          schema.sql.exec("UPDATE t SET v = 2");
          throw new Error("rolled back");
        }),
      ).toThrow("rolled back");
      seen.rolledBack = schema.writes;
      expect(() => schema.sql.exec("INSERT INTO t (v) VALUES (NULL)")).toThrow();
      seen.failed = schema.writes;
      schema.sql.exec("WITH x AS (SELECT 3 AS v) INSERT INTO t SELECT v FROM x");
      seen.with = schema.writes;
      await state.storage.deleteAll();
      schema.emptied();
      seen.emptied = schema.writes;
      return seen;
    });
    // Creating the schema on the first statement counts as a write.
    expect(counts).toEqual({ blank: 0, created: 1, read: 1, inserted: 2, rolledBack: 3, failed: 4, with: 5, emptied: 6 });
  });
});
