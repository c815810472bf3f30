// The second-factor write paths racing the user's other writes, with real concurrency.
// Whatever order the user's authority sees them in, the outcome is one a serial order
// would give: nothing a password change, a deletion or the last factor's removal ended
// survives it, a used or replaced recovery code never works again, and a deleted account
// keeps no factor.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/config";
import { TestClient } from "./helpers/client";
import { codeAt, enrollTotp, mfaTokenFor, stableStep } from "./helpers/mfa";
import { type TestUser, login, registerUser, strongPassword } from "./helpers/users";

const ROUNDS = 3;

async function withTotp(): Promise<{ owner: TestClient; user: TestUser; factorId: string; recoveryCodes: string[] }> {
  const owner = new TestClient();
  const user = await registerUser(owner);
  await login(owner, user);
  const { factorId, recoveryCodes } = await enrollTotp(owner, user.id);
  return { owner, user, factorId, recoveryCodes };
}

/** Finishes pending sign-ins with recovery codes, each on its own client; returns the clients that got a session. */
function finishAll(tokens: string[], codes: string[]): Array<Promise<TestClient | null>> {
  return tokens.map(async (token, index) => {
    const client = new TestClient();
    const response = await client.post("/api/v1/auth/mfa/verify", {
      json: { mfa_token: token, method: "recovery_code", code: codes[index] },
    });
    expect([200, 401]).toContain(response.status);
    return response.status === 200 ? client : null;
  });
}

async function signedIn(client: TestClient): Promise<boolean> {
  const body = (await (await client.get("/api/v1/auth/check-auth")).json()) as { authenticated: boolean };
  return body.authenticated;
}

async function factorRows(userId: string): Promise<number> {
  return runInDurableObject(env.USER_AUTHORITY.getByName(userId), (_instance, state) => {
    const factors = state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM factors").one().n;
    const codes = state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM recovery_codes").one().n;
    return factors + codes;
  });
}

describe("second factors racing the user's other writes", () => {
  it("a password change ends every session that a racing second factor opened under the old password", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { owner, user, recoveryCodes } = await withTotp();
      const tokens = await Promise.all([0, 1, 2].map(() => mfaTokenFor(new TestClient(), user)));
      const [changed, ...finished] = await Promise.all([
        owner.post("/api/v1/users/me/password", { json: { current_password: user.password, new_password: strongPassword() } }),
        ...finishAll(tokens, recoveryCodes),
      ]);
      expect(changed.status).toBe(200);
      for (const client of finished) if (client !== null) expect(await signedIn(client)).toBe(false);
      expect(await signedIn(owner)).toBe(true);
    }
  });

  it("a deletion leaves no session and no factor, whatever second factors raced it", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { owner, user, recoveryCodes } = await withTotp();
      const tokens = await Promise.all([0, 1, 2].map(() => mfaTokenFor(new TestClient(), user)));
      const [deleted, ...finished] = await Promise.all([
        owner.delete("/api/v1/users/me", { json: { password: user.password } }),
        ...finishAll(tokens, recoveryCodes),
      ]);
      expect(deleted.status).toBe(204);
      for (const client of finished) if (client !== null) expect(await signedIn(client)).toBe(false);
      expect(await factorRows(user.id)).toBe(0);
    }
  });

  it("removing the last factor ends the sessions that racing second factors opened", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { owner, user, factorId, recoveryCodes } = await withTotp();
      const tokens = await Promise.all([0, 1, 2].map(() => mfaTokenFor(new TestClient(), user)));
      const [removed, ...finished] = await Promise.all([owner.delete(`/api/v1/auth/mfa/${factorId}`), ...finishAll(tokens, recoveryCodes)]);
      expect(removed.status).toBe(204);
      for (const client of finished) if (client !== null) expect(await signedIn(client)).toBe(false);
      expect(await signedIn(owner)).toBe(true);
    }
  });

  it("a recovery code racing its replacement works at most once, and never after the new set", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { owner, user, recoveryCodes } = await withTotp();
      const tokens = await Promise.all([0, 1, 2].map(() => mfaTokenFor(new TestClient(), user)));
      const same = [recoveryCodes[0]!, recoveryCodes[0]!, recoveryCodes[0]!];
      const [replaced, ...finished] = await Promise.all([owner.post("/api/v1/auth/mfa/recovery-codes"), ...finishAll(tokens, same)]);
      expect(replaced.status).toBe(200);
      expect(finished.filter((client) => client !== null).length).toBeLessThanOrEqual(1);
      const late = await new TestClient().post("/api/v1/auth/mfa/verify", {
        json: { mfa_token: await mfaTokenFor(new TestClient(), user), method: "recovery_code", code: recoveryCodes[1] },
      });
      expect(late.status).toBe(401);
    }
  });

  it("a TOTP enrollment racing the account's deletion leaves no factor behind", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const owner = new TestClient();
      const user = await registerUser(owner);
      await login(owner, user);
      const [deleted, started] = await Promise.all([
        owner.delete("/api/v1/users/me", { json: { password: user.password } }),
        owner.clone().post("/api/v1/auth/mfa/totp", { json: {} }),
      ]);
      expect(deleted.status).toBe(204);
      expect([201, 401]).toContain(started.status);
      expect(await factorRows(user.id)).toBe(0);
    }
  });

  it("a TOTP confirmation racing the account's deletion leaves no factor and no recovery code behind", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const owner = new TestClient();
      const user = await registerUser(owner);
      await login(owner, user);
      const started = (await (await owner.post("/api/v1/auth/mfa/totp", { json: {} })).json()) as { factor_id: string; secret: string };
      await stableStep();
      const code = await codeAt(started.secret);
      const [deleted, confirmed] = await Promise.all([
        owner.delete("/api/v1/users/me", { json: { password: user.password } }),
        owner.clone().post(`/api/v1/auth/mfa/totp/${started.factor_id}/confirm`, { json: { code } }),
      ]);
      expect(deleted.status).toBe(204);
      expect([200, 401, 404]).toContain(confirmed.status);
      expect(await factorRows(user.id)).toBe(0);
    }
  });

  it("a deletion landing while a confirmation's code is being checked adds nothing (the interleaving forced)", async () => {
    const config = loadConfig(env);
    if (config instanceof Error) throw config;
    const owner = new TestClient();
    const user = await registerUser(owner);
    await login(owner, user);
    const started = (await (await owner.post("/api/v1/auth/mfa/totp", { json: {} })).json()) as { factor_id: string; secret: string };
    await stableStep();
    const code = await codeAt(started.secret);
    const sessionId = owner.sessionToken!.split(".")[0]!;
    const result = await runInDurableObject(env.USER_AUTHORITY.getByName(user.id), async (instance) => {
      // The deletion runs inside the await of the proof check: between the check and the commit.
      const factors = (instance as unknown as { parts: { factors: { check: (...args: unknown[]) => Promise<unknown> } } }).parts.factors;
      const check = factors.check.bind(factors);
      factors.check = async (...args: unknown[]) => {
        const checked = await check(...args);
        await instance.deleteAccount();
        return checked;
      };
      return instance.confirmTotp(
        started.factor_id,
        { method: "totp", code, keys: config.mfa.encryptionKeys },
        sessionId,
        ["h1", "h2"],
        config.login,
      );
    });
    expect(result.status).not.toBe("added");
    expect(await factorRows(user.id)).toBe(0);
  });
});
