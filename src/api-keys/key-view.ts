// API keys as the API shows them: never the key, never its hash.
import type { ApiKeyRow } from "../db/schema";
import type { Permissions } from "./permissions";

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  permissions: Permissions;
  rate_limits: { requests_per_minute: number | null; requests_per_day: number | null };
  expires_at: string | null;
  created_at: string;
  updated_at: string;
  last_used_at: string | null;
  last_used_ip: string | null;
  revoked_at: string | null;
  is_active: boolean;
  /** An organization's key: the member who made it. */
  created_by?: string;
}

export function toKeyView(row: ApiKeyRow, now: number = Date.now()): ApiKeyView {
  const expired = row.expiresAt !== null && Date.parse(row.expiresAt) <= now;
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    permissions: JSON.parse(row.permissions) as Permissions,
    rate_limits: { requests_per_minute: row.requestsPerMinute, requests_per_day: row.requestsPerDay },
    expires_at: row.expiresAt,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
    last_used_at: row.lastUsedAt,
    last_used_ip: row.lastUsedIp,
    revoked_at: row.revokedAt,
    is_active: row.revokedAt === null && !expired,
    ...(row.orgId === null ? {} : { created_by: row.userId }),
  };
}
