// How the OAuth server talks to a user's authority about grants (user-authority/
// oauth-grants/). Like sessions/authority-client.ts: a call that can change what reads
// see drops this isolate's copies of the user; reads and revocations (a second run
// finds the work done) are retried once when the platform says they may be; redeeming
// and rotating are not (each is decided exactly once).
import { retryOnce } from "../lib/platform-errors";
import type { AuthorityNamespace } from "../sessions/authority-client";
import { forgetUser } from "../sessions/isolate-memory";
import type { UserAuthority } from "../user-authority/user-authority";

type Stub = DurableObjectStub<UserAuthority>;

export class GrantClient {
  #stub: Stub | undefined;

  constructor(
    private readonly namespace: AuthorityNamespace,
    private readonly userId: string,
  ) {}

  private get stub(): Stub {
    this.#stub ??= this.namespace.getByName(this.userId);
    return this.#stub;
  }

  private async changing<T>(call: () => T): Promise<Awaited<T>> {
    try {
      return await call();
    } finally {
      forgetUser(this.userId);
    }
  }

  private idempotent<R>(call: (stub: Stub) => R): Promise<Awaited<R>> {
    return retryOnce((attempt) => {
      if (attempt > 0) this.#stub = undefined;
      return call(this.stub);
    });
  }

  authorize(input: Parameters<UserAuthority["oauthAuthorize"]>[0]) {
    return this.stub.oauthAuthorize(input);
  }

  pendingRequest(requestId: string) {
    return this.idempotent((stub) => stub.oauthPendingRequest(requestId));
  }

  decide(...args: Parameters<UserAuthority["oauthDecide"]>) {
    return this.stub.oauthDecide(...args);
  }

  redeem(...args: Parameters<UserAuthority["oauthRedeem"]>) {
    return this.changing(() => this.stub.oauthRedeem(...args));
  }

  rotate(...args: Parameters<UserAuthority["oauthRotate"]>) {
    return this.changing(() => this.stub.oauthRotate(...args));
  }

  revoke(...args: Parameters<UserAuthority["oauthRevoke"]>) {
    return this.changing(() => this.idempotent((stub) => stub.oauthRevoke(...args)));
  }

  revokeClient(clientId: string) {
    return this.changing(() => this.idempotent((stub) => stub.oauthRevokeClient(clientId)));
  }

  grants() {
    return this.idempotent((stub) => stub.oauthGrants());
  }

  status(grantId: string, issuedAtSeconds: number) {
    return this.idempotent((stub) => stub.oauthGrantStatus(grantId, issuedAtSeconds));
  }
}

export function grantsOf(namespace: AuthorityNamespace, userId: string): GrantClient {
  return new GrantClient(namespace, userId);
}
