// Passkeys with a software authenticator (real ES256 and EdDSA signatures): registration,
// passwordless sign-in, use as a second factor, and every refusal the contract names.
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { utf8 } from "../src/lib/encoding";
import { SoftwareAuthenticator, type AuthenticatorOptions } from "./helpers/authenticator";
import { BASE_URL, TestClient } from "./helpers/client";
import { type TestUser, login, registerUser } from "./helpers/users";

const ORIGIN = BASE_URL;
type Options = { challenge: string; rpId?: string; rp: { id?: string }; user: { id: string }; allowCredentials?: Array<{ id: string }> };

async function registered(
  authenticator: SoftwareAuthenticator,
  client?: TestClient,
): Promise<{ client: TestClient; user: TestUser; recovery: string[] }> {
  const owner = client ?? new TestClient();
  const user = await registerUser(owner);
  await login(owner, user);
  const optionsResponse = await owner.post("/api/v1/auth/mfa/webauthn/registration");
  expect(optionsResponse.status).toBe(200);
  const options = (await optionsResponse.json()) as Options;
  expect(options.rp.id).toBe("auth.example.test");
  const verified = await owner.post("/api/v1/auth/mfa/webauthn/registration/verify", {
    json: { response: await authenticator.register(options, ORIGIN), name: "Laptop" },
  });
  expect(verified.status).toBe(201);
  const body = (await verified.json()) as { factor: { type: string; name: string }; recovery_codes: string[] };
  expect(body.factor).toMatchObject({ type: "webauthn", name: "Laptop" });
  return { client: owner, user, recovery: body.recovery_codes };
}

async function passwordlessOptions(): Promise<Options> {
  const response = await new TestClient().post("/api/v1/auth/passkeys/options");
  expect(response.status).toBe(200);
  return (await response.json()) as Options;
}

async function passwordless(client: TestClient, response: Record<string, unknown>, transport?: "cookie" | "token"): Promise<Response> {
  return client.post("/api/v1/auth/passkeys/login", { json: transport === undefined ? { response } : { response, transport } });
}

describe.each<AuthenticatorOptions["algorithm"]>(["ES256", "EdDSA"])("passkeys with %s", (algorithm) => {
  it("registers for a signed-in user (aal 2, first recovery codes) and signs in without a password at aal 2", async () => {
    const authenticator = new SoftwareAuthenticator({ algorithm });
    const { client, user, recovery } = await registered(authenticator);
    expect(recovery).toHaveLength(10);
    expect(await (await client.get("/api/v1/auth/check-auth")).json()).toMatchObject({ session: { aal: 2, amr: ["pwd", "webauthn"] } });

    const options = await passwordlessOptions();
    expect(options.rpId).toBe("auth.example.test");
    expect(options.allowCredentials ?? []).toEqual([]);
    const browser = new TestClient();
    const signedIn = await passwordless(browser, await authenticator.assert(options, ORIGIN));
    expect(signedIn.status).toBe(200);
    expect(((await signedIn.json()) as { user: { id: string } }).user.id).toBe(user.id);
    expect(await (await browser.get("/api/v1/auth/check-auth")).json()).toMatchObject({ session: { aal: 2, amr: ["webauthn"] } });

    const tokens = await passwordless(new TestClient(), await authenticator.assert(await passwordlessOptions(), ORIGIN), "token");
    expect(tokens.status).toBe(200);
    expect(decodeJwt(((await tokens.json()) as { access_token: string }).access_token)).toMatchObject({ aal: 2, amr: ["webauthn"] });
  });

  it("is a second factor after a password", async () => {
    const authenticator = new SoftwareAuthenticator({ algorithm });
    const { user } = await registered(authenticator);
    const client = new TestClient();
    const stopped = await client.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    const { mfa_token: mfaToken, methods } = (await stopped.json()) as { mfa_token: string; methods: string[] };
    expect(methods).toEqual(["webauthn", "recovery_code"]);
    const challenge = await client.post("/api/v1/auth/mfa/challenge", { json: { mfa_token: mfaToken, method: "webauthn" } });
    expect(challenge.status).toBe(200);
    const options = (await challenge.json()) as Options;
    expect(options.allowCredentials?.map((item) => item.id)).toEqual([authenticator.id]);
    const verified = await client.post("/api/v1/auth/mfa/verify", {
      json: { mfa_token: mfaToken, method: "webauthn", response: await authenticator.assert(options, ORIGIN) },
    });
    expect(verified.status).toBe(200);
    expect(await (await client.get("/api/v1/auth/check-auth")).json()).toMatchObject({ session: { aal: 2, amr: ["pwd", "webauthn"] } });
  });
});

