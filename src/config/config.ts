// Every setting of the service, parsed and checked once per isolate into a typed Config.
// A bad setting becomes a SettingError that the app turns into one clear error per request.
import { type MfaSettings, readMfaSettings } from "./mfa-settings";
import { type OrgSettings, readOrgSettings } from "./org-settings";
import { type OAuthSettings, readOAuthSettings } from "./oauth-settings";
import { type OAuthServerSettings, readOAuthServerSettings } from "./oauth-server-settings";
import { type SigningJwk, readSigningKeys } from "./signing-keys";
import { type RawSettings, SettingError, readBool, readEnum, readInt, readOrigins, readRaw, readString, readUrl } from "./parse";
import { type AdminSettings, readAdminSettings } from "./admin-settings";
import { type PasswordlessSettings, readPasswordlessSettings } from "./passwordless-settings";
import { type PwnedSettings, type TurnstileSettings, readPwnedSettings, readTurnstileSettings } from "./abuse-settings";

export type Environment = "development" | "test" | "staging" | "production";
export type SameSite = "lax" | "strict" | "none";
export type JwtAlgorithm = "HS256" | "ES256" | "EdDSA";
export type MailProvider = "dev" | "resend" | "cloudflare" | "none";

export interface Config {
  environment: Environment;
  secretKey: string;
  passwordPepper: string;
  sessions: {
    idleTimeoutMs: number;
    absoluteLifetimeMs: number;
    rememberMeLifetimeMs: number;
    /** REMEMBER_ME_IDLE_MINUTES: the idle limit of a remembered session; null keeps SESSION_TIMEOUT_MINUTES. */
    rememberMeIdleMs: number | null;
    maxPerUser: number;
  };
  cookies: {
    secure: boolean;
    sameSite: SameSite;
  };
  csrfEnabled: boolean;
  corsOrigins: string[];
  login: {
    maxAttempts: number;
    windowMs: number;
  };
  /** REGISTRATION_MAX_PER_HOUR: registrations and mail-sending requests per client IP and hour. */
  registrationMaxPerHour: number;
  /** APP_BASE_URL; required outside development and test (there: the request's origin when unset). */
  appBaseUrl: string | undefined;
  tokens: {
    algorithm: JwtAlgorithm;
    /** Private JWKs (ES256/EdDSA); the first signs, all verify. Empty with HS256. */
    signingKeys: SigningJwk[];
    issuer: string;
    audience: string;
    accessTtlSeconds: number;
    refreshTtlMs: number;
    reuseGraceMs: number;
  };
  mail: {
    provider: MailProvider;
    from: string;
    apiKey: string;
    apiUrl: string;
  };
  eventsRetentionDays: number;
  /** One JSON log line per request (REQUEST_LOGS, default true). */
  requestLogs: boolean;
  oauth: OAuthSettings;
  /** The OAuth 2.1 authorization server and OpenID Provider (oauth-server-settings.ts). */
  oauthServer: OAuthServerSettings;
  mfa: MfaSettings;
  orgs: OrgSettings; // org-settings.ts
  passwordless: PasswordlessSettings; // passwordless-settings.ts
  turnstile: TurnstileSettings; // abuse-settings.ts
  pwned: PwnedSettings; // abuse-settings.ts
  admin: AdminSettings; // admin-settings.ts
  /** SERVER_TIMING (default false): answers carry a Server-Timing header with each binding call's time. */
  serverTiming: boolean;
  apiKeys: {
    prefix: string;
    /** The per-minute limit of a key created without rate_limits. */
    defaultRequestsPerMinute: number;
    /** API_KEY_LOCATION_HINT: where new keys' objects are placed (where the servers using them run); null: where the key is created. */
    locationHint: DurableObjectLocationHint | null;
  };
}

