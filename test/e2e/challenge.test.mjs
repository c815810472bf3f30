// The Turnstile widget on the account page, in Debian's Chromium: the service asks for a
// token on registration and magic links (TURNSTILE_SECRET_KEY, TURNSTILE_SITE_KEY); the page
// renders the widget in those forms and sends its token. Cloudflare's widget script is
// answered by a stand-in (the machine has no way to Cloudflare, and tests never use the
// real services) that solves at once with a token naming the form's action and the page's
// host; siteverify is a stand-in on loopback that accepts exactly those tokens, once.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";
import { startEnvironment } from "./harness.mjs";
import { accessible, message, password, shots, status } from "./pages.mjs";

const WIDGET = `window.turnstile = {
  render(container, options) {
    const id = "w" + Math.random().toString(36).slice(2);
    const box = document.createElement("p");
    box.textContent = "Challenge solved (" + options.action + ")";
    box.dataset.token = "pass:" + options.action + ":" + location.hostname + ":" + id + Date.now();
    box.id = id;
    container.append(box);
    return id;
  },
  getResponse(id) { return document.getElementById(id).dataset.token; },
  reset(id) { const box = document.getElementById(id); box.dataset.token = box.dataset.token + "r"; },
};`;

let env;
let siteverify;
const verified = [];
before(async () => {
  const used = new Set();
  siteverify = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      const [verdict, action, hostname] = (form.response ?? "").split(":");
      const success = verdict === "pass" && form.secret === "e2e-turnstile-secret" && !used.has(form.response);
      used.add(form.response);
      verified.push({ action, success });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(success ? { success, action, hostname } : { success, "error-codes": ["invalid-input-response"] }));
    });
  });
  await new Promise((resolve) => siteverify.listen(0, "127.0.0.1", resolve));
  env = await startEnvironment({
    TURNSTILE_SECRET_KEY: "e2e-turnstile-secret",
    TURNSTILE_SITE_KEY: "0x-e2e-site-key",
    TURNSTILE_ROUTES: "register,magic_link",
    TURNSTILE_VERIFY_URL: `http://127.0.0.1:${siteverify.address().port}/siteverify`,
  });
});
after(async () => {
  await env?.close();
  siteverify?.close();
});

describe("the Turnstile widget on the account page", () => {
  it("is shown in the forms of the routes that ask for it, and its token lets them through", async () => {
    const context = await env.browser.newContext();
    await context.route("https://challenges.cloudflare.com/**", (route) =>
      route.fulfill({ status: 200, contentType: "text/javascript", body: WIDGET }),
    );
    const page = await context.newPage();
    await page.goto(`${env.urls.apiLax}/account/`);
    await status(page, "Signed out");
    await page.waitForSelector('#signup .challenge[data-action="register"] p');
    assert.equal(await page.locator('#email-sign-in .challenge[data-action="magic_link"] p').count(), 1);
    // Not asked for here: no widget.
    assert.equal(await page.locator('#forgot .challenge[data-action="password_reset"] p').count(), 0);
    assert.equal(await page.locator('#email-sign-in .challenge[data-action="email_code"] p').count(), 0);
    await accessible(page, "challenge");
    await shots(page, "challenge");

    await page.fill("#signup [name=email]", `e2e-challenge-${crypto.randomUUID()}@example.com`);
    await page.fill("#signup [name=password]", password());
    await page.click("#signup button");
    await message(page, /^Account created/);
    assert.deepEqual(verified.at(-1), { action: "register", success: true });
  });
});
