// Browser tests of the pages the Worker serves, in Debian's Chromium, same origin as the
// API (http://auth.example.test/admin and /account):
// - an administrator verifies their address from the mailed link, sets up TOTP on the
//   account page, signs in to the console with password and code, finds a user by typing
//   part of the email, ends one of the user's sessions (that browser's next write fails,
//   the other's still works), disables and enables the user (each visible where the user
//   is), and reads the audit entries of those actions (the user and the acting admin by
//   email); a 249-character email keeps the users table within the window;
// - a user sets up TOTP on the account page and signs in with it, creates an API key and
//   sees its usage chart after a few calls.
// Each step saves screenshots at 360 and 1280 px, and axe-core checks each view.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ADMIN_EMAIL, startEnvironment } from "./harness.mjs";
import { accessible, enrollTotp, inPage, layoutShift, reloadSlowly, message, password, shots, status, totp } from "./pages.mjs";

let env;
before(async () => {
  env = await startEnvironment();
});
after(async () => {
  await env?.close();
});

const account = () => `${env.urls.apiLax}/account/`;
const consoleUrl = () => `${env.urls.apiLax}/admin/`;

async function signUp(page, user) {
  await page.fill("#signup [name=email]", user.email);
  await page.fill("#signup [name=password]", user.password);
  await page.click("#signup button");
  await message(page, /^Account created/);
}

async function signIn(page, user) {
  await page.fill("#login [name=email]", user.email);
  await page.fill("#login [name=password]", user.password);
  await page.click("#login button[type=submit]");
}

/** A user signed in on the account page in a context of its own. */
async function userSession(user, create) {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(account());
  await status(page, "Signed out");
  if (create) await signUp(page, user);
  await signIn(page, user);
  await status(page, "Signed in");
  return { context, page };
}

async function rename(page, name) {
  await page.evaluate(() => (document.getElementById("message").textContent = ""));
  await page.fill("#rename [name=name]", name);
  await page.click("#rename button");
  await page.waitForFunction(() => document.getElementById("message").textContent !== "");
  return page.textContent("#message");
}

/**
 * The administrator: signs up with the ADMIN_EMAILS address, verifies it from the mailed
 * link (the account page at /verify-email), and sets up TOTP and a passkey there.
 */
async function prepareAdmin() {
  const admin = { email: ADMIN_EMAIL, password: password() };
  const setup = await userSession(admin, true);
  await setup.page.click("#verify-request");
  await message(setup.page, /verification link is on its way/);
  const outbox = await inPage(setup.page).get(`/api/v1/dev/outbox?to=${encodeURIComponent(admin.email)}`);
  const link = /https?:\/\/\S+\/verify-email\?token=\S+/.exec(outbox.body.items[0].body)?.[0];
  assert.ok(link, "the mailed link points at the page");
  await setup.page.goto(link);
  // The page names the account and waits for an answer; signed in here, confirming proves the address.
  await setup.page.waitForSelector("#verify:not([hidden])");
  assert.match(await setup.page.textContent("#verify-account"), new RegExp(`Verify ${admin.email.replace(/[.+]/g, "\\$&")} `));
  assert.match(await setup.page.textContent("#verify-hint"), /^You are signed in to this account here/);
  await setup.page.click("#verify-confirm");
  await message(setup.page, /^Email address verified/);
  assert.equal(new URL(setup.page.url()).search, "", "the token is out of the address bar");
  assert.equal(await setup.page.textContent("#email-state"), "verified");
  const secret = await enrollTotp(setup.page);
  const authenticator = await virtualAuthenticator(setup.context, setup.page);
  await setup.page.click("#passkey-register");
  await message(setup.page, /^Passkey registered/);
  const { credentials } = await authenticator.cdp.send("WebAuthn.getCredentials", { authenticatorId: authenticator.id });
  assert.equal(credentials.length, 1);
  await setup.context.close();
  return { admin, secret, passkey: credentials[0] };
}

/** Chromium's virtual authenticator (DevTools protocol) for a page. */
async function virtualAuthenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
  return { cdp, id: authenticatorId };
}

