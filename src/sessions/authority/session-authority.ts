// The per-user authority's sessions half (user-authority.ts adds the second factors):
// one SQLite-backed Durable Object per user, named by the user id. Every decision about
// the user's sign-ins is made here, in order (sessions, token families, the MFA gate,
// the caps, rotation, revocation); D1 keeps the records and never decides a race. Each
// method's writes run in one transactionSync, then the cache writer (sole writer of
// `session:` and `user:` KV keys) catches up.
import { DurableObject } from "cloudflare:workers";
import { constantTimeEqual } from "../../lib/crypto";
import { LazySchema } from "../../lib/sqlite-schema";
import type { PrincipalRecord } from "../principal-record";
import { type SessionInfo, CACHE_TOUCH_INTERVAL_MS, isExpired } from "../session-policy";
import { logError } from "../../lib/log";
import { hasProofCleanup, madeBeforeProof, runProofCleanup } from "./address-proof";
import { type AuditEntry, flushAudit, hasQueuedAudit, queueAudit } from "./audit-outbox";
import { CACHE_RETRY_DELAY_MS, CacheWriter } from "./cache-writer";
import { RefreshTokens } from "./refresh";
import { Factors } from "./factors";
import { savePending } from "./pending";
import { type SessionRow, assurance, times, toCached, toInfo } from "./rows";
import { USER_AUTHORITY_SCHEMA } from "./schema";
import { AuthorityState } from "./state";
import type { Authorization, FamilyAuthorization, NewSession, Rotation, SessionCreation } from "./types";

