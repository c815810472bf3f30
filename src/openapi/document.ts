// Builds the OpenAPI 3.1 document from ROUTES. Request schemas are the handlers' own
// zod schemas (as JSON Schema 2020-12, the dialect of OpenAPI 3.1), so the document
// cannot drift from what the API accepts.
import { z } from "zod";
import { oauthError } from "./oauth-server-schemas";
import { errorResponse } from "./response-schemas";
import { meaningOf, routeErrors } from "./route-errors";
import type { RouteSpec } from "./route-spec";
import { ROUTES } from "./routes";

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as Json;
  return rest;
}

function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_]+)/g, "{$1}");
}

function security(route: RouteSpec): Json[] {
  const unsafe = route.method !== "get";
  const options: Json[] = [];
  for (const credential of route.auth) {
    if (credential === "session") options.push(unsafe ? { sessionCookie: [], csrfHeader: [] } : { sessionCookie: [] });
    if (credential === "bearer") options.push({ bearerAuth: [] });
    if (credential === "api_key") options.push({ apiKeyHeader: [] });
  }
  return options;
}

function parameters(route: RouteSpec): Json[] {
  const params: Json[] = [...route.path.matchAll(/:([A-Za-z_]+)/g)].map((match) => ({
    name: match[1],
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  if (route.query !== undefined) {
    const schema = jsonSchema(route.query, "input") as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      params.push({ name, in: "query", required: schema.required?.includes(name) ?? false, schema: property });
    }
  }
  return params;
}

function operation(route: RouteSpec): Json {
  const responses: Json = {};
  for (const answer of [route.ok, ...(route.alternatives ?? [])]) {
    responses[String(answer.status)] =
      answer.schema === undefined
        ? { description: answer.description }
        : { description: answer.description, content: { "application/json": { schema: jsonSchema(answer.schema, "output") } } };
  }
  for (const [status, codes] of routeErrors(route)) {
    responses[String(status)] =
      route.oauth === undefined ? errorAnswer(status, codes) : oauthErrorAnswer(status, codes, route.oauth.errorPage === true);
  }
  const op: Json = {
    operationId: `${route.method}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, next: string | undefined) => (next ?? "").toUpperCase())}`,
    summary: route.summary,
    tags: [route.tag],
    security: security(route),
    parameters: parameters(route),
    responses,
  };
  if (route.apiKeyPermission !== undefined) op.description = `API keys need the \`${route.apiKeyPermission}\` permission.`;
  if (route.body !== undefined) {
    const schema = jsonSchema(route.body, "input");
    const content: Json = { "application/json": route.example === undefined ? { schema } : { schema, example: route.example } };
    if (route.form === true) content["application/x-www-form-urlencoded"] = { schema };
    op.requestBody = { required: route.method !== "delete", content };
  }
  return op;
}

/** One error status of a route: the codes it can carry, each with what it means. */
function errorAnswer(status: number, codes: readonly string[]): Json {
  const description = codes.map((code) => `\`${code}\`: ${meaningOf(code, status)}`).join("; ");
  const schema = { allOf: [{ $ref: "#/components/schemas/Error" }, { properties: { code: { enum: codes } } }] };
  const example = { detail: meaningOf(codes[0] ?? "", status), code: codes[0] };
  return { description, content: { "application/json": { schema, example } } };
}

/** An OAuth endpoint's error status: RFC 6749 §5.2's body; the authorization endpoint may show an HTML page instead. */
function oauthErrorAnswer(status: number, codes: readonly string[], errorPage: boolean): Json {
  const schema = { allOf: [{ $ref: "#/components/schemas/OAuthError" }, { properties: { error: { enum: codes } } }] };
  const content: Json = { "application/json": { schema, example: { error: codes[0], error_description: "..." } } };
  if (errorPage && status === 400) content["text/html"] = { schema: { type: "string" } };
  return { description: `RFC 6749 error: ${codes.map((code) => `\`${code}\``).join(", ")}`, content };
}

export function buildOpenApiDocument(): Json {
  const paths: Record<string, Json> = {};
  for (const route of ROUTES as readonly RouteSpec[]) {
    const path = openApiPath(route.path);
    paths[path] = { ...(paths[path] ?? {}), [route.method]: operation(route) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "edge-auth",
      version: "1.1.0",
      description:
        "Authentication API on Cloudflare Workers: cookie sessions (CSRF protected), JWT access and refresh tokens, OAuth login, API keys, second factors and passkeys, organizations, and administration. Errors are `{detail, code}`, and each route lists the codes it can answer with. Every response carries `X-Request-Id`; every 429 and 503 carries `Retry-After`. A path answers a method it does not have with 405 `method_not_allowed` and an `Allow` header, and an unknown path with 404 `not_found`.",
    },
    servers: [{ url: "/" }],
    tags: ["service", "users", "sessions", "tokens", "account", "oauth", "mfa", "api-keys", "oauth-server", "orgs", "admin"].map(
      (name) => ({
        name,
      }),
    ),
    paths,
    components: {
      schemas: { Error: jsonSchema(errorResponse, "output"), OAuthError: jsonSchema(oauthError, "output") },
      securitySchemes: {
        sessionCookie: {
          type: "apiKey",
          in: "cookie",
          name: "session_id",
          description: "Session cookie (`__Host-session_id` with SESSION_SECURE_COOKIES=true)",
        },
        csrfHeader: {
          type: "apiKey",
          in: "header",
          name: "X-CSRF-Token",
          description: "The session's CSRF token; needed with the cookie on POST, PUT, PATCH, DELETE",
        },
        bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "Access token, or an API key" },
        apiKeyHeader: { type: "apiKey", in: "header", name: "X-API-Key" },
      },
    },
  };
}
