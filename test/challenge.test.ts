// What the service's pages need to show Turnstile's widget: GET /api/v1/auth/challenge, and
// the pages' CSP, which lets Cloudflare's widget in only while Turnstile is on with a site key.
import { describe, expect, it } from "vitest";
import { TestClient } from "./helpers/client";

describe("the challenge's settings for the service's pages", () => {
  it("name no site key and no route while Turnstile is off, and the pages keep their own-origin CSP", async () => {
    const client = new TestClient({ settings: { TURNSTILE_SITE_KEY: "0x-site-key" } });
    expect(await (await client.get("/api/v1/auth/challenge")).json()).toEqual({ site_key: null, routes: [], login_after_failures: null });
    const page = await client.get("/account");
    expect(page.headers.get("Content-Security-Policy")).not.toContain("challenges.cloudflare.com");
  });

  it("name the site key and the guarded routes while it is on, and the pages allow the widget's script and frame", async () => {
    const settings = { TURNSTILE_SECRET_KEY: "s", TURNSTILE_SITE_KEY: "0x-site-key", TURNSTILE_ROUTES: "register,magic_link" };
    const client = new TestClient({ settings });
    expect(await (await client.get("/api/v1/auth/challenge")).json()).toEqual({
      site_key: "0x-site-key",
      routes: ["register", "magic_link"],
      login_after_failures: 3,
    });
    const csp = (await client.get("/account")).headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("script-src 'self' https://challenges.cloudflare.com");
    expect(csp).toContain("frame-src https://challenges.cloudflare.com");
    expect(csp).toContain("frame-ancestors 'none'");
  });
});
