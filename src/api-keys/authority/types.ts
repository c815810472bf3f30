// What the ApiKeyAuthority's methods take and answer (its RPC surface).
import type { Permissions } from "../permissions";
import type { KeyLimits, RateLimitState } from "../rate-limit-policy";

export interface KeyRecord {
  id: string;
  userId: string;
  name: string;
  /** Grows with every change; D1 takes a record only over an older version. */
  version: number;
  secretHash: string;
  permissions: Permissions;
  limits: KeyLimits;
  /** ms since the epoch, or null for a key that does not expire. */
  expiresAt: number | null;
  revoked: boolean;
  /** An organization's key: the organization it acts for (userId made it). Absent or null: the user's own. */
  orgId?: string | null;
}

/** Who a key is, as a use answers it. */
export interface UsedKey {
  id: string;
  userId: string;
  permissions: Permissions;
  orgId: string | null;
}

export interface UseRequest {
  endpoint: string;
  method: string;
  ip: string;
  defaultRequestsPerMinute: number;
}

/** Identifies a recorded use for amendUse. */
export interface UsedAt {
  at: number;
  endpoint: string;
  method: string;
}

export type UseResult =
  | { status: "invalid" }
  | {
      status: "allowed";
      key: UsedKey;
      rateLimit: RateLimitState;
      /** Recorded as a 200; amend it when the response ends otherwise. */
      use: UsedAt;
    }
  | {
      status: "limited";
      key: UsedKey;
      rateLimit: RateLimitState;
      retryAfterSeconds: number;
    };

export interface KeyChanges {
  name?: string;
  permissions?: Permissions;
  requestsPerMinute?: number | null;
  requestsPerDay?: number | null;
  /** ms since the epoch, or null for never; may only move earlier. */
  expiresAt?: number | null;
}

export type KeyUpdate =
  { status: "updated"; record: KeyRecord } | { status: "not_found" } | { status: "revoked" } | { status: "expiry_later" };
