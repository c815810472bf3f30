// The OAuth 2.1 authorization server's protocol endpoints (contract: "OAuth 2.1
// authorization server and OpenID Provider"): discovery, authorization, the consent and
// device pages, token, registration, revocation, introspection and UserInfo. Each maps
// HTTP to one oauth-server function and its answer back; all are 404 while
// OAUTH_SERVER_ENABLED is off.
import { type Context, Hono } from "hono";
import type { AppEnv } from "../auth/app-env";
import { sessionCookieOf } from "../auth/credentials";
import { collectParams } from "../http/body";
import { ApiError } from "../http/errors";
import { authorize } from "../oauth-server/authorize";
import { clientInformation, registerClient } from "../oauth-server/clients/registration";
import { insertClient } from "../oauth-server/clients/client-store";
import { startDeviceAuthorization } from "../oauth-server/device/device-flow";
import { oauthErrorJson } from "../oauth-server/errors";
import type { OAuthFailure } from "../oauth-server/grant-answer";
import { authorizationServerMetadata, protectedResourceMetadata } from "../oauth-server/metadata";
import type { Params } from "../oauth-server/params";
import { type Provider, providerOf } from "../oauth-server/provider";
import type { Services as AppServices } from "../services/services";
import { tokenEndpoint } from "../oauth-server/token-endpoint";
import { introspectToken, revokeToken, userInfo } from "../oauth-server/token-uses";
import { takeIpSlot } from "../throttle/login-guard";
import { errorPage } from "./oauth-pages";

export const oauthServerRoutes = new Hono<AppEnv>();

/** Authorization requests per client IP and hour, and client registrations (contract: limited per IP). */
const AUTHORIZE_PER_HOUR = 300;

function provider(c: Context<AppEnv>) {
  return providerOf(c.get("services"));
}

function metadataJson(c: Context<AppEnv>, body: Record<string, unknown>): Response {
  c.header("Cache-Control", "public, max-age=300");
  return c.json(body);
}

oauthServerRoutes.get("/.well-known/oauth-authorization-server", (c) =>
  metadataJson(c, authorizationServerMetadata(c.get("config"), provider(c))),
);
// RFC 8414 §3.1: an issuer with a path has its metadata under the path as a suffix.
oauthServerRoutes.get("/.well-known/oauth-authorization-server/*", (c) => {
  const found = provider(c);
  const suffix = c.req.path.slice("/.well-known/oauth-authorization-server".length);
  if (new URL(found.issuer).pathname.replace(/\/$/, "") !== suffix) throw new ApiError("not_found", "Not found");
  return metadataJson(c, authorizationServerMetadata(c.get("config"), found));
});
oauthServerRoutes.get("/.well-known/openid-configuration", (c) =>
  metadataJson(c, authorizationServerMetadata(c.get("config"), provider(c))),
);
oauthServerRoutes.get("/.well-known/oauth-protected-resource", (c) => metadataJson(c, protectedResourceMetadata(provider(c))));

oauthServerRoutes.get("/oauth2/authorize", async (c) => {
  const found = provider(c);
  const services = c.get("services");
  const slot = await takeIpSlot(services.throttle, "oauth-authorize", services.ip, AUTHORIZE_PER_HOUR);
  if (!slot.allowed) return errorPage(c, 429, "Too many sign-in requests from this network; try again later.");
  const url = new URL(c.req.url);
  const answer = await authorize(services, found, collectParams(url.searchParams), {
    sessionToken: sessionCookieOf(c.get("config"), c.req.header("Cookie") ?? null) ?? null,
    pathAndQuery: `${url.pathname}${url.search}`,
  });
  if (answer.kind === "page_error") return errorPage(c, 400, answer.description);
  c.header("Cache-Control", "no-store");
  return c.redirect(answer.location, 302);
});

