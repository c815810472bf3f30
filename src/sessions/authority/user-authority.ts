// The per-user authority: one SQLite-backed Durable Object per user, named by the user
// id. Every decision about the user's sign-ins is made here, in order: creating a
// session or token family (refused once the credentials changed under it or the
// account is gone), the session cap, refresh rotation, revocation, the API-key cap and
// the mailed-token cap. D1 keeps the records; it never decides a race.
//
// Every method does its SQLite work synchronously (one implicit transaction), so
// concurrent calls see each other's writes in order.
import { DurableObject } from "cloudflare:workers";
import type { ClientInfo } from "../../http/client-info";
import { constantTimeEqual } from "../../lib/crypto";
import { applySchema } from "../../lib/sqlite-schema";
import type { PublicUser } from "../../users/user-view";
import type { PrincipalRecord } from "../principal-record";
import { type CachedSession, type SessionInfo, type SessionKind, CACHE_TOUCH_INTERVAL_MS, isExpired } from "../session-policy";
import { CacheWriter } from "./cache-writer";
import { decideRotation } from "./rotation";
import { type SessionRow, times, toCached, toInfo } from "./rows";
import { USER_AUTHORITY_SCHEMA } from "./schema";

export interface NewSession {
  id: string;
  kind: SessionKind;
  secretHash: string;
  csrfHash: string | null;
  idleMs: number;
  absoluteMs: number;
  client: ClientInfo;
  user: PublicUser;
  /** The users.credential_epoch the first factor was checked against. */
  credentialEpoch: number;
}

export type SessionCreation = { status: "created"; evicted: string[]; newDevice: boolean } | { status: "refused" };

export type Authorization =
  | { status: "valid"; session: CachedSession; csrfHash: string | null }
  | { status: "expired" }
  | { status: "unknown" };

export type FamilyAuthorization = { status: "valid"; user: PublicUser; createdAt: number } | { status: "unknown" };

/** The token response of the contract, minus refresh_expires_in, which the authority knows. */
export interface TokenPair {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
  refresh_token: string;
}

export interface TokenResponse extends TokenPair {
  refresh_expires_in: number;
}

export type Rotation = { status: "rotated"; response: TokenResponse } | { status: "reused" } | { status: "invalid" };

export type Reservation = "reserved" | "too_many" | "gone" | "needs_seed";

export type MailSlot = { status: "allowed" } | { status: "rate_limited"; retryAfterSeconds: number } | { status: "gone" };

const HOUR_MS = 3_600_000;

interface RotationMemo {
  presentedHash: string;
  response: TokenResponse;
  until: number;
}

