// Defences against bots and known passwords: Cloudflare Turnstile on the routes that
// mail or make accounts (and on login after failures), and the Pwned Passwords range API.
import { type RawSettings, SettingError, readBool, readInt, readRaw, readUrl } from "./parse";

/** The routes Turnstile can guard, by the names TURNSTILE_ROUTES and siteverify's `action` use. */
export const TURNSTILE_ROUTES = ["register", "login", "password_reset", "magic_link", "email_code"] as const;
export type TurnstileRoute = (typeof TURNSTILE_ROUTES)[number];

export interface TurnstileSettings {
  /** TURNSTILE_SECRET_KEY; null: Turnstile is off. */
  secretKey: string | null;
  /** TURNSTILE_SITE_KEY: the widget's public key, for the service's own pages (GET /api/v1/auth/challenge); null: they show none. */
  siteKey: string | null;
  /** TURNSTILE_ROUTES (default register,password_reset,magic_link,email_code): these always need a token. */
  routes: ReadonlySet<TurnstileRoute>;
  /** TURNSTILE_LOGIN_AFTER_FAILURES (3): login needs a token once the client IP failed this many sign-ins in the window. */
  loginAfterFailures: number;
  /** TURNSTILE_VERIFY_URL (Cloudflare's siteverify). */
  verifyUrl: string;
  /** TURNSTILE_EXPECTED_HOSTNAMES; null: the host of APP_BASE_URL and the host the request reached. */
  expectedHostnames: string[] | null;
}

export interface PwnedSettings {
  /** PWNED_PASSWORDS (default false): new passwords are checked against the range API. */
  enabled: boolean;
  /** PWNED_PASSWORDS_URL: the range base (`/<5 hex>` is appended). */
  url: string;
}

export function readTurnstileSettings(raw: RawSettings): TurnstileSettings {
  const listed = (readRaw(raw, "TURNSTILE_ROUTES") ?? "register,password_reset,magic_link,email_code")
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  const known = new Set<string>(TURNSTILE_ROUTES);
  for (const name of listed) {
    if (!known.has(name)) throw new SettingError("TURNSTILE_ROUTES", `"${name}" is not one of ${TURNSTILE_ROUTES.join(", ")}`);
  }
  const hostnames = readRaw(raw, "TURNSTILE_EXPECTED_HOSTNAMES");
  return {
    secretKey: readRaw(raw, "TURNSTILE_SECRET_KEY") ?? null,
    siteKey: readRaw(raw, "TURNSTILE_SITE_KEY") ?? null,
    routes: new Set(listed as TurnstileRoute[]),
    loginAfterFailures: readInt(raw, "TURNSTILE_LOGIN_AFTER_FAILURES", 3, { min: 0, max: 1000 }),
    verifyUrl: readUrl(raw, "TURNSTILE_VERIFY_URL") ?? "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    expectedHostnames:
      hostnames === undefined
        ? null
        : hostnames
            .split(",")
            .map((host) => host.trim().toLowerCase())
            .filter((host) => host !== ""),
  };
}

export function readPwnedSettings(raw: RawSettings): PwnedSettings {
  return {
    enabled: readBool(raw, "PWNED_PASSWORDS", false),
    url: readUrl(raw, "PWNED_PASSWORDS_URL") ?? "https://api.pwnedpasswords.com/range",
  };
}
