// The UserAuthority's SQLite state and the operations every concern shares: the meta
// values (user, credential epoch, not-before, tombstone), session rows, ending and
// purging sessions, and the principal record read paths check.
import type { ClientInfo } from "../http/client-info";
import type { PublicUser } from "../users/user-view";
import type { PrincipalRecord } from "./principal-record";
import { isExpired } from "./session-policy";
import { ROTATION_COLUMNS, type RotationRow, type SessionRow, times } from "./rows";
import type { NewSession } from "./types";

export class AuthorityState {
  constructor(
    readonly sql: SqlStorage,
    /** Called for each session or family that ends (the refresh memo forgets it). */
    private readonly onEnded: (id: string) => void,
  ) {}

  row(id: string): SessionRow | null {
    return this.sql.exec<SessionRow>("SELECT * FROM sessions WHERE id = ?", id).toArray()[0] ?? null;
  }
  /** The row's columns a rotation needs, read by primary key: a refresh reads nothing else. */
  rotationRow(id: string): RotationRow | null {
    return this.sql.exec<RotationRow>(`SELECT ${ROTATION_COLUMNS} FROM sessions WHERE id = ?`, id).toArray()[0] ?? null;
  }

  sessionIds(): string[] {
    return this.sql
      .exec<{ id: string }>("SELECT id FROM sessions")
      .toArray()
      .map((row) => row.id);
  }

  /**
   * Adds a session (moving to its newer credential epoch first, if it brings one), then
   * ends the least recently active ones beyond `maxSessions`. Returns the ended ids.
   */
  openSession(input: NewSession, maxSessions: number, now: number): { ended: string[]; newDevice: boolean } {
    const ended = input.credentialEpoch > this.epoch() ? this.advanceEpoch(input.credentialEpoch, null, now) : [];
    this.saveUser(input.user);
    this.setMeta("last_login_at", String(now));
    const newDevice = this.rememberDevice(input.client, now);
    this.purgeExpired(now);
    this.insertSession(input, now);
    const evicted = this.sql
      // OAuth grants have their own cap (oauth-server/authority/grant-ops.ts): a sign-in never ends one.
      .exec<{ id: string }>(
        "SELECT id FROM sessions WHERE kind <> 'oauth' ORDER BY last_activity DESC, created_at DESC LIMIT -1 OFFSET ?",
        maxSessions,
      )
      .toArray()
      .map((row) => row.id);
    this.endSessions(evicted);
    return { ended: [...ended, ...evicted], newDevice };
  }

