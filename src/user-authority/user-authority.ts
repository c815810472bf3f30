// The per-user authority: one SQLite-backed Durable Object per user, named by its id. Every
// decision about the user is made here, in order (sessions, token families, OAuth grants, the
// MFA gate, factors, caps, rotation, revocation, the account's state, a proof of its address);
// D1 keeps records and never decides a race. Composed of the parts that own its tables
// (parts.ts) and the operations on them, each in its own file; this class is the RPC surface.
import { DurableObject } from "cloudflare:workers";
import type { PublicUser } from "../users/user-view";
import { AccountOps } from "./account-ops";
import { CallerOps } from "./caller-ops";
import { PasswordOps } from "./password-ops";
import type { AddressProof, ProofEffect } from "./address-proof";
import type { AuditEntry } from "./audit-outbox";
import { FactorOps, type ReauthProof } from "./factor-ops";
import { OAuthGrantOps } from "./oauth-grants/grant-ops";
import { grantStanding } from "./oauth-grants/grant-reads";
import { OAuthRequestOps } from "./oauth-grants/requests";
import type * as G from "./oauth-grants/types";
import { type MemberStanding, type ToldStanding, orgStandingChanged } from "./org-standings";
import { AuthorityParts } from "./parts";
import { type EmailProof, type EmailSignInGrant, emailSignIn, issueEmailSignIn, takeSignUp } from "./email-sign-ins";
import type { PrincipalRecord } from "./principal-record";
import { SessionOps } from "./session-ops";
import type { SessionInfo } from "./session-policy";
import { SignInOps } from "./sign-in-ops";
import type * as T from "./types";
export type * from "./types";

