import { describe, expect, it } from "vitest";
import { applySecurityHeaders } from "../src/http/security-headers";
import { BASE_URL, TestClient, callWorker } from "./helpers/client";

describe("service basics", () => {
  it("answers /healthz with status ok and a request id", async () => {
    const response = await new TestClient().get("/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
    expect(response.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("echoes a well-formed inbound X-Request-Id and replaces a malformed one", async () => {
    const client = new TestClient();
    const echoed = await client.get("/healthz", { headers: { "X-Request-Id": "trace-abc.123" } });
    expect(echoed.headers.get("X-Request-Id")).toBe("trace-abc.123");
    const replaced = await client.get("/healthz", { headers: { "X-Request-Id": "bad id <script>" } });
    expect(replaced.headers.get("X-Request-Id")).not.toContain("script");
  });

  it("sends safe default headers on every response, and the document headers on everything but JSON", async () => {
    const client = new TestClient();
    const json = await client.get("/api/v1/nope");
    expect(json.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(json.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(json.headers.get("Cross-Origin-Resource-Policy")).toBe("same-site");
    expect(json.headers.get("Cache-Control")).toBe("no-store");
    expect(json.headers.get("X-Request-Id")).not.toBeNull();
    expect(json.headers.get("Strict-Transport-Security")).toBeNull();
    // JSON with nosniff is never rendered, framed or a source of a Referer.
    expect(json.headers.get("X-Frame-Options")).toBeNull();
    expect(json.headers.get("Content-Security-Policy")).toBeNull();
    expect(json.headers.get("Referrer-Policy")).toBeNull();

    const page = await client.get("/account");
    const redirect = await client.get("/api/v1/auth/oauth/github?redirect_to=/account");
    const empty = await client.request("OPTIONS", "/api/v1/users/me", {
      headers: { Origin: "http://app.example.test", "Access-Control-Request-Method": "GET" },
    });
    const navigated = await client.get("/api/v1/nope", { headers: { "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document" } });
    expect(navigated.headers.get("Content-Type")).toMatch(/^application\/json/);
    for (const [name, response] of [
      ["a page", page],
      ["a redirect", redirect],
      ["a bodiless answer", empty],
      ["JSON shown in a tab", navigated],
    ] as const) {
      expect(response.headers.get("X-Frame-Options"), name).toBe("DENY");
      expect(response.headers.get("Referrer-Policy"), name).toBe("no-referrer");
      expect(response.headers.get("Content-Security-Policy"), name).toContain("frame-ancestors 'none'");
      expect(response.headers.get("X-Content-Type-Options"), name).toBe("nosniff");
      expect(response.headers.get("X-Request-Id"), name).not.toBeNull();
    }
    expect(redirect.status).toBe(302);
  });

  it("tells JSON from documents by the answer's type, and treats every redirect and navigation as a document", () => {
    const framed = (contentType: string | null, status = 200, navigation = false): string | null => {
      const headers = new Headers(contentType === null ? {} : { "Content-Type": contentType });
      applySecurityHeaders(headers, undefined, { status, navigation });
      return headers.get("X-Frame-Options");
    };
    expect(framed("application/json")).toBeNull();
    expect(framed("Application/JSON; charset=utf-8")).toBeNull();
    expect(framed("application/jwk-set+json")).toBeNull();
    expect(framed("application/json", 302)).toBe("DENY");
    expect(framed("application/json", 200, true)).toBe("DENY");
    expect(framed("application/jsonp")).toBe("DENY");
    expect(framed("text/html; charset=UTF-8")).toBe("DENY");
    expect(framed("image/svg+xml")).toBe("DENY");
    expect(framed("text/plain")).toBe("DENY");
    expect(framed(null, 204)).toBe("DENY");
  });

  it("answers the refusals the request frame makes itself in the error shape, with the request id, security and CORS headers", async () => {
    const client = new TestClient();
    const refusals: Array<[string, Promise<Response>, number, string]> = [
      [
        "a foreign Origin on a cookie write",
        client.post("/api/v1/auth/logout", { headers: { Origin: "https://evil.example" }, json: {} }),
        403,
        "csrf_failed",
      ],
      ["a body over 64 KiB", client.post("/api/v1/users", { json: { pad: "x".repeat(70_000) } }), 413, "payload_too_large"],
      [
        "a text/plain body",
        client.post("/api/v1/users", { body: "{}", headers: { "Content-Type": "text/plain" } }),
        415,
        "unsupported_media_type",
      ],
      [
        "malformed JSON",
        client.post("/api/v1/users", { body: "{", headers: { "Content-Type": "application/json" } }),
        400,
        "invalid_request",
      ],
      [
        "a preflight from a foreign origin",
        client.request("OPTIONS", "/api/v1/users/me", {
          headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "GET" },
        }),
        403,
        "forbidden",
      ],
    ];
    for (const [name, pending, status, code] of refusals) {
      const response = await pending;
      expect({ name, status: response.status }).toEqual({ name, status });
      expect(await response.json()).toMatchObject({ code, detail: expect.any(String) });
      expect(response.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(response.headers.get("Cache-Control")).toBe("no-store");
      expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
    }
  });

  it("gives an allowed origin's preflight its CORS answer with the request id and security headers", async () => {
    const response = await new TestClient().request("OPTIONS", "/api/v1/users/me", {
      headers: { Origin: "http://app.example.test", "Access-Control-Request-Method": "PATCH" },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("http://app.example.test");
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    expect(response.headers.get("X-Request-Id")).not.toBeNull();
    expect(response.headers.get("X-Frame-Options")).toBe("DENY");
  });

  it("sends HSTS when cookies are secure", async () => {
    const response = await new TestClient({ settings: { SESSION_SECURE_COOKIES: "true" } }).get("/healthz");
    expect(response.headers.get("Strict-Transport-Security")).toMatch(/max-age=\d+/);
  });

  it("answers unknown routes with 404 not_found in the error shape", async () => {
    const response = await new TestClient().get("/api/v1/does-not-exist");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ detail: "Not found", code: "not_found" });
  });

  it("answers a known path with the wrong method with 405 and Allow", async () => {
    const response = await new TestClient().request("PUT", "/api/v1/auth/login", { json: {} });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("POST");
    expect(await response.json()).toMatchObject({ code: "method_not_allowed" });
    const withParam = await new TestClient().request("PATCH", "/api/v1/auth/sessions/abc", { json: {} });
    expect(withParam.status).toBe(405);
    expect(withParam.headers.get("Allow")).toBe("DELETE");
  });
});

describe("bad input never becomes a 500", () => {
  it("refuses malformed JSON with 400 invalid_request", async () => {
    const response = await new TestClient().post("/api/v1/users", {
      body: '{"email": "a@b.c", ',
      headers: { "Content-Type": "application/json" },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "invalid_request" });
  });

  it("refuses wrong types and missing fields with 422 and a list of field errors", async () => {
    const response = await new TestClient().post("/api/v1/users", { json: { email: 42 } });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { code: string; detail: string; errors: Array<{ path: string }> };
    expect(body.code).toBe("invalid_request");
    expect(body.errors.map((error) => error.path).sort()).toEqual(["email", "password"]);
  });

  it("refuses a JSON array or null body with 422", async () => {
    for (const raw of ["[]", "null", '"text"']) {
      const response = await new TestClient().post("/api/v1/users", {
        body: raw,
        headers: { "Content-Type": "application/json" },
      });
      expect(response.status).toBe(422);
    }
  });

  it("refuses text/plain and form bodies on JSON routes with 415", async () => {
    const plain = await new TestClient().post("/api/v1/users", {
      body: '{"email":"x@example.com","password":"whatever-long"}',
      headers: { "Content-Type": "text/plain" },
    });
    expect(plain.status).toBe(415);
    expect(await plain.json()).toMatchObject({ code: "unsupported_media_type" });
    const form = await new TestClient().post("/api/v1/users", { form: { email: "x@example.com" } });
    expect(form.status).toBe(415);
  });

  it("refuses bodies over the documented 64 KiB limit with 413, declared or streamed", async () => {
    const big = JSON.stringify({ email: "a@example.com", password: "x".repeat(70 * 1024) });
    const declared = await new TestClient().post("/api/v1/users", {
      body: big,
      headers: { "Content-Type": "application/json" },
    });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ code: "payload_too_large" });

    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 80; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1024)));
        controller.close();
      },
    });
    const request = new Request(`${BASE_URL}/api/v1/users`, {
      method: "POST",
      body: stream,
      headers: { "Content-Type": "application/json" },
      duplex: "half",
    } as RequestInit);
    const streamed = await callWorker(request);
    expect(streamed.status).toBe(413);
  });

  it("refuses invalid UTF-8 with 400", async () => {
    const response = await new TestClient().post("/api/v1/users", {
      body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      headers: { "Content-Type": "application/json" },
    });
    expect(response.status).toBe(400);
  });

  it("refuses an invalid byte inside a JSON string as invalid UTF-8, and takes U+FFFD itself as text", async () => {
    const client = new TestClient();
    const bytes = (text: string, at: number, inserted: number[]) => {
      const encoded = new TextEncoder().encode(text);
      return new Uint8Array([...encoded.slice(0, at), ...inserted, ...encoded.slice(at)]);
    };
    const json = { "Content-Type": "application/json" };
    const body = (email: string) => JSON.stringify({ email, password: "correct-horse-battery", name: "Ann" });
    const first = body(`fffd-${crypto.randomUUID()}@example.com`);
    const nameAt = first.indexOf('"Ann"') + 1;
    // A stray byte, a truncated sequence, a surrogate's encoding, an overlong form, a truncated 4-byte sequence.
    for (const inserted of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf0, 0x90, 0x80]]) {
      const response = await client.post("/api/v1/users", { body: bytes(first, nameAt, inserted), headers: json });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { detail: string }).detail).toBe("The request body is not valid UTF-8");
    }
    // The character itself (EF BF BD, valid UTF-8) is text like any other: a name, or a password, may hold it.
    const literal = await client.post("/api/v1/users", { body: bytes(first, nameAt, [0xef, 0xbf, 0xbd]), headers: json });
    expect(literal.status).toBe(201);
    expect(((await literal.json()) as { name: string }).name).toBe("\uFFFDAnn");
  });
});
