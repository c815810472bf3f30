// What every client of a user's authority shares (sessions/authority-client.ts for
// sessions and the account, oauth-server/grant-client.ts for OAuth grants): the stub,
// made on the first call; a changing call that drops this isolate's copies of the user
// afterwards (also when it failed); an idempotent call retried once, on a fresh stub,
// when the platform marks the error retryable.
import { retryOnce } from "../lib/platform-errors";
import type { UserAuthority } from "../user-authority/user-authority";
import { forgetUser } from "./isolate-memory";

export type AuthorityNamespace = DurableObjectNamespace<UserAuthority>;
type Stub = DurableObjectStub<UserAuthority>;

export abstract class AuthorityStub {
  #stub: Stub | undefined;

  constructor(
    private readonly namespace: AuthorityNamespace,
    protected readonly userId: string,
  ) {}

  protected get stub(): Stub {
    this.#stub ??= this.namespace.getByName(this.userId);
    return this.#stub;
  }

  /** Runs a changing call, then forgets this isolate's copies of the user (also when it failed). */
  protected async changing<T>(call: () => T): Promise<Awaited<T>> {
    try {
      return await call();
    } finally {
      forgetUser(this.userId);
    }
  }

  /** An idempotent call: retried once on a fresh stub when the platform says it may be. */
  protected idempotent<R>(call: (stub: Stub) => R): Promise<Awaited<R>> {
    return retryOnce((attempt) => {
      if (attempt > 0) this.#stub = undefined;
      return call(this.stub);
    });
  }
}