export class UserAuthority extends DurableObject<Env> {
  private readonly parts: AuthorityParts;
  private readonly sessions: SessionOps;
  private readonly signIns: SignInOps;
  private readonly factorOps: FactorOps;
  private readonly account: AccountOps;
  private readonly callers: CallerOps;
  private readonly passwords: PasswordOps;
  private readonly grants: OAuthGrantOps;
  private readonly requests: OAuthRequestOps;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.parts = new AuthorityParts(ctx, env);
    this.sessions = new SessionOps(this.parts);
    this.factorOps = new FactorOps(this.parts);
    this.signIns = new SignInOps(this.parts, this.sessions, this.factorOps);
    this.account = new AccountOps(this.parts);
    this.callers = new CallerOps(this.parts, this.sessions);
    this.passwords = new PasswordOps(this.parts, this.sessions);
    this.grants = new OAuthGrantOps(this.parts);
    this.requests = new OAuthRequestOps(this.parts);
  }

  createSession(input: T.NewSession, maxSessions: number): Promise<T.SessionCreation> {
    return this.sessions.createSession(input, maxSessions);
  }

  passwordSignIn(input: T.NewSession, maxSessions: number, verdict: T.PasswordVerdict): Promise<T.SessionCreation | T.AttemptRefusal> {
    return this.passwords.signIn(input, maxSessions, verdict);
  }

  checkPassword(verdict: T.PasswordVerdict): T.AttemptRefusal | { status: "ok" } {
    return this.passwords.check(verdict);
  }

  clearLoginFailures(): void {
    this.passwords.clear();
  }

  act(proof: T.CallerProof, action: T.CallerAction, nonce: string): Promise<T.CallerOutcome> {
    return this.callers.act(proof, action, nonce);
  }

  authorize(id: string, secretHash: string): Promise<T.Authorization> {
    return this.sessions.authorize(id, secretHash);
  }

  touch(id: string, secretHash: string): Promise<T.Authorization> {
    return this.sessions.touch(id, secretHash);
  }

  authorizeFamily(familyId: string, issuedAtSeconds: number): T.FamilyAuthorization {
    return this.sessions.authorizeFamily(familyId, issuedAtSeconds);
  }

  rotateRefreshToken(...args: Parameters<SessionOps["rotateRefreshToken"]>): Promise<T.Rotation> {
    return this.sessions.rotateRefreshToken(...args);
  }

  revokeRefreshToken(familyId: string, presentedHash: string): Promise<boolean> {
    return this.sessions.revokeRefreshToken(familyId, presentedHash);
  }

  listSessions(): SessionInfo[] {
    return this.sessions.listSessions();
  }

  setActiveOrg(id: string, orgId: string | null, told?: ToldStanding): Promise<boolean> {
    return this.sessions.setActiveOrg(id, orgId, told);
  }

  orgStandingChanged(orgId: string, seq: number, standing: MemberStanding | null): Promise<void> {
    return orgStandingChanged(this.parts, orgId, seq, standing);
  }

  revokeSession(id: string, audit?: AuditEntry): Promise<boolean> {
    return this.sessions.revokeSession(id, audit);
  }

  revokeAll(exceptId: string | null, audit?: AuditEntry): Promise<number> {
    return this.sessions.revokeAll(exceptId, audit);
  }

  credentialsChanged(epoch: number, keepSessionId: string | null): Promise<number> {
    return this.sessions.credentialsChanged(epoch, keepSessionId);
  }

  isActive(): boolean {
    return this.sessions.isActive();
  }

  readPrincipal(): Promise<PrincipalRecord | null> {
    return this.sessions.readPrincipal();
  }

  pendingPasskeys(pendingId: string, tokenHash: string): T.StoredPasskey[] | null {
    return this.signIns.pendingPasskeys(pendingId, tokenHash);
  }

  completeSignIn(...args: Parameters<SignInOps["completeSignIn"]>): Promise<T.SignInCompletion> {
    return this.signIns.completeSignIn(...args);
  }

  passkeySignIn(proof: T.FactorProof, input: T.NewSession, maxSessions: number): Promise<T.SessionCreation | T.ProofRefusal> {
    return this.signIns.passkeySignIn(proof, input, maxSessions);
  }

  listFactors() {
    return this.factorOps.listFactors();
  }
  passkeys(): T.StoredPasskey[] {
    return this.factorOps.passkeys();
  }
  addPendingTotp(id: string, name: string, box: string, sessionId: string): "added" | "refused" | "second_factor_required" {
    return this.factorOps.addPendingTotp(id, name, box, sessionId);
  }
  confirmTotp(factorId: string, proof: T.FactorProof, sessionId: string, recoveryHashes: string[], policy: T.ThrottlePolicy) {
    return this.factorOps.confirmTotp(factorId, proof, sessionId, recoveryHashes, policy);
  }
  addPasskey(passkey: T.NewPasskey, challenge: T.Challenge, sessionId: string, recoveryHashes: string[]): Promise<T.FactorAdded> {
    return this.factorOps.addPasskey(passkey, challenge, sessionId, recoveryHashes);
  }
  removeFactor(...args: Parameters<FactorOps["removeFactor"]>) {
    return this.factorOps.removeFactor(...args);
  }
  replaceRecoveryCodes(hashes: string[]): boolean {
    return this.factorOps.replaceRecoveryCodes(hashes);
  }
  reauthenticate(sessionId: string, proof: ReauthProof, policy: T.ThrottlePolicy) {
    return this.factorOps.reauthenticate(sessionId, proof, policy);
  }

  updateUser(user: PublicUser): Promise<void> {
    return this.account.updateUser(user);
  }
  deleteAccount(audit?: AuditEntry): Promise<{ keyIds: string[] }> {
    return this.account.deleteAccount(audit);
  }
  setDisabled(disabled: boolean, audit?: AuditEntry): Promise<{ keyIds: string[]; generation: number }> {
    return this.account.setDisabled(disabled, audit);
  }
  proveAddress(proof: AddressProof, options: { boundInRecord: boolean; knownKeyIds: string[] }): Promise<ProofEffect | null> {
    return this.account.proveAddress(proof, options);
  }
  summary(): T.AuthoritySummary {
    return this.account.summary();
  }
  removeAllFactors(audit?: AuditEntry): Promise<number> {
    return this.account.removeAllFactors(audit);
  }
  reserveApiKey(id: string, sessionId: string, max: number, known: string[] | null): T.Reservation {
    return this.account.reserveApiKey(id, sessionId, max, known);
  }
  holdsApiKey(id: string): boolean {
    return this.account.holdsApiKey(id);
  }
  releaseApiKey(id: string): void {
    return this.account.releaseApiKey(id);
  }
  takeMailSlot(purpose: string, address: string, maxPerHour: number): T.MailSlot {
    return this.account.takeMailSlot(purpose, address, maxPerHour);
  }
  forgetAddressProof(): void {
    this.account.forgetAddressProof();
  }

  oauthAuthorize(input: Parameters<OAuthRequestOps["authorize"]>[0]): G.AuthorizeOutcome {
    return this.requests.authorize(input);
  }
  oauthPendingRequest(requestId: string): G.AuthorizationRequest | null {
    return this.requests.pendingRequest(requestId);
  }
  oauthDecide(requestId: string, allow: boolean, session: G.AuthorizingSession, code: G.NewCode) {
    return this.requests.decide(requestId, allow, session, code);
  }
  oauthRedeem(...args: Parameters<OAuthGrantOps["redeem"]>): Promise<G.Redemption> {
    return this.grants.redeem(...args);
  }
  oauthRotate(...args: Parameters<OAuthGrantOps["rotate"]>): Promise<G.Redemption | { status: "reused" }> {
    return this.grants.rotate(...args);
  }
  oauthRevoke(grantId: string, byClient?: { clientId: string; presentedHash: string | null }, adminEntry?: AuditEntry): Promise<boolean> {
    return this.grants.revoke(grantId, byClient, adminEntry);
  }
  oauthRevokeClient(clientId: string): Promise<number> {
    return this.grants.revokeClient(clientId);
  }
  oauthGrants(): G.GrantView[] {
    return this.grants.list();
  }
  oauthGrantStatus(grantId: string, issuedAtSeconds: number): G.GrantStatus {
    return this.grants.status(grantId, issuedAtSeconds);
  }
  oauthTokenStanding(grantId: string, issuedAtSeconds: number): G.TokenStanding | null {
    return grantStanding(this.parts, grantId, issuedAtSeconds);
  }

  issueEmailSignIn(grant: EmailSignInGrant): boolean {
    return issueEmailSignIn(this.parts, grant);
  }
  takeSignUp(proof: EmailProof, kind: T.SignInKind) {
    return takeSignUp(this.parts, proof, kind);
  }
  emailSignIn(input: T.NewSession, maxSessions: number, proof: EmailProof, record: { boundInRecord: boolean; knownKeyIds: string[] }) {
    return emailSignIn(this.parts, this.sessions, input, maxSessions, proof, record);
  }
  hasSession(id: string): boolean {
    return this.parts.hasSession(id);
  }

  override async alarm(): Promise<void> {
    await this.parts.runAlarm();
  }
}
