// The "Fixes and clarifications in v1.2" of docs/api-contract.md: a bad credential in a
// well-formed body is never a 422, emails are one account per normalized spelling (no
// lookalikes), query errors name the parameter, 429s name their cause, and the admin's
// throttle clear also frees an IP's hourly budget.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { makeAdmin } from "./helpers/admin";
import { TestClient, uniqueIp } from "./helpers/client";
import { login, registerUser, strongPassword, tokensFor } from "./helpers/users";

const MAIL_API = (env as unknown as { TEST_MAIL_API: string }).TEST_MAIL_API;
const RESEND = { MAIL_PROVIDER: "resend", MAIL_API_KEY: "test-mail-key", MAIL_API_URL: `${MAIL_API}/emails` };

interface ErrorBody {
  detail: string;
  code: string;
  errors?: Array<{ path: string; message: string }>;
}

async function sentTo(address: string): Promise<unknown[]> {
  return (await (await fetch(`${MAIL_API}/__sent?to=${encodeURIComponent(address)}`)).json()) as unknown[];
}

async function register(email: string, client: TestClient = new TestClient()): Promise<Response> {
  return client.post("/api/v1/users", { json: { email, password: strongPassword() } });
}

/** A unique local part, so tests never share an account. */
function tag(): string {
  return crypto.randomUUID().slice(0, 8);
}

async function expectInvalidToken(response: Response): Promise<void> {
  expect(response.status).toBe(401);
  expect(((await response.json()) as ErrorBody).code).toBe("invalid_token");
}

describe("a well-formed body with a bad credential is never a 422", () => {
  it("refresh: an empty, over-long, malformed or access token is 401 invalid_token; only a body without one is 422", async () => {
    const pair = await tokensFor(await registerUser(new TestClient()));
    for (const token of ["", "x".repeat(600), `${"a".repeat(48)}.${"B".repeat(500)}`, "garbage", pair.access_token]) {
      await expectInvalidToken(await new TestClient().post("/api/v1/auth/refresh", { json: { refresh_token: token } }));
    }
    for (const body of [{}, [], "a string"]) {
      const response = await new TestClient().post("/api/v1/auth/refresh", { json: body });
      expect(response.status).toBe(422);
      expect(((await response.json()) as ErrorBody).code).toBe("invalid_request");
    }
  });

  it("mfa_token: an empty or over-long one is 401 invalid_token at /mfa/verify and /mfa/challenge", async () => {
    for (const token of ["", "x".repeat(300)]) {
      const client = new TestClient();
      await expectInvalidToken(
        await client.post("/api/v1/auth/mfa/verify", { json: { mfa_token: token, method: "totp", code: "123456" } }),
      );
      await expectInvalidToken(await client.post("/api/v1/auth/mfa/challenge", { json: { mfa_token: token, method: "webauthn" } }));
    }
  });

  it("mailed link tokens: an empty or over-long one is the routes' 401 invalid_token, as an unknown one is", async () => {
    for (const token of ["", "x".repeat(200), "A".repeat(43)]) {
      await expectInvalidToken(await new TestClient().post("/api/v1/auth/verify-email/confirm", { json: { token } }));
      await expectInvalidToken(
        await new TestClient().post("/api/v1/auth/password-reset/confirm", { json: { token, new_password: strongPassword() } }),
      );
    }
  });

  it("api_key at /api-keys/verify: an empty or over-long key is {valid: false} like an unknown one", async () => {
    for (const key of ["", "x".repeat(300), `fai_abcdefgh_${"B".repeat(300)}`]) {
      const response = await new TestClient().post("/api/v1/api-keys/verify", { json: { api_key: key } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ valid: false, code: "invalid_api_key" });
    }
  });

  it("revoke answers 200 and introspect {active: false} for an empty or over-long token", async () => {
    for (const token of ["", "x".repeat(5000)]) {
      const revoked = await new TestClient().post("/api/v1/auth/revoke", { json: { token } });
      expect(revoked.status).toBe(200);
      const introspected = await new TestClient().post("/api/v1/auth/introspect", { json: { token } });
      expect(introspected.status).toBe(200);
      expect(await introspected.json()).toEqual({ active: false });
    }
  });

  it("an over-long authorization code is 400 invalid_grant like an unknown one", async () => {
    const response = await new TestClient().post("/api/v1/auth/token", {
      json: { grant_type: "authorization_code", code: "x".repeat(300), code_verifier: "v".repeat(43), redirect_uri: "myapp://callback" },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).code).toBe("invalid_grant");
  });
});

