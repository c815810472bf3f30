// Passwordless sign-in by mail: magic links and email codes, one factor under the MFA
// gate, single use and attempt-limited exactly by the user's authority, silent about
// which addresses have accounts, and a proof of the address (pre-hijacking).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TestClient } from "./helpers/client";
import { linkToken, outbox } from "./helpers/mail";
import { makeAdmin } from "./helpers/admin";
import { enrollTotp } from "./helpers/mfa";
import { type TestUser, login, registerUser, strongPassword, uniqueEmail } from "./helpers/users";

async function magicLinkToken(to: string): Promise<string> {
  for (const message of await outbox(to)) {
    const match = /\/magic-link\?token=([A-Za-z0-9_.-]+)/.exec(message.body);
    if (match?.[1] !== undefined) return match[1];
  }
  throw new Error(`no magic link mailed to ${to}`);
}

async function emailCode(to: string): Promise<string> {
  for (const message of await outbox(to)) {
    const match = /sign-in code is (\d{6})/.exec(message.body);
    if (match?.[1] !== undefined) return match[1];
  }
  throw new Error(`no code mailed to ${to}`);
}

async function registered(): Promise<{ client: TestClient; user: TestUser }> {
  const client = new TestClient();
  return { client, user: await registerUser(client) };
}

/** A signed-in user who proved the address while signed in (its holder's own). */
async function bound(): Promise<{ client: TestClient; user: TestUser }> {
  const client = new TestClient();
  const user = await registerUser(client);
  await login(client, user);
  expect((await client.post("/api/v1/auth/verify-email/request")).status).toBe(202);
  const token = await linkToken(user.email, "/verify-email");
  expect((await client.post("/api/v1/auth/verify-email/confirm", { json: { token } })).status).toBe(200);
  return { client, user };
}

