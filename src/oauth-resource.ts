// edge-auth/hono for resource servers of this service's OAuth server: requireOAuth checks
// the bearer token over the service binding (AuthService.verifyOAuthToken: signature,
// this resource as the audience, the scopes, and the grant's standing), and
// protectedResourceMetadata serves the RFC 9728 document MCP clients discover first.
//
//   app.get("/.well-known/oauth-protected-resource/mcp", protectedResourceMetadata({ resource, authorizationServers: [issuer] }));
//   app.all("/mcp", requireOAuth({ resource, scopes: ["mcp"] }), handler);
//
// A request with no token, or a refused one, is answered 401 with `WWW-Authenticate:
// Bearer resource_metadata="..."` (RFC 9728 §5.1), so a client can find the authorization
// server; a token short of a scope is 403 insufficient_scope naming the scopes (RFC 6750
// §3.1). The service failing, or the binding missing, is a 503, never a pass. Like hono.ts,
// this runs in the other Worker and imports only types.
import type { Context, MiddlewareHandler } from "hono";
import type { OAuthTokenAnswer } from "./oauth-server/resource-check";
import type { AuthRefusal } from "./rpc/auth-service";

export type OAuthGrantInfo = Extract<OAuthTokenAnswer, { active: true }>;
export type OAuthVariables = { oauth: OAuthGrantInfo };

export interface OAuthGuardOptions {
  /** This resource server's identifier (RFC 8707), e.g. "https://mcp.example.com/mcp": tokens for another resource are refused. */
  resource: string;
  /** Scopes every request here needs (403 insufficient_scope without them). */
  scopes?: string[];
  /** Where this resource's RFC 9728 metadata is; default: the well-known URL derived from `resource` (RFC 9728 §3.1). */
  resourceMetadata?: string;
  /** The name of the service binding in the Worker's env (default "AUTH"). */
  binding?: string;
}

interface OAuthBinding {
  verifyOAuthToken(token: string, required: { resource: string; scopes?: string[] }): Promise<OAuthTokenAnswer | AuthRefusal>;
}

/** RFC 9728 §3.1: the metadata's URL is the resource's with /.well-known/oauth-protected-resource inserted before its path. */
export function metadataUrlOf(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === "/" ? "" : url.pathname;
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

export function requireOAuth(options: OAuthGuardOptions): MiddlewareHandler<{ Variables: OAuthVariables }> {
  const metadata = options.resourceMetadata ?? metadataUrlOf(options.resource);
  const name = options.binding ?? "AUTH";
  const scopes = options.scopes ?? [];
  return async function oauthGuard(c, next) {
    const header = c.req.header("Authorization") ?? "";
    const token = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim())?.[1];
    if (token === undefined) {
      return challenge(c, 401, `Bearer resource_metadata="${metadata}"`, {
        detail: "An access token is required",
        code: "not_authenticated",
      });
    }
    const env = (c.env ?? {}) as Record<string, unknown>;
    const service = (Object.hasOwn(env, name) ? env[name] : undefined) as Partial<OAuthBinding> | undefined;
    let answer: OAuthTokenAnswer | AuthRefusal;
    try {
      if (typeof service?.verifyOAuthToken !== "function") throw new Error("binding missing");
      answer = await service.verifyOAuthToken(token, { resource: options.resource, scopes });
    } catch (error) {
      console.error(
        JSON.stringify({ level: "error", event: "auth_service_failed", error: error instanceof Error ? error.name : "unknown" }),
      );
      return unavailable(c);
    }
    if ("authenticated" in answer) {
      if (answer.status >= 500) return unavailable(c);
      return challenge(c, 401, `Bearer error="invalid_token", resource_metadata="${metadata}"`, {
        detail: answer.detail,
        code: "invalid_token",
      });
    }
    if (!answer.active && answer.status === 403) {
      const needed = answer.scope ?? scopes.join(" ");
      return challenge(c, 403, `Bearer error="insufficient_scope", scope="${needed}", resource_metadata="${metadata}"`, {
        detail: `This needs the scope: ${needed}`,
        code: "insufficient_scope",
      });
    }
    if (!answer.active) {
      return challenge(c, 401, `Bearer error="invalid_token", resource_metadata="${metadata}"`, {
        detail: "Invalid or expired access token",
        code: "invalid_token",
      });
    }
    c.set("oauth", answer);
    await next();
  };
}

/** A handler for this resource's RFC 9728 metadata document. */
export function protectedResourceMetadata(options: {
  resource: string;
  authorizationServers: string[];
  scopes?: string[];
  name?: string;
}): (c: Context) => Response {
  const body = {
    resource: options.resource,
    authorization_servers: options.authorizationServers,
    bearer_methods_supported: ["header"],
    ...(options.scopes === undefined ? {} : { scopes_supported: options.scopes }),
    ...(options.name === undefined ? {} : { resource_name: options.name }),
  };
  return (c) => {
    c.header("Cache-Control", "public, max-age=300");
    c.header("Access-Control-Allow-Origin", "*");
    return c.json(body);
  };
}

function challenge(c: Context, status: 401 | 403, header: string, body: { detail: string; code: string }): Response {
  c.header("Access-Control-Expose-Headers", "WWW-Authenticate");
  return c.json(body, status, { "WWW-Authenticate": header, "Cache-Control": "no-store" });
}

function unavailable(c: Context): Response {
  return c.json({ detail: "The authentication service is unavailable; try again", code: "service_unavailable" }, 503, {
    "Retry-After": "1",
  });
}
