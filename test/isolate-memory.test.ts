// The isolate memory's own rules, with a KV whose reads the test releases by hand.
import { describe, expect, it } from "vitest";
import { forgetUser, readCachedSession, rememberedSession } from "../src/sessions/isolate-memory";
import type { CachedSession } from "../src/user-authority/session-policy";

function heldKv(): { kv: KVNamespace; reads: number; release: (value: unknown) => void } {
  const state = { reads: 0, release: (_value: unknown) => {} };
  const kv = {
    get: () => {
      state.reads += 1;
      return new Promise((resolve) => {
        state.release = resolve;
      });
    },
  } as unknown as KVNamespace;
  return {
    kv,
    get reads() {
      return state.reads;
    },
    release: (value) => state.release(value),
  };
}

function session(userId: string, id: string, name: string): CachedSession {
  return { id, userId, user: { name } } as unknown as CachedSession;
}

describe("isolate memory", () => {
  it("shares one KV read between concurrent requests for a session", async () => {
    const userId = crypto.randomUUID();
    const id = `s-${crypto.randomUUID()}`;
    const held = heldKv();
    const first = readCachedSession(held.kv, userId, id);
    const second = readCachedSession(held.kv, userId, id);
    held.release(session(userId, id, "shared"));
    expect(await first).toEqual(await second);
    expect(held.reads).toBe(1);
  });

  it("never lets a request after a forget join, or remember, a read that started before it", async () => {
    const userId = crypto.randomUUID();
    const id = `s-${crypto.randomUUID()}`;
    const before = heldKv();
    const stale = readCachedSession(before.kv, userId, id);
    // This isolate changes the user (a logout, a profile change) while the read is in flight.
    forgetUser(userId);
    const after = heldKv();
    const fresh = readCachedSession(after.kv, userId, id);
    expect(after.reads).toBe(1);
    after.release(session(userId, id, "after the change"));
    expect((await fresh)?.user).toEqual({ name: "after the change" });
    before.release(session(userId, id, "before the change"));
    await stale;
    expect(rememberedSession(userId, id)?.user).toEqual({ name: "after the change" });
  });
});
