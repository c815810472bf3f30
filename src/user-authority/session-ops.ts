// The user's sessions and token families, as their authority decides them: opening one
// (and the MFA gate), the authoritative check of a cookie session or an access token's
// family, CSRF rotation, refresh rotation and revocation, ending one or all, and a
// credential change. Each decision is one transactionSync; the cache writer (sole
// writer of the `session:` and `user:` KV keys) catches up after it.
import { constantTimeEqual } from "../lib/crypto";
import { madeBeforeProof } from "./address-proof";
import { type AuditEntry, queueAudit } from "./audit-outbox";
import type { AuthorityParts } from "./parts";
import { savePending } from "./pending";
import type { ToldStanding } from "./org-standings";
import type { PrincipalRecord } from "./principal-record";
import { type SessionRow, assurance, times, toCached, toInfo } from "./rows";
import { type SessionInfo, CACHE_TOUCH_INTERVAL_MS, isExpired } from "./session-policy";
import type { Authorization, FamilyAuthorization, NewSession, Rotation, SessionCreation } from "./types";
import { forgetOAuthDelegations } from "./oauth-grants/purge";

export class SessionOps {
  constructor(private readonly p: AuthorityParts) {}

  /**
   * Adds a session, then ends the least recently active ones beyond `maxSessions`.
   * Refused when the account is deleted or its credentials changed after the first
   * factor was checked (`credentialEpoch` older than the authority's). A newer epoch
   * than the authority knows means a change it has not heard of yet: sessions from
   * before it end now. `newDevice`: signed in before, but never from this kind of device.
   * The MFA gate: one factor, for a user with an active second factor, opens nothing; the
   * sign-in waits under `input.mfa` for its second factor (see completeSignIn).
   */
  async createSession(input: NewSession, maxSessions: number): Promise<SessionCreation> {
    const { state, factors } = this.p;
    if (state.isDeleted() || input.credentialEpoch < state.epoch() || madeBeforeProof(state, input.madeAt)) return { status: "refused" };
    if (state.isDisabled()) return { status: "disabled" };
    const now = Date.now();
    if (input.assurance.aal < 2 && factors.hasActive()) {
      // A passkey that did not verify the user is one factor; the same passkey cannot be the second.
      const methods = factors.methods().filter((method) => !(method === "webauthn" && input.assurance.amr.includes("webauthn")));
      this.p.ctx.storage.transactionSync(() => savePending(state, input, now));
      return { status: "mfa_required", methods };
    }
    const { ended, newDevice } = this.p.ctx.storage.transactionSync(() => state.openSession(input, maxSessions, now));
    return this.p.opened(input, now, ended, newDevice);
  }

  /**
   * The authoritative check of a cookie session, used by every state-changing request:
   * the session exists, the secret matches and it has not expired. Records the activity.
   */
  async authorize(id: string, secretHash: string): Promise<Authorization> {
    if (this.p.schema.blank) return { status: "unknown" };
    const row = this.p.state.row(id);
    const user = this.p.state.loadUser();
    // A token family's refresh token has the same shape as a session token: never a cookie session.
    if (row === null || user === null || row.kind !== "cookie" || !constantTimeEqual(row.secret_hash, secretHash)) {
      return { status: "unknown" };
    }
    const now = Date.now();
    if (isExpired(times(row), now)) {
      await this.p.end([id]);
      return { status: "expired" };
    }
    this.p.state.sql.exec("UPDATE sessions SET last_activity = ? WHERE id = ?", now, id);
    if (now - row.cached_activity >= CACHE_TOUCH_INTERVAL_MS) await this.p.cache.sync([id]);
    const org = this.p.orgStandings.of(row.active_org);
    return { status: "valid", session: toCached({ ...row, last_activity: now }, user, org), csrfHash: row.csrf_hash };
  }

  /**
   * A read found a cached session whose activity is over a minute old: record the
   * activity, or, when the session is no longer valid, take its KV entry down (the
   * read that asked had a cached copy, so there is an entry to remove).
   */
  async touch(id: string, secretHash: string): Promise<Authorization> {
    if (this.p.schema.blank) return { status: "unknown" };
    const result = await this.authorize(id, secretHash);
    if (result.status === "unknown") await this.p.cache.sync([id]);
    return result;
  }

  /** The authoritative check of an access token's family. */
  authorizeFamily(familyId: string, issuedAtSeconds: number): FamilyAuthorization {
    if (this.p.schema.blank) return { status: "unknown" };
    const row = this.p.state.row(familyId);
    const user = this.p.state.loadUser();
    if (row === null || user === null || row.kind !== "token" || isExpired(times(row), Date.now())) return { status: "unknown" };
    if (issuedAtSeconds * 1000 < this.p.state.notBefore()) return { status: "unknown" };
    return { status: "valid", user, createdAt: row.created_at, assurance: assurance(row) };
  }

  /** See refresh.ts: rotated, the grace-period replay, reuse (the family ends), or invalid. */
  rotateRefreshToken(
    familyId: string,
    presentedHash: string,
    candidate: { secretHash: string; refreshToken: string },
    graceMs: number,
  ): Promise<Rotation> {
    if (this.p.schema.blank) return Promise.resolve({ status: "invalid" });
    return this.p.refresh.rotate(familyId, presentedHash, candidate, graceMs);
  }

