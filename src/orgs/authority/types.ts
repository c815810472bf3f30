// What the organization authority answers. Refusals are values (the routes map them to
// the contract's errors), never thrown.
import type { ClientInfo } from "../../http/client-info";

export interface OrgView {
  id: string;
  name: string;
  slug: string;
  created_at: string;
  /** The caller's role. */
  role: string;
  /** The caller's permissions in it (`resource:action`). */
  permissions: string[];
}

export interface MemberRow {
  user_id: string;
  role: string;
  joined_at: string;
}

export interface InvitationView {
  id: string;
  email: string;
  role: string;
  expires_at: string;
}

export interface RoleView {
  name: string;
  permissions: string[];
  builtin: boolean;
}

export type Refusal =
  /** No such organization, or the caller is not a member of it: the same answer (no existence leak). */
  | { status: "not_found" }
  | { status: "forbidden"; detail: string }
  /** The organization is visible, the member (or invitation) named is not in it. */
  | { status: "no_member" }
  | { status: "last_owner" }
  | { status: "seat_limit" }
  | { status: "conflict"; detail: string }
  | { status: "invalid"; detail: string }
  | { status: "invitation_invalid" }
  /** Accepted by a signed-in user whose verified address is not the invited one. */
  | { status: "wrong_address" };

export type Outcome<T> = ({ status: "ok" } & T) | Refusal;

/** The signed-in user an operation is for. */
export interface Actor {
  userId: string;
  /** The request's client, for the events the operation records. */
  client: ClientInfo | null;
}

export interface NewOrg {
  id: string;
  name: string;
  slug: string;
  ownerId: string;
}

export interface NewInvitation {
  id: string;
  email: string;
  role: string;
  tokenHash: string;
  expiresAt: number;
  /** The user who already has this address, if any (an existing member is refused). */
  existingUserId: string | null;
  /** ORG_MAX_MEMBERS (null: no limit). */
  maxMembers: number | null;
}
