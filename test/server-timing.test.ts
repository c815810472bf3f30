// SERVER_TIMING: the opt-in Server-Timing header (src/http/server-timing.ts) names each
// binding call a request made and its time, and nothing that identifies anyone.
import { describe, expect, it } from "vitest";
import { TestClient } from "./helpers/client";
import { registerUser } from "./helpers/users";

const ENTRY = /^(kv|d1|do|total);dur=\d+\.\d$/;

function entries(response: Response): string[] {
  return (response.headers.get("Server-Timing") ?? "").split(", ").filter((entry) => entry !== "");
}

describe("Server-Timing", () => {
  it("is off unless SERVER_TIMING is on", async () => {
    const user = await registerUser(new TestClient());
    const response = await new TestClient().post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Server-Timing")).toBeNull();
  });

  it("lists a login's hops in order (the account read and the IP's slot, then the user's authority) and the total, with no identifier", async () => {
    const user = await registerUser(new TestClient());
    const client = new TestClient({ settings: { SERVER_TIMING: "true" } });
    const response = await client.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    expect(response.status).toBe(200);
    const hops = entries(response);
    for (const entry of hops) expect(entry).toMatch(ENTRY);
    const names = hops.map((entry) => entry.split(";")[0]);
    expect(names.slice(-2)).toEqual(["do", "total"]);
    expect(names.slice(0, -2).sort()).toEqual(["d1", "do"]);
    const header = response.headers.get("Server-Timing") ?? "";
    for (const secret of [user.id, user.email, client.ip]) expect(header).not.toContain(secret);
  });

  it("names the same hops for a wrong password of a known account and of an unknown name", async () => {
    const user = await registerUser(new TestClient());
    const names = async (email: string): Promise<string[]> => {
      const client = new TestClient({ settings: { SERVER_TIMING: "true" } });
      const response = await client.post("/api/v1/auth/login", { json: { email, password: "wrong-password-123" } });
      expect(response.status).toBe(401);
      return entries(response).map((entry) => entry.split(";")[0]!);
    };
    const known = await names(user.email);
    expect(known).toEqual(await names(`nobody-${crypto.randomUUID()}@example.com`));
    expect([...known].sort()).toEqual(["d1", "do", "do", "total"]);
  });

  it("shows a session check from the isolate's memory as no hop at all, and a logout as one call to the user's authority", async () => {
    const user = await registerUser(new TestClient());
    const client = new TestClient({ settings: { SERVER_TIMING: "true" } });
    expect((await client.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } })).status).toBe(200);
    await client.get("/api/v1/auth/check-auth");
    const check = await client.get("/api/v1/auth/check-auth");
    expect(entries(check).map((entry) => entry.split(";")[0])).toEqual(["total"]);
    const logout = await client.post("/api/v1/auth/logout");
    expect(logout.status).toBe(200);
    expect(entries(logout).map((entry) => entry.split(";")[0])).toEqual(["do", "total"]);
  });
});
