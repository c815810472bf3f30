// Requests that act on their own user's sessions (logout, logout-all, refresh-csrf,
// ending one session) are checked and carried out in one call: the authority checks the
// caller's cookie (secret, expiry, Origin, CSRF token) or token family, then acts, in
// order with every other decision about the user. One round trip instead of two.
import { constantTimeEqual } from "../lib/crypto";
import type { AuthorityParts } from "./parts";
import { times } from "./rows";
import { isExpired } from "./session-policy";
import type { SessionOps } from "./session-ops";
import type { CallerAction, CallerOutcome, CallerProof } from "./types";

export class CallerOps {
  constructor(
    private readonly p: AuthorityParts,
    private readonly sessions: SessionOps,
  ) {}

  async act(proof: CallerProof, action: CallerAction): Promise<CallerOutcome> {
    if (this.p.schema.blank) return { status: "unknown" };
    const checked = await this.check(proof);
    if (checked.status !== "valid") return checked;
    const { callerId, absoluteExpiresAt } = checked;
    switch (action.kind) {
      case "end_session": {
        const ended = await this.sessions.revokeSession(action.id);
        return { status: "done", ended: ended ? 1 : 0, absoluteExpiresAt };
      }
      case "end_all": {
        const ended = await this.sessions.revokeAll(action.keepCurrent ? callerId : null);
        return { status: "done", ended, absoluteExpiresAt };
      }
      case "rotate_csrf":
        // Checked just above, in this same turn: the session stands.
        this.p.state.sql.exec("UPDATE sessions SET csrf_hash = ? WHERE id = ?", action.csrfHash, callerId);
        return { status: "done", ended: 0, absoluteExpiresAt };
    }
  }

  /** The caller's credential, as the authoritative checks (SessionOps.authorize, authorizeFamily) judge it. */
  private async check(
    proof: CallerProof,
  ): Promise<Exclude<CallerOutcome, { status: "done" }> | { status: "valid"; callerId: string; absoluteExpiresAt: number }> {
    if (proof.kind === "family") {
      const family = this.sessions.authorizeFamily(proof.familyId, proof.issuedAtSeconds);
      if (family.status !== "valid") return { status: "unknown" };
      const row = this.p.state.row(proof.familyId);
      return { status: "valid", callerId: proof.familyId, absoluteExpiresAt: row === null ? 0 : times(row).absoluteExpiresAt };
    }
    const { state } = this.p;
    const row = state.row(proof.id);
    if (row === null || state.loadUser() === null || row.kind !== "cookie" || !constantTimeEqual(row.secret_hash, proof.secretHash)) {
      return { status: "unknown" };
    }
    const now = Date.now();
    if (isExpired(times(row), now)) {
      await this.p.end([proof.id]);
      return { status: "expired" };
    }
    if (proof.foreignOrigin) return { status: "foreign_origin" };
    if (proof.csrfHash !== "skip") {
      if (proof.csrfHash === null || row.csrf_hash === null) return { status: "csrf_missing" };
      if (!constantTimeEqual(proof.csrfHash, row.csrf_hash)) return { status: "csrf_invalid" };
    }
    state.sql.exec("UPDATE sessions SET last_activity = ? WHERE id = ?", now, proof.id);
    return { status: "valid", callerId: proof.id, absoluteExpiresAt: times(row).absoluteExpiresAt };
  }
}
