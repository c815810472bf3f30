// OAuth settings: Google, GitHub and any number of generic OpenID Connect providers.
// A provider without client credentials is simply not configured (404 at its routes).
import { type RawSettings, SettingError, readRaw, readUrl } from "./parse";

export type ProviderKind = "google" | "github" | "oidc";

export interface ProviderSettings {
  name: string;
  kind: ProviderKind;
  clientId: string;
  clientSecret: string;
  /** OpenID Connect issuer (google, oidc). */
  issuer?: string;
  /** GitHub web and API base URLs (github). */
  githubUrl?: string;
  githubApiUrl?: string;
}

export interface OAuthSettings {
  /** Callbacks are `${redirectBaseUrl}/api/v1/auth/oauth/callback/{provider}`; unset: this service's origin. */
  redirectBaseUrl: string | undefined;
  /** Origins allowed as redirect_to targets, from OAUTH_ALLOWED_REDIRECTS. */
  allowedOrigins: string[];
  /** Exact redirect URIs (mobile apps: custom schemes, universal links), from OAUTH_ALLOWED_REDIRECTS. */
  allowedRedirectUris: string[];
  /** By name; a Map, so a name from a URL ("constructor", "__proto__") finds nothing it should not. */
  providers: Map<string, ProviderSettings>;
}

const NAME = /^[a-z0-9]{1,32}$/;

/** Names an OIDC provider can't take: the built-in providers and the routes beside /oauth/{provider}. */
const RESERVED = new Set(["google", "github", "callback", "providers"]);

export function readOAuthSettings(raw: RawSettings): OAuthSettings {
  const providers = new Map<string, ProviderSettings>();
  const google = credentials(raw, "GOOGLE");
  if (google !== null) {
    providers.set("google", {
      name: "google",
      kind: "google",
      ...google,
      issuer: readUrl(raw, "OAUTH_GOOGLE_ISSUER") ?? "https://accounts.google.com",
    });
  }
  const github = credentials(raw, "GITHUB");
  if (github !== null) {
    providers.set("github", {
      name: "github",
      kind: "github",
      ...github,
      githubUrl: readUrl(raw, "OAUTH_GITHUB_URL") ?? "https://github.com",
      githubApiUrl: readUrl(raw, "OAUTH_GITHUB_API_URL") ?? "https://api.github.com",
    });
  }
  for (const name of list(readRaw(raw, "OAUTH_OIDC_PROVIDERS"))) {
    if (!NAME.test(name) || RESERVED.has(name)) {
      throw new SettingError(
        "OAUTH_OIDC_PROVIDERS",
        `"${name}" must be 1 to 32 lower-case letters or digits, not google, github, callback or providers`,
      );
    }
    const upper = name.toUpperCase();
    const issuer = readUrl(raw, `OAUTH_${upper}_ISSUER`);
    if (issuer === undefined) throw new SettingError(`OAUTH_${upper}_ISSUER`, `is required for the listed provider ${name}`);
    const creds = credentials(raw, upper);
    if (creds === null) {
      throw new SettingError(`OAUTH_${upper}_CLIENT_ID`, `and OAUTH_${upper}_CLIENT_SECRET are required for the listed provider ${name}`);
    }
    providers.set(name, { name, kind: "oidc", ...creds, issuer });
  }

  const allowedOrigins: string[] = [];
  const allowedRedirectUris: string[] = [];
  for (const item of list(readRaw(raw, "OAUTH_ALLOWED_REDIRECTS"))) {
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      throw new SettingError("OAUTH_ALLOWED_REDIRECTS", `"${item}" is not an origin or a URI`);
    }
    const isOrigin =
      (url.protocol === "https:" || url.protocol === "http:") && url.pathname === "/" && !item.endsWith("/") && url.search === "";
    if (isOrigin) allowedOrigins.push(url.origin);
    else allowedRedirectUris.push(item);
  }
  return { redirectBaseUrl: readUrl(raw, "OAUTH_REDIRECT_BASE_URL"), allowedOrigins, allowedRedirectUris, providers };
}

function credentials(raw: RawSettings, upper: string): { clientId: string; clientSecret: string } | null {
  const clientId = readRaw(raw, `OAUTH_${upper}_CLIENT_ID`);
  const clientSecret = readRaw(raw, `OAUTH_${upper}_CLIENT_SECRET`);
  return clientId === undefined || clientSecret === undefined ? null : { clientId, clientSecret };
}

function list(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}
