// The MFA gate on every first factor that is not a password: the OAuth callback in
// redirect and JSON mode, and the mobile app-code grant. Each issues nothing (no session
// cookie, no token) before the second factor, and then answers what it would have.
import { describe, expect, it } from "vitest";
import { BASE_URL, TestClient } from "./helpers/client";
import { codeAt, enrollTotp, forgetUsedSteps, stableStep } from "./helpers/mfa";
import { OAuthBrowser } from "./helpers/oauth-browser";
import { s256 } from "../src/oauth/app-codes";

const APP_REDIRECT = "edgeauth://oauth/callback";

/** An OAuth-only account with TOTP: signs in once through the provider, enrolls, and is returned with its secret. */
async function oauthUserWithTotp(): Promise<{ email: string; secret: string; userId: string }> {
  const email = `oidc-${crypto.randomUUID()}@example.com`;
  const browser = new OAuthBrowser();
  const callback = await browser.signInAtProvider(await browser.start("/api/v1/auth/oauth/testidp?redirect_to=/home"), email);
  expect((await browser.get(callback.replace(BASE_URL, ""))).status).toBe(302);
  const me = (await (await browser.get("/api/v1/users/me")).json()) as { id: string };
  const { secret } = await enrollTotp(browser, me.id);
  expect(await (await browser.get("/api/v1/auth/check-auth")).json()).toMatchObject({ session: { aal: 2, amr: ["oauth", "otp"] } });
  return { email, secret, userId: me.id };
}

describe("the MFA gate on OAuth sign-ins", () => {
  it("redirect mode: no session, redirect_to?mfa_required=true with an HttpOnly challenge cookie that /mfa/verify accepts", async () => {
    const { email, secret } = await oauthUserWithTotp();
    const browser = new OAuthBrowser();
    const callback = await browser.signInAtProvider(await browser.start("/api/v1/auth/oauth/testidp?redirect_to=/home"), email);
    const landed = await browser.get(callback.replace(BASE_URL, ""));
    expect(landed.status).toBe(302);
    expect(landed.headers.get("Location")).toBe(`${BASE_URL}/home?mfa_required=true`);
    expect(browser.sessionToken).toBeUndefined();
    const challengeCookie = browser.lastSetCookies.find((line) => line.startsWith("mfa_token="));
    expect(challengeCookie).toMatch(/HttpOnly/i);
    expect(challengeCookie).toMatch(/Path=\/api\/v1\/auth\/mfa/);
    expect(challengeCookie).toMatch(/Max-Age=300/);
    expect(await (await browser.get("/api/v1/auth/check-auth")).json()).toEqual({ authenticated: false });

    await stableStep();
    const verified = await browser.post("/api/v1/auth/mfa/verify", { json: { method: "totp", code: await codeAt(secret) } });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toMatchObject({ user: { email }, is_new_user: false });
    expect(browser.lastSetCookies.some((line) => line.startsWith("mfa_token=;") || /^mfa_token=[^;]*;.*Max-Age=0/i.test(line))).toBe(true);
    expect(await (await browser.get("/api/v1/auth/check-auth")).json()).toMatchObject({ session: { aal: 2, amr: ["oauth", "otp"] } });
  });

  it("JSON mode: 401 mfa_required with the token, and no session", async () => {
    const { email, secret, userId } = await oauthUserWithTotp();
    const browser = new OAuthBrowser();
    const callback = await browser.signInAtProvider(await browser.start("/api/v1/auth/oauth/testidp?mode=json"), email);
    const response = await browser.get(callback.replace(BASE_URL, ""));
    expect(response.status).toBe(401);
    const body = (await response.json()) as { code: string; mfa_token: string; methods: string[] };
    expect(body).toMatchObject({ code: "mfa_required", methods: ["totp", "recovery_code"] });
    expect(browser.sessionToken).toBeUndefined();
    await forgetUsedSteps(userId);
    await stableStep();
    const verified = await new TestClient().post("/api/v1/auth/mfa/verify", {
      json: { mfa_token: body.mfa_token, method: "totp", code: await codeAt(secret) },
    });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toMatchObject({ user: { email }, is_new_user: false });
  });

  it("mobile: the app-code exchange answers mfa_required, then the token pair after the code", async () => {
    const { email, secret, userId } = await oauthUserWithTotp();
    const verifier = `verifier-${crypto.randomUUID()}-${crypto.randomUUID()}`;
    const browser = new OAuthBrowser();
    const start = `/api/v1/auth/oauth/testidp?client=mobile&redirect_uri=${encodeURIComponent(APP_REDIRECT)}&code_challenge=${await s256(verifier)}`;
    const callback = await browser.signInAtProvider(await browser.start(start), email);
    const toApp = new URL((await browser.get(callback.replace(BASE_URL, ""))).headers.get("Location") ?? "");
    const code = toApp.searchParams.get("code");
    expect(code).not.toBeNull();
    const exchanged = await new TestClient().post("/api/v1/auth/token", {
      json: { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: APP_REDIRECT },
    });
    expect(exchanged.status).toBe(401);
    const body = (await exchanged.json()) as { code: string; mfa_token: string };
    expect(body.code).toBe("mfa_required");
    expect(body).not.toHaveProperty("access_token");
    await forgetUsedSteps(userId);
    await stableStep();
    const verified = await new TestClient().post("/api/v1/auth/mfa/verify", {
      json: { mfa_token: body.mfa_token, method: "totp", code: await codeAt(secret) },
    });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toMatchObject({ token_type: "bearer" });
  });
});
