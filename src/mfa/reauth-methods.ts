// The ways a user can re-authenticate, and the refusal that names them (403
// reauthentication_required with `methods`): for fresh routes, and for the factor
// changes that need a second factor first.
import { ApiError } from "../http/errors";
import type { Services } from "../services/services";
import { authorityFor } from "../sessions/authority-client";
import { findUserById } from "../users/user-store";

export type ReauthMethod = "password" | "totp" | "recovery_code" | "webauthn";

/** The ways this user can re-authenticate (`secondOnly`: those that reach aal 2). */
export async function reauthMethods(
  services: Pick<Services, "db" | "authority">,
  userId: string,
  secondOnly: boolean,
): Promise<ReauthMethod[]> {
  const [row, factors] = await Promise.all([findUserById(services.db, userId), authorityFor(services.authority, userId).listFactors()]);
  const methods: ReauthMethod[] = [];
  if (!secondOnly && row?.passwordHash != null) methods.push("password");
  const types = new Set(factors.factors.map((factor) => factor.type));
  if (types.has("totp")) methods.push("totp");
  if (types.has("webauthn")) methods.push("webauthn");
  if (factors.recovery_codes_remaining > 0) methods.push("recovery_code");
  return methods;
}

export async function reauthenticationRequired(
  services: Pick<Services, "db" | "authority">,
  userId: string,
  secondOnly = false,
): Promise<ApiError> {
  const methods = await reauthMethods(services, userId, secondOnly);
  const detail = secondOnly ? "This needs a sign-in with a second factor: re-authenticate with one" : "Re-authenticate to continue";
  return new ApiError("reauthentication_required", detail, { extra: { methods } });
}