describe("the admin console", () => {
  let adminState;
  before(async () => {
    adminState = await prepareAdmin();
  });

  it("an admin finds a user, ends one of their sessions, disables and enables them, and reads the audit log", async () => {
    const { admin, secret } = adminState;
    // The user, signed in in two browsers.
    const user = { email: `console-target-${crypto.randomUUID()}@example.com`, password: password() };
    const first = await userSession(user, true);
    const second = await userSession(user, false);

    // The console: password, then the second factor.
    const context = await env.browser.newContext();
    const page = await context.newPage();
    await page.goto(consoleUrl());
    await status(page, "Signed out");
    await accessible(page, "console sign-in");
    await shots(page, "console-sign-in");
    await signIn(page, admin);
    await page.waitForSelector("#mfa:not([hidden])");
    assert.equal(await page.textContent("#status"), "Signed out", "no session before the second factor");
    await page.fill("#mfa [name=code]", totp(secret, 1));
    await page.click("#mfa button[type=submit]");
    await status(page, "Signed in");
    await page.waitForSelector("#view-users:not([hidden])");
    // A reload signed in: the users table arrives without moving what is on screen.
    const fast = await reloadSlowly(context, page);
    await page.waitForSelector("#view-users:not([hidden]) #users tbody tr");
    await page.waitForLoadState("networkidle");
    const shift = await layoutShift(page);
    await fast();
    assert.ok(shift < 0.05, `console layout shift ${shift}`);

    // Search as you type: part of the email.
    const part = user.email.slice(0, 24);
    await page.type("#user-search", part, { delay: 20 });
    await page.waitForFunction((want) => document.getElementById("users").dataset.query === want, part);
    const rows = await page.$$eval("#users tbody tr", (items) => items.map((row) => row.textContent));
    assert.equal(rows.length, 1, `one match for ${part}`);
    assert.match(rows[0], new RegExp(user.email));
    await accessible(page, "console users");
    await shots(page, "console-users");

    await page.click(`#users tbody a`);
    await page.waitForSelector("#view-user:not([hidden])");
    await page.waitForFunction(() => document.querySelectorAll("#user-sessions tbody tr[data-session-id]").length === 2);
    assert.equal(await page.textContent("#user-title"), user.email);
    await accessible(page, "console user");
    await shots(page, "console-user");

    // End the session of the second browser: its next write fails, the first's works.
    const secondId = await second.page.evaluate(async (api) => {
      const response = await fetch(`${api}/api/v1/auth/sessions`, { credentials: "include" });
      return (await response.json()).sessions.find((session) => session.current).id;
    }, env.urls.apiLax);
    await page.click(`#user-sessions tr[data-session-id="${secondId}"] button`);
    await message(page, /^Session ended/);
    await page.waitForFunction(() => document.querySelectorAll("#user-sessions tbody tr[data-session-id]").length === 1);
    assert.match(await rename(second.page, "Ended elsewhere"), /not_authenticated/);
    assert.equal(await rename(first.page, "Still signed in"), "Name saved");

    // Disable: every session ends at once and a sign-in is refused; enable lets it in again.
    await page.click("#user-disable");
    await message(page, /^User disabled/);
    assert.equal(await page.textContent("#user-state"), "disabled");
    assert.equal(await page.$$eval("#user-sessions tbody tr[data-session-id]", (items) => items.length), 0);
    await shots(page, "console-user-disabled");
    assert.match(await rename(first.page, "While disabled"), /not_authenticated/);
    await first.page.reload();
    await status(first.page, "Signed out");
    await signIn(first.page, user);
    await message(first.page, /account_disabled/);
    await page.click("#user-disable");
    await message(page, /^User enabled/);
    assert.equal(await page.textContent("#user-state"), "active");
    await signIn(first.page, user);
    await status(first.page, "Signed in");

    // The audit log, filtered to the user: the three actions, each by the admin, named by email.
    await page.click('nav a[data-tab="audit"]');
    await page.waitForSelector("#view-audit:not([hidden])");
    const userId = await page.evaluate(() => document.getElementById("user-facts").textContent.match(/id (\S+)/)[1]);
    await page.fill("#audit-filters [name=user_id]", userId);
    await page.click("#audit-filters button");
    await page.waitForFunction(() => document.querySelector("#audit tbody tr td")?.textContent !== "No events match");
    await page.waitForFunction(() =>
      [...document.querySelectorAll("#audit tbody tr")].some((row) => row.textContent.includes("admin user enabled")),
    );
    const audit = await page.$$eval("#audit tbody tr", (items) => items.map((row) => [...row.cells].map((cell) => cell.textContent)));
    const kinds = audit.map((cells) => cells[1]);
    for (const kind of ["admin session revoked", "admin user disabled", "admin user enabled"]) {
      assert.ok(kinds.includes(kind), `${kind} in ${kinds.join(", ")}`);
      const cells = audit.find((one) => one[1] === kind);
      assert.equal(cells[2], user.email, `${kind} names the user`);
      assert.equal(cells[3], admin.email, `${kind} names the admin who did it`);
    }
    assert.equal(audit.find((cells) => cells[1] === "login succeeded")?.[3], "the user", "a sign-in is the user's own");
    await accessible(page, "console audit");
    await shots(page, "console-audit");

    // A 249-character address (the longest the service takes, near RFC 5321's 254) is cut
    // in the users table, whole in its title: the table stays within the window.
    const long = `${"l".repeat(64)}@${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(51)}.test`;
    assert.equal(long.length, 249);
    const created = await page.evaluate(async (email) => {
      const body = JSON.stringify({ email, password: "a long address passphrase" });
      return (await fetch("/api/v1/users", { method: "POST", headers: { "Content-Type": "application/json" }, body })).status;
    }, long);
    assert.equal(created, 201);
    await page.click('nav a[data-tab="users"]');
    await page.waitForSelector("#view-users:not([hidden])");
    await page.fill("#user-search", long.slice(0, 40));
    await page.waitForFunction((want) => document.getElementById("users").dataset.query === want, long.slice(0, 40));
    for (const width of [1280, 360]) {
      await page.setViewportSize({ width, height: 900 });
      const sizes = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        table: document.getElementById("users").getBoundingClientRect().width,
        title: document.querySelector("#users tbody a").title,
      }));
      assert.equal(sizes.title, long, "the whole address is in the title");
      assert.ok(sizes.page <= width, `the page is ${sizes.page} px wide at ${width} px`);
      if (width === 1280) assert.ok(sizes.table <= width, `the users table is ${sizes.table} px wide at ${width} px`);
    }
    await shots(page, "console-users-long-email");

    await page.click('nav a[data-tab="overview"]');
    await page.waitForSelector("#sign-in-chart svg");
    assert.ok(Number(await page.getAttribute("#sign-in-chart", "data-total")) >= 4, "sign-ins of this run are drawn");
    const axis = await page.$$eval("#sign-in-chart text.chart-axis", (labels) => labels.map((label) => label.textContent));
    assert.ok(!axis.some((label) => /^\d{2}-\d{2}$/.test(label)), `days as the other dates are written: ${axis.join(", ")}`);
    await accessible(page, "console sign-ins");
    await shots(page, "console-sign-ins");

    // Apps: the admin registers a confidential client (its secret shown once), sees it
    // listed as verified, and disables it.
    await page.click('nav a[data-tab="apps"]');
    await page.waitForSelector("#view-apps:not([hidden]) #apps-on:not([hidden])");
    await page.fill("#app-create [name=name]", "Partner dashboard");
    await page.fill("#app-create [name=redirect_uris]", "https://partner.example/callback");
    await page.click("#app-create button[type=submit]");
    await message(page, /^Partner dashboard registered/);
    assert.match(await page.textContent("#app-created-secret"), /^[A-Za-z0-9_-]{43}$/);
    const appRow = page.locator("#apps tbody tr", { hasText: "Partner dashboard" });
    assert.match(await appRow.textContent(), /verified.*active/);
    await accessible(page, "console apps");
    await shots(page, "console-apps");
    await appRow.getByRole("button", { name: "Disable" }).click();
    await message(page, /^Partner dashboard is disabled/);
    assert.match(await page.locator("#apps tbody tr", { hasText: "Partner dashboard" }).textContent(), /disabled/);
    for (const one of [context, first.context, second.context]) await one.close();
  });

  it("signs an admin in with a passkey (the authenticator moved to a new browser), no password, at aal 2", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    await page.goto(consoleUrl());
    await status(page, "Signed out");
    const authenticator = await virtualAuthenticator(context, page);
    await authenticator.cdp.send("WebAuthn.addCredential", { authenticatorId: authenticator.id, credential: adminState.passkey });
    await page.click("#passkey-login");
    await status(page, "Signed in");
    assert.match(await page.textContent("#who"), /aal 2/);
    await page.waitForSelector("#view-users:not([hidden])");
    await shots(page, "console-passkey-signed-in");
    await context.close();
  });

  it("tells a signed-in user who is not an administrator that the console is not theirs", async () => {
    const user = { email: `console-normal-${crypto.randomUUID()}@example.com`, password: password() };
    const { context, page } = await userSession(user, true);
    await page.goto(consoleUrl());
    await status(page, "Signed in without console access");
    assert.match(await page.textContent("#no-access-detail"), /forbidden/);
    assert.equal(await page.isHidden("#console"), true);
    await accessible(page, "console without access");
    await shots(page, "console-no-access");
    await context.close();
  });
});

