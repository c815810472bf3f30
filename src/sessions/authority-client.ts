// How the Worker talks to a user's authority. Every call that can change what reads
// see (sessions, token families, the user object) also drops this isolate's copies of
// that user, so no caller has to remember to (the isolate's own next read sees it).
import type { NewSession, TokenPair, UserAuthority } from "./authority/user-authority";
import { forgetUser } from "./isolate-memory";

export type AuthorityNamespace = DurableObjectNamespace<UserAuthority>;

export function authorityFor(namespace: AuthorityNamespace, userId: string) {
  const stub = namespace.getByName(userId);
  async function changing<T>(call: T): Promise<Awaited<T>> {
    try {
      return await call;
    } finally {
      forgetUser(userId);
    }
  }
  return {
    createSession: (input: NewSession, maxSessions: number) => changing(stub.createSession(input, maxSessions)),
    authorize: (id: string, secretHash: string) => stub.authorize(id, secretHash),
    touch: (id: string, secretHash: string) => stub.touch(id, secretHash),
    authorizeFamily: (familyId: string, issuedAtSeconds: number) => stub.authorizeFamily(familyId, issuedAtSeconds),
    rotateCsrf: (id: string, secretHash: string, csrfHash: string) => stub.rotateCsrf(id, secretHash, csrfHash),
    rotateRefreshToken: (familyId: string, presentedHash: string, candidate: { secretHash: string; pair: TokenPair }, graceMs: number) =>
      changing(stub.rotateRefreshToken(familyId, presentedHash, candidate, graceMs)),
    revokeRefreshToken: (familyId: string, presentedHash: string) => changing(stub.revokeRefreshToken(familyId, presentedHash)),
    listSessions: () => stub.listSessions(),
    revokeSession: (id: string) => changing(stub.revokeSession(id)),
    revokeAll: (exceptId: string | null) => changing(stub.revokeAll(exceptId)),
    credentialsChanged: (epoch: number, keepSessionId: string | null) => changing(stub.credentialsChanged(epoch, keepSessionId)),
    updateUser: (user: Parameters<UserAuthority["updateUser"]>[0]) => changing(stub.updateUser(user)),
    deleteAccount: () => changing(stub.deleteAccount()),
    isActive: () => stub.isActive(),
    hasSession: (id: string) => stub.hasSession(id),
    readPrincipal: () => stub.readPrincipal(),
    reserveApiKey: (id: string, max: number, known: string[] | null) => stub.reserveApiKey(id, max, known),
    releaseApiKey: (id: string) => stub.releaseApiKey(id),
    takeMailSlot: (purpose: string, address: string, maxPerHour: number) => stub.takeMailSlot(purpose, address, maxPerHour),
  };
}

export type AuthorityClient = ReturnType<typeof authorityFor>;