export class SessionAuthority extends DurableObject<Env> {
  protected readonly state: AuthorityState;
  protected readonly cache: CacheWriter;
  protected readonly refresh: RefreshTokens;
  protected readonly factors: Factors;
  /**
   * The schema is applied on the first write: an object asked only about what it does not
   * hold (a random, well-formed session id, refresh token or mfa_token names a user that
   * has no authority) answers from `blank` and leaves no storage behind.
   */
  protected readonly schema: LazySchema;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.schema = new LazySchema(ctx.storage.sql, USER_AUTHORITY_SCHEMA);
    const sql = this.schema.sql;
    this.state = new AuthorityState(sql, (id) => this.refresh.forget(id));
    this.cache = new CacheWriter(sql, ctx.storage, env.SESSIONS, {
      row: (id) => this.state.row(id),
      user: () => this.state.loadUser(),
      userId: () => this.state.loadUser()?.id ?? this.state.getMeta("deleted"),
      principal: (user) => this.state.principalRecord(user),
    });
    this.refresh = new RefreshTokens(this.state, ctx.storage, this.cache);
    this.factors = new Factors(sql);
  }

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
    const { state, factors } = this;
    if (state.isDeleted() || input.credentialEpoch < state.epoch() || madeBeforeProof(state, input.madeAt)) return { status: "refused" };
    if (state.isDisabled()) return { status: "disabled" };
    const now = Date.now();
    if (input.assurance.aal < 2 && factors.hasActive()) {
      // A passkey that did not verify the user is one factor; the same passkey cannot be the second.
      const methods = factors.methods().filter((method) => !(method === "webauthn" && input.assurance.amr.includes("webauthn")));
      this.ctx.storage.transactionSync(() => savePending(state, input, now));
      return { status: "mfa_required", methods };
    }
    const { ended, newDevice } = this.ctx.storage.transactionSync(() => state.openSession(input, maxSessions, now));
    return this.opened(input, now, ended, newDevice);
  }

  /**
   * After a session was opened at `now`: its cache entry (and those of the sessions it
   * ended), and the purge alarm. (A racing login may already have ended it again: the
   * answer describes the session as it was opened.)
   */
  protected async opened(
    input: NewSession,
    now: number,
    ended: string[],
    newDevice: boolean,
  ): Promise<Extract<SessionCreation, { status: "created" }>> {
    await this.cache.sync([input.id, ...ended]);
    await this.schedulePurge();
    const { aal, amr } = input.assurance;
    return { status: "created", evicted: ended, newDevice, assurance: { aal, amr, authTime: now, reauthAt: null } };
  }

  /**
   * The authoritative check of a cookie session, used by every state-changing request:
   * the session exists, the secret matches and it has not expired. Records the activity.
   */
  async authorize(id: string, secretHash: string): Promise<Authorization> {
    if (this.schema.blank) return { status: "unknown" };
    const row = this.state.row(id);
    const user = this.state.loadUser();
    // A token family's refresh token has the same shape as a session token: never a cookie session.
    if (row === null || user === null || row.kind !== "cookie" || !constantTimeEqual(row.secret_hash, secretHash)) {
      return { status: "unknown" };
    }
    const now = Date.now();
    if (isExpired(times(row), now)) {
      await this.end([id]);
      return { status: "expired" };
    }
    this.state.sql.exec("UPDATE sessions SET last_activity = ? WHERE id = ?", now, id);
    if (now - row.cached_activity >= CACHE_TOUCH_INTERVAL_MS) await this.cache.sync([id]);
    return { status: "valid", session: toCached({ ...row, last_activity: now }, user), csrfHash: row.csrf_hash };
  }

  /**
   * A read found a cached session whose activity is over a minute old: record the
   * activity, or, when the session is no longer valid, take its KV entry down (the
   * read that asked had a cached copy, so there is an entry to remove).
   */
  async touch(id: string, secretHash: string): Promise<Authorization> {
    if (this.schema.blank) return { status: "unknown" };
    const result = await this.authorize(id, secretHash);
    if (result.status === "unknown") await this.cache.sync([id]);
    return result;
  }

  /** The authoritative check of an access token's family. */
  authorizeFamily(familyId: string, issuedAtSeconds: number): FamilyAuthorization {
    if (this.schema.blank) return { status: "unknown" };
    const row = this.state.row(familyId);
    const user = this.state.loadUser();
    if (row === null || user === null || row.kind !== "token" || isExpired(times(row), Date.now())) return { status: "unknown" };
    if (issuedAtSeconds * 1000 < this.state.notBefore()) return { status: "unknown" };
    return { status: "valid", user, createdAt: row.created_at, assurance: assurance(row) };
  }

  /** Replaces the session's CSRF token; false when the session is not valid. */
  async rotateCsrf(id: string, secretHash: string, csrfHash: string): Promise<boolean> {
    const result = await this.authorize(id, secretHash);
    if (result.status !== "valid") return false;
    this.state.sql.exec("UPDATE sessions SET csrf_hash = ? WHERE id = ?", csrfHash, id);
    return true;
  }

  /** See refresh.ts: rotated, the grace-period replay, reuse (the family ends), or invalid. */
  rotateRefreshToken(
    familyId: string,
    presentedHash: string,
    candidate: { secretHash: string; refreshToken: string },
    graceMs: number,
  ): Promise<Rotation> {
    if (this.schema.blank) return Promise.resolve({ status: "invalid" });
    return this.refresh.rotate(familyId, presentedHash, candidate, graceMs);
  }

  /** Revokes the family a refresh token (current or rotated out) belongs to (RFC 7009). */
  async revokeRefreshToken(familyId: string, presentedHash: string): Promise<boolean> {
    if (this.schema.blank) return false;
    if (!this.refresh.belongsTo(familyId, presentedHash)) return false;
    return this.revokeSession(familyId);
  }

  listSessions(): SessionInfo[] {
    if (this.schema.blank) return [];
    this.ctx.storage.transactionSync(() => this.state.purgeExpired(Date.now()));
    return this.state.sql.exec<SessionRow>("SELECT * FROM sessions ORDER BY last_activity DESC").toArray().map(toInfo);
  }

  /** Ends one session; false when the user has no such session. `audit`: an admin's entry, landing with the change. */
  async revokeSession(id: string, audit?: AuditEntry): Promise<boolean> {
    if (this.schema.blank) return false;
    const ended = this.ctx.storage.transactionSync(() => {
      if (this.state.row(id) === null) return false;
      this.state.endSessions([id]);
      if (audit !== undefined) queueAudit(this.state.sql, audit);
      return true;
    });
    if (!ended) return false;
    await this.cache.sync([id]);
    await this.sendAudit();
    return true;
  }

  /**
   * Ends every session but `exceptId` (null: all of them, and access tokens issued
   * until now are refused from now on). Returns how many ended. `audit`: an admin's
   * entry, landing with the change (with how many ended).
   */
  async revokeAll(exceptId: string | null, audit?: AuditEntry): Promise<number> {
    const { state } = this;
    const now = Date.now();
    const ids = this.ctx.storage.transactionSync(() => {
      const ids = state.sessionIds().filter((id) => id !== exceptId);
      state.endSessions(ids);
      if (exceptId === null) state.setNotBefore(now);
      if (audit !== undefined) queueAudit(state.sql, audit, { revoked: ids.length });
      return ids;
    });
    await this.cache.sync(ids);
    await this.sendAudit();
    return ids.length;
  }

  /**
   * Sends the audit entries queued with a change (audit-outbox.ts). A failure leaves
   * them for the alarm and reaches the caller, which answers 503: the change stands,
   * and its entry lands when D1 answers again.
   */
  protected async sendAudit(): Promise<void> {
    if (!hasQueuedAudit(this.state.sql)) return;
    try {
      await flushAudit(this.state.sql, this.env.DB);
    } catch (error) {
      await this.schedulePurge();
      throw error;
    }
  }

  /**
   * The password changed (or was reset) and users.credential_epoch is now `epoch`: every
   * session made under an older epoch ends, except `keepSessionId` (the session that
   * changed it). Sign-ins whose password check saw the old epoch are refused from now on.
   * Returns how many sessions ended.
   */
  async credentialsChanged(epoch: number, keepSessionId: string | null): Promise<number> {
    const { state } = this;
    const now = Date.now();
    const ended = this.ctx.storage.transactionSync(() => {
      if (keepSessionId !== null)
        state.sql.exec("UPDATE sessions SET epoch = ? WHERE id = ?", Math.max(epoch, state.epoch()), keepSessionId);
      return epoch > state.epoch() ? state.advanceEpoch(epoch, keepSessionId, now) : [];
    });
    await this.cache.sync(ended);
    return ended.length;
  }

  /** Whether the user still holds this session or token family (not ended, not expired). */
  hasSession(id: string): boolean {
    if (this.schema.blank) return false;
    const row = this.state.row(id);
    return row !== null && !this.state.isDeleted() && !isExpired(times(row), Date.now());
  }

  /** Whether the account still exists here (not deleted). */
  isActive(): boolean {
    if (this.schema.blank) return true;
    return !this.state.isDeleted();
  }

  /** The record read-only bearer and API-key requests check, after a KV miss. */
  async readPrincipal(): Promise<PrincipalRecord | null> {
    if (this.schema.blank) return null;
    const user = this.state.loadUser();
    if (user === null) return null;
    await this.cache.refreshPrincipal();
    return { ...this.state.principalRecord(user), writtenAt: Date.now() };
  }

  /** Purges what has expired (and updates the caches), writes again the cache entries whose last write failed, and books the next purge. */
  override async alarm(): Promise<void> {
    const purged = this.ctx.storage.transactionSync(() => {
      this.factors.purgeExpired(Date.now());
      return this.state.purgeExpired(Date.now());
    });
    if (purged.length > 0) await this.cache.sync(purged);
    await this.cache.retryFailed();
    await runProofCleanup(this.state.sql, this.env).catch((error: unknown) => logError("proof_cleanup_failed", error));
    await flushAudit(this.state.sql, this.env.DB).catch((error: unknown) => logError("audit_send_failed", error));
    await this.schedulePurge();
  }

  /** Ends sessions in one transaction, then takes their cache entries down. */
  protected async end(ids: string[]): Promise<void> {
    this.ctx.storage.transactionSync(() => this.state.endSessions(ids));
    await this.cache.sync(ids);
  }

  /** The alarm runs when the next session would expire (or sooner, for a cache retry). */
  protected async schedulePurge(): Promise<void> {
    const next = this.state.nextExpiry();
    const { sql } = this.state;
    const retry = this.cache.hasPending() || hasProofCleanup(sql) || hasQueuedAudit(sql) ? Date.now() + CACHE_RETRY_DELAY_MS : null;
    const at = next === null ? retry : retry === null ? next : Math.min(next, retry);
    if (at === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}
