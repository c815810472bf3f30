import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_HASH_PARAMS, MAX_ITERATIONS_PER_CALL, hashPassword, needsRehash, verifyPassword } from "../src/passwords/hash";
import { TestClient } from "./helpers/client";
import { strongPassword, uniqueEmail } from "./helpers/users";

/** Records the iterations of every PBKDF2 deriveBits call made while `run` runs. */
async function recordPbkdf2Calls(run: () => Promise<unknown>): Promise<number[]> {
  const calls: number[] = [];
  const original = crypto.subtle.deriveBits.bind(crypto.subtle);
  const spy = vi.spyOn(crypto.subtle, "deriveBits").mockImplementation((algorithm, key, length) => {
    if (typeof algorithm === "object" && algorithm.name === "PBKDF2") {
      calls.push((algorithm as { iterations: number }).iterations);
    }
    return original(algorithm, key, length);
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return calls;
}

afterEach(() => vi.restoreAllMocks());

describe("password hashing", () => {
  it("never asks PBKDF2 for more than 100,000 iterations in one call, yet does 600,000 in total", async () => {
    const calls = await recordPbkdf2Calls(() => hashPassword("a long enough password"));
    expect(Math.max(...calls)).toBeLessThanOrEqual(MAX_ITERATIONS_PER_CALL);
    expect(calls.reduce((sum, n) => sum + n, 0)).toBeGreaterThanOrEqual(600_000);
  });

  it("keeps the per-call cap through the real register and login routes", async () => {
    const client = new TestClient();
    const email = uniqueEmail();
    const password = strongPassword();
    const calls = await recordPbkdf2Calls(async () => {
      expect((await client.post("/api/v1/users", { json: { email, password } })).status).toBe(201);
      expect((await client.post("/api/v1/auth/login", { json: { email, password } })).status).toBe(200);
    });
    expect(calls.length).toBeGreaterThanOrEqual(12);
    expect(Math.max(...calls)).toBeLessThanOrEqual(MAX_ITERATIONS_PER_CALL);
  });

  it("refuses parameters above the production per-call limit instead of failing at the edge", async () => {
    await expect(hashPassword("whatever password", { params: { rounds: 1, iterations: 600_000 } })).rejects.toThrow(/100000/);
  });

  it("uses a fresh 16-byte salt every time and a self-describing format", async () => {
    const first = await hashPassword("same password here");
    const second = await hashPassword("same password here");
    expect(first).not.toBe(second);
    const [, scheme, params, salt] = first.split("$");
    expect(scheme).toBe("pbkdf2-sha256");
    expect(params).toBe("r=6,i=100000,p=0");
    expect(salt?.length).toBeGreaterThanOrEqual(22); // 16 bytes in base64url
  });

  it("verifies the right password and rejects a wrong one", async () => {
    const stored = await hashPassword("right password");
    expect(await verifyPassword("right password", stored)).toBe(true);
    expect(await verifyPassword("wrong password", stored)).toBe(false);
    expect(await verifyPassword("right password", "garbage")).toBe(false);
  });

  it("does the same PBKDF2 work for an unknown user as for a real one", async () => {
    const stored = await hashPassword("right password");
    const known = await recordPbkdf2Calls(() => verifyPassword("guess", stored));
    const unknown = await recordPbkdf2Calls(() => verifyPassword("guess", null));
    expect(unknown).toEqual(known);
    expect(unknown.reduce((sum, n) => sum + n, 0)).toBe(DEFAULT_HASH_PARAMS.rounds * DEFAULT_HASH_PARAMS.iterations);
  });

  it("needs the pepper a hash was made with, and flags hashes for upgrade", async () => {
    const peppered = await hashPassword("pepper test pw", { pepper: "server-secret" });
    expect(await verifyPassword("pepper test pw", peppered, { pepper: "server-secret" })).toBe(true);
    expect(await verifyPassword("pepper test pw", peppered, { pepper: "other-secret" })).toBe(false);
    expect(await verifyPassword("pepper test pw", peppered)).toBe(false);

    const weak = await hashPassword("weak params pw", { params: { rounds: 1, iterations: 1000 } });
    expect(await verifyPassword("weak params pw", weak)).toBe(true);
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash(peppered, { pepper: "server-secret" })).toBe(false);
    expect(needsRehash(peppered)).toBe(true);
  });
});
