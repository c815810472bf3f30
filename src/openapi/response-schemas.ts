// The shapes of the API's answers, documented in /openapi.json and checked against every
// response the test suite receives (test/helpers/client.ts), so they cannot drift.
import { z } from "zod";

const timestamp = z.string().describe("ISO 8601 UTC timestamp");

export const errorResponse = z
  .object({
    detail: z.string(),
    code: z.string().describe("Stable snake_case error code"),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .passthrough();

export const userResponse = z.object({
  id: z.string(),
  email: z.string(),
  username: z.string().nullable(),
  name: z.string().nullable(),
  email_verified: z.boolean(),
  is_superuser: z.boolean(),
  oauth_providers: z.array(z.string()),
  created_at: timestamp,
});

export const detailResponse = z.object({ detail: z.string() });

/** The account a verification link names, shown before anyone confirms it. */
export const verificationDetailsResponse = z.object({
  email: z.string(),
  username: z.string().nullable(),
  name: z.string().nullable(),
  created_at: timestamp,
  signed_in: z.boolean().describe("The request carries a session or token of this account: confirming proves the address by its holder"),
});

export const loginResponse = z.object({ user: userResponse, csrf_token: z.string() });

/** How a session signed in: aal 1 (one factor) or 2, the methods (amr), and when. */
const assurance = {
  aal: z.union([z.literal(1), z.literal(2)]),
  amr: z.array(z.enum(["pwd", "otp", "webauthn", "recovery", "oauth", "mfa", "email"])),
  auth_time: timestamp,
  reauthenticated_at: timestamp.nullable(),
};

export const currentSession = z.object({
  id: z.string(),
  created_at: timestamp,
  last_activity: timestamp,
  expires_at: timestamp,
  ...assurance,
  org: z
    .object({ id: z.string(), slug: z.string(), role: z.string(), permissions: z.array(z.string()) })
    .nullable()
    .describe("The organization it acts in, with the caller's role there now (POST /api/v1/auth/active-org)"),
});

export const checkAuthResponse = z.union([
  z.object({ authenticated: z.literal(false) }),
  z.object({ authenticated: z.literal(true), user: userResponse, session: currentSession }),
]);

export const sessionListResponse = z.object({
  sessions: z.array(
    z.object({
      id: z.string(),
      current: z.boolean(),
      kind: z.enum(["cookie", "token"]),
      created_at: timestamp,
      last_activity: timestamp,
      expires_at: timestamp,
      ip: z.string(),
      user_agent: z.string(),
      device: z.object({ browser: z.string(), os: z.string(), type: z.string() }),
      location: z.object({ country: z.string().nullable(), city: z.string().nullable() }),
      ...assurance,
      org: z.object({ id: z.string() }).nullable().describe("The organization it acts in"),
    }),
  ),
});

export const revokedResponse = z.object({ revoked: z.number().int() });

export const csrfResponse = z.object({ csrf_token: z.string() });

export const tokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal("bearer"),
  expires_in: z.number().int(),
  refresh_token: z.string(),
  refresh_expires_in: z.number().int(),
});

export const emptyResponse = z.object({});

export const jwksResponse = z.object({ keys: z.array(z.record(z.string(), z.unknown())) });

const rateLimitState = z.object({ limit: z.number().int(), remaining: z.number().int(), reset: z.number().int() });

export const apiKeyResponse = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  permissions: z.record(z.string(), z.array(z.string())),
  rate_limits: z.object({ requests_per_minute: z.number().int().nullable(), requests_per_day: z.number().int().nullable() }),
  expires_at: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
  last_used_at: timestamp.nullable(),
  last_used_ip: z.string().nullable(),
  revoked_at: timestamp.nullable(),
  is_active: z.boolean(),
  created_by: z.string().optional().describe("An organization's key: the member who made it"),
});

export const createdApiKeyResponse = apiKeyResponse.extend({ api_key: z.string().describe("Shown once") });

export const apiKeyListResponse = z.object({ items: z.array(apiKeyResponse), total: z.number().int() });

