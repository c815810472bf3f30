// Session rows as the UserAuthority stores them, and the shapes they are handed out in.
import type { PublicUser } from "../users/user-view";
import type { OrgStanding } from "./org-standings";
import type { Assurance, AuthMethod, CachedSession, SessionInfo, SessionKind, SessionTimes } from "./session-policy";

export type SessionRow = {
  id: string;
  kind: SessionKind;
  secret_hash: string;
  csrf_hash: string | null;
  created_at: number;
  last_activity: number;
  cached_activity: number;
  idle_ms: number;
  absolute_expires_at: number;
  ip: string;
  user_agent: string;
  browser: string;
  os: string;
  device_type: string;
  country: string | null;
  city: string | null;
  epoch: number;
  aal: number;
  /** JSON array of AuthMethod. */
  amr: string;
  reauth_at: number | null;
  /** The organization it acts in (its id), or null: personal. */
  active_org: string | null;
};

/** The columns a refresh token's rotation reads (not the device's): a refresh's one read. */
const ROTATION_COLUMN_NAMES = [
  "kind",
  "secret_hash",
  "created_at",
  "last_activity",
  "idle_ms",
  "absolute_expires_at",
  "aal",
  "amr",
  "reauth_at",
  "active_org",
] as const satisfies ReadonlyArray<keyof SessionRow>;
export type RotationRow = Pick<SessionRow, (typeof ROTATION_COLUMN_NAMES)[number]>;
export const ROTATION_COLUMNS = ROTATION_COLUMN_NAMES.join(", ");
/** The same columns of `sessions` aliased `s` in a join. */
export const JOINED_ROTATION_COLUMNS = ROTATION_COLUMN_NAMES.map((name) => `s.${name}`).join(", ");

export function times(row: Pick<SessionRow, "created_at" | "last_activity" | "idle_ms" | "absolute_expires_at">): SessionTimes {
  return {
    createdAt: row.created_at,
    lastActivity: row.last_activity,
    idleMs: row.idle_ms,
    absoluteExpiresAt: row.absolute_expires_at,
  };
}

export function assurance(row: Pick<SessionRow, "aal" | "amr" | "created_at" | "reauth_at">): Assurance {
  return {
    aal: row.aal === 2 ? 2 : 1,
    amr: JSON.parse(row.amr) as AuthMethod[],
    // Sessions are created only by a completed sign-in: their creation is their auth_time.
    authTime: row.created_at,
    reauthAt: row.reauth_at,
  };
}

/** `org`: the active organization's standing as the authority was told it (undefined: never told; then left out). */
export function toCached(row: SessionRow, user: PublicUser, org: OrgStanding | null | undefined): CachedSession {
  return {
    id: row.id,
    userId: user.id,
    kind: row.kind,
    secretHash: row.secret_hash,
    user,
    activeOrg: row.active_org,
    ...(org === undefined ? {} : { org }),
    ...times(row),
    ...assurance(row),
  };
}

export function toInfo(row: SessionRow): SessionInfo {
  return {
    id: row.id,
    kind: row.kind,
    ip: row.ip,
    userAgent: row.user_agent,
    device: { browser: row.browser, os: row.os, type: row.device_type as SessionInfo["device"]["type"] },
    location: { country: row.country, city: row.city },
    activeOrg: row.active_org,
    ...times(row),
    ...assurance(row),
  };
}
