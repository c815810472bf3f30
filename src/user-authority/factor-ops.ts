// The user's second factors, as their authority decides them: listing, enrolling a TOTP
// factor or a passkey (only by a session that still stands, and once the user has a
// factor, only at aal 2), removing one, new recovery codes, and re-authentication.
// Each decision is one synchronous transaction; the one await of a proof check (a TOTP
// secret opened, codes computed) comes before it, and the attempt it costs is counted
// before that await (factors.ts), so limits hold under concurrency.
import type { AuthMethod } from "./session-policy";
import { AMR_OF } from "./factors";
import { isExpired } from "./session-policy";
import { assurance, times } from "./rows";
import type { AuthorityParts } from "./parts";
import type { Challenge, FactorAdded, FactorProof, FactorView, NewPasskey, StoredPasskey, ThrottlePolicy } from "./types";

export type ReauthProof = FactorProof | { method: "password" };

export class FactorOps {
  constructor(private readonly p: AuthorityParts) {}

  listFactors() {
    return this.p.factors.list();
  }

  /** The user's passkeys (for WebAuthn options and for checking an assertion's signature). */
  passkeys(): StoredPasskey[] {
    if (this.p.schema.blank) return [];
    return this.p.factors.passkeys();
  }

  /**
   * A TOTP factor waiting for its first code (its secret sealed for this user and factor
   * id), for a live session that may add a factor (see `mayAddFactor`).
   */
  addPendingTotp(id: string, name: string, box: string, sessionId: string): "added" | "refused" | "second_factor_required" {
    return this.p.ctx.storage.transactionSync(() => {
      const allowed = this.mayAddFactor(sessionId);
      if (allowed !== "yes") return allowed;
      this.p.factors.addPendingTotp(id, name, box, Date.now());
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
    const { state } = this.p;
    const row = state.row(sessionId);
    if (state.isDeleted() || row === null || isExpired(times(row), Date.now())) return "refused";
    return this.p.factors.hasActive() && assurance(row).aal !== 2 ? "second_factor_required" : "yes";
  }

  /**
   * Confirms a pending TOTP factor with its first code. The first factor of a user also
   * stores `recoveryHashes`; the session that confirmed it becomes aal 2.
   */
  async confirmTotp(factorId: string, proof: FactorProof, sessionId: string, recoveryHashes: string[], policy: ThrottlePolicy) {
    if (!this.p.factors.pendingTotp(factorId)) return { status: "not_found" } as const;
    const checked = await this.checkProof(proof, policy, factorId);
    if ("status" in checked) return checked;
    const matched = checked.ok ? checked : null;
    return this.addFactor(sessionId, recoveryHashes, "otp", () => {
      // Still pending: a newer enrollment may have replaced it during the check.
      if (matched === null || !this.p.factors.pendingTotp(factorId) || !this.p.factors.take(matched, Date.now())) return null;
      this.p.factors.activate(factorId, Date.now());
      return factorId;
    });
  }

  /** Adds a verified passkey registration; its challenge is taken here, once. */
  async addPasskey(passkey: NewPasskey, challenge: Challenge, sessionId: string, recoveryHashes: string[]): Promise<FactorAdded> {
    if (this.p.state.isDeleted()) return { status: "refused" };
    return this.addFactor(sessionId, recoveryHashes, "webauthn", () =>
      this.p.factors.takeChallenge(challenge.hash, challenge.expiresAt) && this.p.factors.addPasskey(passkey, Date.now())
        ? passkey.id
        : null,
    );
  }

  /** Removes a factor. Removing the last one ends every other session (and the recovery codes). */
  async removeFactor(
    factorId: string,
    sessionId: string,
  ): Promise<{ status: "removed"; factor: FactorView; last: boolean } | { status: "not_found" }> {
    const { state, factors } = this.p;
    const result = this.p.ctx.storage.transactionSync(() => {
      const factor = factors.view(factorId);
      if (factor === null || !factors.remove(factorId)) return null;
      const last = !factors.hasActive();
      const ended = last ? state.sessionIds().filter((id) => id !== sessionId) : [];
      state.endSessions(ended);
      return { factor, last, ended };
    });
    if (result === null) return { status: "not_found" };
    await this.p.cache.sync(result.ended);
    return { status: "removed", factor: result.factor, last: result.last };
  }

  /** Replaces the recovery codes; false when the user has no active factor to recover. */
  replaceRecoveryCodes(hashes: string[]): boolean {
    return this.p.ctx.storage.transactionSync(() => {
      if (!this.p.factors.hasActive()) return false;
      this.p.factors.replaceRecoveryCodes(hashes);
      return true;
    });
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
      if (!checked.ok || !this.p.ctx.storage.transactionSync(() => this.p.factors.take(checked, Date.now()))) {
        return { status: "invalid_code" } as const;
      }
      this.p.factors.clearAttempts();
      method = AMR_OF[checked.method];
    }
    const now = Date.now();
    const row = this.p.state.row(sessionId);
    if (row === null) return { status: "refused" } as const;
    const current = assurance(row);
    const aal = method === "pwd" ? current.aal : 2;
    this.p.state.sql.exec(
      "UPDATE sessions SET reauth_at = ?, aal = ?, amr = ? WHERE id = ?",
      now,
      aal,
      JSON.stringify(merge(current.amr, method)),
      sessionId,
    );
    await this.p.cache.sync([sessionId]);
    return { status: "ok", reauthenticatedAt: now, aal, recoveryCodeUsed: method === "recovery" } as const;
  }

  /** Counts the attempt (per user, exactly), then checks the proof; takes nothing. */
  async checkProof(proof: FactorProof, policy: ThrottlePolicy, pendingId: string | null = null) {
    const attempt = this.p.ctx.storage.transactionSync(() => this.p.factors.reserveAttempt(policy, Date.now()));
    if ("retryAfterSeconds" in attempt) return { status: "throttled", retryAfterSeconds: attempt.retryAfterSeconds } as const;
    const userId = this.p.state.loadUser()?.id ?? "";
    return this.p.factors.check(userId, proof, Date.now(), pendingId);
  }

  /** Adds a factor in one transaction (`commit` returns its id, or null when refused), with the first factor's recovery codes, and lifts the session to aal 2. */
  private async addFactor(
    sessionId: string,
    recoveryHashes: string[],
    method: AuthMethod,
    commit: () => string | null,
  ): Promise<FactorAdded> {
    const { state, factors } = this.p;
    const added = this.p.ctx.storage.transactionSync(() => {
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
    await this.p.cache.sync([sessionId]);
    const factor = factors.view(added.id);
    if (factor === null) return { status: "not_found" };
    return { status: "added", factor, recoveryIssued: added.first };
  }
}

/** The methods of a session once `method` is added. */
export function merge(amr: AuthMethod[], method: AuthMethod): AuthMethod[] {
  return amr.includes(method) ? amr : [...amr, method];
}
