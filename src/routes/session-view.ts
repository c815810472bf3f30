// Sessions as the API shows them (ISO 8601 UTC timestamps).
import type { PrincipalSession } from "../auth/principal";
import { type SessionInfo, expiresAt } from "../sessions/session-policy";

const iso = (ms: number): string => new Date(ms).toISOString();

export function currentSessionView(session: PrincipalSession): object {
  return {
    id: session.id,
    created_at: iso(session.createdAt),
    last_activity: iso(session.lastActivity),
    expires_at: iso(session.expiresAt),
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
  };
}
