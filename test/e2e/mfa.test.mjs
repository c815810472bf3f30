// Browser tests of second factors on the account page, in Debian's Chromium: a passkey
// registered through Chromium's virtual authenticator (DevTools protocol) and used to
// sign in without a password; and TOTP set up from the secret the page shows, then a
// password sign-in finished with a code computed here. Screenshots in test-results/e2e/.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEnvironment } from "./harness.mjs";
import { enrollTotp, message, password, shots, status, totp } from "./pages.mjs";

let env;
before(async () => {
  env = await startEnvironment();
});
after(async () => {
  await env?.close();
});

const email = () => `e2e-mfa-${crypto.randomUUID()}@example.com`;

async function openSignedIn(context) {
  const { urls } = env;
  const page = await context.newPage();
  await page.goto(`${urls.appLax}/account/?api=${encodeURIComponent(urls.apiLax)}`);
  await status(page, "Signed out");
  const user = { email: email(), password: password() };
  await page.fill("#signup [name=email]", user.email);
  await page.fill("#signup [name=password]", user.password);
  await page.click("#signup button");
  await message(page, /^Account created/);
  await page.fill("#login [name=email]", user.email);
  await page.fill("#login [name=password]", user.password);
  await page.click("#login button");
  await status(page, "Signed in");
  return { page, user };
}

describe("second factors on the account page", () => {
  it("registers a passkey with Chromium's virtual authenticator and signs in with it, no password", async () => {
    const context = await env.browser.newContext();
    const { page } = await openSignedIn(context);
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });
    await page.click("#passkey-register");
    await message(page, /^Passkey registered/);
    assert.equal(await page.$$eval("#recovery-codes li", (items) => items.length), 10);
    assert.match(await page.textContent("#factors"), /Passkey: This device/);
    assert.match(await page.textContent("#assurance"), /aal 2/);
    await shots(page, "passkey-registered");

    await page.click("#logout");
    await status(page, "Signed out");
    await page.click("#passkey-login");
    await status(page, "Signed in");
    assert.match(await page.textContent("#assurance"), /aal 2 \(webauthn\)/);
    await shots(page, "passkey-signed-in");
    await context.close();
  });

  it("sets up TOTP from the secret and QR code the page shows, then signs in with password and a code", async () => {
    const context = await env.browser.newContext();
    const { page, user } = await openSignedIn(context);
    await page.click("#totp-start");
    await page.waitForSelector("#totp-setup:not([hidden])");
    assert.ok(await page.$("#totp-qr svg"), "a QR code is drawn in the page");
    const secret = (await page.textContent("#totp-secret")).trim();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    await shots(page, "totp-setup");
    await page.fill("#totp-confirm [name=code]", totp(secret));
    await page.click("#totp-confirm button");
    await message(page, /^Authenticator app added/);
    assert.equal(await page.$$eval("#recovery-codes li", (items) => items.length), 10);
    assert.match(await page.textContent("#assurance"), /aal 2 \(pwd, otp\)/);

    await page.click("#logout");
    await status(page, "Signed out");
    await page.fill("#login [name=email]", user.email);
    await page.fill("#login [name=password]", user.password);
    await page.click("#login button");
    await page.waitForSelector("#mfa:not([hidden])");
    assert.equal(await page.textContent("#status"), "Signed out", "no session before the second factor");
    await shots(page, "totp-second-step");
    // The next step's code: the step used to confirm cannot be used again.
    await page.fill("#mfa [name=code]", totp(secret, 1));
    await page.click("#mfa button[type=submit]");
    await status(page, "Signed in");
    assert.match(await page.textContent("#assurance"), /aal 2 \(pwd, otp\)/);
    await shots(page, "totp-signed-in");
    await context.close();
  });

  it("answers reauthentication_required with a prompt: an older one-factor session removes the factor after a code", async () => {
    const first = await env.browser.newContext();
    const { page, user } = await openSignedIn(first);
    const second = await env.browser.newContext();
    const other = await second.newPage();
    await other.goto(`${env.urls.appLax}/account/?api=${encodeURIComponent(env.urls.apiLax)}`);
    await status(other, "Signed out");
    await other.fill("#login [name=email]", user.email);
    await other.fill("#login [name=password]", user.password);
    await other.click("#login button");
    await status(other, "Signed in");

    const secret = await enrollTotp(page);

    await other.reload();
    await status(other, "Signed in");
    assert.match(await other.textContent("#assurance"), /aal 1/);
    await other.click("#factors li button");
    await other.waitForSelector("#reauth:not([hidden])");
    assert.match(await other.textContent("#reauth-methods"), /totp/);
    await shots(other, "reauth-prompt");
    await other.selectOption("#reauth select", "totp");
    await other.fill("#reauth [name=secret]", totp(secret, 1));
    await other.click("#reauth button");
    await message(other, /^Factor removed/);
    await other.waitForFunction(() => document.querySelectorAll("#factors li").length === 0);
    assert.match(await other.textContent("#assurance"), /aal 2 \(pwd, otp\)/);
    await first.close();
    await second.close();
  });
});
