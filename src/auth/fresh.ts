// Fresh routes: a sign-in or re-authentication of the current session within
// REAUTH_MAX_AGE_MINUTES, and for some routes aal 2. Otherwise 403
// reauthentication_required with the methods this user can re-authenticate with.
// Runs after authenticate(): on a state-changing request the principal's assurance
// came from the user's authority, so a re-authentication counts at once.
import type { MiddlewareHandler } from "hono";
import type { Services } from "../services/services";
import { lastAuthenticatedAt } from "../user-authority/session-policy";
import type { AppEnv } from "./app-env";
import { reauthenticationRequired } from "../mfa/reauth-methods";
import { userPrincipal } from "./authenticate";

export { type ReauthMethod, reauthMethods, reauthenticationRequired } from "../mfa/reauth-methods";

/** Whether the principal's session signed in or re-authenticated recently enough. */
export function isFresh(
  services: Pick<Services, "config">,
  assurance: Parameters<typeof lastAuthenticatedAt>[0],
  now = Date.now(),
): boolean {
  return now - lastAuthenticatedAt(assurance) <= services.config.mfa.reauthMaxAgeMs;
}

/** Needs a fresh session; `aal: 2` also needs two factors. */
export function fresh(options: { aal?: 2 } = {}): MiddlewareHandler<AppEnv> {
  return async function freshMiddleware(c, next) {
    const principal = userPrincipal(c);
    const services = c.get("services");
    const { assurance } = principal.session;
    if (!isFresh(services, assurance)) throw await reauthenticationRequired(services, principal.userId);
    if (options.aal === 2 && assurance.aal !== 2) throw await reauthenticationRequired(services, principal.userId, true);
    return next();
  };
}
