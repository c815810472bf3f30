// Browser tests of the organization parts of the account page, in Debian's Chromium, same
// origin as the API (http://auth.example.test/account): an owner creates an organization,
// invites a colleague by email; the colleague accepts from the mailed link in a browser of
// their own; the owner makes them an admin, then removes them; the colleague switches
// between their organization and themselves. axe-core checks each view; screenshots at
// 360 and 1280 px.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ADMIN_EMAIL, startEnvironment } from "./harness.mjs";
import { accessible, enrollTotp, inPage, message, password, shots, status } from "./pages.mjs";

let env;
before(async () => {
  env = await startEnvironment();
});
after(async () => {
  await env?.close();
});

const account = () => `${env.urls.apiLax}/account/`;
const email = () => `e2e-org-${crypto.randomUUID()}@example.com`;

async function mailedLink(page, to, path) {
  for (let attempt = 0; attempt < 20; attempt++) {
    const outbox = await inPage(page).get(`/api/v1/dev/outbox?to=${encodeURIComponent(to)}`);
    for (const item of outbox.body?.items ?? []) {
      const link = new RegExp(`https?://\\S+${path}\\?token=\\S+`).exec(item.body)?.[0];
      if (link) return link;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no ${path} link mailed to ${to}`);
}

/** A person with a verified address, signed in on the account page in a browser context of their own. */
async function person(address = email()) {
  const user = { email: address, password: password() };
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(account());
  await status(page, "Signed out");
  await page.fill("#signup [name=email]", user.email);
  await page.fill("#signup [name=password]", user.password);
  await page.click("#signup button");
  await message(page, /^Account created/);
  await page.fill("#login [name=email]", user.email);
  await page.fill("#login [name=password]", user.password);
  await page.click("#login button[type=submit]");
  await status(page, "Signed in");
  await page.click("#verify-request");
  await message(page, /verification link is on its way/);
  await page.goto(await mailedLink(page, user.email, "/verify-email"));
  await page.waitForSelector("#verify:not([hidden])");
  await page.click("#verify-confirm");
  await message(page, /^Email address verified/);
  // Confirmed by this signed-in session: it is the one credential the proof keeps.
  await page.goto(account());
  await status(page, "Signed in");
  return { user, context, page };
}

describe("organizations on the account page", () => {
  it("create, invite, accept from the mailed link in a second browser, change a role, switch, remove", async () => {
    const owner = await person();
    await owner.page.fill("#org-create [name=name]", "Analytical Engines");
    await owner.page.click("#org-create button");
    await message(owner.page, /^Organization Analytical Engines created/);
    assert.match(await owner.page.textContent("#org-active option:checked"), /^Analytical Engines \(owner\)$/);
    assert.equal(await owner.page.locator("#org-members li").count(), 1);

    const colleague = await person();
    await owner.page.fill("#org-invite [name=email]", colleague.user.email);
    await owner.page.selectOption("#org-invite-role", "member");
    await owner.page.click("#org-invite button");
    await message(owner.page, /^Invitation sent to /);
    assert.equal(await owner.page.locator("#org-invitations li").count(), 1);
    await accessible(owner.page, "org owner");
    await shots(owner.page, "org-owner");

    // The colleague opens the mailed link in their own browser, signed in there.
    await colleague.page.goto(await mailedLink(colleague.page, colleague.user.email, "/accept-invitation"));
    await status(colleague.page, "Signed in");
    await colleague.page.waitForSelector("#invitation:not([hidden])");
    assert.equal(new URL(colleague.page.url()).search, "", "the token is out of the address bar");
    await accessible(colleague.page, "org invitation");
    await shots(colleague.page, "org-invitation");
    await colleague.page.click("#invitation-accept");
    await message(colleague.page, /^You joined Analytical Engines as member/);
    assert.match(await colleague.page.textContent("#org-active option:checked"), /^Analytical Engines \(member\)$/);
    assert.equal(await colleague.page.isHidden("#invitation"), true);

    // The owner makes the colleague an admin.
    await owner.page.reload();
    await status(owner.page, "Signed in");
    assert.equal(await owner.page.locator("#org-members li").count(), 2);
    assert.equal(await owner.page.locator("#org-invitations li").count(), 0);
    await owner.page.selectOption(`select[aria-label="Role of ${colleague.user.email}"]`, "admin");
    await message(owner.page, /is now admin$/);
    await colleague.page.reload();
    await status(colleague.page, "Signed in");
    assert.match(await colleague.page.textContent("#org-active option:checked"), /^Analytical Engines \(admin\)$/);

    // The colleague acts for themselves, then in the organization again.
    await colleague.page.selectOption("#org-active", "");
    await message(colleague.page, /^Acting for yourself$/);
    assert.equal(await colleague.page.isHidden("#org-detail"), true);
    const orgId = await colleague.page.getAttribute("#orgs li", "data-org-id");
    await colleague.page.selectOption("#org-active", orgId);
    await message(colleague.page, /^Acting in Analytical Engines/);
    await accessible(colleague.page, "org member");
    await shots(colleague.page, "org-member");

    // Removed by the owner, the colleague keeps their session, in no organization.
    await owner.page.click(`button[aria-label="Remove ${colleague.user.email}"]`);
    await message(owner.page, /removed$/);
    await colleague.page.reload();
    await status(colleague.page, "Signed in");
    assert.equal(await colleague.page.textContent("#orgs"), "You belong to no organization");
    assert.equal(await colleague.page.isHidden("#org-detail"), true);
    await owner.context.close();
    await colleague.context.close();
  });

  it("an admin finds an organization in the console by part of its name and reads its members", async () => {
    // The ADMIN_EMAILS address, verified while signed in, with a second factor: the session is at aal 2.
    const admin = await person(ADMIN_EMAIL);
    await enrollTotp(admin.page);
    const name = `Difference Engines ${crypto.randomUUID().slice(0, 6)}`;
    await admin.page.fill("#org-create [name=name]", name);
    await admin.page.click("#org-create button");
    await message(admin.page, /created$/);

    await admin.page.goto(`${env.urls.apiLax}/admin/#/orgs`);
    await status(admin.page, "Signed in");
    await admin.page.waitForSelector("#view-orgs:not([hidden])");
    await admin.page.fill("#org-search", name.slice(0, 22));
    await admin.page.waitForFunction(
      (want) => [...document.querySelectorAll("#orgs tbody tr")].some((row) => row.textContent.includes(want)),
      name,
    );
    const row = admin.page.locator("#orgs tbody tr", { hasText: name });
    assert.equal(await row.locator("td.num").textContent(), "1", "one member");
    await row.getByRole("button", { name: `Members of ${name}` }).click();
    await admin.page.waitForSelector("#org-members-box:not([hidden])");
    assert.match(await admin.page.textContent("#org-members tbody"), new RegExp(`${ADMIN_EMAIL.replace(/[.+]/g, "\\$&")}\\s*owner`));
    await accessible(admin.page, "console organizations");
    await shots(admin.page, "console-orgs");
    await admin.context.close();
  });
});
