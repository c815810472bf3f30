// Requests that act on their own user's sessions (logout, logout-all, refresh-csrf,
// ending one session) are checked and carried out in one call: the authority checks the
// caller's cookie (secret, expiry, Origin, CSRF token) or token family, then acts, in
// order with every other decision about the user. One round trip instead of two.
// Each call carries a nonce, recorded with its outcome in the action's transaction, so
// the Worker's retry after a reset answers what the first run did instead of acting again.
import { constantTimeEqual } from "../lib/crypto";
import type { AuthorityParts } from "./parts";
import { times } from "./rows";
import { isExpired } from "./session-policy";
import type { SessionOps } from "./session-ops";
import type { CallerAction, CallerOutcome, CallerProof } from "./types";
import { forgetOAuthDelegations } from "./oauth-grants/purge";

/** How long an outcome is kept for a retry of its call. */
const REPLAY_MS = 60_000;

type Done = Extract<CallerOutcome, { status: "done" }>;

export class CallerOps {
  constructor(
    private readonly p: AuthorityParts,
    private readonly sessions: SessionOps,
  ) {}

  async act(proof: CallerProof, action: CallerAction, nonce: string): Promise<CallerOutcome> {
    if (this.p.schema.blank) return { status: "unknown" };
    const { state } = this.p;
    const { sql } = state;
    const now = Date.now();
    const replayed = sql.exec<{ outcome: string }>("SELECT outcome FROM caller_acts WHERE nonce = ?", nonce).toArray()[0];
    if (replayed !== undefined) {
      // The first run may have stopped before its cache entries came down: take them down again.
      const { endedIds, ...outcome } = JSON.parse(replayed.outcome) as Done & { endedIds: string[] };
      await this.p.cache.sync(endedIds);
      return outcome;
    }
    const checked = this.check(proof, now);
    if (checked.status === "expired" && proof.kind === "cookie") await this.p.end([proof.id]);
    if (checked.status !== "valid") return checked;
    const { callerId, absoluteExpiresAt } = checked;
    const ended = this.p.ctx.storage.transactionSync(() => {
      let ids: string[] = [];
      if (action.kind === "end_session") ids = state.row(action.id) === null ? [] : [action.id];
      if (action.kind === "end_all") ids = state.sessionIds().filter((id) => !(action.keepCurrent && id === callerId));
      if (action.kind === "rotate_csrf") sql.exec("UPDATE sessions SET csrf_hash = ? WHERE id = ?", action.csrfHash, callerId);
      state.endSessions(ids);
      if (action.kind === "end_all") forgetOAuthDelegations(sql);
      if (action.kind === "end_all" && !action.keepCurrent) state.setNotBefore(now);
      if (proof.kind === "cookie" && !ids.includes(callerId)) sql.exec("UPDATE sessions SET last_activity = ? WHERE id = ?", now, callerId);
      const outcome: Done = { status: "done", ended: ids.length, absoluteExpiresAt };
      sql.exec("DELETE FROM caller_acts WHERE at <= ?", now - REPLAY_MS);
      sql.exec("INSERT INTO caller_acts (nonce, outcome, at) VALUES (?, ?, ?)", nonce, JSON.stringify({ ...outcome, endedIds: ids }), now);
      return ids;
    });
    // Revocations: their cache entries come down before the answer.
    await this.p.cache.sync(ended);
    return { status: "done", ended: ended.length, absoluteExpiresAt };
  }

  /** The caller's credential, as the authoritative checks (SessionOps.authorize, authorizeFamily) judge it. */
  private check(
    proof: CallerProof,
    now: number,
  ): Exclude<CallerOutcome, { status: "done" }> | { status: "valid"; callerId: string; absoluteExpiresAt: number } {
    const { state } = this.p;
    if (proof.kind === "family") {
      const family = this.sessions.authorizeFamily(proof.familyId, proof.issuedAtSeconds);
      const row = state.row(proof.familyId);
      if (family.status !== "valid" || row === null) return { status: "unknown" };
      return { status: "valid", callerId: proof.familyId, absoluteExpiresAt: times(row).absoluteExpiresAt };
    }
    const row = state.row(proof.id);
    if (row === null || state.loadUser() === null || row.kind !== "cookie" || !constantTimeEqual(row.secret_hash, proof.secretHash)) {
      return { status: "unknown" };
    }
    if (isExpired(times(row), now)) return { status: "expired" };
    if (proof.foreignOrigin) return { status: "foreign_origin" };
    if (proof.csrfHash !== "skip") {
      if (proof.csrfHash === null || row.csrf_hash === null) return { status: "csrf_missing" };
      if (!constantTimeEqual(proof.csrfHash, row.csrf_hash)) return { status: "csrf_invalid" };
    }
    return { status: "valid", callerId: proof.id, absoluteExpiresAt: times(row).absoluteExpiresAt };
  }
}
