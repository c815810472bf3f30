// A typed client for TypeScript apps, built on Hono's RPC client (hc). Its types come
// from the route registry (src/openapi/routes.ts): request bodies are the handlers' own
// zod input types, answers the documented response types.
//
//   import { createAuthClient } from "edge-auth/client";
//   const auth = createAuthClient("https://auth.example.com", { csrfToken: () => csrf });
//   const res = await auth.api.v1.auth.login.$post({ json: { email, password } });
//   if (res.ok) { const { user, csrf_token } = await res.json(); }
import type { Hono } from "hono";
import { type ClientRequestOptions, hc } from "hono/client";
import type { z } from "zod";
import type { ROUTES } from "./openapi/routes";

type Route = (typeof ROUTES)[number];

/** The `:name` segments of a path. */
type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

// Absent parts are `{}` (not unknown): hc needs an object type to build its call signature.
type Nothing = Record<never, never>;

type Input<R extends Route> = (R extends { body: infer B extends z.ZodType } ? { json: z.input<B> } : Nothing) &
  (R extends { query: infer Q extends z.ZodType } ? { query: { [K in keyof z.input<Q>]?: string } } : Nothing) &
  ([ParamNames<R["path"]>] extends [never] ? Nothing : { param: Record<ParamNames<R["path"]>, string> });

type Output<R extends Route> = R["ok"] extends { schema: infer S extends z.ZodType } ? z.output<S> : Record<string, never>;

type Endpoint<R extends Route> = { input: Input<R>; output: Output<R>; outputFormat: "json"; status: R["ok"]["status"] };

/** Hono's schema type for the whole API: path -> `$method` -> endpoint. */
export type ApiSchema = {
  [P in Route["path"]]: { [R in Extract<Route, { path: P }> as `$${R["method"]}`]: Endpoint<R> };
};

export type AuthApi = Hono<Record<string, never>, ApiSchema, "/">;

export interface AuthClientOptions extends ClientRequestOptions {
  /** The current CSRF token (from login or refresh-csrf), sent on cookie-authenticated writes. */
  csrfToken?: () => string | undefined;
}

export function createAuthClient(baseUrl: string, options: AuthClientOptions = {}): ReturnType<typeof hc<AuthApi>> {
  const { csrfToken, ...rest } = options;
  return hc<AuthApi>(baseUrl, {
    ...rest,
    // Browsers send the session cookie cross-origin only with credentials: "include"
    // (not in the Workers RequestInit type, hence the cast).
    init: { credentials: "include", ...rest.init } as RequestInit,
    headers: async () => {
      const base = typeof rest.headers === "function" ? await rest.headers() : (rest.headers ?? {});
      const token = csrfToken?.();
      return token === undefined ? base : { ...base, "X-CSRF-Token": token };
    },
  });
}
