// Admin writes racing the target user's own writes, with real concurrency: whatever
// order the user's authority sees them in, a disabled account keeps nothing that works,
// and an admin's factor reset or deletion leaves no second factor or session behind.
import { describe, expect, it } from "vitest";
import { makeAdmin } from "./helpers/admin";
import { TestClient } from "./helpers/client";
import { enrollTotp, mfaTokenFor } from "./helpers/mfa";
import { OAuthBrowser } from "./helpers/oauth-browser";
import { SoftwareAuthenticator } from "./helpers/authenticator";
import { BASE_URL } from "./helpers/client";
import { login, registerUser, tokensFor } from "./helpers/users";

describe("admin writes racing the user's writes", () => {
  it("a disable racing refreshes and API-key creation leaves no working refresh token and no working key", async () => {
    const admin = await makeAdmin();
    for (let round = 0; round < 3; round++) {
      const owner = new TestClient();
      const user = await registerUser(owner);
      await login(owner, user);
      const pair = await tokensFor(user);
      const refresh = () => new TestClient().post("/api/v1/auth/refresh", { json: { refresh_token: pair.refresh_token } });
      const [disabled, keyAnswer, ...refreshes] = await Promise.all([
        admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: true } }),
        owner.post("/api/v1/api-keys", { json: { name: "race", permissions: { user_profile: ["read"] } } }),
        refresh(),
        refresh(),
      ]);
      expect(disabled.status).toBe(200);
      const tokens = [pair.refresh_token];
      for (const answer of refreshes)
        if (answer.status === 200) tokens.push(((await answer.json()) as { refresh_token: string }).refresh_token);
      for (const token of tokens)
        expect((await new TestClient().post("/api/v1/auth/refresh", { json: { refresh_token: token } })).status).toBe(401);
      if (keyAnswer.status === 201) {
        const { api_key: key } = (await keyAnswer.json()) as { api_key: string };
        expect((await new TestClient().get("/api/v1/users/me", { headers: { "X-API-Key": key } })).status).toBe(401);
      }
    }
  });

  it("a factor reset racing second-factor sign-ins leaves the account without factors", async () => {
    const admin = await makeAdmin();
    const owner = new TestClient();
    const user = await registerUser(owner);
    await login(owner, user);
    const { recoveryCodes } = await enrollTotp(owner, user.id);
    const tokens = await Promise.all([0, 1, 2].map(() => mfaTokenFor(new TestClient(), user)));
    const [reset] = await Promise.all([
      admin.client.delete(`/api/v1/admin/users/${user.id}/mfa`),
      ...tokens.map((token, index) =>
        new TestClient().post("/api/v1/auth/mfa/verify", {
          json: { mfa_token: token, method: "recovery_code", code: recoveryCodes[index] },
        }),
      ),
    ]);
    expect(reset.status).toBe(204);
    expect(await (await owner.get("/api/v1/auth/mfa")).json()).toEqual({ factors: [], recovery_codes_remaining: 0 });
    await login(new TestClient(), user);
  });
});

describe("a disabled account's other first factors", () => {
  it("answers an OAuth sign-in (JSON mode) and a passkey sign-in with 403 account_disabled", async () => {
    const admin = await makeAdmin();
    // OAuth: an account made through the provider.
    const email = `oidc-${crypto.randomUUID()}@example.com`;
    const browser = new OAuthBrowser();
    const first = await browser.signInAtProvider(await browser.start("/api/v1/auth/oauth/testidp?mode=json"), email);
    const { user: oauthUser } = (await (await browser.get(first.replace(BASE_URL, ""))).json()) as { user: { id: string } };
    expect((await admin.client.patch(`/api/v1/admin/users/${oauthUser.id}`, { json: { disabled: true } })).status).toBe(200);
    const again = new OAuthBrowser();
    const callback = await again.signInAtProvider(await again.start("/api/v1/auth/oauth/testidp?mode=json"), email);
    const refused = await again.get(callback.replace(BASE_URL, ""));
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: "account_disabled" });
    expect(again.sessionToken).toBeUndefined();

    // Passkey: registered, then the account disabled.
    const owner = new TestClient();
    const user = await registerUser(owner);
    await login(owner, user);
    const authenticator = new SoftwareAuthenticator();
    const options = await (await owner.post("/api/v1/auth/mfa/webauthn/registration")).json();
    await owner.post("/api/v1/auth/mfa/webauthn/registration/verify", {
      json: { response: await authenticator.register(options as never, BASE_URL) },
    });
    expect((await admin.client.patch(`/api/v1/admin/users/${user.id}`, { json: { disabled: true } })).status).toBe(200);
    const loginOptions = await (await new TestClient().post("/api/v1/auth/passkeys/options")).json();
    const passkey = await new TestClient().post("/api/v1/auth/passkeys/login", {
      json: { response: await authenticator.assert(loginOptions as never, BASE_URL) },
    });
    expect(passkey.status).toBe(403);
    expect(await passkey.json()).toMatchObject({ code: "account_disabled" });
  });
});
