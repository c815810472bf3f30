// Everything a request's domain code may use, assembled once per request (the app's
// services middleware, the RPC entrypoint and the scheduled handler build it the same
// way). Domain modules take `Services` (or the part of it they name with Pick) and never
// see Hono's Context: the routes map HTTP to calls and results back to HTTP.
import type { Config } from "../config/config";
import { type Database, database } from "../db/client";
import { type ClientInfo, clientInfo, clientIp } from "../http/client-info";
import { type Mailer, createMailer } from "../mail/mailer";

export interface Services {
  config: Config;
  /** D1 through drizzle, for the tables drizzle owns (db/schema.ts). */
  db: Database;
  /** D1 directly, for the tables written with raw SQL (see the README's storage map). */
  d1: D1Database;
  kv: KVNamespace;
  /** Per-user authorities; reach one through sessions/authority-client.ts. */
  authority: Env["USER_AUTHORITY"];
  /** Per-key authorities. */
  keys: Env["API_KEYS"];
  /** Login-attempt and hourly counters. */
  throttle: Env["LOGIN_THROTTLE"];
  mailer: Mailer;
  /** Runs work after the response (ExecutionContext.waitUntil). */
  waitUntil(promise: Promise<unknown>): void;
  /** Where mailed links and app pages point: APP_BASE_URL, or this service's origin. */
  appBase: string;
  /** This service's public origin, for OAuth callbacks (OAUTH_REDIRECT_BASE_URL or the request's). */
  origin: string;
  /** The client's IP (CF-Connecting-IP); "unknown" outside a request. */
  ip: string;
  /** The client of this request (IP, device, location); null outside a request. */
  client: ClientInfo | null;
}

export interface ServiceContext {
  env: Env;
  config: Config;
  waitUntil(promise: Promise<unknown>): void;
  /** The request being served; null for RPC calls and the cron. */
  request: Request | null;
}

export function buildServices({ env, config, waitUntil, request }: ServiceContext): Services {
  const origin = request === null ? "" : new URL(request.url).origin;
  let mailer: Mailer | undefined;
  let client: ClientInfo | null | undefined;
  return {
    config,
    db: database(env.DB),
    d1: env.DB,
    kv: env.SESSIONS,
    authority: env.USER_AUTHORITY,
    keys: env.API_KEYS,
    throttle: env.LOGIN_THROTTLE,
    get mailer() {
      mailer ??= createMailer(config, env.DB);
      return mailer;
    },
    waitUntil,
    appBase: config.appBaseUrl ?? origin,
    origin: config.oauth.redirectBaseUrl ?? origin,
    ip: request === null ? "unknown" : clientIp(request),
    // Parsed on first use: most requests never record an event.
    get client() {
      if (client === undefined) client = request === null ? null : clientInfo(request);
      return client;
    },
  };
}
