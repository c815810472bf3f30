// The OAuth server's pages in Debian's Chromium: a third-party app sends a signed-out
// browser to /oauth2/authorize; the account page signs the user in and returns; the
// consent page names the app (not verified), where it sends the user back and what it
// asks; "Allow" lands on the app's redirect URI with a code. A CLI's device code is typed
// on /device and approved the same way, and the CLI's poll then gets tokens. The account
// page lists both connected apps and revokes one. Screenshots at 360 and 1280 px, axe on
// each page.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEnvironment } from "./harness.mjs";
import { accessible, message, password, shots, status } from "./pages.mjs";

let env;
before(async () => {
  env = await startEnvironment();
});
after(async () => {
  await env?.close();
});

const CALLBACK = "http://127.0.0.1:45678/callback";

/** A form POST to a protocol endpoint, sent from the page (same origin as the API). */
function postForm(page, path, form) {
  return page.evaluate(
    async ({ path, form }) => {
      const response = await fetch(path, { method: "POST", body: new URLSearchParams(form), credentials: "omit" });
      return { status: response.status, body: await response.json() };
    },
    { path, form },
  );
}

async function pkce() {
  const verifier = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { verifier, challenge: Buffer.from(digest).toString("base64url") };
}

describe("the OAuth server's pages", () => {
  it("signs a user in for a third-party app, asks consent, sends them back with a code; /device approves a CLI; the account page revokes", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    // The app's redirect URI: nothing listens there, the test reads where the browser went.
    await context.route(`${CALLBACK}**`, (route) =>
      route.fulfill({ status: 200, contentType: "text/html", body: "<title>app</title>back in the app" }),
    );
    await page.goto(`${env.urls.apiLax}/account/`);
    await status(page, "Signed out");
    const registered = await page.evaluate(async (redirect) => {
      const body = JSON.stringify({
        client_name: "Acme Notes",
        redirect_uris: [redirect],
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
      });
      const response = await fetch("/oauth2/register", { method: "POST", headers: { "Content-Type": "application/json" }, body });
      return response.json();
    }, CALLBACK);
    const { verifier, challenge } = await pkce();
    const query = new URLSearchParams({
      client_id: registered.client_id,
      redirect_uri: CALLBACK,
      response_type: "code",
      scope: "openid email offline_access",
      code_challenge: challenge,
      code_challenge_method: "S256",
      state: "st-1",
    });
    await page.goto(`${env.urls.apiLax}/oauth2/authorize?${query}`);
    // Signed out: the account page, which returns to the authorization once signed in.
    await status(page, "Signed out");
    assert.match(page.url(), /\/account\?return_to=/);
    const user = { email: `oauth-${crypto.randomUUID()}@example.com`, password: password() };
    await page.fill("#signup [name=email]", user.email);
    await page.fill("#signup [name=password]", user.password);
    await page.click("#signup button");
    await message(page, /^Account created/);
    await page.fill("#login [name=email]", user.email);
    await page.fill("#login [name=password]", user.password);
    await page.click("#login button[type=submit]");
    await page.waitForURL(/\/oauth2\/consent\?request=/);
    await status(page, "Waiting for your answer");
    assert.equal(await page.textContent("#client-name"), "Acme Notes");
    assert.equal(await page.isHidden("#client-unverified"), false, "a self-registered app is marked not verified");
    assert.equal(await page.textContent("#redirect-host"), "127.0.0.1:45678");
    assert.match(await page.textContent("#scopes"), /See your email address/);
    await accessible(page, "oauth consent");
    await shots(page, "oauth-consent");
    await page.click("#allow");
    await page.waitForURL(`${CALLBACK}**`);
    const back = new URL(page.url());
    assert.equal(back.searchParams.get("state"), "st-1");
    assert.equal(back.searchParams.get("iss"), env.urls.apiLax);
    const code = back.searchParams.get("code");
    await page.goto(`${env.urls.apiLax}/account/`);
    await status(page, "Signed in");
    const tokens = await postForm(page, "/oauth2/token", {
      grant_type: "authorization_code",
      code,
      redirect_uri: CALLBACK,
      code_verifier: verifier,
      client_id: registered.client_id,
    });
    assert.equal(tokens.status, 200);
    assert.ok(tokens.body.refresh_token);

    // A CLI: its device code, typed on /device by the signed-in user, and approved.
    const cli = await page.evaluate(async () => {
      const body = JSON.stringify({
        client_name: "Acme CLI",
        token_endpoint_auth_method: "none",
        grant_types: ["urn:ietf:params:oauth:grant-type:device_code"],
      });
      return (await fetch("/oauth2/register", { method: "POST", headers: { "Content-Type": "application/json" }, body })).json();
    });
    const device = await postForm(page, "/oauth2/device_authorization", { client_id: cli.client_id, scope: "openid" });
    assert.equal(device.status, 200);
    await page.goto(`${env.urls.apiLax}/device`);
    await status(page, "Signed in");
    await page.fill("#code-form [name=user_code]", device.body.user_code.toLowerCase());
    await accessible(page, "oauth device");
    await shots(page, "oauth-device");
    await page.click("#code-form button[type=submit]");
    await page.waitForURL(/\/oauth2\/consent\?request=/);
    await status(page, "Waiting for your answer");
    assert.equal(await page.textContent("#client-name"), "Acme CLI");
    assert.equal(await page.isHidden("#client-redirect"), true, "a device has no redirect to name");
    await page.click("#allow");
    await message(page, /^Done: you can go back to your device/);
    await shots(page, "oauth-device-approved");
    const polled = await postForm(page, "/oauth2/token", {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: device.body.device_code,
      client_id: cli.client_id,
    });
    assert.equal(polled.status, 200);

    // The account page lists both apps; revoking one ends it at once.
    await page.goto(`${env.urls.apiLax}/account/`);
    await status(page, "Signed in");
    await page.waitForSelector("#apps-section:not([hidden]) #apps li[data-grant-id]");
    assert.equal(await page.locator("#apps li[data-grant-id]").count(), 2);
    await accessible(page, "account connected apps");
    await shots(page, "account-connected-apps");
    await page.getByRole("button", { name: "Revoke access for Acme Notes" }).click();
    await message(page, /^Acme Notes can no longer access your account/);
    assert.equal(await page.locator("#apps li[data-grant-id]").count(), 1);
    const refreshed = await postForm(page, "/oauth2/token", {
      grant_type: "refresh_token",
      refresh_token: tokens.body.refresh_token,
      client_id: registered.client_id,
    });
    assert.equal(refreshed.status, 400);
    await context.close();
  });
});
