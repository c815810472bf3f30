// Browser tests: the account page (public/account) served from another origin than
// the auth API, as a separate front end would use it, in Debian's Chromium. Each test asserts what the page saw and which cookies the browser holds,
// and saves a screenshot of its end state in test-results/e2e/.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEnvironment } from "./harness.mjs";
import { SHOTS, password } from "./pages.mjs";

let env;
before(async () => {
  env = await startEnvironment();
});
after(async () => {
  await env?.close();
});

const email = () => `e2e-${crypto.randomUUID()}@example.com`;

async function openApp(context, app, api) {
  const page = await context.newPage();
  await page.goto(`${app}/account/?api=${encodeURIComponent(api)}`);
  await page.waitForFunction(() => document.getElementById("status").textContent !== "Checking your session…");
  return page;
}

async function signUpAndLogIn(page, user) {
  await page.fill("#signup [name=email]", user.email);
  await page.fill("#signup [name=password]", user.password);
  await page.click("#signup button");
  await page.waitForFunction(() => document.getElementById("message").textContent.startsWith("Account created"));
  await page.fill("#login [name=email]", user.email);
  await page.fill("#login [name=password]", user.password);
  await page.click("#login button");
  await page.waitForFunction(() => document.getElementById("status").textContent === "Signed in");
}

async function rename(page, name) {
  await page.fill("#rename [name=name]", name);
  await page.click("#rename button");
  await page.waitForFunction(() => document.getElementById("message").textContent !== "");
  return page.textContent("#message");
}

async function apiCookies(context, api) {
  return Object.fromEntries((await context.cookies(api)).map((cookie) => [cookie.name, cookie]));
}

async function runSessionFlow(t, mode) {
  const { urls, browser } = env;
  const app = mode === "lax" ? urls.appLax : urls.appNone;
  const api = mode === "lax" ? urls.apiLax : urls.apiNone;
  const names =
    mode === "lax" ? { session: "session_id", csrf: "csrf_token" } : { session: "__Host-session_id", csrf: "__Host-csrf_token" };
  const context = await browser.newContext();
  const page = await openApp(context, app, api);
  assert.equal(await page.textContent("#status"), "Signed out");

  const user = { email: email(), password: password() };
  await signUpAndLogIn(page, user);
  assert.equal(await page.textContent("#user-email"), user.email);
  let cookies = await apiCookies(context, api);
  assert.ok(cookies[names.session], `${names.session} is set`);
  assert.equal(cookies[names.session].httpOnly, true);
  assert.equal(cookies[names.session].sameSite, mode === "lax" ? "Lax" : "None");
  assert.equal(cookies[names.session].secure, mode === "none");
  if (mode === "none") assert.ok(cookies[names.session].partitionKey, "the session cookie is partitioned");

  assert.equal(await rename(page, `Renamed ${mode}`), "Name saved");
  assert.equal(await page.textContent("#user-name"), `Renamed ${mode}`);

  // A reload loses the CSRF token from memory; the page gets a fresh one and can still write.
  await page.reload();
  await page.waitForFunction(() => document.getElementById("status").textContent === "Signed in");
  assert.equal(await rename(page, "After reload"), "Name saved");

  await page.screenshot({ path: `${SHOTS}/${mode}-signed-in.png` });
  await page.click("#logout");
  await page.waitForFunction(() => document.getElementById("status").textContent === "Signed out");
  cookies = await apiCookies(context, api);
  assert.equal(cookies[names.session], undefined, "the session cookie is gone after logout");
  await page.screenshot({ path: `${SHOTS}/${mode}-logged-out.png` });
  await context.close();
}

