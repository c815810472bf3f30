// The user's authority, second-factor half: enrolling and removing factors, recovery
// codes, completing a sign-in held at the MFA gate, re-authentication and passkey
// sign-in. Each decision is one synchronous transaction; the one await of a proof
// check (a TOTP secret opened, codes computed) comes before it, and the attempt it
// costs is counted before that await (factors.ts), so limits hold under concurrency.
import type { AuthMethod } from "../session-policy";
import { AMR_OF } from "./factors";
import { countAttempt, dropPending, loadPending } from "./pending";
import { isExpired } from "../session-policy";
import { assurance, times } from "./rows";
import { SessionAuthority } from "./session-authority";
import type {
  Challenge,
  FactorAdded,
  FactorProof,
  FactorView,
  NewPasskey,
  NewSession,
  ProofRefusal,
  SessionCreation,
  SignInCompletion,
  StoredPasskey,
  ThrottlePolicy,
} from "./types";

type ReauthProof = FactorProof | { method: "password" };

export class FactorAuthority extends SessionAuthority {
  listFactors() {
    return this.factors.list();
  }

  /** The user's passkeys (for WebAuthn options and for checking an assertion's signature). */
  passkeys(): StoredPasskey[] {
    if (this.schema.blank) return [];
    return this.factors.passkeys();
  }

  /** The passkeys of the user a live mfa_token names; null when the token is not live. */
  pendingPasskeys(pendingId: string, tokenHash: string): StoredPasskey[] | null {
    if (this.schema.blank) return null;
    const pending = loadPending(this.state.sql, pendingId, tokenHash, Date.now());
    if (pending === null) return null;
    // A passkey sign-in that did not verify the user waits for a different factor.
    return pending.session.assurance.amr.includes("webauthn") ? [] : this.factors.passkeys();
  }

  /**
   * A TOTP factor waiting for its first code (its secret sealed for this user and factor
   * id), for a live session that may add a factor (see `mayAddFactor`).
   */
  addPendingTotp(id: string, name: string, box: string, sessionId: string): "added" | "refused" | "second_factor_required" {
    return this.ctx.storage.transactionSync(() => {
      const allowed = this.mayAddFactor(sessionId);
      if (allowed !== "yes") return allowed;
      this.factors.addPendingTotp(id, name, box, Date.now());
      return "added";
    });
  }

  /**
   * Whether the session may add a factor now: it must still stand (a factor is never
   * added by a session that a logout, reset or proof of the address has ended), and once
   * the user has a factor, only a session at aal 2 adds another. Otherwise an aal-1
   * session (one from before the first factor, or a stolen one) would add its own factor
   * and earn aal 2 with it.
   */
  private mayAddFactor(sessionId: string): "yes" | "refused" | "second_factor_required" {
    const { state } = this;
    const row = state.row(sessionId);
    if (state.isDeleted() || row === null || isExpired(times(row), Date.now())) return "refused";
    return this.factors.hasActive() && assurance(row).aal !== 2 ? "second_factor_required" : "yes";
  }

  /**
   * Confirms a pending TOTP factor with its first code. The first factor of a user also
   * stores `recoveryHashes`; the session that confirmed it becomes aal 2.
   */
  async confirmTotp(factorId: string, proof: FactorProof, sessionId: string, recoveryHashes: string[], policy: ThrottlePolicy) {
    if (!this.factors.pendingTotp(factorId)) return { status: "not_found" } as const;
    const checked = await this.checkProof(proof, policy, factorId);
    if ("status" in checked) return checked;
    const matched = checked.ok ? checked : null;
    return this.addFactor(sessionId, recoveryHashes, "otp", () => {
      // Still pending: a newer enrollment may have replaced it during the check.
      if (matched === null || !this.factors.pendingTotp(factorId) || !this.factors.take(matched, Date.now())) return null;
      this.factors.activate(factorId, Date.now());
      return factorId;
    });
  }

  /** Adds a verified passkey registration; its challenge is taken here, once. */
  async addPasskey(passkey: NewPasskey, challenge: Challenge, sessionId: string, recoveryHashes: string[]): Promise<FactorAdded> {
    if (this.state.isDeleted()) return { status: "refused" };
    return this.addFactor(sessionId, recoveryHashes, "webauthn", () =>
      this.factors.takeChallenge(challenge.hash, challenge.expiresAt) && this.factors.addPasskey(passkey, Date.now()) ? passkey.id : null,
    );
  }

  /** Removes a factor. Removing the last one ends every other session (and the recovery codes). */
  async removeFactor(
    factorId: string,
    sessionId: string,
  ): Promise<{ status: "removed"; factor: FactorView; last: boolean } | { status: "not_found" }> {
    const { state, factors } = this;
    const result = this.ctx.storage.transactionSync(() => {
      const factor = factors.view(factorId);
      if (factor === null || !factors.remove(factorId)) return null;
      const last = !factors.hasActive();
      const ended = last ? state.sessionIds().filter((id) => id !== sessionId) : [];
      state.endSessions(ended);
      return { factor, last, ended };
    });
    if (result === null) return { status: "not_found" };
    await this.cache.sync(result.ended);
    return { status: "removed", factor: result.factor, last: result.last };
  }

