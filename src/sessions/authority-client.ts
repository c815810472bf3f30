// How the Worker talks to a user's authority. Every call that can change what reads
// see (sessions, token families, the user object) also drops this isolate's copies of
// that user, so no caller has to remember to (the isolate's own next read sees it).
// The stub is made on the first call: a read answered from a cache never needs one.
// Idempotent calls (reads, and revocations, whose second run finds the work done) are
// retried once when the platform marks the error retryable, on a fresh stub; the others
// are not (docs/concepts/consistency.md, "Failures, retries and bounds": how each write stays exactly-once).
import type { AddressProof } from "../user-authority/address-proof";
import type { AuditEntry } from "../user-authority/audit-outbox";
import type { ToldStanding } from "../user-authority/org-standings";
import type { EmailProof, EmailSignInGrant } from "../user-authority/email-sign-ins";
import type {
  AttemptRefusal,
  CallerAction,
  CallerProof,
  Challenge,
  FactorProof,
  NewPasskey,
  NewSession,
  PasswordVerdict,
  SessionCreation,
  SignInKind,
  ThrottlePolicy,
  UserAuthority,
} from "../user-authority/user-authority";
import { type AuthorityNamespace, AuthorityStub } from "./authority-stub";

export type { AuthorityNamespace } from "./authority-stub";

export function authorityFor(namespace: AuthorityNamespace, userId: string): AuthorityClient {
  return new AuthorityClient(namespace, userId);
}

export class AuthorityClient extends AuthorityStub {
  createSession(input: NewSession, maxSessions: number) {
    return this.changing(() => this.stub.createSession(input, maxSessions));
  }

  /**
   * Opens a session or token family; with a password's `verdict`, the account's throttle
   * judges it in the same call (password-ops.ts). Not retried: a verdict is counted once.
   */
  async openSession(input: NewSession, maxSessions: number, verdict?: PasswordVerdict): Promise<SessionCreation | AttemptRefusal> {
    if (verdict === undefined) return this.createSession(input, maxSessions);
    return this.changing(() => this.stub.passwordSignIn(input, maxSessions, verdict));
  }

  async checkPassword(verdict: PasswordVerdict): Promise<AttemptRefusal | { status: "ok" }> {
    return this.stub.checkPassword(verdict);
  }

  clearLoginFailures() {
    return this.idempotent((stub) => stub.clearLoginFailures());
  }

  /** Retried with the same nonce: a second run answers what the first did (caller-ops.ts). */
  act(proof: CallerProof, action: CallerAction) {
    const nonce = crypto.randomUUID();
    return this.changing(() => this.idempotent((stub) => stub.act(proof, action, nonce)));
  }

  authorize(id: string, secretHash: string) {
    return this.idempotent((stub) => stub.authorize(id, secretHash));
  }

  touch(id: string, secretHash: string) {
    return this.idempotent((stub) => stub.touch(id, secretHash));
  }

  authorizeFamily(familyId: string, issuedAtSeconds: number) {
    return this.idempotent((stub) => stub.authorizeFamily(familyId, issuedAtSeconds));
  }

  rotateRefreshToken(familyId: string, presentedHash: string, candidate: { secretHash: string; refreshToken: string }, graceMs: number) {
    return this.changing(() => this.stub.rotateRefreshToken(familyId, presentedHash, candidate, graceMs));
  }

  revokeRefreshToken(familyId: string, presentedHash: string) {
    return this.changing(() => this.idempotent((stub) => stub.revokeRefreshToken(familyId, presentedHash)));
  }

  listSessions() {
    return this.idempotent((stub) => stub.listSessions());
  }

  setActiveOrg(id: string, orgId: string | null, told?: ToldStanding) {
    return this.changing(() => this.idempotent((stub) => stub.setActiveOrg(id, orgId, told)));
  }

  revokeSession(id: string, audit?: AuditEntry) {
    return this.changing(() => this.idempotent((stub) => stub.revokeSession(id, audit)));
  }

  revokeAll(exceptId: string | null, audit?: AuditEntry) {
    return this.changing(() => this.idempotent((stub) => stub.revokeAll(exceptId, audit)));
  }

  credentialsChanged(epoch: number, keepSessionId: string | null) {
    return this.changing(() => this.idempotent((stub) => stub.credentialsChanged(epoch, keepSessionId)));
  }

