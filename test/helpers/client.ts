// A minimal HTTP client for tests: calls the Worker's fetch handler inside workerd with
// the real local bindings, keeps a cookie jar like a browser, and comes from its own IP
// so tests never share a throttle bucket.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { checkDocumented } from "./documented";

export const BASE_URL = "http://auth.example.test";

export type Settings = Record<string, string>;

export interface RequestOptions {
  json?: unknown;
  form?: Record<string, string>;
  body?: BodyInit;
  headers?: Record<string, string>;
  /** Send the CSRF header from the cookie jar (default true for unsafe methods). */
  csrf?: boolean;
}

let ipCounter = 0;

/** A fresh, unique client IP per call (10.x.y.z), so throttling never leaks between tests. */
export function uniqueIp(): string {
  ipCounter += 1;
  const n = (Math.floor(Math.random() * 0xffff) << 8) + (ipCounter & 0xff);
  return `10.${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${n & 0xff}`;
}

/** Calls the Worker with the test env plus `settings` overrides (and bindings swapped, e.g. for fault injection). */
export async function callWorker(request: Request, settings: Settings = {}, bindings: Partial<Env> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, { ...env, ...settings, ...bindings } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export class TestClient {
  readonly cookies = new Map<string, string>();
  readonly ip: string;
  readonly settings: Settings;
  /** Bindings this client's requests see instead of the real ones (test/helpers/faults.ts). */
  bindings: Partial<Env> = {};
  userAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";
  /** The Set-Cookie lines of the last response. */
  lastSetCookies: string[] = [];

  constructor(options: { settings?: Settings; ip?: string } = {}) {
    this.settings = options.settings ?? {};
    this.ip = options.ip ?? uniqueIp();
  }

  get csrfCookieName(): string {
    return this.settings.SESSION_SECURE_COOKIES === "true" ? "__Host-csrf_token" : "csrf_token";
  }

  get sessionCookieName(): string {
    return this.settings.SESSION_SECURE_COOKIES === "true" ? "__Host-session_id" : "session_id";
  }

  get csrfToken(): string | undefined {
    return this.cookies.get(this.csrfCookieName);
  }

  get sessionToken(): string | undefined {
    return this.cookies.get(this.sessionCookieName);
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers = new Headers(options.headers);
    if (!headers.has("CF-Connecting-IP")) headers.set("CF-Connecting-IP", this.ip);
    if (!headers.has("User-Agent")) headers.set("User-Agent", this.userAgent);
    if (this.cookies.size > 0 && !headers.has("Cookie")) {
      headers.set("Cookie", [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    }
    const unsafe = !["GET", "HEAD", "OPTIONS"].includes(method);
    if (unsafe && options.csrf !== false && this.csrfToken !== undefined && !headers.has("X-CSRF-Token")) {
      headers.set("X-CSRF-Token", this.csrfToken);
    }
    let body: BodyInit | undefined = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers.set("Content-Type", "application/json");
    } else if (options.form !== undefined) {
      body = new URLSearchParams(options.form).toString();
      headers.set("Content-Type", "application/x-www-form-urlencoded");
    }
    const response = await callWorker(new Request(`${BASE_URL}${path}`, { method, headers, body }), this.settings, this.bindings);
    await checkDocumented(method, `${BASE_URL}${path}`, response.clone());
    this.lastSetCookies = response.headers.getSetCookie();
    for (const line of this.lastSetCookies) this.storeCookie(line);
    return response;
  }

  get(path: string, options?: RequestOptions): Promise<Response> {
    return this.request("GET", path, options);
  }

  post(path: string, options?: RequestOptions): Promise<Response> {
    return this.request("POST", path, options);
  }

  patch(path: string, options?: RequestOptions): Promise<Response> {
    return this.request("PATCH", path, options);
  }

  put(path: string, options?: RequestOptions): Promise<Response> {
    return this.request("PUT", path, options);
  }

  delete(path: string, options?: RequestOptions): Promise<Response> {
    return this.request("DELETE", path, options);
  }

  /** A copy of this client's cookies on a new client (another tab of the same browser). */
  clone(): TestClient {
    const other = new TestClient({ settings: this.settings, ip: this.ip });
    other.bindings = this.bindings;
    for (const [name, value] of this.cookies) other.cookies.set(name, value);
    return other;
  }

  private storeCookie(line: string): void {
    const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq);
    const value = decodeURIComponent(pair.slice(eq + 1));
    const maxAge = attributes.find((attribute) => attribute.toLowerCase().startsWith("max-age="));
    if (maxAge !== undefined && Number(maxAge.split("=")[1]) <= 0) this.cookies.delete(name);
    else this.cookies.set(name, value);
  }
}

/** The attributes of one Set-Cookie line, keyed in lower case. */
export function cookieAttributes(lines: string[], name: string): Map<string, string> | undefined {
  const line = lines.find((candidate) => candidate.startsWith(`${name}=`));
  if (line === undefined) return undefined;
  const attributes = new Map<string, string>();
  for (const part of line.split(";").slice(1)) {
    const [key = "", value = ""] = part.trim().split("=");
    attributes.set(key.toLowerCase(), value);
  }
  return attributes;
}
