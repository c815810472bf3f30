// API-key usage buffered in the key's Durable Object survives a reset of the object and
// a D1 failure during the flush: it is sent again, and never counted twice.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ApiKeyAuthority } from "../src/api-keys/authority/api-key-authority";
import { TestClient } from "./helpers/client";
import { Faults, type FaultKind } from "./helpers/faults";
import { login, registerUser } from "./helpers/users";

async function keyWithUses(uses: number): Promise<{ owner: TestClient; keyId: string; use: () => Promise<Response> }> {
  const owner = new TestClient();
  await login(owner, await registerUser(owner));
  const created = await owner.post("/api/v1/api-keys", { json: { name: "durable", permissions: { user_profile: ["read"] } } });
  expect(created.status).toBe(201);
  const key = (await created.json()) as { id: string; api_key: string };
  const user = new TestClient();
  const use = () => user.get("/api/v1/users/me", { headers: { "X-API-Key": key.api_key } });
  for (let i = 0; i < uses; i++) expect((await use()).status).toBe(200);
  return { owner, keyId: key.id, use };
}

async function d1Total(keyId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COALESCE(SUM(count), 0) AS total FROM api_key_usage WHERE key_id = ?")
    .bind(keyId)
    .first<{ total: number }>();
  return row?.total ?? 0;
}

async function buffered(keyId: string): Promise<number> {
  return runInDurableObject(env.API_KEYS.getByName(keyId), (_instance, state) => {
    return state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM usage_buffer").one().n;
  });
}

/** Runs the key object's flush with its D1 binding failing as `kind` says ("reset": the batch lands, then the answer is lost). */
async function failingFlush(keyId: string, kind: FaultKind): Promise<void> {
  const faults = new Faults().fail("DB", { methods: ["batch"], kind });
  await runInDurableObject(env.API_KEYS.getByName(keyId), async (instance: ApiKeyAuthority) => {
    const usage = (instance as unknown as { usage: { d1: D1Database } }).usage;
    const real = usage.d1;
    usage.d1 = faults.bindings().DB as D1Database;
    try {
      await expect(instance.flushUsage()).rejects.toThrow();
    } finally {
      usage.d1 = real;
    }
  });
  expect(faults.failed.get("DB.batch")).toBe(1);
}

describe("API-key usage across faults", () => {
  it("D1 failing during the flush: nothing lands, the uses stay buffered, the next flush counts them once", async () => {
    const { owner, keyId } = await keyWithUses(3);
    await failingFlush(keyId, "error");
    expect(await d1Total(keyId)).toBe(0);
    expect(await buffered(keyId)).toBe(3);
    await evictDurableObject(env.API_KEYS.getByName(keyId));
    const usage = await owner.get(`/api/v1/api-keys/${keyId}/usage?days=1`);
    expect(((await usage.json()) as { total: number }).total).toBe(3);
    expect(await buffered(keyId)).toBe(0);
  });

  it("the batch lands but its answer is lost, and the object is reset: sent again, counted once", async () => {
    const { owner, keyId, use } = await keyWithUses(4);
    await failingFlush(keyId, "reset");
    expect(await d1Total(keyId)).toBe(4); // it landed
    expect(await buffered(keyId)).toBe(4); // but the object could not know
    await evictDurableObject(env.API_KEYS.getByName(keyId));
    // A use arrives before the next flush: it waits for a later batch, it is not folded into the resent one.
    expect((await use()).status).toBe(200);
    await env.API_KEYS.getByName(keyId).flushUsage();
    expect(await d1Total(keyId)).toBe(4);
    expect(await buffered(keyId)).toBe(1);
    const usage = await owner.get(`/api/v1/api-keys/${keyId}/usage?days=1`);
    expect(((await usage.json()) as { total: number }).total).toBe(5);
    expect(await buffered(keyId)).toBe(0);
  });

  it("a failed alarm flush books another try instead of dropping the batch", async () => {
    const { keyId } = await keyWithUses(2);
    const faults = new Faults().fail("DB", { methods: ["batch"] });
    await runInDurableObject(env.API_KEYS.getByName(keyId), async (instance: ApiKeyAuthority, state) => {
      const usage = (instance as unknown as { usage: { d1: D1Database } }).usage;
      const real = usage.d1;
      usage.d1 = faults.bindings().DB as D1Database;
      await state.storage.deleteAlarm();
      await instance.alarm();
      usage.d1 = real;
      expect(await state.storage.getAlarm()).toBeGreaterThan(Date.now());
    });
    expect(await buffered(keyId)).toBe(2);
    expect(await d1Total(keyId)).toBe(0);
  });

  it("a use books its flush before it answers, and later uses keep a failed flush's retry where it is", async () => {
    const { keyId, use } = await keyWithUses(1);
    const stub = env.API_KEYS.getByName(keyId);
    const alarm = () => runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    const booked = await alarm();
    expect(booked).not.toBeNull();
    expect(booked).toBeLessThanOrEqual(Date.now() + 5_000);
    const faults = new Faults().fail("DB", { methods: ["batch"] });
    const retry = await runInDurableObject(stub, async (instance: ApiKeyAuthority, state) => {
      const usage = (instance as unknown as { usage: { d1: D1Database } }).usage;
      const real = usage.d1;
      usage.d1 = faults.bindings().DB as D1Database;
      try {
        await instance.alarm();
      } finally {
        usage.d1 = real;
      }
      return state.storage.getAlarm();
    });
    expect(retry).toBeGreaterThan(Date.now() + 20_000);
    expect((await use()).status).toBe(200);
    expect(await alarm()).toBe(retry);
    expect(await buffered(keyId)).toBe(2);
  });

  it("the rate-limit counts survive the reset too (the object recounts them from storage)", async () => {
    const owner = new TestClient();
    await login(owner, await registerUser(owner));
    const created = await owner.post("/api/v1/api-keys", {
      json: { name: "limited", permissions: { user_profile: ["read"] }, rate_limits: { requests_per_minute: 3 } },
    });
    const key = (await created.json()) as { id: string; api_key: string };
    const user = new TestClient();
    const use = () => user.get("/api/v1/users/me", { headers: { "X-API-Key": key.api_key } });
    expect((await use()).status).toBe(200);
    expect((await use()).status).toBe(200);
    await evictDurableObject(env.API_KEYS.getByName(key.id));
    expect((await use()).status).toBe(200);
    expect((await use()).status).toBe(429);
  });
});
