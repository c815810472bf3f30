import { afterEach, describe, expect, it, vi } from "vitest";
import { TestClient } from "./helpers/client";
import { login, registerUser } from "./helpers/users";

afterEach(() => vi.restoreAllMocks());

describe("structured request logs", () => {
  it("writes one JSON line per request with id, route, status, duration and principal, and no secret", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    await login(client, user);
    const response = await client.get("/api/v1/users/me");
    const requests = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.event === "request");
    expect(requests).toHaveLength(2);
    expect(requests[1]).toEqual({
      level: "info",
      event: "request",
      request_id: response.headers.get("X-Request-Id"),
      method: "GET",
      route: "/api/v1/users/me",
      status: 200,
      duration_ms: expect.any(Number),
      principal: "session",
    });
    const all = lines.join("\n");
    for (const secret of [user.password, client.sessionToken ?? "", client.csrfToken ?? ""]) expect(all).not.toContain(secret);
  });

  it("names the principal of a logout the user's authority accepted, and none for a cookie it refused", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    const forged = client.clone();
    const [id] = (client.sessionToken ?? "").split(".");
    forged.cookies.set(forged.sessionCookieName, `${id}.${"A".repeat(43)}`);
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    expect((await forged.post("/api/v1/auth/logout")).status).toBe(401);
    expect((await client.post("/api/v1/auth/logout")).status).toBe(200);
    const logouts = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.event === "request" && entry.route === "/api/v1/auth/logout");
    expect(logouts.map((entry) => [entry.status, entry.principal])).toEqual([
      [401, null],
      [200, "session"],
    ]);
  });
});
