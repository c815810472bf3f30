// What the UserAuthority's methods take and answer (its RPC surface).
import type { ClientInfo } from "../../http/client-info";
import type { PublicUser } from "../../users/user-view";
import type { CachedSession, SessionKind } from "../session-policy";

export interface NewSession {
  id: string;
  kind: SessionKind;
  secretHash: string;
  csrfHash: string | null;
  idleMs: number;
  absoluteMs: number;
  client: ClientInfo;
  user: PublicUser;
  /** The users.credential_epoch the first factor was checked against. */
  credentialEpoch: number;
}

export type SessionCreation = { status: "created"; evicted: string[]; newDevice: boolean } | { status: "refused" };

export type Authorization =
  { status: "valid"; session: CachedSession; csrfHash: string | null } | { status: "expired" } | { status: "unknown" };

export type FamilyAuthorization = { status: "valid"; user: PublicUser; createdAt: number } | { status: "unknown" };

/** The token response of the contract, minus refresh_expires_in, which the authority knows. */
export interface TokenPair {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
  refresh_token: string;
}

export interface TokenResponse extends TokenPair {
  refresh_expires_in: number;
}

export type Rotation = { status: "rotated"; response: TokenResponse } | { status: "reused" } | { status: "invalid" };

export type Reservation = "reserved" | "too_many" | "gone" | "needs_seed";

export type MailSlot = { status: "allowed" } | { status: "rate_limited"; retryAfterSeconds: number } | { status: "gone" };