describe("passkey refusals (401 invalid_mfa_code)", () => {
  const expectRefused = async (response: Response): Promise<void> => {
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "invalid_mfa_code" });
  };

  it("refuses an assertion from a wrong origin or for a wrong RP ID", async () => {
    const authenticator = new SoftwareAuthenticator();
    await registered(authenticator);
    await expectRefused(
      await passwordless(new TestClient(), await authenticator.assert(await passwordlessOptions(), "https://evil.example")),
    );
    await expectRefused(
      await passwordless(new TestClient(), await authenticator.assert(await passwordlessOptions(), ORIGIN, { rpId: "evil.example" })),
    );
  });

  it("refuses a registration from a wrong origin or for a wrong RP ID", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    for (const [origin, rpId] of [
      ["https://evil.example", undefined],
      [ORIGIN, "evil.example"],
    ] as const) {
      const options = (await (await client.post("/api/v1/auth/mfa/webauthn/registration")).json()) as Options;
      const response = await new SoftwareAuthenticator().register(options, origin, rpId === undefined ? {} : { rpId });
      await expectRefused(await client.post("/api/v1/auth/mfa/webauthn/registration/verify", { json: { response } }));
    }
    expect(((await (await client.get("/api/v1/auth/mfa")).json()) as { factors: unknown[] }).factors).toEqual([]);
  });

  it("refuses a replayed challenge, and a replayed registration", async () => {
    const authenticator = new SoftwareAuthenticator();
    await registered(authenticator);
    const options = await passwordlessOptions();
    const first = await authenticator.assert(options, ORIGIN);
    expect((await passwordless(new TestClient(), first)).status).toBe(200);
    // The same challenge answered again (even with a higher counter) is refused.
    await expectRefused(await passwordless(new TestClient(), await authenticator.assert(options, ORIGIN)));

    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    const regOptions = (await (await client.post("/api/v1/auth/mfa/webauthn/registration")).json()) as Options;
    const response = await new SoftwareAuthenticator().register(regOptions, ORIGIN);
    expect((await client.post("/api/v1/auth/mfa/webauthn/registration/verify", { json: { response } })).status).toBe(201);
    const again = await new SoftwareAuthenticator().register(regOptions, ORIGIN);
    await expectRefused(await client.post("/api/v1/auth/mfa/webauthn/registration/verify", { json: { response: again } }));
  });

  it("refuses a signature counter that goes back (a cloned authenticator)", async () => {
    const authenticator = new SoftwareAuthenticator();
    await registered(authenticator);
    authenticator.signCount = 10;
    expect((await passwordless(new TestClient(), await authenticator.assert(await passwordlessOptions(), ORIGIN))).status).toBe(200);
    authenticator.signCount = 3;
    await expectRefused(await passwordless(new TestClient(), await authenticator.assert(await passwordlessOptions(), ORIGIN)));
  });

  it("refuses another user's credential: as the second factor, and under someone else's user handle", async () => {
    const mine = new SoftwareAuthenticator();
    const theirs = new SoftwareAuthenticator();
    const { user } = await registered(mine);
    const { user: other } = await registered(theirs);

    const client = new TestClient();
    const stopped = await client.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    const { mfa_token: mfaToken } = (await stopped.json()) as { mfa_token: string };
    const options = (await (
      await client.post("/api/v1/auth/mfa/challenge", { json: { mfa_token: mfaToken, method: "webauthn" } })
    ).json()) as Options;
    await expectRefused(
      await client.post("/api/v1/auth/mfa/verify", {
        json: { mfa_token: mfaToken, method: "webauthn", response: await theirs.assert(options, ORIGIN) },
      }),
    );

    theirs.userHandle = utf8(user.id);
    await expectRefused(await passwordless(new TestClient(), await theirs.assert(await passwordlessOptions(), ORIGIN)));
    theirs.userHandle = utf8(other.id);
    expect((await passwordless(new TestClient(), await theirs.assert(await passwordlessOptions(), ORIGIN))).status).toBe(200);
  });

  it("refuses an unknown credential and an unknown user handle", async () => {
    const stranger = new SoftwareAuthenticator();
    stranger.userHandle = utf8(crypto.randomUUID());
    await expectRefused(await passwordless(new TestClient(), await stranger.assert(await passwordlessOptions(), ORIGIN)));
    stranger.userHandle = utf8("not-a-user-id");
    await expectRefused(await passwordless(new TestClient(), await stranger.assert(await passwordlessOptions(), ORIGIN)));
  });
});

describe("a passkey that did not verify the user is one factor", () => {
  it("stops at the MFA gate, and cannot be its own second factor", async () => {
    const authenticator = new SoftwareAuthenticator({ userVerified: false });
    const { recovery } = await registered(authenticator);
    const client = new TestClient();
    const stopped = await passwordless(client, await authenticator.assert(await passwordlessOptions(), ORIGIN));
    expect(stopped.status).toBe(401);
    const body = (await stopped.json()) as { code: string; mfa_token: string; methods: string[] };
    expect(body).toMatchObject({ code: "mfa_required", methods: ["recovery_code"] });
    expect(client.sessionToken).toBeUndefined();
    const verified = await client.post("/api/v1/auth/mfa/verify", {
      json: { mfa_token: body.mfa_token, method: "recovery_code", code: recovery[0] },
    });
    expect(verified.status).toBe(200);
    expect(await (await client.get("/api/v1/auth/check-auth")).json()).toMatchObject({
      session: { aal: 2, amr: ["webauthn", "recovery"] },
    });
  });
});
