// How the Worker talks to a user's authority. Every call that can change what reads
// see (sessions, token families, the user object) also drops this isolate's copies of
// that user, so no caller has to remember to (the isolate's own next read sees it).
// The stub is made on the first call: a read answered from a cache never needs one.
import type { NewSession, TokenPair, UserAuthority } from "./authority/user-authority";
import { forgetUser } from "./isolate-memory";

export type AuthorityNamespace = DurableObjectNamespace<UserAuthority>;

export function authorityFor(namespace: AuthorityNamespace, userId: string): AuthorityClient {
  return new AuthorityClient(namespace, userId);
}

export class AuthorityClient {
  #stub: DurableObjectStub<UserAuthority> | undefined;

  constructor(
    private readonly namespace: AuthorityNamespace,
    private readonly userId: string,
  ) {}

  private get stub(): DurableObjectStub<UserAuthority> {
    this.#stub ??= this.namespace.getByName(this.userId);
    return this.#stub;
  }

  /** Runs a changing call, then forgets this isolate's copies of the user (also when it failed). */
  private async changing<T>(call: () => T): Promise<Awaited<T>> {
    try {
      return await call();
    } finally {
      forgetUser(this.userId);
    }
  }

  createSession(input: NewSession, maxSessions: number) {
    return this.changing(() => this.stub.createSession(input, maxSessions));
  }

  authorize(id: string, secretHash: string) {
    return this.stub.authorize(id, secretHash);
  }

  touch(id: string, secretHash: string) {
    return this.stub.touch(id, secretHash);
  }

  authorizeFamily(familyId: string, issuedAtSeconds: number) {
    return this.stub.authorizeFamily(familyId, issuedAtSeconds);
  }

  rotateCsrf(id: string, secretHash: string, csrfHash: string) {
    return this.stub.rotateCsrf(id, secretHash, csrfHash);
  }

  rotateRefreshToken(familyId: string, presentedHash: string, candidate: { secretHash: string; pair: TokenPair }, graceMs: number) {
    return this.changing(() => this.stub.rotateRefreshToken(familyId, presentedHash, candidate, graceMs));
  }

  revokeRefreshToken(familyId: string, presentedHash: string) {
    return this.changing(() => this.stub.revokeRefreshToken(familyId, presentedHash));
  }

  listSessions() {
    return this.stub.listSessions();
  }

  revokeSession(id: string) {
    return this.changing(() => this.stub.revokeSession(id));
  }

  revokeAll(exceptId: string | null) {
    return this.changing(() => this.stub.revokeAll(exceptId));
  }

  credentialsChanged(epoch: number, keepSessionId: string | null) {
    return this.changing(() => this.stub.credentialsChanged(epoch, keepSessionId));
  }

  updateUser(user: Parameters<UserAuthority["updateUser"]>[0]) {
    return this.changing(() => this.stub.updateUser(user));
  }

  deleteAccount() {
    return this.changing(() => this.stub.deleteAccount());
  }

  isActive() {
    return this.stub.isActive();
  }

  hasSession(id: string) {
    return this.stub.hasSession(id);
  }

  readPrincipal() {
    return this.stub.readPrincipal();
  }

  reserveApiKey(id: string, max: number, known: string[] | null) {
    return this.stub.reserveApiKey(id, max, known);
  }

  releaseApiKey(id: string) {
    return this.stub.releaseApiKey(id);
  }

  takeMailSlot(purpose: string, address: string, maxPerHour: number) {
    return this.stub.takeMailSlot(purpose, address, maxPerHour);
  }
}
