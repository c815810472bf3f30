import { describe, expect, it } from "vitest";
import { TestClient, cookieAttributes } from "./helpers/client";
import { login, registerUser } from "./helpers/users";

async function loginWith(settings: Record<string, string>): Promise<TestClient> {
  const client = new TestClient({ settings });
  await login(client, await registerUser(client));
  return client;
}

describe("cookie attributes", () => {
  it("uses __Host- names, Secure, Path=/ and no Domain when SESSION_SECURE_COOKIES=true", async () => {
    const client = await loginWith({ SESSION_SECURE_COOKIES: "true" });
    const session = cookieAttributes(client.lastSetCookies, "__Host-session_id");
    const csrf = cookieAttributes(client.lastSetCookies, "__Host-csrf_token");
    expect(session).toBeDefined();
    expect(csrf).toBeDefined();
    for (const attributes of [session, csrf]) {
      expect(attributes?.has("secure")).toBe(true);
      expect(attributes?.get("path")).toBe("/");
      expect(attributes?.has("domain")).toBe(false);
      expect(attributes?.get("samesite")).toBe("Lax");
    }
    expect(session?.has("httponly")).toBe(true);
    expect(csrf?.has("httponly")).toBe(false);
    expect(client.lastSetCookies.some((line) => line.startsWith("session_id="))).toBe(false);
    expect((await client.get("/api/v1/users/me")).status).toBe(200);
  });

  it("ignores an unprefixed session cookie when secure cookies are on", async () => {
    const secure = await loginWith({ SESSION_SECURE_COOKIES: "true" });
    const planted = new TestClient({ settings: { SESSION_SECURE_COOKIES: "true" } });
    planted.cookies.set("session_id", secure.sessionToken ?? "");
    expect((await planted.get("/api/v1/users/me")).status).toBe(401);
  });

  it("sets SameSite=Strict when asked", async () => {
    const client = await loginWith({ SESSION_COOKIE_SAMESITE: "strict" });
    expect(cookieAttributes(client.lastSetCookies, "session_id")?.get("samesite")).toBe("Strict");
  });

  it("sets SameSite=None with Secure and Partitioned for cross-site front ends, on issue and on clear", async () => {
    const settings = { SESSION_COOKIE_SAMESITE: "none", SESSION_SECURE_COOKIES: "true" };
    const client = await loginWith(settings);
    const issued = cookieAttributes(client.lastSetCookies, "__Host-session_id");
    expect(issued?.get("samesite")).toBe("None");
    expect(issued?.has("secure")).toBe(true);
    expect(issued?.has("partitioned")).toBe(true);

    const refreshed = await client.post("/api/v1/auth/refresh-csrf");
    expect(refreshed.status).toBe(200);
    const csrf = cookieAttributes(client.lastSetCookies, "__Host-csrf_token");
    expect(csrf?.has("partitioned")).toBe(true);
    expect(csrf?.get("samesite")).toBe("None");

    await client.post("/api/v1/auth/logout");
    const cleared = cookieAttributes(client.lastSetCookies, "__Host-session_id");
    expect(cleared?.get("max-age")).toBe("0");
    expect(cleared?.has("partitioned")).toBe(true);
    expect(cleared?.has("secure")).toBe(true);
  });
});
