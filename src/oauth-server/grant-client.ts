// How the OAuth server talks to a user's authority about grants (user-authority/
// oauth-grants/), on the stub handling every client of the authority shares
// (sessions/authority-stub.ts): reads and revocations (a second run finds the work done)
// are retried once; redeeming and rotating are not (each is decided exactly once).
import { type AuthorityNamespace, AuthorityStub } from "../sessions/authority-stub";
import type { UserAuthority } from "../user-authority/user-authority";

export class GrantClient extends AuthorityStub {
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

  standing(grantId: string, issuedAtSeconds: number) {
    return this.idempotent((stub) => stub.oauthTokenStanding(grantId, issuedAtSeconds));
  }
}

export function grantsOf(namespace: AuthorityNamespace, userId: string): GrantClient {
  return new GrantClient(namespace, userId);
}
