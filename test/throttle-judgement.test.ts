// The account's login throttle judged by its authority after the hash (PasswordOps): what
// a locked account's answer, the client IP's count and a failing dependency may and may
// not reveal or cost (attacker review of issue 32).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TestClient, uniqueIp } from "./helpers/client";
import { makeAdmin } from "./helpers/admin";
import { Faults } from "./helpers/faults";
import { hold, namespaceHolding, withBindings } from "./helpers/holds";
import { linkToken } from "./helpers/mail";
import { login, registerUser, strongPassword, uniqueEmail } from "./helpers/users";

const settings = { LOGIN_MAX_ATTEMPTS: "2", LOGIN_WINDOW_MINUTES: "15" };

async function wrongLogins(email: string, times: number, ip = uniqueIp()): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < times; i++) {
    const client = new TestClient({ settings, ip });
    statuses.push((await client.post("/api/v1/auth/login", { json: { email, password: "wrong-password-123" } })).status);
  }
  return statuses;
}

/** What an IP has left: logins for names of no account until it is refused. */
async function ipBudget(ip: string): Promise<number[]> {
  return wrongLogins(uniqueEmail(), 3, ip);
}

describe("a locked account", () => {
  it("says nothing through the IP's count about whether a current password guessed with a stolen session was right", async () => {
    const user = await registerUser(new TestClient({ settings }));
    const stolen = new TestClient({ settings });
    await login(stolen, user);
    expect(await wrongLogins(user.email, 3)).toEqual([401, 401, 429]);
    const budgets: number[][] = [];
    for (const guess of [user.password, "wrong-password-456"]) {
      const ip = uniqueIp();
      const guesser = new TestClient({ settings, ip });
      for (const [name, value] of stolen.cookies) guesser.cookies.set(name, value);
      const change = await guesser.post("/api/v1/users/me/password", { json: { current_password: guess, new_password: strongPassword() } });
      expect(change.status).toBe(429);
      budgets.push(await ipBudget(ip));
    }
    expect(budgets[0]).toEqual(budgets[1]);
    expect(budgets[0]).toEqual([401, 429, 429]);
  });

  it("counts every guess against the client's IP, so one IP cannot keep hashing guesses at it", async () => {
    const user = await registerUser(new TestClient({ settings }));
    expect(await wrongLogins(user.email, 2)).toEqual([401, 401]);
    const ip = uniqueIp();
    expect(await wrongLogins(user.email, 3, ip)).toEqual([429, 429, 429]);
    // The IP's own window is full: another account is refused from it too.
    const other = await registerUser(new TestClient({ settings }));
    expect(
      (await new TestClient({ settings, ip }).post("/api/v1/auth/login", { json: { email: other.email, password: other.password } }))
        .status,
    ).toBe(429);
  });

  it("is not promoted by a right password the throttle refused (ADMIN_EMAILS)", async () => {
    const email = uniqueEmail();
    const owner = new TestClient();
    const user = await registerUser(owner, { email });
    await login(owner, user);
    expect((await owner.post("/api/v1/auth/verify-email/request")).status).toBe(202);
    const verified = await owner.post("/api/v1/auth/verify-email/confirm", { json: { token: await linkToken(email, "/verify-email") } });
    expect(await verified.json()).toMatchObject({ is_superuser: false });
    const listed = { ...settings, ADMIN_EMAILS: email };
    for (let i = 0; i < 2; i++) {
      const wrong = await new TestClient({ settings: listed }).post("/api/v1/auth/login", {
        json: { email, password: "wrong-password-123" },
      });
      expect(wrong.status).toBe(401);
    }
    const right = await new TestClient({ settings: listed }).post("/api/v1/auth/login", { json: { email, password: user.password } });
    expect(right.status).toBe(429);
    const row = await env.DB.prepare("SELECT is_superuser FROM users WHERE id = ?").bind(user.id).first<{ is_superuser: number }>();
    expect(row?.is_superuser).toBe(0);
  });
});

describe("a dependency failing during a login", () => {
  it("gives the IP's slot back: a D1 failure does not lock the client out", async () => {
    const user = await registerUser(new TestClient({ settings }));
    const ip = uniqueIp();
    for (let i = 0; i < 2; i++) {
      const client = new TestClient({ settings, ip });
      client.bindings = new Faults().fail("DB", { kind: "error" }).bindings();
      expect((await client.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } })).status).toBe(503);
    }
    expect((await login(new TestClient({ settings, ip }), user)).status).toBe(200);
  });
});

describe("a login whose password check passed, racing the account's other writes", () => {
  it("opens no session after an admin's disable that came first (3 rounds of 3 logins, held at the authority's call)", async () => {
    const admin = await makeAdmin();
    for (let round = 0; round < 3; round++) {
      const user = await registerUser(new TestClient());
      const checked = hold();
      const racers = Array.from({ length: 3 }, () => {
        const client = new TestClient();
        client.bindings = withBindings({ USER_AUTHORITY: namespaceHolding(env.USER_AUTHORITY, "passwordSignIn", checked) });
        return client;
      });
      const logins = racers.map((racer) => racer.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } }));
      await checked.reached(3);
      expect((await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: true } })).status).toBe(200);
      checked.release();
      for (const [index, answer] of (await Promise.all(logins)).entries()) {
        expect(answer.status).toBe(403);
        expect(racers[index]?.sessionToken).toBeUndefined();
      }
    }
  });

  it("keeps a session opened after a logout-all that came first, and ends every one opened before it", async () => {
    const owner = new TestClient();
    const user = await registerUser(owner);
    await login(owner, user);
    const checked = hold();
    const racer = new TestClient();
    racer.bindings = withBindings({ USER_AUTHORITY: namespaceHolding(env.USER_AUTHORITY, "passwordSignIn", checked) });
    const late = racer.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    await checked.reached(1);
    expect((await owner.post("/api/v1/auth/logout-all")).status).toBe(200);
    checked.release();
    expect((await late).status).toBe(200);
    expect((await owner.get("/api/v1/users/me")).status).toBe(401);
    expect((await racer.get("/api/v1/users/me")).status).toBe(200);
  });
});