describe("magic links", () => {
  it("sign the browser that asked in with cookies, once, and verify the address", async () => {
    const { user } = await registered();
    const browser = new TestClient();
    const asked = await browser.post("/api/v1/auth/magic-link", { json: { email: user.email } });
    expect(asked.status).toBe(202);
    const token = await magicLinkToken(user.email);
    const used = await browser.post("/api/v1/auth/magic-link/verify", { json: { token } });
    expect(used.status).toBe(200);
    const body = (await used.json()) as { user: { id: string; email_verified: boolean }; csrf_token: string };
    expect(body.user).toMatchObject({ id: user.id, email_verified: true });
    const check = (await (await browser.get("/api/v1/auth/check-auth")).json()) as { session: { amr: string[]; aal: number } };
    expect(check.session).toMatchObject({ amr: ["email"], aal: 1 });
    // Single use.
    const again = await browser.post("/api/v1/auth/magic-link/verify", { json: { token } });
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ code: "invalid_token" });
  });

  it("opened in another browser sign nobody in and stay usable by the browser that asked", async () => {
    const { user } = await registered();
    const asker = new TestClient();
    await asker.post("/api/v1/auth/magic-link", { json: { email: user.email } });
    const token = await magicLinkToken(user.email);
    const elsewhere = await new TestClient().post("/api/v1/auth/magic-link/verify", { json: { token } });
    expect(elsewhere.status).toBe(403);
    expect(await elsewhere.json()).toMatchObject({ code: "forbidden" });
    expect((await asker.post("/api/v1/auth/magic-link/verify", { json: { token } })).status).toBe(200);
  });

  it("with transport token answer a token pair, in any browser", async () => {
    const { user } = await registered();
    await new TestClient().post("/api/v1/auth/magic-link", { json: { email: user.email, transport: "token" } });
    const token = await magicLinkToken(user.email);
    const used = await new TestClient().post("/api/v1/auth/magic-link/verify", { json: { token } });
    expect(used.status).toBe(200);
    expect(await used.json()).toMatchObject({ token_type: "bearer", refresh_token: expect.any(String) });
  });

  it("answer 202 for an address with no account and mail nothing; a malformed or unknown token is 401, never 422", async () => {
    const email = uniqueEmail();
    expect((await new TestClient().post("/api/v1/auth/magic-link", { json: { email } })).status).toBe(202);
    expect(await outbox(email)).toHaveLength(0);
    for (const token of ["", "nope", "x".repeat(5000), `c${"0".repeat(48)}.${"a".repeat(43)}`]) {
      const refused = await new TestClient().post("/api/v1/auth/magic-link/verify", { json: { token } });
      expect(refused.status).toBe(401);
    }
    expect((await new TestClient().post("/api/v1/auth/magic-link", { json: { email, redirect_to: "https://evil.example/" } })).status).toBe(
      400,
    );
  });

  it("meet the MFA gate on an account whose holder proved the address: one factor, the second still asked", async () => {
    const { client, user } = await bound();
    await enrollTotp(client, user.id);
    const browser = new TestClient();
    await browser.post("/api/v1/auth/magic-link", { json: { email: user.email } });
    const used = await browser.post("/api/v1/auth/magic-link/verify", { json: { token: await magicLinkToken(user.email) } });
    expect(used.status).toBe(401);
    expect(await used.json()).toMatchObject({ code: "mfa_required", mfa_token: expect.any(String), methods: ["totp", "recovery_code"] });
  });

  it("prove the address of an account nobody proved: what came before ends, and the password set before signs in no more", async () => {
    const squatter = new TestClient();
    const user = await registerUser(squatter);
    await login(squatter, user);
    const owner = new TestClient();
    await owner.post("/api/v1/auth/magic-link", { json: { email: user.email } });
    expect((await owner.post("/api/v1/auth/magic-link/verify", { json: { token: await magicLinkToken(user.email) } })).status).toBe(200);
    expect(((await (await squatter.get("/api/v1/auth/check-auth")).json()) as { authenticated: boolean }).authenticated).toBe(false);
    const password = await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    expect(password.status).toBe(401);
    const row = await env.DB.prepare("SELECT password_hash, address_proven FROM users WHERE id = ?").bind(user.id).first();
    expect(row).toMatchObject({ password_hash: null, address_proven: 1 });
    // The owner's own session stands.
    expect(((await (await owner.get("/api/v1/auth/check-auth")).json()) as { authenticated: boolean }).authenticated).toBe(true);
  });

  it("keep an unproven account's second factor: the sign-in meets the MFA gate instead of ending it", async () => {
    const squatter = new TestClient();
    const user = await registerUser(squatter);
    await login(squatter, user);
    await enrollTotp(squatter, user.id);
    const browser = new TestClient();
    await browser.post("/api/v1/auth/magic-link", { json: { email: user.email } });
    const used = await browser.post("/api/v1/auth/magic-link/verify", { json: { token: await magicLinkToken(user.email) } });
    expect(used.status).toBe(401);
    expect(await used.json()).toMatchObject({ code: "mfa_required" });
    const factors = (await (await squatter.get("/api/v1/auth/mfa")).json()) as { factors: unknown[] };
    expect(factors.factors.length).toBeGreaterThan(0);
    // Nor is the address recorded as its holder's: a later reset by the mailbox's owner still ends the squatter's all.
    const row = await env.DB.prepare("SELECT address_proven, is_superuser FROM users WHERE id = ?").bind(user.id).first();
    expect(row).toMatchObject({ address_proven: 0, is_superuser: 0 });
  });

  it("mailed to an address the account no longer has open nothing", async () => {
    const { user } = await registered();
    const browser = new TestClient();
    await browser.post("/api/v1/auth/magic-link", { json: { email: user.email } });
    const token = await magicLinkToken(user.email);
    const admin = await makeAdmin();
    expect((await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { email: uniqueEmail() } })).status).toBe(200);
    const used = await browser.post("/api/v1/auth/magic-link/verify", { json: { token } });
    expect(used.status).toBe(401);
  });

  it("sign in once under 10 racing uses of one link", async () => {
    const { user } = await registered();
    await new TestClient().post("/api/v1/auth/magic-link", { json: { email: user.email, transport: "token" } });
    const token = await magicLinkToken(user.email);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => new TestClient().post("/api/v1/auth/magic-link/verify", { json: { token } })),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 401)).toHaveLength(9);
  });

  for (const [kind, ending] of (["link", "code"] as const).flatMap((kind) =>
    (["password reset", "deletion", "disable"] as const).map((ending) => [kind, ending] as const),
  )) {
    it(`never leave a session open after a ${kind} races a ${ending}`, async () => {
      const { client, user } = await bound();
      const browser = new TestClient();
      let use: () => Promise<Response>;
      if (kind === "link") {
        await browser.post("/api/v1/auth/magic-link", { json: { email: user.email } });
        const token = await magicLinkToken(user.email);
        use = () => browser.post("/api/v1/auth/magic-link/verify", { json: { token } });
      } else {
        await browser.post("/api/v1/auth/email-code", { json: { email: user.email } });
        const code = await emailCode(user.email);
        use = () => browser.post("/api/v1/auth/email-code/verify", { json: { email: user.email, code } });
      }
      let end: () => Promise<Response>;
      if (ending === "password reset") {
        await new TestClient().post("/api/v1/auth/password-reset/request", { json: { email: user.email } });
        const resetToken = await linkToken(user.email, "/reset-password");
        end = () =>
          new TestClient().post("/api/v1/auth/password-reset/confirm", { json: { token: resetToken, new_password: strongPassword() } });
      } else if (ending === "deletion") {
        end = () => client.delete("/api/v1/users/me", { json: { password: user.password } });
      } else {
        const admin = await makeAdmin();
        end = () => admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: true } });
      }
      const [used, ended] = await Promise.all([use(), end()]);
      expect(ended.status).toBeLessThan(300);
      expect([200, 401, 403]).toContain(used.status);
      const check = (await (await browser.get("/api/v1/auth/check-auth")).json()) as { authenticated: boolean };
      expect(check.authenticated).toBe(false);
    });
  }
});

