// Turnstile on the configured routes and breached-password refusal, against loopback
// stand-ins for siteverify and the Pwned Passwords range API (test/servers/abuse-services.ts).
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { BREACHED, PADDED } from "./servers/abuse-fixtures";
import { BASE_URL, type Settings, TestClient } from "./helpers/client";
import { linkToken } from "./helpers/mail";
import { login, registerUser, strongPassword, uniqueEmail } from "./helpers/users";
import { makeAdmin } from "./helpers/admin";

const HOST = new URL(BASE_URL).hostname;
const TURNSTILE: Settings = { TURNSTILE_SECRET_KEY: "turnstile-test-secret", TURNSTILE_VERIFY_URL: `${env.TEST_ABUSE}/siteverify` };
const PWNED: Settings = { PWNED_PASSWORDS: "true", PWNED_PASSWORDS_URL: `${env.TEST_ABUSE}/range` };

async function setDown(down: boolean): Promise<void> {
  await fetch(`${env.TEST_ABUSE}/__mode`, { method: "POST", body: JSON.stringify({ down }) });
}

afterEach(() => setDown(false));

/** Each guarded route: a request to it with `headers` (and a token in the body when `inBody`). */
const ROUTES = {
  register: (client: TestClient, extra: Record<string, unknown>, headers: Record<string, string>) =>
    client.post("/api/v1/users", { json: { email: uniqueEmail(), password: strongPassword(), ...extra }, headers }),
  password_reset: (client: TestClient, extra: Record<string, unknown>, headers: Record<string, string>) =>
    client.post("/api/v1/auth/password-reset/request", { json: { email: uniqueEmail(), ...extra }, headers }),
  magic_link: (client: TestClient, extra: Record<string, unknown>, headers: Record<string, string>) =>
    client.post("/api/v1/auth/magic-link", { json: { email: uniqueEmail(), ...extra }, headers }),
  email_code: (client: TestClient, extra: Record<string, unknown>, headers: Record<string, string>) =>
    client.post("/api/v1/auth/email-code", { json: { email: uniqueEmail(), ...extra }, headers }),
} as const;

describe("Turnstile", () => {
  for (const [route, send] of Object.entries(ROUTES)) {
    it(`guards ${route}: missing 400, refused 403, replayed 403, for another action 403, outage 503; a good token passes once`, async () => {
      const client = new TestClient({ settings: TURNSTILE });
      const missing = await send(client, {}, {});
      expect(missing.status).toBe(400);
      expect(await missing.json()).toMatchObject({ code: "captcha_required" });
      const refused = await send(client, { turnstile_token: "fail" }, {});
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ code: "captcha_failed" });
      const otherAction = await send(client, {}, { "CF-Turnstile-Response": `pass:login:${HOST}` });
      expect(otherAction.status).toBe(403);
      const otherHost = await send(client, {}, { "CF-Turnstile-Response": `pass:${route}:evil.example` });
      expect(otherHost.status).toBe(403);

      const token = `pass:${route}:${HOST}:${crypto.randomUUID()}`;
      const passed = await send(client, { turnstile_token: token }, {});
      expect(passed.status).toBeLessThan(300);
      const replayed = await send(client, {}, { "CF-Turnstile-Response": token });
      expect(replayed.status).toBe(403);
      const sent = (await (await fetch(`${env.TEST_ABUSE}/__turnstile`)).json()) as Array<Record<string, string>>;
      const checked = sent.find((form) => form.response === token);
      expect(checked).toMatchObject({ secret: "turnstile-test-secret", remoteip: expect.any(String), idempotency_key: expect.any(String) });

      await setDown(true);
      const outage = await send(client, {}, { "CF-Turnstile-Response": `pass:${route}:${HOST}:${crypto.randomUUID()}` });
      expect(outage.status).toBe(503);
      expect(await outage.json()).toMatchObject({ code: "service_unavailable" });
    });
  }

  it("is off without TURNSTILE_SECRET_KEY, and guards only the routes TURNSTILE_ROUTES lists", async () => {
    expect((await ROUTES.register(new TestClient(), {}, {})).status).toBe(201);
    const onlyRegister = new TestClient({ settings: { ...TURNSTILE, TURNSTILE_ROUTES: "register" } });
    expect((await ROUTES.magic_link(onlyRegister, {}, {})).status).toBe(202);
    expect((await ROUTES.register(onlyRegister, {}, {})).status).toBe(400);
  });
});

