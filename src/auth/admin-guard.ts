// Who may use an admin route: a superuser's session or bearer token at aal 2 (unless
// ADMIN_REQUIRE_MFA=false), fresh for writes; or a superuser's API key holding the
// route's admin permission by name. Everyone else gets 403 forbidden, decided before the
// route looks at its target, so nothing about the target is revealed.
import type { MiddlewareHandler } from "hono";
import { ApiError } from "../http/errors";
import type { AppEnv } from "./app-env";
import { authenticate } from "./authenticate";
import { isFresh, reauthenticationRequired } from "./fresh";

export type AdminScope =
  { resource: "admin_users" | "admin_oauth_clients"; action: "read" | "write" } | { resource: "admin_audit"; action: "read" };

export function admin(scope: AdminScope): MiddlewareHandler<AppEnv> {
  const guard: MiddlewareHandler<AppEnv> = async (c, next) => {
    const principal = c.get("principal");
    if (principal.kind === "api_key") return next(); // checked by authenticate (adminKey)
    const services = c.get("services");
    const forbidden = new ApiError("forbidden", "Administrators only");
    if (!principal.user.is_superuser) throw forbidden;
    const { assurance } = principal.session;
    if (services.config.admin.requireMfa && assurance.aal !== 2) throw forbidden;
    if (scope.action === "write" && !isFresh(services, assurance)) throw await reauthenticationRequired(services, principal.userId);
    return next();
  };
  const identify = authenticate({ adminKey: scope });
  return async function adminMiddleware(c, next) {
    await identify(c, async () => {
      await guard(c, next);
    });
  };
}
