import { z } from "zod";
import { validationError } from "../http/errors";
import { permissionsField } from "./permissions";

const rateLimitsField = z
  .object({
    requests_per_minute: z.number().int().min(1).max(1_000_000).nullable().optional(),
    requests_per_day: z.number().int().min(1).max(100_000_000).nullable().optional(),
  })
  .strict();

const timestamp = z.iso.datetime({ offset: true, message: "Use an ISO 8601 timestamp" });

export const createKeyBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    permissions: permissionsField,
    rate_limits: rateLimitsField.optional(),
    expires_at: timestamp.nullable().optional(),
  })
  .strict();

export const updateKeyBody = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    permissions: permissionsField.optional(),
    rate_limits: rateLimitsField.optional(),
    expires_at: timestamp.nullable().optional(),
  })
  .strict();

export const verifyKeyBody = z
  .object({
    /** Any string: a malformed key is answered like an unknown one, `{valid: false}` (contract v1.2). */
    api_key: z.string(),
    resource: z.string().min(1).max(64).optional(),
    action: z.string().min(1).max(64).optional(),
  })
  .refine((body) => (body.resource === undefined) === (body.action === undefined), {
    message: "Send resource and action together",
    path: ["resource"],
  });

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const usageQuery = z.object({
  days: z.coerce.number().int().min(1).max(365).default(30),
});

/** A new key as createKey and mintKey take it, from the create body (an expiry in the past is a 422). */
export function keyInputOf(input: z.output<typeof createKeyBody>): {
  name: string;
  permissions: Record<string, string[]>;
  rateLimits: { requestsPerMinute: number | null; requestsPerDay: number | null };
  expiresAt: string | null;
} {
  if (input.expires_at != null && Date.parse(input.expires_at) <= Date.now()) {
    throw validationError([{ path: "expires_at", message: "Must be in the future" }]);
  }
  return {
    name: input.name,
    permissions: input.permissions,
    rateLimits: {
      requestsPerMinute: input.rate_limits?.requests_per_minute ?? null,
      requestsPerDay: input.rate_limits?.requests_per_day ?? null,
    },
    expiresAt: input.expires_at == null ? null : new Date(input.expires_at).toISOString(),
  };
}