describe("emails are one account per normalized spelling", () => {
  it("a Kelvin-sign lookalike of an existing address is the same account: 409 email_taken", async () => {
    const local = `kate-${tag()}`;
    expect((await register(`${local}@example.com`)).status).toBe(201);
    const lookalike = await register(`\u212A${local.slice(1)}@example.com`);
    expect(lookalike.status).toBe(409);
    expect(((await lookalike.json()) as ErrorBody).code).toBe("email_taken");
  });

  it("stores and mails the normalized spelling, never the lookalike one", async () => {
    const rest = `ate-${tag()}@example.com`;
    const response = await register(`\u212A${rest}`);
    expect(response.status).toBe(201);
    const user = (await response.json()) as { email: string };
    expect(user.email).toBe(`K${rest}`);
    expect((await new TestClient().post("/api/v1/users", { json: { email: `k${rest}`, password: strongPassword() } })).status).toBe(409);

    const reset = await new TestClient({ settings: RESEND }).post("/api/v1/auth/password-reset/request", { json: { email: `k${rest}` } });
    expect(reset.status).toBe(202);
    expect(await sentTo(`K${rest}`)).toHaveLength(1);
    expect(await sentTo(`\u212A${rest}`)).toHaveLength(0);
  });

  it("NFC and NFD spellings and case variants are one account, found by either at login", async () => {
    const suffix = `-${tag()}@example.com`;
    const nfd = `jose\u0301${suffix}`;
    const password = strongPassword();
    const created = await new TestClient().post("/api/v1/users", { json: { email: `  ${nfd}  `, password } });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { email: string }).email).toBe(`jos\u00e9${suffix}`);
    expect((await register(`JOS\u00c9${suffix}`)).status).toBe(409);
    const signedIn = await new TestClient().post("/api/v1/auth/login", { json: { email: `Jos\u00e9${suffix}`, password } });
    expect(signedIn.status).toBe(200);
    const byNfd = await new TestClient().post("/api/v1/auth/token", { json: { email: nfd, password } });
    expect(byNfd.status).toBe(200);
  });

  it("lower-cases the domain (A-labels kept as given) but keeps the local part's case", async () => {
    const local = `Mixed-${tag()}`;
    const mixed = await register(`${local}@Example.COM`);
    expect(((await mixed.json()) as { email: string }).email).toBe(`${local}@example.com`);
    const idn = await register(`${local}@XN--BCHER-KVA.example`);
    expect(idn.status).toBe(201);
    expect(((await idn.json()) as { email: string }).email).toBe(`${local}@xn--bcher-kva.example`);
  });

  it.each([
    ["a zero-width space", "ka\u200bte"],
    ["a right-to-left override", "\u202ekate"],
    ["a bidi isolate", "ka\u2066te"],
    ["a word joiner", "ka\u2060te"],
    ["a byte order mark", "\ufeffkate"],
    ["a NUL", "ka\u0000te"],
    ["a control character", "ka\u0007te"],
    ["a lone surrogate", "ka\ud800te"],
    ["a local part over 64 octets", "\u00e9".repeat(33)],
  ])("refuses an address with %s with 422 naming the field", async (_label, local) => {
    const response = await register(`${local}-${tag()}@example.com`);
    expect(response.status).toBe(422);
    const body = (await response.json()) as ErrorBody;
    expect(body.code).toBe("invalid_request");
    expect(body.errors?.map((error) => error.path)).toEqual(["email"]);
  });

  it("refuses an address over 254 octets, counted in UTF-8", async () => {
    const response = await register(`a-${tag()}@${"\u00e9".repeat(120)}.example`);
    expect(response.status).toBe(422);
  });

  it("applies the same refusal at login, the token endpoint and the password-reset request", async () => {
    const invisible = `ka\u200bte-${tag()}@example.com`;
    const password = strongPassword();
    expect((await new TestClient().post("/api/v1/auth/login", { json: { email: invisible, password } })).status).toBe(422);
    expect((await new TestClient().post("/api/v1/auth/token", { json: { username: invisible, password } })).status).toBe(422);
    expect((await new TestClient().post("/api/v1/auth/password-reset/request", { json: { email: invisible } })).status).toBe(422);
  });

  it("an admin can neither create a lookalike of an account nor set an invisible address", async () => {
    const admin = await makeAdmin();
    const local = `kate-${tag()}`;
    const kate = await registerUser(new TestClient(), { email: `${local}@example.com` });
    const lookalike = await admin.client.post("/api/v1/admin/users", { json: { email: `\u212A${local.slice(1)}@example.com` } });
    expect(lookalike.status).toBe(409);
    const created = await admin.client.post("/api/v1/admin/users", { json: { email: `\u212A${local.slice(1)}-2@Example.com` } });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { email: string }).email).toBe(`K${local.slice(1)}-2@example.com`);
    const patched = await admin.client.patch(`/api/v1/admin/users/${kate.id}`, { json: { email: `ka\u202ete-${tag()}@example.com` } });
    expect(patched.status).toBe(422);
  });
});

