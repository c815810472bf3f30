// Pure session rules shared by the Worker (reading the KV cache) and the UserAuthority
// Durable Object (the authority). No I/O here.
import type { Device } from "../lib/device";
import type { PublicUser } from "../users/user-view";
import type { OrgStanding } from "./org-standings";

/** A browser's cookie session, a token family, or an OAuth grant (oauth-server/authority). */
export type SessionKind = "cookie" | "token" | "oauth";

/** Authentication methods (RFC 8176 names where one exists). */
export type AuthMethod = "pwd" | "otp" | "webauthn" | "recovery" | "oauth" | "mfa" | "email";

/**
 * How strongly a session was signed in: `aal` 1 (one factor) or 2 (two factors, or a
 * user-verified passkey), the methods used, when it signed in, and when it last
 * re-authenticated (fresh routes look at the later of the two).
 */
export interface Assurance {
  aal: 1 | 2;
  amr: AuthMethod[];
  authTime: number;
  reauthAt: number | null;
}

/** Sessions cached before assurance levels existed were one-factor sign-ins. */
export function assuranceOf(value: Partial<Assurance> & { createdAt: number }): Assurance {
  return { aal: value.aal ?? 1, amr: value.amr ?? ["pwd"], authTime: value.authTime ?? value.createdAt, reauthAt: value.reauthAt ?? null };
}

/** When the session last proved who it is: its sign-in, or its latest re-authentication. */
export function lastAuthenticatedAt(assurance: Assurance): number {
  return Math.max(assurance.authTime, assurance.reauthAt ?? 0);
}

export interface SessionTimes {
  createdAt: number;
  lastActivity: number;
  idleMs: number;
  absoluteExpiresAt: number;
}

/** What KV holds under `session:<id>`: enough to answer a read-only request alone. */
export interface CachedSession extends SessionTimes, Partial<Assurance> {
  id: string;
  userId: string;
  kind: SessionKind;
  secretHash: string;
  user: PublicUser;
  /** The organization it acts in; absent in entries written before organizations. */
  activeOrg?: string | null;
  /**
   * The active organization's standing (role, permissions) as the authority was told it
   * (null: none, or no longer a member); absent when it was never told: the reader asks
   * the organization.
   */
  org?: OrgStanding | null;
}

/** A session as the owner sees it in the session list. */
export interface SessionInfo extends SessionTimes, Assurance {
  id: string;
  kind: SessionKind;
  ip: string;
  userAgent: string;
  device: Device;
  location: { country: string | null; city: string | null };
  activeOrg: string | null;
}

/**
 * How stale the cached last activity may get before a read-only request refreshes it.
 * KV accepts one write per second per key and bills every write; once a minute keeps a
 * busy session at no more than one cache write per minute, and makes idle expiry
 * accurate to a minute.
 */
export const CACHE_TOUCH_INTERVAL_MS = 60_000;

/** KV refuses expirations under 60 seconds. */
const MIN_KV_TTL_SECONDS = 60;

/** When the session ends if left idle: the earlier of idle and absolute expiry. */
export function expiresAt(session: SessionTimes): number {
  return Math.min(session.lastActivity + session.idleMs, session.absoluteExpiresAt);
}

export function isExpired(session: SessionTimes, now: number): boolean {
  return now >= expiresAt(session);
}

export function needsTouch(session: SessionTimes, now: number): boolean {
  return now - session.lastActivity >= CACHE_TOUCH_INTERVAL_MS;
}

export function cacheTtlSeconds(session: SessionTimes, now: number): number {
  return Math.max(MIN_KV_TTL_SECONDS, Math.ceil((expiresAt(session) - now) / 1000));
}
