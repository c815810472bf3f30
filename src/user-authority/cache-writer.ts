// The only code that writes the `session:<id>` and `user:<id>` KV keys. It runs inside
// the user's UserAuthority, one write at a time, and reads the state to write when the
// write runs (not when it was queued), so a late write can never bring back a revoked
// session. A write that fails is remembered in SQLite and retried by the alarm, so a
// KV outage delays the read-path bound instead of breaking it for good.
import type { PublicUser } from "../users/user-view";
import { isPrincipalKey, principalCacheKey, sessionCacheKey, sessionIdOfKey } from "./kv-keys";
import type { OrgStanding } from "./org-standings";
import { type PrincipalRecord, principalFingerprint } from "./principal-record";
import { cacheTtlSeconds, isExpired } from "./session-policy";
import { type SessionRow, times, toCached } from "./rows";

/** KV drops `user:<id>` after this long unless rewritten; a reader that misses asks the authority. */
export const PRINCIPAL_TTL_SECONDS = 24 * 60 * 60;
/** A reader's miss rewrites the record only when it is this close to expiring (KV caches misses ~60 s). */
const PRINCIPAL_REFRESH_MARGIN_MS = 10 * 60 * 1000;
/** How long after a failed write the alarm tries again. */
export const CACHE_RETRY_DELAY_MS = 10_000;

export interface CacheSource {
  row(id: string): SessionRow | null;
  org(orgId: string | null): OrgStanding | null | undefined;
  user(): PublicUser | null;
  userId(): string | null;
  principal(user: PublicUser): Omit<PrincipalRecord, "writtenAt">;
}

interface PrincipalMarker {
  fingerprint: string;
  at: number;
}

export class CacheWriter {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
    private readonly kv: KVNamespace,
    private readonly source: CacheSource,
  ) {}

  /** Writes the given sessions' cache entries and the principal record if it changed. */
  async sync(sessionIds: string[]): Promise<void> {
    await this.enqueue(() => this.write(sessionIds, "if_changed"));
  }

  /** A reader found no `user:<id>`: write it again unless a recent write is still propagating. */
  async refreshPrincipal(): Promise<void> {
    await this.enqueue(() => this.write([], "if_stale"));
  }

  /** Whether a failed write waits for the alarm. */
  hasPending(): boolean {
    return this.sql.exec("SELECT 1 FROM cache_dirty LIMIT 1").toArray().length > 0;
  }

  /**
   * The alarm: writes again every key whose last write failed. A key leaves the list
   * only once written, so an eviction mid-retry loses nothing.
   */
  retryFailed(): Promise<void> {
    const keys = this.sql
      .exec<{ key: string }>("SELECT key FROM cache_dirty")
      .toArray()
      .map((row) => row.key);
    if (keys.length === 0) return Promise.resolve();
    const sessionIds = keys.map(sessionIdOfKey).filter((id) => id !== null);
    const principal = keys.some(isPrincipalKey) ? "always" : "if_changed";
    return this.enqueue(async () => {
      const failed = new Set(await this.write(sessionIds, principal));
      for (const key of keys) if (!failed.has(key)) this.sql.exec("DELETE FROM cache_dirty WHERE key = ?", key);
    });
  }

  /** The user is gone: the principal record is deleted (once), and never written again. */
  forgetPrincipalMarker(): void {
    this.sql.exec("DELETE FROM meta WHERE key = 'principal_cached'");
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Returns the keys whose write failed (remembered for the alarm). */
  private async write(sessionIds: string[], principal: "if_changed" | "if_stale" | "always"): Promise<string[]> {
    const now = Date.now();
    const user = this.source.user();
    const failed: string[] = [];
    const writes = sessionIds.map(async (id) => {
      const key = sessionCacheKey(id);
      const row = this.source.row(id);
      try {
        if (row === null || user === null || row.kind !== "cookie" || isExpired(times(row), now)) {
          await retryOnce(() => this.kv.delete(key));
          return;
        }
        this.sql.exec("UPDATE sessions SET cached_activity = ? WHERE id = ?", row.last_activity, id);
        const value = JSON.stringify(toCached(row, user, this.source.org(row.active_org)));
        await retryOnce(() => this.kv.put(key, value, { expirationTtl: cacheTtlSeconds(times(row), now) }));
      } catch {
        failed.push(key);
      }
    });
    writes.push(
      this.writePrincipal(user, principal, now).catch(() => {
        const userId = this.source.userId();
        if (userId !== null) failed.push(principalCacheKey(userId));
      }),
    );
    await Promise.all(writes);
    if (failed.length > 0) await this.remember(failed, now);
    return failed;
  }

  private async writePrincipal(user: PublicUser | null, mode: "if_changed" | "if_stale" | "always", now: number): Promise<void> {
    if (user === null) {
      // Deleted: remove the record once (KV takes one write per second per key).
      const userId = this.source.userId();
      if (!this.hasMarker() || userId === null) return;
      await retryOnce(() => this.kv.delete(principalCacheKey(userId)));
      this.forgetPrincipalMarker();
      return;
    }
    const marker = this.marker();
    const record = this.source.principal(user);
    const fingerprint = principalFingerprint(record);
    const stale = marker === null || now - marker.at >= PRINCIPAL_TTL_SECONDS * 1000 - PRINCIPAL_REFRESH_MARGIN_MS;
    const write = mode === "always" || marker?.fingerprint !== fingerprint || (mode === "if_stale" && stale);
    if (!write) return;
    await retryOnce(() =>
      this.kv.put(principalCacheKey(user.id), JSON.stringify({ ...record, writtenAt: now }), {
        expirationTtl: PRINCIPAL_TTL_SECONDS,
      }),
    );
    // Marked only once KV took it: a failed put is retried, never mistaken for written.
    this.sql.exec(
      "INSERT OR REPLACE INTO meta (key, value) VALUES ('principal_cached', ?)",
      JSON.stringify({ fingerprint, at: now } satisfies PrincipalMarker),
    );
  }

  private hasMarker(): boolean {
    return this.sql.exec("SELECT 1 FROM meta WHERE key = 'principal_cached'").toArray().length > 0;
  }

  private marker(): PrincipalMarker | null {
    const value = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'principal_cached'").toArray()[0]?.value;
    if (value === undefined) return null;
    try {
      const parsed = JSON.parse(value) as Partial<PrincipalMarker>;
      return typeof parsed.fingerprint === "string" && typeof parsed.at === "number"
        ? { fingerprint: parsed.fingerprint, at: parsed.at }
        : null;
    } catch {
      return null;
    }
  }

  private async remember(keys: string[], now: number): Promise<void> {
    for (const key of keys) this.sql.exec("INSERT OR IGNORE INTO cache_dirty (key) VALUES (?)", key);
    console.error(JSON.stringify({ level: "error", event: "cache_write_failed", keys: keys.length }));
    const alarm = await this.storage.getAlarm();
    if (alarm === null || alarm > now + CACHE_RETRY_DELAY_MS) await this.storage.setAlarm(now + CACHE_RETRY_DELAY_MS);
  }
}

/** KV allows one write per second per key; one retry after that second covers a burst. */
async function retryOnce(operation: () => Promise<void>): Promise<void> {
  try {
    await operation();
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await operation();
  }
}
