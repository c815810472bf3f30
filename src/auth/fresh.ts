// Fresh routes: a sign-in or re-authentication of the current session within
// REAUTH_MAX_AGE_MINUTES, and for some routes aal 2. Otherwise 403
// reauthentication_required with the methods this user can re-authenticate with.
// Runs after authenticate(): on a state-changing request the principal's assurance
// came from the user's authority, so a re-authentication counts at once.
import type { MiddlewareHandler } from "hono";
import { ApiError } from "../http/errors";
import type { Services } from "../services/services";
import { authorityFor } from "../sessions/authority-client";
import { lastAuthenticatedAt } from "../sessions/session-policy";
import { findUserById } from "../users/user-store";
import type { AppEnv } from "./app-env";
import { userPrincipal } from "./authenticate";

export type ReauthMethod = "password" | "totp" | "recovery_code" | "webauthn";

/** The ways this user can re-authenticate (`secondOnly`: those that reach aal 2). */
export async function reauthMethods(services: Services, userId: string, secondOnly: boolean): Promise<ReauthMethod[]> {
  const [row, factors] = await Promise.all([findUserById(services.db, userId), authorityFor(services.authority, userId).listFactors()]);
  const methods: ReauthMethod[] = [];
  if (!secondOnly && row?.passwordHash != null) methods.push("password");
  const types = new Set(factors.factors.map((factor) => factor.type));
  if (types.has("totp")) methods.push("totp");
  if (types.has("webauthn")) methods.push("webauthn");
  if (factors.recovery_codes_remaining > 0) methods.push("recovery_code");
  return methods;
}

export async function reauthenticationRequired(services: Services, userId: string, secondOnly = false): Promise<ApiError> {
  const methods = await reauthMethods(services, userId, secondOnly);
  const detail = secondOnly ? "This needs a sign-in with a second factor: re-authenticate with one" : "Re-authenticate to continue";
  return new ApiError("reauthentication_required", detail, { extra: { methods } });
}

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
