// Who a request acts for, whatever credential it came with.
import type { OrgStanding } from "../user-authority/org-standings";
import type { Assurance } from "../user-authority/session-policy";
import type { PublicUser } from "../users/user-view";

export interface PrincipalSession {
  /** The cookie session id, or the token family id (`sid`) of an access token. */
  id: string;
  createdAt: number;
  lastActivity: number;
  /** When the session ends if left idle (the earlier of idle and absolute expiry). */
  expiresAt: number;
  absoluteExpiresAt: number;
  /** How it signed in (aal, amr, auth_time) and when it last re-authenticated. */
  assurance: Assurance;
  /** The organization it acts in (its id), or null. An access token's is its `org_id` claim. */
  activeOrg: string | null;
  /**
   * A read's answer about the active organization, from the memory the credential was
   * checked against (the cached session, the principal record): the caller's standing
   * there (null: none). Absent on writes, and when that memory does not know: then the
   * organization's authority is asked (auth/org-standing.ts).
   */
  org?: OrgStanding | null;
}

export interface SessionPrincipal {
  kind: "session";
  userId: string;
  user: PublicUser;
  session: PrincipalSession & {
    /** SHA-256 of the presented secret, for follow-up calls to the authority. */
    secretHash: string;
  };
}

export interface TokenPrincipal {
  kind: "token";
  userId: string;
  user: PublicUser;
  /** The token family (`sid`): when it signed in, and the access token's issue and expiry. */
  session: PrincipalSession;
  /** The access token's exp (seconds). */
  exp: number;
}

export interface ApiKeyPrincipal {
  kind: "api_key";
  userId: string;
  user: PublicUser;
  /** orgId: an organization's key, acting for it (userId made it); null: the user's own. */
  key: { id: string; permissions: Record<string, string[]>; orgId: string | null };
}

export type Principal = SessionPrincipal | TokenPrincipal | ApiKeyPrincipal;
export type PrincipalKind = Principal["kind"];