// Cloudflare's Durable Object location hints.
const LOCATION_HINTS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "apac-ne", "apac-se", "oc", "afr", "me"] as const;
// Used only outside production when SECRET_KEY is unset; production refuses it.
export const DEVELOPMENT_SECRET_KEY = "insecure-development-secret-key-do-not-use";
const MIN_PRODUCTION_SECRET_LENGTH = 32;
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export function parseConfig(raw: RawSettings): Config {
  const environment = readEnum<Environment>(raw, "ENVIRONMENT", "production", ["development", "test", "staging", "production"]);
  const secretKey = readSecretKey(raw, environment);
  const secure = readBool(raw, "SESSION_SECURE_COOKIES", true);
  const sameSite = readEnum<SameSite>(raw, "SESSION_COOKIE_SAMESITE", "lax", ["lax", "strict", "none"]);
  if (sameSite === "none" && !secure) {
    throw new SettingError(
      "SESSION_COOKIE_SAMESITE",
      "none requires SESSION_SECURE_COOKIES=true (browsers drop SameSite=None cookies that are not Secure)",
    );
  }
  const tokens = readTokenSettings(raw);
  return {
    environment,
    secretKey,
    passwordPepper: readString(raw, "PASSWORD_PEPPER", ""),
    sessions: {
      idleTimeoutMs: readInt(raw, "SESSION_TIMEOUT_MINUTES", 30, { min: 1, max: 525_600 }) * MINUTE,
      absoluteLifetimeMs: readInt(raw, "SESSION_COOKIE_MAX_AGE", 86_400, { min: 60, max: 34_560_000 }) * 1000,
      rememberMeLifetimeMs: readInt(raw, "REMEMBER_ME_DAYS", 30, { min: 1, max: 400 }) * DAY,
      rememberMeIdleMs: readOptionalMinutes(raw, "REMEMBER_ME_IDLE_MINUTES", 576_000),
      maxPerUser: readInt(raw, "MAX_SESSIONS_PER_USER", 5, { min: 1, max: 1000 }),
    },
    cookies: { secure, sameSite },
    csrfEnabled: readBool(raw, "CSRF_ENABLED", true),
    corsOrigins: readOrigins(raw, "CORS_ORIGINS"),
    login: {
      maxAttempts: readInt(raw, "LOGIN_MAX_ATTEMPTS", 5, { min: 1, max: 10_000 }),
      windowMs: readInt(raw, "LOGIN_WINDOW_MINUTES", 15, { min: 1, max: 10_080 }) * MINUTE,
    },
    registrationMaxPerHour: readInt(raw, "REGISTRATION_MAX_PER_HOUR", 20, { min: 1, max: 1_000_000 }),
    appBaseUrl: readAppBaseUrl(raw, environment),
    tokens,
    mail: readMailSettings(raw, environment),
    eventsRetentionDays: readInt(raw, "EVENTS_RETENTION_DAYS", 90, { min: 1, max: 3650 }),
    requestLogs: readBool(raw, "REQUEST_LOGS", true),
    oauth: readOAuthSettings(raw),
    oauthServer: readOAuthServerSettings(raw, tokens.signingKeys, environment, isDevelopmentEnvironment(environment)),
    mfa: readMfaSettings(raw, secretKey),
    orgs: readOrgSettings(raw),
    passwordless: readPasswordlessSettings(raw),
    turnstile: readTurnstileSettings(raw),
    pwned: readPwnedSettings(raw),
    admin: readAdminSettings(raw),
    serverTiming: readBool(raw, "SERVER_TIMING", false),
    apiKeys: {
      prefix: readApiKeyPrefix(raw),
      defaultRequestsPerMinute: readInt(raw, "API_KEY_DEFAULT_REQUESTS_PER_MINUTE", 600, { min: 1, max: 1_000_000 }),
      locationHint:
        readRaw(raw, "API_KEY_LOCATION_HINT") === undefined ? null : readEnum(raw, "API_KEY_LOCATION_HINT", "enam", LOCATION_HINTS),
    },
  };
}

/** Minutes as ms, or null when unset. */
function readOptionalMinutes(raw: RawSettings, name: string, max: number): number | null {
  return readRaw(raw, name) === undefined ? null : readInt(raw, name, 0, { min: 1, max }) * MINUTE;
}

function readTokenSettings(raw: RawSettings): Config["tokens"] {
  const algorithm = readEnum<JwtAlgorithm>(raw, "ALGORITHM", "HS256", ["HS256", "ES256", "EdDSA"]);
  return {
    algorithm,
    signingKeys: readSigningKeys(raw, algorithm),
    issuer: readString(raw, "JWT_ISSUER", "edge-auth"),
    audience: readString(raw, "JWT_AUDIENCE", "edge-auth"),
    // At most a day: revoked token families are remembered for that long (see UserAuthority).
    accessTtlSeconds: readInt(raw, "ACCESS_TOKEN_EXPIRE_MINUTES", 30, { min: 1, max: 1440 }) * 60,
    refreshTtlMs: readInt(raw, "REFRESH_TOKEN_EXPIRE_DAYS", 7, { min: 1, max: 365 }) * DAY,
    reuseGraceMs: readInt(raw, "REFRESH_REUSE_GRACE_SECONDS", 10, { min: 0, max: 60 }) * 1000,
  };
}

