// Who a request acts for, whatever credential it came with.
import type { PublicUser } from "../users/user-view";

export interface SessionPrincipal {
  kind: "session";
  userId: string;
  user: PublicUser;
  session: {
    id: string;
    createdAt: number;
    lastActivity: number;
    /** When the session ends if left idle (the earlier of idle and absolute expiry). */
    expiresAt: number;
    absoluteExpiresAt: number;
    /** SHA-256 of the presented secret, for follow-up calls to the authority. */
    secretHash: string;
  };
}

export type Principal = SessionPrincipal;
