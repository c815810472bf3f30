// The parts a user's authority is composed of, each owning its tables: the account's
// meta values and its sessions (state.ts), refresh families (refresh.ts), second
// factors and waiting sign-ins (factors.ts, pending.ts), the KV caches it alone writes
// (cache-writer.ts), and the outboxes of work outside the object (address-proof.ts,
// audit-outbox.ts). The operations (session-ops.ts, sign-in-ops.ts, factor-ops.ts,
// account-ops.ts) share one instance, and with it what several of them need: opening a
// session's caches, ending sessions, the purge alarm, sending queued audit entries.
import { logError } from "../lib/log";
import { LazySchema } from "../lib/sqlite-schema";
import { nextOAuthPurge, purgeOAuth } from "./oauth-grants/purge";
import { type ProofEffect, hasProofCleanup, runProofCleanup } from "./address-proof";
import { flushAudit, hasQueuedAudit } from "./audit-outbox";
import { CACHE_RETRY_DELAY_MS, CacheWriter } from "./cache-writer";
import { Factors } from "./factors";
import { RefreshTokens } from "./refresh";
import { times } from "./rows";
import { USER_AUTHORITY_SCHEMA } from "./schema";
import { isExpired } from "./session-policy";
import { OrgStandings } from "./org-standings";
import type { PublicUser } from "../users/user-view";
import type { PrincipalRecord } from "./principal-record";
import { AuthorityState } from "./state";
import type { NewSession, SessionCreation } from "./types";

export class AuthorityParts {
  readonly state: AuthorityState;
  readonly cache: CacheWriter;
  readonly refresh: RefreshTokens;
  readonly factors: Factors;
  readonly orgStandings: OrgStandings;
  /**
   * The schema is applied on the first write: an object asked only about what it does not
   * hold (a random, well-formed session id, refresh token or mfa_token names a user that
   * has no authority) answers from `blank` and leaves no storage behind.
   */
  readonly schema: LazySchema;

  constructor(
    readonly ctx: DurableObjectState,
    readonly env: Env,
  ) {
    this.schema = new LazySchema(ctx.storage.sql, USER_AUTHORITY_SCHEMA);
    const sql = this.schema.sql;
    this.state = new AuthorityState(sql, (id) => this.refresh.forget(id));
    this.orgStandings = new OrgStandings(sql);
    this.cache = new CacheWriter(sql, ctx.storage, env.SESSIONS, {
      row: (id) => this.state.row(id),
      org: (orgId) => this.orgStandings.of(orgId),
      user: () => this.state.loadUser(),
      userId: () => this.state.loadUser()?.id ?? this.state.getMeta("deleted"),
      principal: (user) => this.principal(user),
    });
    this.refresh = new RefreshTokens(this.state, ctx.storage, this.cache);
    this.factors = new Factors(sql);
  }

  /**
   * After a session was opened at `now`: its cache entry (and those of the sessions it
   * ended), and the purge alarm. (A racing login may already have ended it again: the
   * answer describes the session as it was opened.) A new session's entry is written
   * after the answer: a reader that misses it asks this object, so nothing waits on KV;
   * the entries of sessions it ended are revocations, taken down before the answer.
   */
  async opened(
    input: NewSession,
    now: number,
    ended: string[],
    newDevice: boolean,
  ): Promise<Extract<SessionCreation, { status: "created" }>> {
    const written = this.cache.sync([input.id, ...ended]);
    if (ended.length > 0) await written;
    // A failed write is remembered for the alarm by the writer itself.
    else this.ctx.waitUntil(written.catch(() => undefined));
    await this.schedulePurge();
    const { aal, amr } = input.assurance;
    return { status: "created", evicted: ended, newDevice, assurance: { aal, amr, authTime: now, reauthAt: null } };
  }

  /** Ends sessions in one transaction, then takes their cache entries down. */
  async end(ids: string[]): Promise<void> {
    this.ctx.storage.transactionSync(() => this.state.endSessions(ids));
    await this.cache.sync(ids);
  }

  /** The alarm runs when the next session would expire (or sooner, for a cache retry). */
  async schedulePurge(): Promise<void> {
    const next = minOf(this.state.nextExpiry(), nextOAuthPurge(this.state.sql));
    const { sql } = this.state;
    const retry = this.cache.hasPending() || hasProofCleanup(sql) || hasQueuedAudit(sql) ? Date.now() + CACHE_RETRY_DELAY_MS : null;
    const at = next === null ? retry : retry === null ? next : Math.min(next, retry);
    if (at === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /**
   * Sends the audit entries queued with a change (audit-outbox.ts). A failure leaves
   * them for the alarm and reaches the caller, which answers 503: the change stands,
   * and its entry lands when D1 answers again.
   */
  async sendAudit(): Promise<void> {
    if (!hasQueuedAudit(this.state.sql)) return;
    try {
      await flushAudit(this.state.sql, this.env.DB);
    } catch (error) {
      await this.schedulePurge();
      throw error;
    }
  }

  /**
   * What a proof ended, after its transaction: the cache entries of the sessions it ended,
   * then what lies outside the object (keys, links, app codes), or by the alarm (booked
   * before the answer) if a step fails.
   */
  async afterProof(effect: ProofEffect): Promise<void> {
    await this.cache.sync(effect.ended);
    await runProofCleanup(this.state.sql, this.env).catch(async (error: unknown) => {
      logError("proof_cleanup_failed", error);
      await this.schedulePurge();
    });
  }

  /** The principal record read paths check (without its write time). */
  principal(user: PublicUser): Omit<PrincipalRecord, "writtenAt"> {
    return { ...this.state.principalRecord(user), orgs: this.orgStandings.all() };
  }

  /** Whether the user still holds this session or token family (not ended, not expired). */
  hasSession(id: string): boolean {
    if (this.schema.blank) return false;
    const row = this.state.row(id);
    return row !== null && !this.state.isDeleted() && !isExpired(times(row), Date.now());
  }

  /** The alarm: purges what has expired (and updates the caches), writes again the cache entries whose last write failed, and books the next purge. */
  async runAlarm(): Promise<void> {
    const purged = this.ctx.storage.transactionSync(() => {
      this.factors.purgeExpired(Date.now());
      purgeOAuth(this.state.sql, Date.now());
      return this.state.purgeExpired(Date.now());
    });
    if (purged.length > 0) await this.cache.sync(purged);
    await this.cache.retryFailed();
    await runProofCleanup(this.state.sql, this.env).catch((error: unknown) => logError("proof_cleanup_failed", error));
    await flushAudit(this.state.sql, this.env.DB).catch((error: unknown) => logError("audit_send_failed", error));
    await this.schedulePurge();
  }
}

function minOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}