describe("the account page on another origin", () => {
  it("same-site cross-origin (SameSite=Lax): login, a write with the CSRF header, reload, logout", async (t) => {
    await runSessionFlow(t, "lax");
  });

  it("cross-site (SameSite=None; Secure; Partitioned over HTTPS): the same flow", async (t) => {
    await runSessionFlow(t, "none");
  });

  for (const mode of ["lax", "none"]) {
    it(`a page on a foreign site can neither read the API nor change state with the user's cookies (${mode})`, async () => {
      const { urls, browser } = env;
      const app = mode === "lax" ? urls.appLax : urls.appNone;
      const api = mode === "lax" ? urls.apiLax : urls.apiNone;
      const context = await browser.newContext();
      const page = await openApp(context, app, api);
      await signUpAndLogIn(page, { email: email(), password: password() });

      const attacker = await context.newPage();
      await attacker.goto(`${urls.evil}/attack-${mode}`);
      await attacker.waitForFunction(() => document.getElementById("out").textContent.includes("form"));
      const result = JSON.parse(await attacker.textContent("#out"));
      assert.equal(result.read, "blocked", "the response is not readable");
      assert.equal(result.corsPost, "blocked", "the credentialed JSON POST is refused at preflight");
      await attacker.waitForTimeout(500);
      await attacker.screenshot({ path: `${SHOTS}/${mode}-attacker.png` });

      // The user's session survived the no-cors POST and the form post: writes still work.
      await page.reload();
      await page.waitForFunction(() => document.getElementById("status").textContent === "Signed in");
      assert.equal(await rename(page, "Still mine"), "Name saved");
      const list = await page.$$eval("#sessions li", (items) => items.length);
      assert.equal(list, 1);
      await context.close();
    });
  }

  it("logout in one tab ends the session for the other tab's next write", async () => {
    const { urls, browser } = env;
    const context = await browser.newContext();
    const first = await openApp(context, urls.appLax, urls.apiLax);
    await signUpAndLogIn(first, { email: email(), password: password() });
    // Opening the second tab rotates the session's CSRF token (refresh-csrf): the first
    // tab's next write recovers by fetching the current token.
    const second = await openApp(context, urls.appLax, urls.apiLax);
    assert.equal(await second.textContent("#status"), "Signed in");
    assert.equal(await rename(first, "From the first tab"), "Name saved");
    await first.click("#logout");
    await first.waitForFunction(() => document.getElementById("status").textContent === "Signed out");
    const answer = await rename(second, "From the other tab");
    assert.match(answer ?? "", /not_authenticated/);
    await second.waitForFunction(() => document.getElementById("status").textContent === "Signed out");
    await second.screenshot({ path: `${SHOTS}/two-tabs.png` });
    await context.close();
  });

  it("OAuth login in the browser against the loopback OpenID provider ends signed in on the app", async () => {
    const { urls, browser } = env;
    const context = await browser.newContext();
    const page = await openApp(context, urls.appLax, urls.apiLax);
    const address = email();
    await page.click("#oauth-testidp");
    await page.waitForSelector("input[name=login]");
    await page.fill("input[name=login]", address);
    await page.fill("input[name=password]", "anything");
    await page.click("button[type=submit]");
    await page.waitForSelector("button[type=submit]");
    await page.click("button[type=submit]"); // consent
    await page.waitForURL((url) => url.origin === urls.appLax);
    await page.waitForFunction(() => document.getElementById("status").textContent === "Signed in");
    assert.equal(await page.textContent("#user-email"), address);
    const cookies = await apiCookies(context, urls.apiLax);
    assert.ok(cookies.session_id, "signed in with a session cookie");
    await page.screenshot({ path: `${SHOTS}/oauth-signed-in.png` });
    await context.close();
  });

  it("ignores an ?api= naming a server the page may not use: on the service's origin and on an app's, it calls no other server", async () => {
    const { urls, browser } = env;
    const context = await browser.newContext();
    const foreign = new URL(urls.evil).origin;
    const toForeign = [];
    context.on("request", (request) => {
      if (new URL(request.url()).origin === foreign) toForeign.push(request.url());
    });
    for (const [page, own] of [
      [`${urls.apiLax}/account/?api=${encodeURIComponent(urls.evil)}`, urls.apiLax],
      [`${urls.appLax}/account/?api=${encodeURIComponent(`${urls.evil}/`)}`, urls.appLax],
    ]) {
      const tab = await context.newPage();
      await tab.goto(page);
      await tab.waitForFunction(() => document.getElementById("status").textContent !== "Checking your session…");
      assert.equal(await tab.textContent("#api-base"), own, "the page stays on its own origin");
      if (own === urls.apiLax) {
        // Served by the service: it works as if no ?api= was given, and says what it ignored.
        assert.equal(await tab.textContent("#status"), "Signed out");
        assert.match((await tab.textContent("#message")) ?? "", /Ignored \?api=/);
        await tab.waitForSelector("#oauth-testidp");
      }
      await tab.screenshot({ path: `${SHOTS}/foreign-api-${new URL(own).hostname}.png` });
    }
    assert.deepEqual(toForeign, [], "no request went to the server ?api= named");
    await context.close();
  });
});