function readMailSettings(raw: RawSettings, environment: Environment): Config["mail"] {
  // In development and test mail goes to the development outbox unless told otherwise;
  // elsewhere nothing is sent until a provider is chosen, and the outbox is refused (it
  // would keep every reset link in D1).
  const development = isDevelopmentEnvironment(environment);
  const provider = readEnum<MailProvider>(raw, "MAIL_PROVIDER", development ? "dev" : "none", ["dev", "resend", "cloudflare", "none"]);
  if (provider === "dev" && !development) {
    throw new SettingError("MAIL_PROVIDER", `dev (the development outbox) is only for development and test, not ${environment}`);
  }
  const apiKey = readString(raw, "MAIL_API_KEY", "");
  if (provider === "resend" && apiKey === "") throw new SettingError("MAIL_API_KEY", "is required when MAIL_PROVIDER is resend");
  return {
    provider,
    from: readString(raw, "MAIL_FROM", "Edge Auth <no-reply@example.com>"),
    apiKey,
    apiUrl: readUrl(raw, "MAIL_API_URL") ?? "https://api.resend.com/emails",
  };
}

function readApiKeyPrefix(raw: RawSettings): string {
  const prefix = readString(raw, "API_KEY_PREFIX", "fai");
  if (!/^[a-z0-9]{1,16}$/.test(prefix)) {
    throw new SettingError("API_KEY_PREFIX", "must be 1 to 16 lower-case letters or digits");
  }
  return prefix;
}

/** Development and test only: the published key, the mail outbox route, the dev mail provider. */
export function isDevelopmentEnvironment(environment: Environment): boolean {
  return environment === "development" || environment === "test";
}

function readSecretKey(raw: RawSettings, environment: Environment): string {
  const value = readRaw(raw, "SECRET_KEY");
  if (isDevelopmentEnvironment(environment)) return value ?? DEVELOPMENT_SECRET_KEY;
  if (value === undefined || value === DEVELOPMENT_SECRET_KEY) {
    throw new SettingError("SECRET_KEY", `must be set to a random secret in ${environment} (wrangler secret put SECRET_KEY)`);
  }
  if (value.length < MIN_PRODUCTION_SECRET_LENGTH) {
    throw new SettingError("SECRET_KEY", `must be at least ${MIN_PRODUCTION_SECRET_LENGTH} characters in ${environment}`);
  }
  return value;
}

/**
 * Where mailed links point, and the passkeys' RP ID when WEBAUTHN_RP_ID is unset. Only
 * development and test fall back to the origin a request came in on: anywhere else that
 * is a decision, not whichever host a request used (a workers.dev name, a preview URL).
 */
function readAppBaseUrl(raw: RawSettings, environment: Environment): string | undefined {
  const value = readUrl(raw, "APP_BASE_URL");
  if (value === undefined && !isDevelopmentEnvironment(environment)) {
    throw new SettingError("APP_BASE_URL", `must be set in ${environment}: mailed links and the passkeys' RP ID are made from it`);
  }
  return value;
}

const cache = new WeakMap<object, Config | SettingError>();

/**
 * The parsed config for this env object. The result (or the error) is cached: the env
 * object is the same for every request an isolate serves, so parsing happens once.
 */
export function loadConfig(env: object): Config | SettingError {
  const cached = cache.get(env);
  if (cached !== undefined) return cached;
  let result: Config | SettingError;
  try {
    result = parseConfig(env as RawSettings);
    if (!result.admin.requireMfa) {
      // Once per isolate, at startup: a weakened default must be visible in the logs.
      console.warn(JSON.stringify({ level: "warn", event: "admin_mfa_not_required", setting: "ADMIN_REQUIRE_MFA" }));
    }
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    result = error;
  }
  cache.set(env, result);
  return result;
}
