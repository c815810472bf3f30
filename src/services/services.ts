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
  /** D1 directly, for the tables written with raw SQL (see the storage map, docs/concepts/consistency.md). */
  d1: D1Database;
  kv: KVNamespace;
  /** Per-user authorities; reach one through sessions/authority-client.ts. */
  authority: Env["USER_AUTHORITY"];
  /** Per-key authorities. */
  keys: Env["API_KEYS"];
  /** Login-attempt and hourly counters. */
  throttle: Env["LOGIN_THROTTLE"];
  /** Device authorizations of the OAuth server (RFC 8628), one per user code. */
  devices: Env["DEVICE_AUTHORIZATIONS"];
  /** Organization authorities, one per organization id (orgs/authority). */
  orgs: Env["ORG_AUTHORITY"];
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

export function buildServices(context: ServiceContext): Services {
  return new RequestServices(context);
}

/**
 * A class, not an object literal with getters: one hidden class for every request, and
 * the parts most requests never use (the mailer, the client details, the origin) are
 * made on first use.
 */
class RequestServices implements Services {
  readonly config: Config;
  readonly db: Database;
  readonly d1: D1Database;
  readonly kv: KVNamespace;
  readonly authority: Env["USER_AUTHORITY"];
  readonly keys: Env["API_KEYS"];
  readonly throttle: Env["LOGIN_THROTTLE"];
  readonly devices: Env["DEVICE_AUTHORIZATIONS"];
  readonly orgs: Env["ORG_AUTHORITY"];
  readonly waitUntil: (promise: Promise<unknown>) => void;
  readonly ip: string;
  readonly #env: Env;
  readonly #request: Request | null;
  #mailer: Mailer | undefined;
  #client: ClientInfo | null | undefined;
  #requestOrigin: string | undefined;

  constructor({ env, config, waitUntil, request }: ServiceContext) {
    this.config = config;
    this.db = database(env.DB);
    this.d1 = env.DB;
    this.kv = env.SESSIONS;
    this.authority = env.USER_AUTHORITY;
    this.keys = env.API_KEYS;
    this.throttle = env.LOGIN_THROTTLE;
    this.devices = env.DEVICE_AUTHORIZATIONS;
    this.orgs = env.ORG_AUTHORITY;
    this.waitUntil = waitUntil;
    this.ip = request === null ? "unknown" : clientIp(request);
    this.#env = env;
    this.#request = request;
  }

  get mailer(): Mailer {
    this.#mailer ??= createMailer(this.config, this.#env.DB, (this.#env as { EMAIL?: SendEmail }).EMAIL);
    return this.#mailer;
  }

  get client(): ClientInfo | null {
    if (this.#client === undefined) this.#client = this.#request === null ? null : clientInfo(this.#request);
    return this.#client;
  }

  get appBase(): string {
    return this.config.appBaseUrl ?? this.requestOrigin();
  }

  get origin(): string {
    return this.config.oauth.redirectBaseUrl ?? this.requestOrigin();
  }

  private requestOrigin(): string {
    this.#requestOrigin ??= this.#request === null ? "" : new URL(this.#request.url).origin;
    return this.#requestOrigin;
  }
}