describe("PASSWORDLESS_SIGNUP", () => {
  const settings = { PASSWORDLESS_SIGNUP: "true" };

  it("makes a verified account, with no password, when a link for a new address is first used (and not before)", async () => {
    const email = uniqueEmail();
    const browser = new TestClient({ settings });
    expect((await browser.post("/api/v1/auth/magic-link", { json: { email } })).status).toBe(202);
    expect(await env.DB.prepare("SELECT id FROM users WHERE email_normalized = ?").bind(email).first()).toBeNull();
    const token = await magicLinkToken(email);
    const used = await browser.post("/api/v1/auth/magic-link/verify", { json: { token } });
    expect(used.status).toBe(200);
    const body = (await used.json()) as { user: { id: string; email_verified: boolean } };
    expect(body.user.email_verified).toBe(true);
    const row = await env.DB.prepare("SELECT id, password_hash, email_verified FROM users WHERE email_normalized = ?").bind(email).first();
    expect(row).toMatchObject({ id: body.user.id, password_hash: null, email_verified: 1 });
    expect((await browser.post("/api/v1/auth/magic-link/verify", { json: { token } })).status).toBe(401);
    // Off, the same link would open nothing (and a request mails nothing).
    const other = uniqueEmail();
    await new TestClient().post("/api/v1/auth/magic-link", { json: { email: other } });
    expect(await outbox(other)).toHaveLength(0);
  });

  it("makes the account with a code too, once under 10 racing uses", async () => {
    const email = uniqueEmail();
    await new TestClient({ settings }).post("/api/v1/auth/email-code", { json: { email } });
    const code = await emailCode(email);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => new TestClient({ settings }).post("/api/v1/auth/email-code/verify", { json: { email, code } })),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    const made = await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE email_normalized = ?").bind(email).first<{ n: number }>();
    expect(made?.n).toBe(1);
  });
});

describe("email codes", () => {
  it("sign in once with the right code; a new code ends the old one", async () => {
    const { user } = await registered();
    await new TestClient().post("/api/v1/auth/email-code", { json: { email: user.email } });
    const first = await emailCode(user.email);
    await new TestClient().post("/api/v1/auth/email-code", { json: { email: user.email } });
    const second = await emailCode(user.email);
    if (first !== second) {
      const old = await new TestClient().post("/api/v1/auth/email-code/verify", { json: { email: user.email, code: first } });
      expect(old.status).toBe(401);
    }
    const browser = new TestClient();
    const used = await browser.post("/api/v1/auth/email-code/verify", { json: { email: user.email, code: second } });
    expect(used.status).toBe(200);
    expect(((await used.json()) as { user: { id: string } }).user.id).toBe(user.id);
    expect((await browser.post("/api/v1/auth/email-code/verify", { json: { email: user.email, code: second } })).status).toBe(401);
  });

  it("die at the fifth wrong entry, exactly, under 10 racing wrong entries", async () => {
    const { user } = await registered();
    const wrongFor = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    const verify = (code: string) => new TestClient().post("/api/v1/auth/email-code/verify", { json: { email: user.email, code } });
    // Four wrong entries, racing: the code still works.
    await new TestClient().post("/api/v1/auth/email-code", { json: { email: user.email } });
    const survivor = await emailCode(user.email);
    expect((await Promise.all(Array.from({ length: 4 }, () => verify(wrongFor(survivor))))).every((answer) => answer.status === 401)).toBe(
      true,
    );
    expect((await verify(survivor)).status).toBe(200);
    // Five, then ten, racing: the fifth kills it either way.
    for (const racing of [5, 10]) {
      await new TestClient().post("/api/v1/auth/email-code", { json: { email: user.email } });
      const code = await emailCode(user.email);
      const answers = await Promise.all(Array.from({ length: racing }, () => verify(wrongFor(code))));
      expect(answers.every((answer) => answer.status === 401)).toBe(true);
      // Dead: the right code opens nothing now.
      expect((await verify(code)).status).toBe(401);
    }
  });

  it("count wrong entries against the client IP's login throttle, and answer a token pair when asked", async () => {
    const { user } = await registered();
    await new TestClient().post("/api/v1/auth/email-code", { json: { email: user.email } });
    const code = await emailCode(user.email);
    const guesser = new TestClient();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const wrong = String((Number(code) + 1 + i) % 1_000_000).padStart(6, "0");
      statuses.push((await guesser.post("/api/v1/auth/email-code/verify", { json: { email: uniqueEmail(), code: wrong } })).status);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses[5]).toBe(429);
    const tokens = await new TestClient().post("/api/v1/auth/email-code/verify", { json: { email: user.email, code, transport: "token" } });
    expect(tokens.status).toBe(200);
    expect(await tokens.json()).toMatchObject({ token_type: "bearer" });
  });

  it("sign in once under 10 racing uses of the right code", async () => {
    const { user } = await registered();
    await new TestClient().post("/api/v1/auth/email-code", { json: { email: user.email } });
    const code = await emailCode(user.email);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => new TestClient().post("/api/v1/auth/email-code/verify", { json: { email: user.email, code } })),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 401)).toHaveLength(9);
  });
});
