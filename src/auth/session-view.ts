// Sessions as the API shows them (ISO 8601 UTC timestamps).
import type { PrincipalSession } from "./principal";
import { type Assurance, type SessionInfo, expiresAt } from "../user-authority/session-policy";

const iso = (ms: number): string => new Date(ms).toISOString();

/** aal, amr, auth_time (ISO, like every timestamp of the API) and reauthenticated_at. */
function assuranceView(assurance: Assurance): object {
  return {
    aal: assurance.aal,
    amr: assurance.amr,
    auth_time: iso(assurance.authTime),
    reauthenticated_at: assurance.reauthAt === null ? null : iso(assurance.reauthAt),
  };
}

/** The current session; `org`: the organization it acts in, as its authority has the caller's role now (null: none). */
export function currentSessionView(session: PrincipalSession, org: object | null = null): object {
  return {
    id: session.id,
    created_at: iso(session.createdAt),
    last_activity: iso(session.lastActivity),
    expires_at: iso(session.expiresAt),
    ...assuranceView(session.assurance),
    org,
  };
}

export function sessionListItem(session: SessionInfo, currentId: string | null): object {
  return {
    id: session.id,
    current: session.id === currentId,
    kind: session.kind,
    created_at: iso(session.createdAt),
    last_activity: iso(session.lastActivity),
    expires_at: iso(expiresAt(session)),
    ip: session.ip,
    user_agent: session.userAgent,
    device: session.device,
    location: session.location,
    ...assuranceView(session),
    // The organization it acts in (its id); the current session's role is check-auth's to tell.
    org: session.activeOrg === null ? null : { id: session.activeOrg },
  };
}
