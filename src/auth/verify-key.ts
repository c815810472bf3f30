// The verdict on a presented API key for the services that accept this service's keys:
// POST /api/v1/api-keys/verify and AuthService.verifyApiKey both answer with it. Every
// verification counts against the key's rate limits, as a use of the key would.
import { hasPermission } from "../api-keys/permissions";
import type { RateLimitState } from "../api-keys/rate-limit-policy";
import { type ResolveDeps, resolveCredential } from "./resolve";

export type KeyVerdict =
  | {
      valid: true;
      key_id: string;
      user_id: string;
      permissions: Record<string, string[]>;
      ratelimit: RateLimitState;
      /** An organization's key: the organization it acts for. */
      org_id?: string;
      /** Present when a resource and action were asked about. */
      allowed?: boolean;
    }
  | { valid: false; code: "invalid_api_key" }
  | { valid: false; code: "rate_limited"; ratelimit: RateLimitState; retry_after: number };

export async function verifyKeyAnswer(
  deps: ResolveDeps,
  key: string,
  use: { endpoint: string; method: string; ip: string },
  check?: { resource: string; action: string },
): Promise<KeyVerdict> {
  const result = await resolveCredential(
    deps,
    { kind: "api_key", key },
    {
      unsafe: false,
      url: "",
      origin: null,
      csrfHeader: null,
      csrf: "skip",
      use,
    },
  );
  if (result.status === "refused") {
    if (result.code === "rate_limited" && result.ratelimit !== undefined) {
      return {
        valid: false,
        code: "rate_limited",
        ratelimit: result.ratelimit,
        retry_after: Math.max(1, Math.ceil(result.retryAfterSeconds ?? 1)),
      };
    }
    return { valid: false, code: "invalid_api_key" };
  }
  const { principal, ratelimit } = result;
  if (principal.kind !== "api_key" || ratelimit === undefined) return { valid: false, code: "invalid_api_key" };
  const verdict: KeyVerdict = {
    valid: true,
    key_id: principal.key.id,
    user_id: principal.userId,
    permissions: principal.key.permissions,
    ratelimit,
  };
  // An organization's key acts for it; user_id is the member who made it.
  if (principal.key.orgId !== null) verdict.org_id = principal.key.orgId;
  if (check !== undefined) verdict.allowed = hasPermission(principal.key.permissions, check.resource, check.action);
  return verdict;
}