  /** Replaces the recovery codes; false when the user has no active factor to recover. */
  replaceRecoveryCodes(hashes: string[]): boolean {
    return this.ctx.storage.transactionSync(() => {
      if (!this.factors.hasActive()) return false;
      this.factors.replaceRecoveryCodes(hashes);
      return true;
    });
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
    if (this.schema.blank) return { status: "invalid_token" };
    const { state, factors } = this;
    const sql = state.sql;
    const begun = this.ctx.storage.transactionSync(() => {
      const pending = loadPending(sql, pendingId, tokenHash, Date.now());
      if (pending === null) return { status: "invalid_token" } as const;
      countAttempt(sql, pendingId);
      // The second factor is a different factor than the first: a passkey that did not
      // verify the user is one factor, and the same passkey is never also the second.
      if (pending.session.assurance.amr.includes(AMR_OF[proof.method])) return { status: "invalid_code" } as const;
      return null;
    });
    if (begun !== null) return begun;
    const checked = await this.checkProof(proof, policy);
    if ("status" in checked) return checked;
    const now = Date.now();
    const outcome = this.ctx.storage.transactionSync(() => {
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
    const created = await this.opened(outcome.input, now, outcome.ended, outcome.newDevice);
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

  /**
   * Re-authenticates a session: a password the Worker checked, or a second factor
   * checked here. A second factor also lifts the session to aal 2.
   */
  async reauthenticate(sessionId: string, proof: ReauthProof, policy: ThrottlePolicy) {
    let method: AuthMethod = "pwd";
    if (proof.method !== "password") {
      const checked = await this.checkProof(proof, policy);
      if ("status" in checked) return checked;
      if (!checked.ok || !this.ctx.storage.transactionSync(() => this.factors.take(checked, Date.now()))) {
        return { status: "invalid_code" } as const;
      }
      this.factors.clearAttempts();
      method = AMR_OF[checked.method];
    }
    const now = Date.now();
    const row = this.state.row(sessionId);
    if (row === null) return { status: "refused" } as const;
    const current = assurance(row);
    const aal = method === "pwd" ? current.aal : 2;
    this.state.sql.exec(
      "UPDATE sessions SET reauth_at = ?, aal = ?, amr = ? WHERE id = ?",
      now,
      aal,
      JSON.stringify(merge(current.amr, method)),
      sessionId,
    );
    await this.cache.sync([sessionId]);
    return { status: "ok", reauthenticatedAt: now, aal, recoveryCodeUsed: method === "recovery" } as const;
  }

  /** A passwordless sign-in with a passkey the Worker verified: its challenge and counter are taken here, then the usual gate applies. */
  async passkeySignIn(proof: FactorProof, input: NewSession, maxSessions: number): Promise<SessionCreation | ProofRefusal> {
    if (this.schema.blank) return { status: "invalid_code" };
    if (proof.method !== "webauthn" || !proof.verified) return { status: "invalid_code" };
    const taken = this.ctx.storage.transactionSync(() => this.factors.take({ ok: true, method: "webauthn", proof }, Date.now()));
    if (!taken) return { status: "invalid_code" };
    return this.createSession(input, maxSessions);
  }

  /** Counts the attempt (per user, exactly), then checks the proof; takes nothing. */
  private async checkProof(proof: FactorProof, policy: ThrottlePolicy, pendingId: string | null = null) {
    const attempt = this.ctx.storage.transactionSync(() => this.factors.reserveAttempt(policy, Date.now()));
    if ("retryAfterSeconds" in attempt) return { status: "throttled", retryAfterSeconds: attempt.retryAfterSeconds } as const;
    const userId = this.state.loadUser()?.id ?? "";
    return this.factors.check(userId, proof, Date.now(), pendingId);
  }

  /** Adds a factor in one transaction (`commit` returns its id, or null when refused), with the first factor's recovery codes, and lifts the session to aal 2. */
  private async addFactor(
    sessionId: string,
    recoveryHashes: string[],
    method: AuthMethod,
    commit: () => string | null,
  ): Promise<FactorAdded> {
    const { state, factors } = this;
    const added = this.ctx.storage.transactionSync(() => {
      // Decided again here, after the proof was checked: the account may have been
      // deleted, the session ended, or another factor added by a racing request.
      const allowed = this.mayAddFactor(sessionId);
      if (allowed !== "yes") return { status: allowed } as const;
      const first = !factors.hasActive();
      const id = commit();
      if (id === null) return { status: "invalid_code" } as const;
      factors.clearAttempts();
      if (first) {
        factors.replaceRecoveryCodes(recoveryHashes);
        // The first factor lifts the session that added it (the contract's enrollment
        // answer): the user had no other factor it could stand in for. A later factor is
        // added only at aal 2 (mayAddFactor), so it never lifts anything.
        const row = state.row(sessionId)!;
        state.sql.exec("UPDATE sessions SET aal = 2, amr = ? WHERE id = ?", JSON.stringify(merge(assurance(row).amr, method)), sessionId);
      }
      return { status: "added", id, first } as const;
    });
    if (added.status === "refused") return { status: "refused" };
    if (added.status !== "added") return { status: added.status };
    await this.cache.sync([sessionId]);
    const factor = factors.view(added.id);
    if (factor === null) return { status: "not_found" };
    return { status: "added", factor, recoveryIssued: added.first };
  }
}

function merge(amr: AuthMethod[], method: AuthMethod): AuthMethod[] {
  return amr.includes(method) ? amr : [...amr, method];
}