export class UserAuthority extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly cache: CacheWriter;
  /**
   * The last rotation of each family, so a second refresh with the same token inside
   * the grace period gets the same pair. Memory only: no token is stored at rest.
   */
  private readonly rotations = new Map<string, RotationMemo>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    applySchema(this.sql, USER_AUTHORITY_SCHEMA);
    this.cache = new CacheWriter(this.sql, ctx.storage, env.SESSIONS, {
      row: (id) => this.row(id),
      user: () => this.loadUser(),
      userId: () => this.loadUser()?.id ?? this.getMeta("deleted"),
      principal: (user) => this.principalRecord(user),
    });
  }

  /**
   * Adds a session, then ends the least recently active ones beyond `maxSessions`.
   * Refused when the account is deleted or its credentials changed after the first
   * factor was checked (`credentialEpoch` older than the authority's). A newer epoch
   * than the authority knows means a change it has not heard of yet: sessions from
   * before it end now. `newDevice`: signed in before, but never from this kind of device.
   */
  async createSession(input: NewSession, maxSessions: number): Promise<SessionCreation> {
    if (this.isDeleted() || input.credentialEpoch < this.epoch()) return { status: "refused" };
    const now = Date.now();
    const { ended, newDevice } = this.ctx.storage.transactionSync(() => {
      const ended = input.credentialEpoch > this.epoch() ? this.advanceEpoch(input.credentialEpoch, null, now) : [];
      this.saveUser(input.user);
      const newDevice = this.rememberDevice(input.client, now);
      this.purgeExpired(now);
      this.insertSession(input, now);
      const evicted = this.sql
        .exec<{ id: string }>("SELECT id FROM sessions ORDER BY last_activity DESC, created_at DESC LIMIT -1 OFFSET ?", maxSessions)
        .toArray()
        .map((row) => row.id);
      this.endSessions(evicted);
      return { ended: [...ended, ...evicted], newDevice };
    });
    await this.cache.sync([input.id, ...ended]);
    return { status: "created", evicted: ended, newDevice };
  }

  /**
   * The authoritative check of a cookie session, used by every state-changing request:
   * the session exists, the secret matches and it has not expired. Records the activity.
   */
  async authorize(id: string, secretHash: string): Promise<Authorization> {
    const row = this.row(id);
    const user = this.loadUser();
    // A token family's refresh token has the same shape as a session token: never a cookie session.
    if (row === null || user === null || row.kind !== "cookie" || !constantTimeEqual(row.secret_hash, secretHash)) {
      return { status: "unknown" };
    }
    const now = Date.now();
    if (isExpired(times(row), now)) {
      this.endSessions([id]);
      await this.cache.sync([id]);
      return { status: "expired" };
    }
    this.sql.exec("UPDATE sessions SET last_activity = ? WHERE id = ?", now, id);
    if (now - row.cached_activity >= CACHE_TOUCH_INTERVAL_MS) await this.cache.sync([id]);
    return { status: "valid", session: toCached({ ...row, last_activity: now }, user), csrfHash: row.csrf_hash };
  }

  /**
   * A read found a cached session whose activity is over a minute old: record the
   * activity, or, when the session is no longer valid, take its KV entry down (the
   * read that asked had a cached copy, so there is an entry to remove).
   */
  async touch(id: string, secretHash: string): Promise<Authorization> {
    const result = await this.authorize(id, secretHash);
    if (result.status === "unknown") await this.cache.sync([id]);
    return result;
  }

  /** The authoritative check of an access token's family. */
  authorizeFamily(familyId: string, issuedAtSeconds: number): FamilyAuthorization {
    const row = this.row(familyId);
    const user = this.loadUser();
    if (row === null || user === null || row.kind !== "token" || isExpired(times(row), Date.now())) return { status: "unknown" };
    if (issuedAtSeconds * 1000 < this.notBefore()) return { status: "unknown" };
    return { status: "valid", user, createdAt: row.created_at };
  }

  /** Replaces the session's CSRF token; false when the session is not valid. */
  async rotateCsrf(id: string, secretHash: string, csrfHash: string): Promise<boolean> {
    const result = await this.authorize(id, secretHash);
    if (result.status !== "valid") return false;
    this.sql.exec("UPDATE sessions SET csrf_hash = ? WHERE id = ?", csrfHash, id);
    return true;
  }

  /**
   * Rotates a family's refresh token to `candidate`. A token already rotated out is
   * reuse: inside the grace period the same pair as the first time is returned (two
   * tabs, an app retry); after it, the whole family is revoked.
   */
  async rotateRefreshToken(
    familyId: string,
    presentedHash: string,
    candidate: { secretHash: string; pair: TokenPair },
    graceMs: number,
  ): Promise<Rotation> {
    const now = Date.now();
    const row = this.row(familyId);
    if (row !== null && row.kind === "token" && isExpired(times(row), now)) {
      this.endSessions([familyId]);
      await this.cache.sync([familyId]);
      return { status: "invalid" };
    }
    const live = row !== null && row.kind === "token" ? row : null;
    const rotatedOutAt =
      live === null
        ? null
        : (this.sql
            .exec<{ rotated_at: number }>("SELECT rotated_at FROM refresh_history WHERE secret_hash = ? AND family_id = ?", presentedHash, familyId)
            .toArray()[0]?.rotated_at ?? null);
    const memo = this.rotations.get(familyId);
    const replayable = memo !== undefined && now < memo.until && constantTimeEqual(memo.presentedHash, presentedHash);
    const verdict = decideRotation({ currentHash: live?.secret_hash ?? null, presentedHash, rotatedOutAt, replayable, now, graceMs });

    if (verdict === "rotate" && live !== null) {
      this.ctx.storage.transactionSync(() => {
        this.sql.exec("INSERT INTO refresh_history (secret_hash, family_id, rotated_at) VALUES (?, ?, ?)", presentedHash, familyId, now);
        this.sql.exec("UPDATE sessions SET secret_hash = ?, last_activity = ? WHERE id = ?", candidate.secretHash, now, familyId);
      });
      const response: TokenResponse = {
        ...candidate.pair,
        refresh_expires_in: Math.max(0, Math.floor((live.absolute_expires_at - now) / 1000)),
      };
      this.rotations.set(familyId, { presentedHash, response, until: now + graceMs });
      return { status: "rotated", response };
    }
    if (verdict === "replay" && memo !== undefined) return { status: "rotated", response: memo.response };
    if (verdict === "reuse") {
      this.endSessions([familyId]);
      await this.cache.sync([familyId]);
      return { status: "reused" };
    }
    return { status: "invalid" };
  }

  /** Revokes the family a refresh token (current or rotated out) belongs to (RFC 7009). */
  async revokeRefreshToken(familyId: string, presentedHash: string): Promise<boolean> {
    const row = this.row(familyId);
    if (row === null || row.kind !== "token") return false;
    const known =
      constantTimeEqual(row.secret_hash, presentedHash) ||
      this.sql.exec("SELECT 1 FROM refresh_history WHERE secret_hash = ? AND family_id = ?", presentedHash, familyId).toArray().length > 0;
    if (!known) return false;
    return this.revokeSession(familyId);
  }

  listSessions(): SessionInfo[] {
    this.purgeExpired(Date.now());
    return this.sql.exec<SessionRow>("SELECT * FROM sessions ORDER BY last_activity DESC").toArray().map(toInfo);
  }

  /** Ends one session; false when the user has no such session. */
  async revokeSession(id: string): Promise<boolean> {
    if (this.row(id) === null) return false;
    this.endSessions([id]);
    await this.cache.sync([id]);
    return true;
  }

  /**
   * Ends every session but `exceptId` (null: all of them, and access tokens issued
   * until now are refused from now on). Returns how many ended.
   */
  async revokeAll(exceptId: string | null): Promise<number> {
    const now = Date.now();
    const ids = this.ctx.storage.transactionSync(() => {
      const ids = this.sessionIds().filter((id) => id !== exceptId);
      this.endSessions(ids);
      if (exceptId === null) this.setNotBefore(now);
      return ids;
    });
    await this.cache.sync(ids);
    return ids.length;
  }

  /**
   * The password changed (or was reset) and users.credential_epoch is now `epoch`: every
   * session made under an older epoch ends, except `keepSessionId` (the session that
   * changed it). Sign-ins whose password check saw the old epoch are refused from now on.
   * Returns how many sessions ended.
   */
  async credentialsChanged(epoch: number, keepSessionId: string | null): Promise<number> {
    const now = Date.now();
    const ended = this.ctx.storage.transactionSync(() => {
      if (keepSessionId !== null) this.sql.exec("UPDATE sessions SET epoch = ? WHERE id = ?", Math.max(epoch, this.epoch()), keepSessionId);
      return epoch > this.epoch() ? this.advanceEpoch(epoch, keepSessionId, now) : [];
    });
    await this.cache.sync(ended);
    return ended.length;
  }

  /** Refreshes the user object that caches carry (after a profile change). */
  async updateUser(user: PublicUser): Promise<void> {
    if (this.isDeleted()) return;
    this.saveUser(user);
    await this.cache.sync(this.sessionIds());
  }

  /**
   * The account is being deleted: ends every session and token family, removes their
   * cache entries and the principal record, and keeps only a tombstone that refuses
   * every later session, token family, API key and mail. Returns the API keys to erase.
   */
  async deleteAccount(): Promise<{ keyIds: string[] }> {
    const userId = this.loadUser()?.id ?? null;
    const { ids, keyIds } = this.ctx.storage.transactionSync(() => {
      const ids = this.sessionIds();
      const keyIds = this.sql.exec<{ id: string }>("SELECT id FROM api_keys").toArray().map((row) => row.id);
      for (const table of ["sessions", "refresh_history", "devices", "api_keys", "mail_sends"]) this.sql.exec(`DELETE FROM ${table}`);
      this.sql.exec("DELETE FROM meta WHERE key NOT IN ('principal_cached')");
      this.setMeta("deleted", userId ?? "unknown");
      return { ids, keyIds };
    });
    this.rotations.clear();
    await this.cache.sync(ids);
    return { keyIds };
  }

  /** Whether the user still holds this session or token family (not ended, not expired). */
  hasSession(id: string): boolean {
    const row = this.row(id);
    return row !== null && !this.isDeleted() && !isExpired(times(row), Date.now());
  }

  /** Whether the account still exists here (not deleted). */
  isActive(): boolean {
    return !this.isDeleted();
  }

  /** The record read-only bearer and API-key requests check, after a KV miss. */
  async readPrincipal(): Promise<PrincipalRecord | null> {
    const user = this.loadUser();
    if (user === null) return null;
    await this.cache.refreshPrincipal();
    return { ...this.principalRecord(user), writtenAt: Date.now() };
  }

  /**
   * Counts a new API key against the user's cap. `known`: the user's unrevoked keys in
   * D1, needed once to seed the count for keys made before the authority kept it;
   * "needs_seed" asks the caller for them.
   */
  reserveApiKey(id: string, max: number, known: string[] | null): Reservation {
    if (this.isDeleted()) return "gone";
    return this.ctx.storage.transactionSync(() => {
      if (this.getMeta("keys_seeded") === null) {
        if (known === null) return "needs_seed";
        for (const keyId of known) this.sql.exec("INSERT OR IGNORE INTO api_keys (id, created_at) VALUES (?, ?)", keyId, 0);
        this.setMeta("keys_seeded", "1");
      }
      const count = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM api_keys").one().n;
      if (count >= max) return "too_many";
      this.sql.exec("INSERT INTO api_keys (id, created_at) VALUES (?, ?)", id, Date.now());
      return "reserved";
    });
  }

  /** A key was revoked (or its creation failed): it no longer counts. */
  releaseApiKey(id: string): void {
    this.sql.exec("DELETE FROM api_keys WHERE id = ?", id);
  }

  /** One mailed token for `address`, at most `maxPerHour` per purpose and address, exactly. */
  takeMailSlot(purpose: string, address: string, maxPerHour: number): MailSlot {
    if (this.isDeleted()) return { status: "gone" };
    const now = Date.now();
    return this.ctx.storage.transactionSync((): MailSlot => {
      this.sql.exec("DELETE FROM mail_sends WHERE at <= ?", now - HOUR_MS);
      const recent = this.sql
        .exec<{ n: number; oldest: number | null }>(
          "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM mail_sends WHERE purpose = ? AND address = ?",
          purpose,
          address,
        )
        .one();
      if (recent.n >= maxPerHour) {
        return { status: "rate_limited", retryAfterSeconds: Math.max(1, Math.ceil(((recent.oldest ?? now) + HOUR_MS - now) / 1000)) };
      }
      this.sql.exec("INSERT INTO mail_sends (purpose, address, at) VALUES (?, ?, ?)", purpose, address, now);
      return { status: "allowed" };
    });
  }

  /** Writes again the cache entries whose last write failed. */
  override async alarm(): Promise<void> {
    await this.cache.retryFailed();
  }

  private insertSession(input: NewSession, now: number): void {
    this.sql.exec(
      `INSERT INTO sessions (id, kind, secret_hash, csrf_hash, created_at, last_activity, cached_activity,
         idle_ms, absolute_expires_at, ip, user_agent, browser, os, device_type, country, city, epoch)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      input.id,
      input.kind,
      input.secretHash,
      input.csrfHash,
      now,
      now,
      now,
      input.idleMs,
      now + input.absoluteMs,
      input.client.ip,
      input.client.userAgent,
      input.client.device.browser,
      input.client.device.os,
      input.client.device.type,
      input.client.location.country,
      input.client.location.city,
      input.credentialEpoch,
    );
  }

  /** Moves to a newer credential epoch: sessions from older epochs end (but `keepId`). */
  private advanceEpoch(epoch: number, keepId: string | null, now: number): string[] {
    this.setMeta("epoch", String(epoch));
    const ids = this.sql
      .exec<{ id: string }>("SELECT id FROM sessions WHERE epoch < ? AND id IS NOT ?", epoch, keepId)
      .toArray()
      .map((row) => row.id);
    this.endSessions(ids);
    if (keepId === null) this.setNotBefore(now);
    return ids;
  }

  private rememberDevice(client: ClientInfo, now: number): boolean {
    const key = `${client.device.browser}|${client.device.os}|${client.device.type}`;
    const known = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM devices").one().n;
    const seen = this.sql.exec("SELECT 1 FROM devices WHERE device_key = ?", key).toArray().length > 0;
    if (!seen) this.sql.exec("INSERT INTO devices (device_key, first_seen) VALUES (?, ?)", key, now);
    return known > 0 && !seen;
  }

  private row(id: string): SessionRow | null {
    return this.sql.exec<SessionRow>("SELECT * FROM sessions WHERE id = ?", id).toArray()[0] ?? null;
  }

  private sessionIds(): string[] {
    return this.sql.exec<{ id: string }>("SELECT id FROM sessions").toArray().map((row) => row.id);
  }

  /** Deletes sessions and their refresh history; a token family leaves the live list its access tokens are checked against. */
  private endSessions(ids: string[]): void {
    for (const id of ids) {
      this.sql.exec("DELETE FROM sessions WHERE id = ?", id);
      this.sql.exec("DELETE FROM refresh_history WHERE family_id = ?", id);
      this.rotations.delete(id);
    }
  }

  private purgeExpired(now: number): void {
    const expired = this.sql
      .exec<{ id: string }>("SELECT id FROM sessions WHERE MIN(last_activity + idle_ms, absolute_expires_at) <= ?", now)
      .toArray()
      .map((row) => row.id);
    this.endSessions(expired);
  }

  private principalRecord(user: PublicUser): Omit<PrincipalRecord, "writtenAt"> {
    const now = Date.now();
    const families = this.sql
      .exec<SessionRow>("SELECT * FROM sessions WHERE kind = 'token'")
      .toArray()
      .filter((row) => !isExpired(times(row), now))
      .map((row) => row.id);
    return { user, notBefore: this.notBefore(), families };
  }

  private epoch(): number {
    return Number(this.getMeta("epoch") ?? "0");
  }

  private notBefore(): number {
    return Number(this.getMeta("not_before") ?? "0");
  }

  /** Whole seconds, like a token's iat: a token issued later in this second still passes. */
  private setNotBefore(now: number): void {
    this.setMeta("not_before", String(Math.floor(now / 1000) * 1000));
  }

  private isDeleted(): boolean {
    return this.getMeta("deleted") !== null;
  }

  private saveUser(user: PublicUser): void {
    this.setMeta("user", JSON.stringify(user));
  }

  private loadUser(): PublicUser | null {
    const value = this.getMeta("user");
    return value === null ? null : (JSON.parse(value) as PublicUser);
  }

  private getMeta(key: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  private setMeta(key: string, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }
}
