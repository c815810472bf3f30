// The API reference at /docs, in Debian's Chromium: Scalar's bundle and the document come
// from the Worker's own origin, every documented route is listed, one route expands to
// its body and its errors, and "Test Request" runs a request against this origin.
// Every request the page makes is recorded and must stay on that origin, and the page
// must not be refused anything by its CSP.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEnvironment } from "./harness.mjs";
import { shots } from "./pages.mjs";

let env;
before(async () => {
  env = await startEnvironment();
});
after(async () => {
  await env?.close();
});

/** Every operation of /openapi.json (read by the page, on its origin), as [method, path, summary]. */
async function documentedOperations(page) {
  const document = await page.evaluate(async () => (await fetch("/openapi.json")).json());
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => [method, path, operation.summary]),
  );
}

describe("the API reference (/docs)", () => {
  it("lists every documented route, expands one, runs it from the page, and loads nothing from another origin", async () => {
    const origin = env.urls.apiLax;
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const requests = [];
    context.on("request", (request) => requests.push(request.url()));
    const refused = [];
    page.on("console", (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
    });
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (event) =>
        console.error(`Refused to load (CSP): ${event.blockedURI} ${event.violatedDirective}`),
      );
    });

    await page.goto(`${origin}/docs`);
    await page.getByRole("button", { name: "Open Group - users" }).waitFor();

    // Every route of the document is in the sidebar, under its tag, by its summary.
    const operations = await documentedOperations(page);
    assert.ok(operations.length >= 60, `only ${operations.length} operations documented`);
    const summaries = operations.map(([, , summary]) => summary);
    assert.equal(new Set(summaries).size, summaries.length, "summaries are unique, so each names one route");
    const closed = page.getByRole("button", { name: /^Open Group - (?!Models)/ });
    while ((await closed.count()) > 0) await closed.first().click();
    const sidebar = page.locator("nav, aside").first();
    for (const [method, path, summary] of operations) {
      const entry = sidebar.getByText(summary, { exact: true });
      assert.equal(await entry.count(), 1, `${method.toUpperCase()} ${path} ("${summary}") is not listed`);
    }

    // Expanded: the route's body fields and its errors, each status with its codes.
    await sidebar.getByText("Register", { exact: true }).click();
    const section = page.locator("section", { has: page.getByRole("heading", { name: "Register", exact: true }) }).first();
    await section.getByText("email_taken").first().waitFor();
    for (const text of ["password", "username", "409", "unsupported_media_type", "too_many_attempts"]) {
      assert.ok((await section.getByText(text).count()) > 0, `the expanded route does not show ${text}`);
    }
    assert.equal(await section.getByText("token_reused").count(), 0, "a code another route gives is not listed here");
    await shots(page, "docs-register");

    // Test Request: Scalar's client sends the documented example to this origin.
    await section.getByRole("button", { name: /Test Request/ }).click();
    const email = `docs-${Date.now()}@example.test`;
    const editor = page.locator(".cm-content").filter({ hasText: "ada@example.com" }).first();
    await editor.waitFor();
    await editor.click();
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Delete");
    await page.keyboard.insertText(JSON.stringify({ email, password: "a long docs test passphrase" }));
    const [answer] = await Promise.all([
      page.waitForResponse((response) => response.url() === `${origin}/api/v1/users` && response.request().method() === "POST"),
      page.getByRole("button", { name: /^Send/ }).first().click(),
    ]);
    assert.equal(answer.status(), 201);
    assert.equal((await answer.json()).email, email);
    await page.getByText("201 Created").first().waitFor();
    await shots(page, "docs-test-request");

    // The user exists: the request really ran against this service.
    const login = await page.evaluate(
      async (body) => (await fetch("/api/v1/auth/token", { method: "POST", headers: { "Content-Type": "application/json" }, body })).status,
      JSON.stringify({ email, password: "a long docs test passphrase" }),
    );
    assert.equal(login, 200);

    const foreign = requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith("data:"));
    assert.deepEqual(foreign, [], "the page made requests to another origin");
    for (const expected of ["/docs", "/docs/scalar.js", "/docs/reference.js", "/openapi.json", "/api/v1/users"]) {
      assert.ok(requests.includes(`${origin}${expected}`), `no request for ${expected}`);
    }
    // One refusal is expected and harmless: the zod bundled in Scalar probes whether
    // eval works (`try { Function("") } catch`) and, refused, validates without it. The
    // CSP keeps eval off; anything else refused would be something the page needed.
    const probe = (text) => /eval script-src$/.test(text);
    assert.ok(refused.filter(probe).length <= 1, "eval was tried more than once");
    assert.deepEqual(
      refused.filter((text) => !probe(text)),
      [],
      "the CSP refused something the page needed",
    );
    await context.close();
  });
});
