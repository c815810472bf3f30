// The bearer read answered from isolate memory (src/auth/memory-answer.ts) is a shortcut
// only: the same answer the app gives, byte for byte but for a new request id, and null
// (the app answers) whenever it is not sure.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { answerFromMemory } from "../src/auth/memory-answer";
import { headersOf, isolateEnv, logLines } from "./helpers/answers";
import { BASE_URL, TestClient } from "./helpers/client";
import { registerUser, tokensFor } from "./helpers/users";

const app = createApp();

async function viaApp(request: Request, isolate: Env): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.fetch(request, isolate, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

function me(token: string, headers: Record<string, string> = {}, path = "/api/v1/users/me"): Request {
  return new Request(`${BASE_URL}${path}`, { headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": "10.9.9.9", ...headers } });
}

async function signedInUser(): Promise<{ token: string; user: Awaited<ReturnType<typeof registerUser>> }> {
  const user = await registerUser(new TestClient());
  const { access_token: token } = await tokensFor(user);
  return { token, user };
}

describe("bearer reads answered from isolate memory", () => {
  afterEach(() => vi.restoreAllMocks());

  it("gives the app's answer: status, body and every header, with and without an Origin and an inbound request id", async () => {
    const isolate = isolateEnv();
    const { token, user } = await signedInUser();
    expect(answerFromMemory(me(token), isolate)).toBeNull();
    expect((await viaApp(me(token), isolate)).status).toBe(200);

    const variants: Array<Record<string, string>> = [
      {},
      { Origin: "http://app.example.test" },
      { Origin: "https://evil.example" },
      { "X-Request-Id": "trace-abc.123" },
    ];
    for (const headers of variants) {
      const fromMemory = answerFromMemory(me(token, headers), isolate);
      expect(fromMemory, JSON.stringify(headers)).not.toBeNull();
      const fromApp = await viaApp(me(token, headers), isolate);
      expect(fromMemory!.status).toBe(fromApp.status);
      expect(headersOf(fromMemory!)).toEqual(headersOf(fromApp));
      expect(await fromMemory!.json()).toEqual(await fromApp.json());
      if (headers["X-Request-Id"] !== undefined) expect(fromMemory!.headers.get("X-Request-Id")).toBe("trace-abc.123");
      else expect(fromMemory!.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
    }
    const body = (await answerFromMemory(me(token), isolate)!.json()) as { id: string; email: string };
    expect(body).toMatchObject({ id: user.id, email: user.email });
    // The same request log line, naming the route and the principal's kind only.
    const memoryLog = await logLines(() => answerFromMemory(me(token), isolate));
    const appLog = await logLines(() => viaApp(me(token), isolate));
    expect(memoryLog).toEqual([
      { level: "info", event: "request", method: "GET", route: "/api/v1/users/me", status: 200, principal: "token" },
    ]);
    expect(memoryLog).toEqual(appLog);
  });

  it("leaves every other request to the app", async () => {
    const isolate = isolateEnv();
    const { token } = await signedInUser();
    await viaApp(me(token), isolate);
    expect(answerFromMemory(me(token), isolate)).not.toBeNull();

    const others: Array<[string, Request]> = [
      ["a query string", me(token, {}, "/api/v1/users/me?fields=id")],
      ["another path", me(token, {}, "/api/v1/users/me/")],
      ["another method", new Request(`${BASE_URL}/api/v1/users/me`, { method: "HEAD", headers: { Authorization: `Bearer ${token}` } })],
      ["an X-API-Key beside the token", me(token, { "X-API-Key": "ak_not_a_key" })],
      ["a malformed Authorization", new Request(`${BASE_URL}/api/v1/users/me`, { headers: { Authorization: `Basic ${token}` } })],
      ["a token this isolate never verified", me(`${token.slice(0, -2)}xx`)],
      ["a navigation", me(token, { "Sec-Fetch-Mode": "navigate" })],
    ];
    for (const [name, request] of others) expect(answerFromMemory(request, isolate), name).toBeNull();
    // Server-Timing reports every hop: the app answers.
    const timed = isolateEnv({ SERVER_TIMING: "true" });
    await viaApp(me(token), timed);
    expect(answerFromMemory(me(token), timed)).toBeNull();
    // A bad setting: the app answers with its error.
    expect(answerFromMemory(me(token), isolateEnv({ SESSION_TIMEOUT_MINUTES: "0" }))).toBeNull();
  });

  it("stops answering once the user signs out everywhere in this isolate, and the app refuses the token", async () => {
    const isolate = isolateEnv();
    const { token, user } = await signedInUser();
    await viaApp(me(token), isolate);
    expect(answerFromMemory(me(token), isolate)).not.toBeNull();

    const client = new TestClient();
    const login = await client.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
    expect(login.status).toBe(200);
    const csrf = client.csrfToken!;
    const cookie = [...client.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    const logoutAll = await viaApp(
      new Request(`${BASE_URL}/api/v1/auth/logout-all`, {
        method: "POST",
        headers: { Cookie: cookie, "X-CSRF-Token": csrf, "Content-Type": "application/json", "CF-Connecting-IP": "10.9.9.8" },
        body: "{}",
      }),
      isolate,
    );
    expect(logoutAll.status).toBe(200);
    expect(answerFromMemory(me(token), isolate)).toBeNull();
    const refused = await viaApp(me(token), isolate);
    expect(refused.status).toBe(401);
    expect(answerFromMemory(me(token), isolate)).toBeNull();
  });
});
