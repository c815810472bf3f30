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

  it("serves a readable reference page listing every route, with no script", async () => {
    const response = await new TestClient().get("/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toContain("text/html");
    const html = await response.text();
    expect(html).not.toContain("<script");
    for (const path of ["/api/v1/auth/login", "/api/v1/api-keys/{id}/usage", "/api/v1/auth/oauth/callback/{provider}"]) {
      expect(html).toContain(path);
    }
  });
});
