// The HTTP app: shared middleware, the feature sub-apps, and the single error renderer.
import { Hono } from "hono";
import { originGuard } from "./auth/csrf";
import { introspectRoutes } from "./routes/introspect";
import { accountAuthRoutes, accountUserRoutes } from "./routes/account";
import { devRoutes } from "./routes/dev";
import { apiKeyRoutes } from "./routes/api-keys";
import type { AppEnv } from "./auth/app-env";
import { bodyReader } from "./http/body";
import { cors } from "./http/cors";
import { ApiError, errorResponse, internalError, serviceUnavailable } from "./http/errors";
import { configLoader } from "./http/load-config";
import { methodNotAllowed } from "./http/method-not-allowed";
import { requestId } from "./http/request-id";
import { requestLog } from "./http/request-log";
import { securityHeaders } from "./http/security-headers";
import { logError } from "./lib/log";
import { buildServices } from "./services/services";
import { oauthRoutes } from "./routes/oauth";
import { docsRoutes } from "./routes/docs";
import { sessionRoutes } from "./routes/sessions";
import { jwksRoutes, tokenRoutes } from "./routes/tokens";
import { userRoutes } from "./routes/users";

function isProgrammingError(error: Error): boolean {
  return error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError || error instanceof ReferenceError;
}

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(requestId());
  app.use(requestLog());
  app.use(configLoader());
  app.use(securityHeaders());
  app.use(cors());
  app.use(originGuard());
  app.use(bodyReader());
  app.use(async (c, next) => {
    const waitUntil = (promise: Promise<unknown>): void => c.executionCtx.waitUntil(promise);
    c.set("services", buildServices({ env: c.env, config: c.get("config"), waitUntil, request: c.req.raw }));
    await next();
  });

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.route("/", docsRoutes);
  app.route("/api/v1/users", userRoutes);
  app.route("/api/v1/users", accountUserRoutes);
  app.route("/api/v1/auth", sessionRoutes);
  app.route("/api/v1/auth", accountAuthRoutes);
  app.route("/api/v1/auth/oauth", oauthRoutes);
  app.route("/api/v1/auth", introspectRoutes);
  app.route("/api/v1/auth", tokenRoutes);
  app.route("/api/v1/api-keys", apiKeyRoutes);
  app.route("/.well-known", jwksRoutes);
  app.route("/api/v1/dev", devRoutes);

  app.notFound((c) => {
    const notAllowed = methodNotAllowed(app, c.req.method, c.req.path);
    if (notAllowed !== null) {
      throw new ApiError("method_not_allowed", "Method not allowed", { headers: { Allow: notAllowed.join(", ") } });
    }
    throw new ApiError("not_found", "Not found");
  });

  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    // The error class only (lib/log.ts): messages can hold bound query parameters or tokens.
    logError("unhandled_error", error, { request_id: c.get("requestId") ?? null, route: c.req.routePath });
    // A bug in this code (a TypeError and its kin) is a 500; anything else thrown on the
    // way is a dependency that failed (D1, KV, a Durable Object, a provider): 503, and
    // the request was not let through.
    return errorResponse(c, isProgrammingError(error) ? internalError() : serviceUnavailable());
  });

  return app;
}
