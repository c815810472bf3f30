// Finishing a sign-in, as the user's authority decides it: the second factor of a
// sign-in held at the MFA gate (a different factor than the first), and a passwordless
// passkey sign-in, whose challenge and counter are taken here before the usual gate.
import { AMR_OF } from "./factors";
import { countAttempt, dropPending, loadPending } from "./pending";
import { assurance } from "./rows";
import { type FactorOps, merge } from "./factor-ops";
import type { AuthorityParts } from "./parts";
import type { SessionOps } from "./session-ops";
import type { FactorProof, NewSession, ProofRefusal, SessionCreation, SignInCompletion, StoredPasskey, ThrottlePolicy } from "./types";

export class SignInOps {
  constructor(
    private readonly p: AuthorityParts,
    private readonly sessions: SessionOps,
    private readonly factorOps: FactorOps,
  ) {}

  /** The passkeys of the user a live mfa_token names; null when the token is not live. */
  pendingPasskeys(pendingId: string, tokenHash: string): StoredPasskey[] | null {
    if (this.p.schema.blank) return null;
    const pending = loadPending(this.p.state.sql, pendingId, tokenHash, Date.now());
    if (pending === null) return null;
    // A passkey sign-in that did not verify the user waits for a different factor.
    return pending.session.assurance.amr.includes("webauthn") ? [] : this.p.factors.passkeys();
  }

  /**
   * Completes a sign-in held at the MFA gate with its second factor: the session the
   * first factor asked for opens under `fresh` (new secrets), at aal 2.
   */
  async completeSignIn(
    pendingId: string,
    tokenHash: string,
    proof: FactorProof,
    fresh: { id: string; secretHash: string; csrfHash: string | null },
    maxSessions: number,
    policy: ThrottlePolicy,
  ): Promise<SignInCompletion> {
    if (this.p.schema.blank) return { status: "invalid_token" };
    const { state, factors } = this.p;
    const sql = state.sql;
    const begun = this.p.ctx.storage.transactionSync(() => {
      const pending = loadPending(sql, pendingId, tokenHash, Date.now());
      if (pending === null) return { status: "invalid_token" } as const;
      countAttempt(sql, pendingId);
      // The second factor is a different factor than the first: a passkey that did not
      // verify the user is one factor, and the same passkey is never also the second.
      if (pending.session.assurance.amr.includes(AMR_OF[proof.method])) return { status: "invalid_code" } as const;
      return null;
    });
    if (begun !== null) return begun;
    const checked = await this.factorOps.checkProof(proof, policy);
    if ("status" in checked) return checked;
    const now = Date.now();
    const outcome = this.p.ctx.storage.transactionSync(() => {
      const pending = loadPending(sql, pendingId, tokenHash, now, true);
      if (pending === null) return { status: "invalid_token" } as const;
      // A wrong proof keeps its counted attempt: the token dies at the next attempt past the limit.
      if (!checked.ok || !factors.take(checked, now)) return { status: "invalid_code" } as const;
      dropPending(sql, pendingId);
      factors.clearAttempts();
      if (state.isDeleted() || pending.session.credentialEpoch < state.epoch()) return { status: "refused" } as const;
      if (state.isDisabled()) return { status: "disabled" } as const;
      const input: NewSession = {
        ...pending.session,
        ...fresh,
        csrfHash: pending.session.kind === "cookie" ? fresh.csrfHash : null,
        user: state.loadUser() ?? pending.session.user,
        assurance: { aal: 2, amr: merge(pending.session.assurance.amr, AMR_OF[checked.method]) },
        mfa: { id: pendingId, tokenHash, answer: pending.answer },
      };
      return { status: "opened", input, pending, ...state.openSession(input, maxSessions, now) } as const;
    });
    if (outcome.status !== "opened") return outcome;
    const created = await this.p.opened(outcome.input, now, outcome.ended, outcome.newDevice);
    return {
      status: "created",
      kind: outcome.input.kind,
      answer: outcome.pending.answer,
      user: outcome.input.user,
      newDevice: created.newDevice,
      assurance: created.assurance,
      absoluteMs: outcome.input.absoluteMs,
      recoveryCodeUsed: checked.ok && checked.method === "recovery_code",
    };
  }

  /** A passwordless sign-in with a passkey the Worker verified: its challenge and counter are taken here, then the usual gate applies. */
  async passkeySignIn(proof: FactorProof, input: NewSession, maxSessions: number): Promise<SessionCreation | ProofRefusal> {
    if (this.p.schema.blank) return { status: "invalid_code" };
    if (proof.method !== "webauthn" || !proof.verified) return { status: "invalid_code" };
    const taken = this.p.ctx.storage.transactionSync(() => this.p.factors.take({ ok: true, method: "webauthn", proof }, Date.now()));
    if (!taken) return { status: "invalid_code" };
    return this.sessions.createSession(input, maxSessions);
  }
}