  private insertSession(input: NewSession, now: number): void {
    this.sql.exec(
      `INSERT INTO sessions (id, kind, secret_hash, csrf_hash, created_at, last_activity, cached_activity,
         idle_ms, absolute_expires_at, ip, user_agent, browser, os, device_type, country, city, epoch, aal, amr, active_org)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      input.assurance.aal,
      JSON.stringify(input.assurance.amr),
      input.activeOrg ?? null,
    );
  }

  /** Deletes sessions and their refresh history; a token family leaves the live list its access tokens are checked against. */
  endSessions(ids: string[]): void {
    for (const id of ids) {
      this.sql.exec("DELETE FROM sessions WHERE id = ?", id);
      this.sql.exec("DELETE FROM refresh_history WHERE family_id = ?", id);
      this.onEnded(id);
    }
  }

  /** Ends the sessions past their idle or absolute expiry; returns their ids. */
  purgeExpired(now: number): string[] {
    const expired = this.sql
      .exec<{ id: string }>("SELECT id FROM sessions WHERE MIN(last_activity + idle_ms, absolute_expires_at) <= ?", now)
      .toArray()
      .map((row) => row.id);
    this.endSessions(expired);
    return expired;
  }

  /** When the next session expires if nothing happens (null: no sessions). */
  nextExpiry(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT MIN(MIN(last_activity + idle_ms, absolute_expires_at)) AS at FROM sessions").one()
      .at;
  }

  /** Moves to a newer credential epoch: sessions from older epochs end (but `keepId`). */
  advanceEpoch(epoch: number, keepId: string | null, now: number): string[] {
    this.setMeta("epoch", String(epoch));
    const ids = this.sql
      .exec<{ id: string }>("SELECT id FROM sessions WHERE epoch < ? AND id IS NOT ?", epoch, keepId)
      .toArray()
      .map((row) => row.id);
    this.endSessions(ids);
    if (keepId === null) this.setNotBefore(now);
    return ids;
  }

  /** Remembers the kind of device; true when the user signed in before, but never from this kind. */
  rememberDevice(client: ClientInfo, now: number): boolean {
    const key = `${client.device.browser}|${client.device.os}|${client.device.type}`;
    const known = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM devices").one().n;
    const seen = this.sql.exec("SELECT 1 FROM devices WHERE device_key = ?", key).toArray().length > 0;
    if (!seen) this.sql.exec("INSERT INTO devices (device_key, first_seen) VALUES (?, ?)", key, now);
    return known > 0 && !seen;
  }

  principalRecord(user: PublicUser): Omit<PrincipalRecord, "writtenAt"> {
    const now = Date.now();
    const families = this.sql
      .exec<SessionRow>("SELECT * FROM sessions WHERE kind IN ('token', 'oauth')")
      .toArray()
      .filter((row) => !isExpired(times(row), now))
      .map((row) => row.id);
    return { user, notBefore: this.notBefore(), families };
  }

  epoch(): number {
    return Number(this.getMeta("epoch") ?? "0");
  }

  notBefore(): number {
    return Number(this.getMeta("not_before") ?? "0");
  }

  /** Whole seconds, like a token's iat: a token issued later in this second still passes. */
  setNotBefore(now: number): void {
    this.setMeta("not_before", String(Math.floor(now / 1000) * 1000));
  }

  isDeleted(): boolean {
    return this.getMeta("deleted") !== null;
  }

  /**
   * No sign-in, token family or API key: an admin disabled the account (until enabled),
   * or the address's owner answered "this wasn't me" (locked until a password reset).
   */
  isDisabled(): boolean {
    return DISABLING_KEYS.some((key) => this.getMeta(key) !== null);
  }

  saveUser(user: PublicUser): void {
    this.setMeta("user", JSON.stringify(user));
  }

  loadUser(): PublicUser | null {
    const value = this.getMeta("user");
    return value === null ? null : (JSON.parse(value) as PublicUser);
  }

  getMeta(key: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }
}

/** The meta keys that each stop the account from acting (isDisabled). */
const DISABLING_KEYS = ["disabled", "locked"] as const;

/**
 * What loadUser, isDisabled and notBefore read, as columns of another query (`user_json`,
 * `disabled`, `not_before`): a decision that reads a row of its own (a grant's) gets the
 * account's standing in the same statement. Read back with accountStanding.
 */
export const ACCOUNT_STANDING_COLUMNS = `(SELECT value FROM meta WHERE key = 'user') AS user_json,
  (SELECT value FROM meta WHERE key = 'not_before') AS not_before,
  EXISTS (SELECT 1 FROM meta WHERE key IN (${DISABLING_KEYS.map((key) => `'${key}'`).join(", ")})) AS disabled`;

export type AccountStandingColumns = { user_json: string | null; not_before: string | null; disabled: number };

/** The account's standing from ACCOUNT_STANDING_COLUMNS, as loadUser, isDisabled and notBefore give it. */
export function accountStanding(row: AccountStandingColumns): { user: PublicUser | null; disabled: boolean; notBefore: number } {
  return {
    user: row.user_json === null ? null : (JSON.parse(row.user_json) as PublicUser),
    disabled: row.disabled === 1,
    notBefore: Number(row.not_before ?? "0"),
  };
}
