// The HTTP app: the request frame, the services, the routes, and the error renderer.
import { type Context, Hono } from "hono";
import type { AppEnv } from "./auth/app-env";
import { ApiError, errorResponse, internalError, serviceUnavailable } from "./http/errors";
import { frame } from "./http/frame";
import { RememberingRouter } from "./http/router";
import { methodNotAllowed } from "./http/method-not-allowed";
import { logError } from "./lib/log";
import { isProgrammingError } from "./lib/platform-errors";
import { accountAuthRoutes, accountUserRoutes } from "./routes/account";
import { adminRoutes } from "./routes/admin";
import { adminOAuthClientRoutes, adminUserAppRoutes } from "./routes/admin-oauth-clients";
import { apiKeyRoutes } from "./routes/api-keys";
import { devRoutes } from "./routes/dev";
import { docsRoutes } from "./routes/docs";
import { introspectRoutes } from "./routes/introspect";
import { mfaRoutes } from "./routes/mfa";
import { oauthRoutes } from "./routes/oauth";
import { pageRoutes } from "./routes/pages";
import { sessionRoutes } from "./routes/sessions";
import { jwksRoutes, tokenRoutes } from "./routes/tokens";
import { isOpenOAuthEndpoint, oauthServerRoutes } from "./routes/oauth-server";
import { connectedAppRoutes, oauthApiRoutes } from "./routes/oauth-server-api";
import { userRoutes } from "./routes/users";
import { activeOrgRoutes, invitationRoutes, orgRoutes } from "./routes/orgs";
import { passwordlessRoutes } from "./routes/passwordless";
import { adminOrgRoutes } from "./routes/admin-orgs";
import { orgKeyRoutes } from "./routes/org-api-keys";
import { buildServices } from "./services/services";
import { ServerTiming, timedEnv } from "./http/server-timing";
import { isOAuthEndpoint, oauthErrorFromApiError } from "./oauth-server/errors";

/** Every error the API answers with, thrown anywhere, is rendered here. */
function renderError(error: unknown, c: Context): Response {
  const oauth = isOAuthEndpoint(c.req.path);
  if (error instanceof ApiError) return oauth ? oauthErrorFromApiError(c, error) : errorResponse(c, error);
  // The error class only (lib/log.ts): messages can hold bound query parameters or tokens.
  logError("unhandled_error", error, { request_id: c.get("requestId") ?? null, route: c.req.routePath });
  // A bug in this code (a TypeError and its kin) is a 500; anything else thrown on the
  // way is a dependency that failed (D1, KV, a Durable Object, a provider): 503, and
  // the request was not let through.
  const mapped = isProgrammingError(error) ? internalError() : serviceUnavailable();
  return oauth ? oauthErrorFromApiError(c, mapped) : errorResponse(c, mapped);
}

/** The request's services (and, with SERVER_TIMING, its timed bindings), before any route runs. */
function prepareServices(c: Context<AppEnv>): void {
  const executionCtx = c.executionCtx;
  const config = c.get("config");
  let env = c.env;
  if (config.serverTiming) {
    const timing = new ServerTiming();
    c.set("timing", timing);
    env = timedEnv(env, timing);
  }
  c.set("services", buildServices({ env, config, waitUntil: executionCtx.waitUntil.bind(executionCtx), request: c.req.raw }));
}

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ router: new RememberingRouter() });

  app.use(frame<AppEnv>({ onError: renderError, prepare: prepareServices, openEndpoint: isOpenOAuthEndpoint }));

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.route("/", docsRoutes);
  app.route("/api/v1/users", userRoutes);
  app.route("/api/v1/users", accountUserRoutes);
  app.route("/api/v1/auth", sessionRoutes);
  app.route("/api/v1/auth", accountAuthRoutes);
  app.route("/api/v1/auth/oauth", oauthRoutes);
  app.route("/api/v1/auth", introspectRoutes);
  app.route("/api/v1/auth", mfaRoutes);
  app.route("/api/v1/auth", tokenRoutes);
  app.route("/api/v1/api-keys", apiKeyRoutes);
  app.route("/api/v1/orgs/:org/api-keys", orgKeyRoutes);
  app.route("/api/v1/orgs", orgRoutes);
  app.route("/api/v1/invitations", invitationRoutes);
  app.route("/api/v1/auth", activeOrgRoutes);
  app.route("/api/v1/auth", passwordlessRoutes);
  app.route("/api/v1/admin/oauth-clients", adminOAuthClientRoutes);
  app.route("/api/v1/admin/users", adminUserAppRoutes);
  app.route("/api/v1/admin/orgs", adminOrgRoutes);
  app.route("/api/v1/admin", adminRoutes);
  app.route("/.well-known", jwksRoutes);
  app.route("/", oauthServerRoutes);
  app.route("/api/v1/oauth2", oauthApiRoutes);
  app.route("/api/v1/users/me/connected-apps", connectedAppRoutes);
  app.route("/api/v1/dev", devRoutes);
  app.route("/", pageRoutes);

  app.notFound((c) => {
    const notAllowed = methodNotAllowed(app, c.req.method, c.req.path);
    if (notAllowed !== null) {
      throw new ApiError("method_not_allowed", "Method not allowed", { headers: { Allow: notAllowed.join(", ") } });
    }
    throw new ApiError("not_found", "Not found");
  });

  app.onError((error, c) => renderError(error, c));

  return app;
}