  /** Revokes the family a refresh token (current or rotated out) belongs to (RFC 7009). */
  async revokeRefreshToken(familyId: string, presentedHash: string): Promise<boolean> {
    if (this.p.schema.blank) return false;
    if (!this.p.refresh.belongsTo(familyId, presentedHash)) return false;
    return this.revokeSession(familyId);
  }

  listSessions(): SessionInfo[] {
    if (this.p.schema.blank) return [];
    this.p.ctx.storage.transactionSync(() => this.p.state.purgeExpired(Date.now()));
    // OAuth grants are listed as connected apps, not as sessions.
    return (
      this.p.state.sql
        .exec<SessionRow>("SELECT * FROM sessions WHERE kind <> 'oauth' ORDER BY last_activity DESC")
        .toArray()
        .map(toInfo)
        // An organization the user is no longer a member of (as it told this object): a personal session again.
        .map((info) => (this.p.orgStandings.of(info.activeOrg) === null ? { ...info, activeOrg: null } : info))
    );
  }

  /**
   * Sets the organization a session or token family acts in (null: none), with the
   * standing the organization just answered (kept if newer than the one held, as if it had
   * told it: org-standings.ts); false when the user has no such session.
   */
  async setActiveOrg(id: string, orgId: string | null, told?: ToldStanding): Promise<boolean> {
    if (this.p.schema.blank) return false;
    const { set, noted } = this.p.ctx.storage.transactionSync(() => {
      const noted = orgId !== null && told !== undefined && this.p.orgStandings.note(orgId, told.seq, told.standing);
      return {
        set: this.p.state.sql.exec("UPDATE sessions SET active_org = ? WHERE id = ? AND kind <> 'oauth'", orgId, id).rowsWritten > 0,
        noted,
      };
    });
    // The standing held (kept now, or told again) is carried by every session acting in the organization.
    if (set || noted) await this.p.cache.sync(noted && orgId !== null ? [...new Set([id, ...this.p.orgStandings.acting(orgId)])] : [id]);
    return set;
  }

  /** Ends one session; false when the user has no such session. `audit`: an admin's entry, landing with the change. */
  async revokeSession(id: string, audit?: AuditEntry): Promise<boolean> {
    if (this.p.schema.blank) return false;
    const ended = this.p.ctx.storage.transactionSync(() => {
      if (this.p.state.row(id) === null) return false;
      this.p.state.endSessions([id]);
      if (audit !== undefined) queueAudit(this.p.state.sql, audit);
      return true;
    });
    if (!ended) return false;
    await this.p.cache.sync([id]);
    await this.p.sendAudit();
    return true;
  }

  /**
   * Ends every session but `exceptId` (null: all of them, and access tokens issued
   * until now are refused from now on). Returns how many ended. `audit`: an admin's
   * entry, landing with the change (with how many ended).
   */
  async revokeAll(exceptId: string | null, audit?: AuditEntry): Promise<number> {
    const { state } = this.p;
    const now = Date.now();
    const ids = this.p.ctx.storage.transactionSync(() => {
      const ids = state.sessionIds().filter((id) => id !== exceptId);
      state.endSessions(ids);
      forgetOAuthDelegations(state.sql);
      if (exceptId === null) state.setNotBefore(now);
      if (audit !== undefined) queueAudit(state.sql, audit, { revoked: ids.length });
      return ids;
    });
    await this.p.cache.sync(ids);
    await this.p.sendAudit();
    return ids.length;
  }

  /**
   * The password changed (or was reset) and users.credential_epoch is now `epoch`: every
   * session made under an older epoch ends, except `keepSessionId` (the session that
   * changed it). Sign-ins whose password check saw the old epoch are refused from now on.
   * Returns how many sessions ended.
   */
  async credentialsChanged(epoch: number, keepSessionId: string | null): Promise<number> {
    const { state } = this.p;
    const now = Date.now();
    const ended = this.p.ctx.storage.transactionSync(() => {
      if (keepSessionId !== null)
        state.sql.exec("UPDATE sessions SET epoch = ? WHERE id = ?", Math.max(epoch, state.epoch()), keepSessionId);
      if (epoch <= state.epoch()) return [];
      forgetOAuthDelegations(state.sql);
      return state.advanceEpoch(epoch, keepSessionId, now);
    });
    await this.p.cache.sync(ended);
    return ended.length;
  }

  /** Whether the account still exists here (not deleted). */
  isActive(): boolean {
    if (this.p.schema.blank) return true;
    return !this.p.state.isDeleted();
  }

  /** The record read-only bearer and API-key requests check, after a KV miss. */
  async readPrincipal(): Promise<PrincipalRecord | null> {
    if (this.p.schema.blank) return null;
    const user = this.p.state.loadUser();
    if (user === null) return null;
    await this.p.cache.refreshPrincipal();
    return { ...this.p.principal(user), writtenAt: Date.now() };
  }
}