describe("query parameters that fail validation say so", () => {
  async function expectQueryError(response: Response, path: string): Promise<void> {
    expect(response.status).toBe(422);
    const body = (await response.json()) as ErrorBody;
    expect(body.code).toBe("invalid_request");
    expect(body.detail).not.toMatch(/body/i);
    expect(body.errors?.map((error) => error.path)).toContain(path);
  }

  it("names query.days, query.limit, query.before and query.keep_current on a user's routes", async () => {
    const client = new TestClient();
    await login(client, await registerUser(client));
    await expectQueryError(await client.get("/api/v1/api-keys/abcdefgh/usage?days=0"), "query.days");
    await expectQueryError(await client.get("/api/v1/api-keys?limit=1000"), "query.limit");
    await expectQueryError(await client.get("/api/v1/auth/events?limit=0"), "query.limit");
    await expectQueryError(await client.get("/api/v1/auth/events?before=yesterday"), "query.before");
    await expectQueryError(await client.post("/api/v1/auth/logout-all?keep_current=maybe"), "query.keep_current");
  });

  it("names the parameter at the OAuth start", async () => {
    await expectQueryError(await new TestClient().get("/api/v1/auth/oauth/google?mode=popup"), "query.mode");
  });

  it("names the parameter on the admin lists", async () => {
    const admin = await makeAdmin();
    await expectQueryError(await admin.client.get("/api/v1/admin/users?limit=0"), "query.limit");
    await expectQueryError(await admin.client.get("/api/v1/admin/users?cursor=not-a-cursor"), "query.cursor");
    await expectQueryError(await admin.client.get("/api/v1/admin/events?before=not-a-cursor"), "query.before");
    await expectQueryError(await admin.client.get("/api/v1/admin/events?limit=x"), "query.limit");
  });
});

describe("429 answers name their cause", () => {
  async function expectThrottled(response: Response, detail: RegExp): Promise<void> {
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
    const body = (await response.json()) as ErrorBody;
    expect(body.code).toBe("too_many_attempts");
    expect(body.detail).toMatch(detail);
  }

  it("failed sign-ins", async () => {
    const user = await registerUser(new TestClient());
    const ip = uniqueIp();
    for (let i = 0; i < 5; i++) {
      await new TestClient({ ip }).post("/api/v1/auth/login", { json: { email: user.email, password: "wrong password" } });
    }
    const refused = await new TestClient({ ip }).post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    await expectThrottled(refused, /failed sign-in attempts/i);
  });

  it("registrations per hour from one IP", async () => {
    const client = new TestClient({ settings: { REGISTRATION_MAX_PER_HOUR: "1" } });
    expect((await register(`first-${tag()}@example.com`, client)).status).toBe(201);
    await expectThrottled(await register(`second-${tag()}@example.com`, client), /registrations or mails from this address/i);
  });

  it("mails per address", async () => {
    const client = new TestClient();
    await login(client, await registerUser(client));
    for (let i = 0; i < 3; i++) expect((await client.post("/api/v1/auth/verify-email/request")).status).toBe(202);
    await expectThrottled(await client.post("/api/v1/auth/verify-email/request"), /mails to this email address/i);
  });
});

describe("POST /api/v1/admin/throttle/clear {ip}", () => {
  it("also clears the IP's hourly budget of registrations and mail", async () => {
    const admin = await makeAdmin();
    const client = new TestClient({ settings: { REGISTRATION_MAX_PER_HOUR: "1" } });
    expect((await register(`first-${tag()}@example.com`, client)).status).toBe(201);
    expect((await register(`second-${tag()}@example.com`, client)).status).toBe(429);
    expect((await admin.client.post("/api/v1/admin/throttle/clear", { json: { ip: client.ip } })).status).toBe(200);
    expect((await register(`third-${tag()}@example.com`, client)).status).toBe(201);
  });
});