describe("the account page", () => {
  it("a user sets up TOTP and signs in with it, creates an API key and sees its usage chart after a few calls", async () => {
    const user = { email: `account-${crypto.randomUUID()}@example.com`, password: password() };
    const { context, page } = await userSession(user, true);
    const fast = await reloadSlowly(context, page);
    await status(page, "Signed in");
    await page.waitForLoadState("networkidle");
    const shift = await layoutShift(page);
    await fast();
    assert.ok(shift < 0.05, `account page layout shift ${shift}`);
    await accessible(page, "account signed in");
    const secret = await enrollTotp(page);
    assert.match(await page.textContent("#assurance"), /aal 2 \(pwd, otp\)/);
    await page.click("#logout");
    await status(page, "Signed out");
    await accessible(page, "account signed out");
    await shots(page, "account-signed-out");
    await signIn(page, user);
    await page.waitForSelector("#mfa:not([hidden])");
    await page.fill("#mfa [name=code]", totp(secret, 1));
    await page.click("#mfa button[type=submit]");
    await status(page, "Signed in");
    assert.match(await page.textContent("#assurance"), /aal 2 \(pwd, otp\)/);

    await page.fill("#key-create [name=name]", "Reports");
    await page.click("#key-create button");
    await message(page, /^Key Reports created/);
    const key = (await page.textContent("#key-secret")).trim();
    assert.match(key, /^fai_[A-Za-z0-9]{8}_/);
    const calls = inPage(page);
    for (let call = 0; call < 3; call += 1) assert.equal((await calls.get("/api/v1/users/me", { "X-API-Key": key })).status, 200);
    assert.equal((await calls.patch("/api/v1/users/me", { "X-API-Key": key }, { name: "not allowed" })).status, 403);

    await page.click('#keys button[aria-label="Usage of Reports"]');
    await page.waitForSelector("#key-usage svg");
    assert.equal(await page.getAttribute("#key-usage", "data-total"), "4");
    assert.match(await page.textContent("#key-usage .chart-legend"), /2xx: 3.*3xx\/4xx: 1/);
    assert.equal(await page.$$eval("#key-usage svg rect", (bars) => bars.length), 2, "today's bar, in two parts");
    assert.match(await page.textContent("#usage-title"), /4 requests/);
    await accessible(page, "account with usage");
    await shots(page, "account-key-usage");
    await context.close();
  });

  it("a forgotten password: the mailed link opens the page's reset form, and the new password signs in", async () => {
    const user = { email: `reset-${crypto.randomUUID()}@example.com`, password: password() };
    const { context, page } = await userSession(user, true);
    await page.click("#logout");
    await status(page, "Signed out");
    await page.fill("#forgot [name=email]", user.email);
    await page.click("#forgot button");
    await message(page, /reset link is on its way/);
    const outbox = await inPage(page).get(`/api/v1/dev/outbox?to=${encodeURIComponent(user.email)}`);
    const link = /https?:\/\/\S+\/reset-password\?token=\S+/.exec(outbox.body.items[0].body)?.[0];
    assert.ok(link, "the mailed link points at the page");
    await page.goto(link);
    await page.waitForSelector("#reset:not([hidden])");
    assert.equal(new URL(page.url()).search, "", "the token is out of the address bar");
    await accessible(page, "account reset form");
    await shots(page, "account-reset");
    const fresh = password();
    await page.fill("#reset [name=new_password]", fresh);
    await page.click("#reset button");
    await message(page, /^Password changed/);
    await signIn(page, { ...user, password: fresh });
    await status(page, "Signed in");
    await context.close();
  });
});