/** The form body of a protocol endpoint; a JSON or empty body is an invalid request (RFC 6749 §3.2). */
function formOf(c: Context<AppEnv>): Params | null {
  const body = c.get("body") as unknown;
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  const type = (c.req.header("Content-Type") ?? "").toLowerCase();
  return type.startsWith("application/x-www-form-urlencoded") ? (body as Params) : null;
}

function failed(c: Context<AppEnv>, result: OAuthFailure): Response {
  return oauthErrorJson(c, result.status, result.error, result.description, result.headers);
}

const NOT_FORM = "Send the parameters as application/x-www-form-urlencoded";

type FormRun = (
  services: AppServices,
  provider: Provider,
  form: Params,
  authorization: string | null,
) => Promise<{ ok: true; body?: object } | OAuthFailure>;

/** A protocol endpoint taking a form: the body checked, the function run, its answer never cached (RFC 6749 §5.1). */
function formEndpoint(run: FormRun): (c: Context<AppEnv>) => Promise<Response> {
  return async (c) => {
    const form = formOf(c);
    if (form === null) return oauthErrorJson(c, 400, "invalid_request", NOT_FORM);
    const result = await run(c.get("services"), providerOf(c.get("services")), form, c.req.header("Authorization") ?? null);
    if (!result.ok) return failed(c, result);
    c.header("Cache-Control", "no-store");
    c.header("Pragma", "no-cache");
    // RFC 7009 §2.2: revocation answers 200 with no body.
    return result.body === undefined ? c.body(null, 200) : c.json(result.body);
  };
}

oauthServerRoutes.post("/oauth2/token", formEndpoint(tokenEndpoint));
oauthServerRoutes.post("/oauth2/device_authorization", formEndpoint(startDeviceAuthorization));
oauthServerRoutes.post("/oauth2/revoke", formEndpoint(revokeToken));
oauthServerRoutes.post("/oauth2/introspect", formEndpoint(introspectToken));

oauthServerRoutes.post("/oauth2/register", async (c) => {
  const found = provider(c);
  const services = c.get("services");
  if (!services.config.oauthServer.dcr) return oauthErrorJson(c, 404, "not_found", "Dynamic client registration is off");
  const slot = await takeIpSlot(services.throttle, "oauth-register", services.ip, services.config.registrationMaxPerHour);
  if (!slot.allowed) {
    return oauthErrorJson(c, 429, "temporarily_unavailable", "Too many registrations from this address; try again later", {
      "Retry-After": String(slot.retryAfterSeconds),
    });
  }
  const result = await registerClient(services.config, found.scopes, c.get("body"));
  if (!result.ok) return oauthErrorJson(c, 400, result.error, result.description);
  await insertClient(services.d1, result.client);
  c.header("Cache-Control", "no-store");
  return c.json(clientInformation(result.client, result.secret), 201);
});

async function userInfoRoute(c: Context<AppEnv>): Promise<Response> {
  const header = c.req.header("Authorization") ?? "";
  const token = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim())?.[1] ?? null;
  const result = await userInfo(c.get("services"), provider(c), token);
  c.header("Cache-Control", "no-store");
  if (result.ok) return c.json(result.body);
  c.header("WWW-Authenticate", result.challenge);
  return oauthErrorJson(
    c,
    result.status,
    result.status === 403 ? "insufficient_scope" : "invalid_token",
    "The access token cannot be used here",
  );
}
oauthServerRoutes.get("/oauth2/userinfo", userInfoRoute);
oauthServerRoutes.post("/oauth2/userinfo", userInfoRoute);

/** The protocol endpoints any origin may call without credentials (frame.ts, openEndpoint). */
export function isOpenOAuthEndpoint(path: string): boolean {
  return OPEN_PATHS.has(path) || path.startsWith("/.well-known/");
}
const OPEN_PATHS = new Set(["/oauth2/token", "/oauth2/register", "/oauth2/revoke", "/oauth2/device_authorization", "/oauth2/userinfo"]);
