// Reading and validating request bodies. Unsafe requests are read once, up front, by
// bodyReader(): the size limit and the content-type rule hold for every route alike.
import type { Context, MiddlewareHandler } from "hono";
import type { z } from "zod";
import type { HttpEnv } from "./http-env";
import { ApiError, validationError } from "./errors";
import { isUnsafeMethod } from "./methods";

/** Bodies above this are refused with 413 (documented in the README). */
export const MAX_BODY_BYTES = 64 * 1024;

/** Only these routes also take application/x-www-form-urlencoded (OAuth2 password-form clients). */
const FORM_ROUTES = new Set(["/api/v1/auth/login", "/api/v1/auth/token"]);

export function bodyReader(): MiddlewareHandler<HttpEnv> {
  return async function bodyReaderMiddleware(c, next) {
    if (!isUnsafeMethod(c.req.method)) return next();
    const declaredLength = Number(c.req.header("Content-Length") ?? "0");
    if (declaredLength > MAX_BODY_BYTES) throw payloadTooLarge();

    const text = await readLimited(c.req.raw);
    const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (text === "") {
      c.set("body", undefined);
      return next();
    }
    if (/^application\/([a-z0-9.+-]+\+)?json$/.test(mediaType)) {
      c.set("body", parseJson(text));
    } else if (mediaType === "application/x-www-form-urlencoded" && FORM_ROUTES.has(c.req.path)) {
      c.set("body", Object.fromEntries(new URLSearchParams(text)));
    } else {
      // A cross-site <form> can only send form, multipart or text bodies; refusing them
      // here means such a form can never reach an API route.
      throw new ApiError("unsupported_media_type", "Send the body as application/json");
    }
    return next();
  };
}

/** Validates the request body against a schema; field errors become a 422. */
export function parseBody<T extends z.ZodType, E extends HttpEnv>(c: Context<E>, schema: T): z.output<T> {
  return parseInput(schema, c.get("body") ?? {});
}

export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw validationError(
    result.error.issues.map((issue) => ({
      path: issue.path.map(String).join(".") || "body",
      message: issue.message,
    })),
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError("invalid_request", "The request body is not valid JSON");
  }
}

async function readLimited(request: Request): Promise<string> {
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel();
      throw payloadTooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError("invalid_request", "The request body is not valid UTF-8");
  }
}

function payloadTooLarge(): ApiError {
  return new ApiError("payload_too_large", `The request body is larger than ${MAX_BODY_BYTES} bytes`);
}