describe("Turnstile on login", () => {
  it("asks for the challenge once the client IP failed TURNSTILE_LOGIN_AFTER_FAILURES sign-ins, before any password is checked", async () => {
    const settings = { ...TURNSTILE, TURNSTILE_LOGIN_AFTER_FAILURES: "2" };
    const client = new TestClient({ settings });
    const user = await registerUser(new TestClient());
    const attempt = (password: string, headers: Record<string, string> = {}) =>
      client.post("/api/v1/auth/login", { json: { email: user.email, password }, headers });
    expect((await attempt("wrong-password-1")).status).toBe(401);
    expect((await attempt("wrong-password-2")).status).toBe(401);
    const missing = await attempt(user.password);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: "captcha_required" });
    expect((await attempt(user.password, { "CF-Turnstile-Response": "fail" })).status).toBe(403);
    const passed = await attempt(user.password, { "CF-Turnstile-Response": `pass:login:${HOST}:${crypto.randomUUID()}` });
    expect(passed.status).toBe(200);
    // A token is good once; siteverify unreachable is a 503, never a pass.
    const token = `pass:login:${HOST}:${crypto.randomUUID()}`;
    expect((await attempt("wrong-password-3", { "CF-Turnstile-Response": token })).status).toBe(401);
    expect((await attempt(user.password, { "CF-Turnstile-Response": token })).status).toBe(403);
    await setDown(true);
    const outage = await attempt(user.password, { "CF-Turnstile-Response": `pass:login:${HOST}:${crypto.randomUUID()}` });
    expect(outage.status).toBe(503);
    await setDown(false);
    // Listed in TURNSTILE_ROUTES: every login needs it, the token endpoint's too.
    const always = new TestClient({ settings: { ...TURNSTILE, TURNSTILE_ROUTES: "login" } });
    expect((await always.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } })).status).toBe(400);
    expect((await always.post("/api/v1/auth/token", { json: { email: user.email, password: user.password } })).status).toBe(400);
  });
});

describe("breached passwords", () => {
  it("are refused at registration, change, reset and admin create (422 password_breached); padding never matches", async () => {
    const [breached] = BREACHED as [string];
    const [padded] = PADDED as [string];
    const client = new TestClient({ settings: PWNED });
    const refused = await client.post("/api/v1/users", { json: { email: uniqueEmail(), password: breached } });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ code: "password_breached" });
    expect((await client.post("/api/v1/users", { json: { email: uniqueEmail(), password: padded } })).status).toBe(201);
    const ranges = (await (await fetch(`${env.TEST_ABUSE}/__range`)).json()) as Array<{ prefix: string; padding: string | null }>;
    expect(ranges.length).toBeGreaterThan(0);
    expect(ranges.every((range) => /^[0-9A-F]{5}$/.test(range.prefix) && range.padding === "true")).toBe(true);

    const user = await registerUser(client);
    await login(client, user);
    const change = await client.post("/api/v1/users/me/password", { json: { current_password: user.password, new_password: breached } });
    expect(change.status).toBe(422);
    expect(await change.json()).toMatchObject({ code: "password_breached" });

    await new TestClient().post("/api/v1/auth/password-reset/request", { json: { email: user.email } });
    const token = await linkToken(user.email, "/reset-password");
    const reset = await new TestClient({ settings: PWNED }).post("/api/v1/auth/password-reset/confirm", {
      json: { token, new_password: breached },
    });
    expect(reset.status).toBe(422);
    // Refused before the link was used: it still works with another password.
    const retried = await new TestClient({ settings: PWNED }).post("/api/v1/auth/password-reset/confirm", {
      json: { token, new_password: strongPassword() },
    });
    expect(retried.status).toBe(200);

    const admin = await makeAdmin(PWNED);
    const created = await admin.client.post("/api/v1/admin/users", { json: { email: uniqueEmail(), password: breached } });
    expect(created.status).toBe(422);
  });

  it("fall back to the built-in list when the range API is down, and log a warning without the password or its hash", async () => {
    await setDown(true);
    const client = new TestClient({ settings: PWNED });
    const logged: string[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => void logged.push(args.map(String).join(" "));
    try {
      // Not in the built-in list: let through while the API is down.
      expect((await client.post("/api/v1/users", { json: { email: uniqueEmail(), password: `${BREACHED[0]}x` } })).status).toBe(201);
    } finally {
      console.warn = warn;
    }
    const warning = logged.find((line) => line.includes("pwned_passwords_unavailable"));
    expect(warning).toBeDefined();
    expect(warning).not.toMatch(/breached-but-long|[0-9A-F]{5}/);
  });
});
