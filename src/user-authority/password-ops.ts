// The account's login throttle, kept by its authority: the Worker checks the password
// (the hash is its CPU, not the object's) and hands over the verdict; the authority
// counts it or, while the account is locked, refuses it without revealing it, and a
// sign-in opens its session in the same call. Decided after the hash, in order, so racing
// guesses get exactly `maxAttempts` verdicts per window, as the slot-before-the-hash
// throttle gave them, in one round trip instead of three (docs/concepts/consistency.md).
import type { AuthorityParts } from "./parts";
import type { SessionOps } from "./session-ops";
import type { AttemptRefusal, NewSession, PasswordVerdict, SessionCreation } from "./types";

export class PasswordOps {
  constructor(
    private readonly p: AuthorityParts,
    private readonly sessions: SessionOps,
  ) {}

  /** A password sign-in: the verdict is judged, then a right one opens the session (createSession). */
  async signIn(input: NewSession, maxSessions: number, verdict: PasswordVerdict): Promise<SessionCreation | AttemptRefusal> {
    const refused = this.judge(verdict);
    if (refused !== null) return refused;
    return this.sessions.createSession(input, maxSessions);
  }

  /** A current password checked for a signed-in user (a change of password or email): judged like a sign-in. */
  check(verdict: PasswordVerdict): AttemptRefusal | { status: "ok" } {
    return this.judge(verdict) ?? { status: "ok" };
  }

  /** An admin lifts the account's lockout. */
  clear(): void {
    if (this.p.schema.blank) return;
    this.p.state.sql.exec("DELETE FROM login_failures");
  }

  /** Null: the password was right and the failures are cleared. At most `maxAttempts` failures are ever kept. */
  private judge({ verified, policy }: PasswordVerdict): AttemptRefusal | null {
    const { state } = this.p;
    const now = Date.now();
    return this.p.ctx.storage.transactionSync((): AttemptRefusal | null => {
      const { sql } = state;
      sql.exec("DELETE FROM login_failures WHERE at <= ?", now - policy.windowMs);
      const window = sql.exec<{ n: number; oldest: number | null }>("SELECT COUNT(*) AS n, MIN(at) AS oldest FROM login_failures").one();
      if (window.n >= policy.maxAttempts) {
        // One notice per lockout: "first" if no refusal came since the lockout began.
        const firstRefusal = now - Number(state.getMeta("last_login_refusal") ?? "0") > policy.windowMs;
        state.setMeta("last_login_refusal", String(now));
        const retryAfterSeconds = Math.max(1, Math.ceil(((window.oldest ?? now) + policy.windowMs - now) / 1000));
        return { status: "throttled", retryAfterSeconds, firstRefusal };
      }
      if (!verified) {
        sql.exec("INSERT INTO login_failures (at) VALUES (?)", now);
        return { status: "invalid" };
      }
      sql.exec("DELETE FROM login_failures");
      return null;
    });
  }
}
