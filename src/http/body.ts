// Reading and validating request bodies, and validating query parameters. Unsafe requests
// are read once, up front, by the request frame (frame.ts, readBody): the size limit and
// the content-type rule hold for every route alike.
import type { Context } from "hono";
import type { z } from "zod";
import type { HttpEnv } from "./http-env";
import { ApiError, queryValidationError, validationError } from "./errors";
import { readAtMost } from "../lib/streams";

/** Bodies above this are refused with 413 (documented in docs/decisions.md). */
export const MAX_BODY_BYTES = 64 * 1024;

/** Only these routes also take application/x-www-form-urlencoded (OAuth2 password-form clients). */
const FORM_ROUTES = new Set(["/api/v1/auth/login", "/api/v1/auth/token"]);

/**
 * The OAuth server's form endpoints (RFC 6749 §3.2, RFC 7009, RFC 7662, RFC 8628):
 * their bodies keep every value of a repeated name (RFC 8707's `resource` repeats).
 */
const OAUTH_FORM_ROUTES = new Set(["/oauth2/token", "/oauth2/revoke", "/oauth2/introspect", "/oauth2/device_authorization"]);

/**
 * Reads the body of an unsafe request up front, so the size limit and the content-type
 * rule hold for every route alike. Undefined when there is none.
 */
export async function readBody(request: Request, path: string): Promise<unknown> {
  const declared = request.headers.get("Content-Length");
  if (Number(declared ?? "0") > MAX_BODY_BYTES) throw payloadTooLarge();
  const text = await readLimited(request, declared !== null);
  if (text === "") return undefined;
  const mediaType = (request.headers.get("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (/^application\/([a-z0-9.+-]+\+)?json$/.test(mediaType)) return parseJson(text);
  if (mediaType === "application/x-www-form-urlencoded" && FORM_ROUTES.has(path)) return Object.fromEntries(new URLSearchParams(text));
  if (mediaType === "application/x-www-form-urlencoded" && OAUTH_FORM_ROUTES.has(path)) return collectParams(new URLSearchParams(text));
  // A cross-site <form> can only send form, multipart or text bodies; refusing them
  // here means such a form can never reach an API route.
  throw new ApiError("unsupported_media_type", "Send the body as application/json");
}

/** Validates the request body against a schema; field errors become a 422. */
export function parseBody<T extends z.ZodType, E extends HttpEnv>(c: Context<E>, schema: T): z.output<T> {
  return parseInput(schema, c.get("body") ?? {});
}

/**
 * Validates the query parameters against a schema; a bad one is a 422 that says so, its
 * errors[].path naming the parameter (`query.days`), never "the request body".
 */
export function parseQuery<T extends z.ZodType, E extends HttpEnv>(c: Context<E>, schema: T): z.output<T> {
  return parseInput(schema, c.req.query(), { source: "query" });
}

export function parseInput<T extends z.ZodType>(schema: T, input: unknown, options: { source?: "body" | "query" } = {}): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
  if (options.source === "query") throw queryValidationError(errors);
  throw validationError(errors.map((error) => ({ ...error, path: error.path || "body" })));
}

/** Parameters by name, keeping every value of a repeated one (then an array). Own properties only: `__proto__` is a name like any other. */
export function collectParams(entries: Iterable<[string, string]>): Record<string, string | string[]> {
  const params = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of entries) {
    const known = Object.hasOwn(params, name) ? params[name] : undefined;
    params[name] = known === undefined ? value : Array.isArray(known) ? [...known, value] : [known, value];
  }
  return params;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError("invalid_request", "The request body is not valid JSON");
  }
}

/**
 * The body as text, refused when it is not UTF-8. A declared length (already checked
 * against the limit) is enforced by the runtime: read it in one native call. Otherwise
 * (chunked), count while reading. Decoded strictly: the runtime's own text read
 * (`request.text()`) costs a small POST a tenth less CPU, but it writes U+FFFD for an
 * invalid byte, and a body may hold that character itself (a password may be any
 * characters), so it could not refuse invalid bytes (docs/benchmark.md).
 */
async function readLimited(request: Request, declared: boolean): Promise<string> {
  if (request.body === null) return "";
  const bytes = declared ? new Uint8Array(await request.arrayBuffer()) : await readChunked(request.body);
  if (bytes.byteLength > MAX_BODY_BYTES) throw payloadTooLarge();
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new ApiError("invalid_request", "The request body is not valid UTF-8");
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

async function readChunked(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const bytes = await readAtMost(body, MAX_BODY_BYTES);
  if (bytes === null) throw payloadTooLarge();
  return bytes;
}

function payloadTooLarge(): ApiError {
  return new ApiError("payload_too_large", `The request body is larger than ${MAX_BODY_BYTES} bytes`);
}
