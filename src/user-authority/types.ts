// What the UserAuthority's methods take and answer (its RPC surface).
import type { ClientInfo } from "../http/client-info";
import type { PublicUser } from "../users/user-view";
import type { BoxKey } from "../lib/secret-box";
import type { Assurance, AuthMethod, CachedSession, SessionKind } from "./session-policy";

/** What a sign-in opens: a cookie session or a token family (a grant is made by the OAuth server's code redemption). */
export type SignInKind = Exclude<SessionKind, "oauth">;

export interface NewSession {
  id: string;
  kind: SignInKind;
  secretHash: string;
  csrfHash: string | null;
  idleMs: number;
  absoluteMs: number;
  client: ClientInfo;
  user: PublicUser;
  /** The users.credential_epoch the first factor was checked against. */
  credentialEpoch: number;
  /** The factors this sign-in proved. One factor, for a user with a second one, ends at the MFA gate. */
  assurance: { aal: 1 | 2; amr: AuthMethod[] };
  /** Where the sign-in waits for its second factor, if the gate stops it. */
  mfa: MfaTicket;
  /**
   * When the credential this sign-in rests on was made, for those a proof of the address
   * ends (an OAuth link, an app code from one): one made before the proof opens nothing.
   */
  madeAt?: number;
  /** The organization it starts in (POST /api/v1/auth/token's org_id, a membership already checked). */
  activeOrg?: string | null;
}

/** The mfa_token's place in the authority (`id`) and its hash, and what to answer once verified. */
export interface MfaTicket {
  id: string;
  tokenHash: string;
  answer: SignInAnswer;
}

/** What the first factor would have answered: the Worker answers the same after the second. */
export interface SignInAnswer {
  /** login: `{user, csrf_token}` and cookies; oauth: the same plus `is_new_user`; token: a token pair. */
  kind: "login" | "oauth" | "token";
  rememberMe: boolean;
  isNewUser: boolean;
  /** For the login_succeeded event. */
  method: string;
  /** A token sign-in's organization (POST /api/v1/auth/token's org_id), kept through the second factor. */
  orgId?: string | null;
}

export type SecondFactorMethod = "totp" | "recovery_code" | "webauthn";

export type SessionCreation =
  | { status: "created"; evicted: string[]; newDevice: boolean; assurance: Assurance }
  | { status: "mfa_required"; methods: SecondFactorMethod[] }
  /** An admin disabled the account: answered only after a correct first factor. */
  | { status: "disabled" }
  | { status: "refused" };

/** A second factor as the Worker hands it to the authority. A passkey assertion was verified by the Worker against the stored key. */
export type FactorProof =
  | { method: "totp"; code: string; keys: BoxKey[] }
  | { method: "recovery_code"; codeHash: string }
  | { method: "webauthn"; verified: false }
  | { method: "webauthn"; verified: true; credentialId: string; counter: number; userVerified: boolean; challenge: Challenge };

/** A WebAuthn challenge the Worker has checked it issued: its hash and when it expires. */
export interface Challenge {
  hash: string;
  expiresAt: number;
}

export interface ThrottlePolicy {
  maxAttempts: number;
  windowMs: number;
}

export type ProofRefusal =
  | { status: "invalid_code"; stepUsed?: true }
  | { status: "throttled"; retryAfterSeconds: number }
  | { status: "invalid_token" }
  | { status: "refused" }
  | { status: "disabled" };

/** What the admin list shows of a user, as the user's authority knows it. */
export interface AuthoritySummary {
  disabled: boolean;
  mfaEnabled: boolean;
  sessionCount: number;
  lastLoginAt: number | null;
}

export type SignInCompletion =
  | {
      status: "created";
      kind: SignInKind;
      answer: SignInAnswer;
      user: PublicUser;
      newDevice: boolean;
      assurance: Assurance;
      absoluteMs: number;
      recoveryCodeUsed: boolean;
    }
  | ProofRefusal;

export interface FactorView {
  id: string;
  type: "totp" | "webauthn";
  name: string;
  created_at: string;
  last_used_at: string | null;
}

export interface StoredPasskey {
  id: string;
  credentialId: string;
  publicKey: string;
  counter: number;
  transports: string[];
}

export interface NewPasskey {
  id: string;
  name: string;
  credentialId: string;
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: string;
  backedUp: boolean;
}

export type FactorAdded =
  | { status: "added"; factor: FactorView; recoveryIssued: boolean }
  | ProofRefusal
  | { status: "not_found" }
  /** The user already has a factor and the session asking is at aal 1: it must prove one of them first. */
  | { status: "second_factor_required" };

export type Authorization =
  { status: "valid"; session: CachedSession; csrfHash: string | null } | { status: "expired" } | { status: "unknown" };

export type FamilyAuthorization = { status: "valid"; user: PublicUser; createdAt: number; assurance: Assurance } | { status: "unknown" };

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

/**
 * A rotation's result: the new refresh token and the claims its access token carries.
 * The Worker signs with exactly these claims, so a replay inside the grace period gets
 * the same access token (byte for byte with HS256 and EdDSA, which sign deterministically).
 */
export interface RotatedFamily {
  refreshToken: string;
  refreshExpiresIn: number;
  /** Seconds. */
  issuedAt: number;
  jti: string;
  assurance: Assurance;
  /** The organization the family acts in: its tokens carry that organization's claims. */
  activeOrg: string | null;
}

export type Rotation = { status: "rotated"; family: RotatedFamily } | { status: "reused" } | { status: "invalid" };

export type Reservation = "reserved" | "too_many" | "gone" | "needs_seed";

export type MailSlot = { status: "allowed" } | { status: "rate_limited"; retryAfterSeconds: number } | { status: "gone" };

/**
 * The credential of a request that acts on its own user's sessions (logout, logout-all,
 * refresh-csrf, ending one session), checked by the authority in the same call that acts.
 * A cookie carries the hash of the X-CSRF-Token header it came with (null: none sent;
 * "skip": the route takes none) and whether its Origin was foreign.
 */
export type CallerProof =
  | { kind: "cookie"; id: string; secretHash: string; csrfHash: string | null | "skip"; foreignOrigin: boolean }
  | { kind: "family"; familyId: string; issuedAtSeconds: number };

export type CallerAction =
  { kind: "end_session"; id: string } | { kind: "end_all"; keepCurrent: boolean } | { kind: "rotate_csrf"; csrfHash: string };

export type CallerOutcome =
  | { status: "unknown" | "expired" | "foreign_origin" | "csrf_missing" | "csrf_invalid" }
  /** `ended`: how many sessions the action ended; `absoluteExpiresAt`: the caller's session's (ms). */
  | { status: "done"; ended: number; absoluteExpiresAt: number };

/**
 * A password checked by the Worker, for the account's login throttle, which its
 * authority keeps: the verdict is counted (a wrong one is a failure, a right one clears
 * them) or refused unrevealed while the account is locked, in order with every other
 * decision about the user.
 */
export interface PasswordVerdict {
  verified: boolean;
  policy: ThrottlePolicy;
}

export type AttemptRefusal =
  | { status: "throttled"; retryAfterSeconds: number; /** The first refusal of this lockout. */ firstRefusal: boolean }
  | { status: "invalid" };
