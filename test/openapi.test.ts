import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { pageRoutes } from "../src/routes/pages";
import { buildOpenApiDocument } from "../src/openapi/document";
import { TestClient } from "./helpers/client";

describe("GET /openapi.json and /docs", () => {
  it("serves the document built from the route definitions", async () => {
    const response = await new TestClient().get("/openapi.json");
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, object>; components: { securitySchemes: object } };
    expect(document).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
    expect(document.openapi).toBe("3.1.0");
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(["apiKeyHeader", "bearerAuth", "csrfHeader", "sessionCookie"]);
  });

  it("documents every route the app registers, and nothing it does not (the HTML pages are not API routes)", async () => {
    const app = createApp();
    const pages = new Set(pageRoutes.routes.map((route) => route.path));
    expect(pages.size).toBeGreaterThanOrEqual(6);
    const registered = new Set(
      app.routes
        .filter((route) => route.method !== "ALL" && !pages.has(route.path))
        .map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:([A-Za-z_]+)/g, "{$1}").replace(/(.)\/$/, "$1")}`),
    );
    const document = buildOpenApiDocument() as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`)),
    );
    expect([...registered].filter((route) => !documented.has(route))).toEqual([]);
    expect([...documented].filter((route) => !registered.has(route))).toEqual([]);
    expect(registered.size).toBeGreaterThanOrEqual(35);
  });

  it("documents request bodies with the handlers' own validation rules, and examples", () => {
    const document = buildOpenApiDocument() as {
      paths: Record<
        string,
        Record<
          string,
          {
            requestBody?: {
              content: Record<
                string,
                { schema: { properties: Record<string, { minLength?: number }>; required: string[] }; example?: unknown }
              >;
            };
          }
        >
      >;
    };
    const register = document.paths["/api/v1/users"]?.post?.requestBody?.content["application/json"];
    expect(register?.schema.required.sort()).toEqual(["email", "password"]);
    expect(register?.example).toMatchObject({ email: "ada@example.com" });
    const login = document.paths["/api/v1/auth/login"]?.post?.requestBody?.content;
    expect(Object.keys(login ?? {}).sort()).toEqual(["application/json", "application/x-www-form-urlencoded"]);
  });

  it("documents, per route, only the errors it can give, each status with its codes", () => {
    type Operation = {
      responses: Record<
        string,
        {
          description?: string;
          content?: { "application/json": { schema: { allOf: [unknown, { properties: { code: { enum: string[] } } }] } } };
        }
      >;
    };
    const document = buildOpenApiDocument() as { paths: Record<string, Record<string, Operation>> };
    const codes = (path: string, method: string, status: number): string[] | undefined =>
      document.paths[path]?.[method]?.responses[String(status)]?.content?.["application/json"].schema.allOf[1].properties.code.enum;
    // A liveness check has no body, no credential and no storage: only a misconfiguration.
    expect(Object.keys(document.paths["/healthz"]?.get?.responses ?? {})).toEqual(["200", "500"]);
    // A GET has no body: no 400, 413 or 415; a write does.
    expect(Object.keys(document.paths["/api/v1/auth/sessions"]?.get?.responses ?? {}).sort()).toEqual([
      "200",
      "401",
      "403",
      "429",
      "500",
      "503",
    ]);
    expect(codes("/api/v1/users", "post", 409)).toEqual(["email_taken", "username_taken"]);
    expect(codes("/api/v1/users", "post", 415)).toEqual(["unsupported_media_type"]);
    expect(codes("/api/v1/users", "post", 401)).toBeUndefined();
    expect(codes("/api/v1/auth/refresh", "post", 401)).toEqual(["invalid_token", "token_reused"]);
    // A key without the permission; an organization's key, which acts for no user (contract v1.2).
    expect(codes("/api/v1/users/me", "get", 403)).toEqual(["forbidden", "insufficient_scope"]);
    expect(codes("/api/v1/admin/users", "get", 403)).toEqual(["forbidden"]);
    expect(codes("/api/v1/auth/logout", "post", 403)).toEqual(["csrf_failed", "forbidden"]);
    expect(document.paths["/api/v1/users"]?.post?.responses["409"]?.description).toContain(
      "`email_taken`: the email belongs to another account",
    );
  });

  it("serves the interactive reference from this origin only, under a CSP that allows no other", async () => {
    const response = await new TestClient().get("/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toContain("text/html");
    const csp = response.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("default-src 'none'");
    const html = await response.text();
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((match) => match[1] ?? "");
    expect(scripts.map((attributes) => /src="([^"]+)"/.exec(attributes)?.[1])).toEqual(["/docs/scalar.js", "/docs/reference.js"]);
    expect(html).not.toMatch(/https?:\/\//);
    // Without JavaScript (or read as HTML), the page still lists every route.
    for (const route of ["POST /api/v1/auth/login", "GET /api/v1/api-keys/{id}/usage", "GET /api/v1/auth/oauth/callback/{provider}"]) {
      expect(html).toContain(route);
    }
    for (const script of ["/docs/scalar.js", "/docs/reference.js"]) {
      const file = await new TestClient().get(script);
      expect(file.status).toBe(200);
      expect(file.headers.get("Content-Type")).toContain("javascript");
      expect((await file.text()).length).toBeGreaterThan(100);
    }
  });
});