  updateUser(user: Parameters<UserAuthority["updateUser"]>[0]) {
    return this.changing(() => this.stub.updateUser(user));
  }

  deleteAccount(audit?: AuditEntry) {
    return this.changing(() => this.stub.deleteAccount(audit));
  }

  isActive() {
    return this.idempotent((stub) => stub.isActive());
  }

  hasSession(id: string) {
    return this.idempotent((stub) => stub.hasSession(id));
  }

  readPrincipal() {
    return this.idempotent((stub) => stub.readPrincipal());
  }

  reserveApiKey(id: string, sessionId: string, max: number, known: string[] | null) {
    return this.stub.reserveApiKey(id, sessionId, max, known);
  }

  holdsApiKey(id: string) {
    return this.idempotent((stub) => stub.holdsApiKey(id));
  }

  proveAddress(proof: AddressProof, options: { boundInRecord: boolean; knownKeyIds: string[] }) {
    return this.changing(() => this.stub.proveAddress(proof, options));
  }

  forgetAddressProof() {
    return this.idempotent((stub) => stub.forgetAddressProof());
  }

  releaseApiKey(id: string) {
    return this.stub.releaseApiKey(id);
  }

  issueEmailSignIn(grant: EmailSignInGrant) {
    return this.stub.issueEmailSignIn(grant);
  }

  /** PASSWORDLESS_SIGNUP: a link or code of an account not made yet (email-sign-ins.ts). Not retried. */
  takeSignUp(proof: EmailProof, kind: SignInKind) {
    return this.stub.takeSignUp(proof, kind);
  }

  /** Not retried: a link or code is used once, a wrong code counted once. */
  emailSignIn(input: NewSession, maxSessions: number, proof: EmailProof, record: { boundInRecord: boolean; knownKeyIds: string[] }) {
    return this.changing(() => this.stub.emailSignIn(input, maxSessions, proof, record));
  }

  takeMailSlot(purpose: string, address: string, maxPerHour: number) {
    return this.stub.takeMailSlot(purpose, address, maxPerHour);
  }

  listFactors() {
    return this.idempotent((stub) => stub.listFactors());
  }

  passkeys() {
    return this.idempotent((stub) => stub.passkeys());
  }

  pendingPasskeys(pendingId: string, tokenHash: string) {
    return this.idempotent((stub) => stub.pendingPasskeys(pendingId, tokenHash));
  }

  addPendingTotp(id: string, name: string, box: string, sessionId: string) {
    return this.stub.addPendingTotp(id, name, box, sessionId);
  }

  confirmTotp(factorId: string, proof: FactorProof, sessionId: string, recoveryHashes: string[], policy: ThrottlePolicy) {
    return this.changing(() => this.stub.confirmTotp(factorId, proof, sessionId, recoveryHashes, policy));
  }

  addPasskey(passkey: NewPasskey, challenge: Challenge, sessionId: string, recoveryHashes: string[]) {
    return this.changing(() => this.stub.addPasskey(passkey, challenge, sessionId, recoveryHashes));
  }

  removeFactor(factorId: string, sessionId: string) {
    return this.changing(() => this.stub.removeFactor(factorId, sessionId));
  }

  replaceRecoveryCodes(hashes: string[]) {
    return this.stub.replaceRecoveryCodes(hashes);
  }

  completeSignIn(
    pendingId: string,
    tokenHash: string,
    proof: FactorProof,
    fresh: { id: string; secretHash: string; csrfHash: string | null },
    maxSessions: number,
    policy: ThrottlePolicy,
  ) {
    return this.changing(() => this.stub.completeSignIn(pendingId, tokenHash, proof, fresh, maxSessions, policy));
  }

  reauthenticate(sessionId: string, proof: FactorProof | { method: "password" }, policy: ThrottlePolicy) {
    return this.changing(() => this.stub.reauthenticate(sessionId, proof, policy));
  }

  passkeySignIn(proof: FactorProof, input: NewSession, maxSessions: number) {
    return this.changing(() => this.stub.passkeySignIn(proof, input, maxSessions));
  }

  summary() {
    return this.idempotent((stub) => stub.summary());
  }

  setDisabled(disabled: boolean, audit?: AuditEntry) {
    return this.changing(() => this.idempotent((stub) => stub.setDisabled(disabled, audit)));
  }

  removeAllFactors(audit?: AuditEntry) {
    return this.changing(() => this.stub.removeAllFactors(audit));
  }
}
