// What the Worker and a user's authority exchange about OAuth grants.
import type { PublicUser } from "../../users/user-view";
import type { Assurance, AuthMethod } from "../session-policy";

/** A validated authorization request, as the consent page and the code carry it. */
export interface AuthorizationRequest {
  clientId: string;
  clientName: string;
  /** Dynamic and metadata-document clients are "not verified". */
  verified: boolean;
  redirectUri: string;
  scopes: string[];
  resources: string[];
  state: string | null;
  nonce: string | null;
  codeChallenge: string;
  /** Whether the authorization request named its redirect_uri (then the token request must too, RFC 6749 §4.1.3). */
  redirectUriSent?: boolean;
  /** `acr_values=aal2` or the client's require_aal. */
  aalRequired: 1 | 2;
  /** A device authorization (RFC 8628): its user code; the decision answers no redirect. */
  device?: { userCode: string };
}

export interface RequestView {
  client: { client_id: string; name: string; verified: boolean; redirect_host: string | null };
  scopes: string[];
  resources: string[];
  aal_required: 1 | 2;
}

/** The signed-in session that authorizes. */
export interface AuthorizingSession {
  id: string;
  assurance: Pick<Assurance, "aal" | "amr" | "authTime">;
}

export interface NewCode {
  id: string;
  secretHash: string;
  code: string;
}

export type AuthorizeOutcome =
  | { status: "code"; code: string }
  | { status: "consent_required"; requestId: string }
  | { status: "consent_required_error" }
  | { status: "aal_required" }
  | { status: "refused" };

export type Decision =
  | { status: "code"; code: string; request: AuthorizationRequest }
  | { status: "denied"; request: AuthorizationRequest }
  | { status: "unknown" };

/** What a redeemed code or a rotated refresh token yields: enough to sign the tokens. */
export interface GrantTokens {
  grantId: string;
  /** The user as the authority knows it now (the ID token's and UserInfo's claims). */
  user: PublicUser;
  clientId: string;
  scopes: string[];
  resources: string[];
  nonce: string | null;
  assurance: { aal: 1 | 2; amr: AuthMethod[]; authTime: number };
  /** The refresh token to hand out (null: the grant has none). */
  refreshToken: string | null;
  refreshExpiresIn: number | null;
  /** Seconds; fixed so a replay inside the grace window signs the same token. */
  issuedAt: number;
  jti: string;
}

export type Redemption =
  { status: "issued"; tokens: GrantTokens } | { status: "invalid_grant" | "invalid_scope" | "invalid_target"; detail: string };

export interface GrantView {
  grant_id: string;
  client_id: string;
  client_name: string;
  scopes: string[];
  resources: string[];
  created_at: string;
  last_used_at: string;
}

/** An active grant's access token as introspection describes it. */
export type TokenStanding = { clientId: string; username: string | null };

export type GrantStatus =
  { status: "active"; grant: { clientId: string; scopes: string[]; resources: string[] }; user: PublicUser } | { status: "inactive" };