export const usageResponse = z.object({
  key_id: z.string(),
  days: z.number().int(),
  since: z.string(),
  total: z.number().int(),
  by_day: z.array(z.object({ date: z.string(), count: z.number().int() })),
  by_endpoint: z.array(z.object({ endpoint: z.string(), method: z.string(), count: z.number().int() })),
  by_status: z.array(z.object({ status: z.number().int(), count: z.number().int() })),
  by_day_status: z.array(z.object({ date: z.string(), status: z.number().int(), count: z.number().int() })),
});

export const verifyKeyResponse = z.union([
  z.object({
    valid: z.literal(true),
    key_id: z.string(),
    user_id: z.string(),
    permissions: z.record(z.string(), z.array(z.string())),
    ratelimit: rateLimitState,
    allowed: z.boolean().optional(),
    org_id: z.string().optional().describe("An organization's key: the organization it acts for (user_id made it)"),
  }),
  z.object({ valid: z.literal(false), code: z.string() }),
]);

const securityEvent = z.object({
  type: z.string(),
  at: timestamp,
  ip: z.string().nullable(),
  device: z.unknown(),
  location: z.unknown(),
  detail: z.unknown(),
});

export const eventsResponse = z.object({
  items: z.array(securityEvent),
});

export const passwordChangedResponse = z.object({ detail: z.string(), revoked: z.number().int() });

export const oauthUrlResponse = z.object({ url: z.string() });

export const oauthJsonLoginResponse = z.object({ user: userResponse, csrf_token: z.string(), is_new_user: z.boolean() });

export const healthResponse = z.object({ status: z.literal("ok") });

export const introspectResponse = z.union([
  z.object({ active: z.literal(false), reason: z.literal("aal_required").optional() }),
  z.object({
    active: z.literal(true),
    principal: z.enum(["session", "token", "api_key"]),
    user_id: z.string(),
    permissions: z.record(z.string(), z.array(z.string())).optional(),
    exp: z.number().int().optional(),
    aal: assurance.aal.optional(),
    amr: assurance.amr.optional(),
    auth_time: z.number().int().optional().describe("Seconds since the epoch"),
    org_id: z.string().optional().describe("The organization the session or token family acts in"),
    org_role: z.string().optional(),
    org_permissions: z.array(z.string()).optional(),
  }),
]);

const factor = z.object({
  id: z.string(),
  type: z.enum(["totp", "webauthn"]),
  name: z.string(),
  created_at: timestamp,
  last_used_at: timestamp.nullable(),
});

export const factorListResponse = z.object({ factors: z.array(factor), recovery_codes_remaining: z.number().int() });
export const totpEnrollResponse = z.object({ factor_id: z.string(), secret: z.string().describe("Base32"), otpauth_uri: z.string() });
export const factorAddedResponse = z.object({ factor, recovery_codes: z.array(z.string()).length(10).optional() });
export const recoveryCodesResponse = z.object({ recovery_codes: z.array(z.string()).length(10) });
export const webauthnOptionsResponse = z
  .looseObject({ challenge: z.string() })
  .describe("PublicKeyCredentialCreationOptionsJSON or PublicKeyCredentialRequestOptionsJSON (WebAuthn L3)");
export const reauthenticatedResponse = z.object({ reauthenticated_at: timestamp, aal: assurance.aal });
export const adminUserResponse = userResponse.extend({
  disabled: z.boolean(),
  mfa_enabled: z.boolean(),
  last_login_at: timestamp.nullable(),
  session_count: z.number().int(),
});
export const adminUserListResponse = z.object({ items: z.array(adminUserResponse), next_cursor: z.string().nullable() });
export const adminSessionListResponse = sessionListResponse;
export const auditEventsResponse = z.object({
  items: z.array(securityEvent.extend({ user_id: z.string(), actor_id: z.string().nullable() })),
  next_cursor: z.string().nullable(),
});
export const signInResponse = z.union([loginResponse, tokenResponse, oauthJsonLoginResponse]);

export const outboxResponse = z.object({
  items: z.array(z.object({ to: z.string(), subject: z.string(), body: z.string(), created_at: timestamp })),
});

export const signInStatsResponse = z.object({
  days: z.number().int(),
  items: z.array(z.object({ date: z.string(), succeeded: z.number().int(), failed: z.number().int(), throttled: z.number().int() })),
});

export const oauthProvidersResponse = z.object({ providers: z.array(z.object({ id: z.string() })) });
