// Browser tests of passwordless sign-in on the account page, in Debian's Chromium: a magic
// link from the outbox opened in the browser that asked for it (and refused in another),
// and an email code typed in. axe-core checks each view; screenshots at 360 and 1280 px.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEnvironment } from "./harness.mjs";
import { accessible, inPage, message, password, shots, status } from "./pages.mjs";

let env;
before(async () => {
  env = await startEnvironment();
});
after(async () => {
  await env?.close();
});

const account = () => `${env.urls.apiLax}/account/`;

async function mailed(page, to, pattern) {
  for (let attempt = 0; attempt < 20; attempt++) {
    const outbox = await inPage(page).get(`/api/v1/dev/outbox?to=${encodeURIComponent(to)}`);
    for (const item of outbox.body?.items ?? []) {
      const found = pattern.exec(item.body)?.[0];
      if (found) return found;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`nothing like ${pattern} mailed to ${to}`);
}

/** A registered account, and a fresh browser on the signed-out account page. */
async function signedOut() {
  const address = `e2e-passwordless-${crypto.randomUUID()}@example.com`;
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(account());
  await status(page, "Signed out");
  const registered = await page.evaluate(
    async (body) =>
      (await fetch("/api/v1/users", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }))
        .status,
    { email: address, password: password() },
  );
  assert.equal(registered, 201);
  return { address, context, page };
}

describe("passwordless sign-in on the account page", () => {
  it("signs in with a magic link opened in the browser that asked for it, and not in another", async () => {
    const { address, page } = await signedOut();
    await page.fill("#email-sign-in [name=email]", address);
    await page.click("#email-link");
    await message(page, /sign-in link is on its way/);
    await accessible(page, "email sign-in");
    await shots(page, "email-sign-in");
    const link = await mailed(page, address, /https?:\/\/\S+\/magic-link\?token=\S+/);

    // Another browser: nobody is signed in, and the link still works where it was asked for.
    const elsewhere = await (await env.browser.newContext()).newPage();
    await elsewhere.goto(link);
    await message(elsewhere, /^This link did not sign you in: Open this link in the browser where you asked for it/);
    await status(elsewhere, "Signed out");

    await page.goto(link);
    await status(page, "Signed in");
    assert.equal(new URL(page.url()).search, "", "the token is out of the address bar");
    assert.match(await page.textContent("#assurance"), /aal 1 \(email\)/);
    assert.equal(await page.textContent("#email-state"), "verified");
    await accessible(page, "signed in by link");
    await shots(page, "signed-in-by-link");
  });

  it("signs in with a mailed 6-digit code", async () => {
    const { address, page } = await signedOut();
    await page.fill("#email-sign-in [name=email]", address);
    await page.click("#email-code-send");
    await message(page, /6-digit code is on its way/);
    await page.waitForSelector("#email-code:not([hidden])");
    await accessible(page, "email code");
    await shots(page, "email-code");
    const code = (await mailed(page, address, /sign-in code is \d{6}/)).slice(-6);
    await page.fill("#email-code [name=code]", code);
    await page.click("#email-code button[type=submit]");
    await status(page, "Signed in");
    assert.match(await page.textContent("#assurance"), /aal 1 \(email\)/);
  });
});
