// One SQLite-backed Durable Object per API key, named by the key id. It holds the copy
// of the key that authenticates requests (hash, owner, permissions, limits, expiry,
// revocation), counts every use against the key's rate limits exactly (one call at a
// time), and buffers usage (usage.ts), flushing it to D1 in batches by alarm.
import { DurableObject } from "cloudflare:workers";
import { constantTimeEqual } from "../../lib/crypto";
import { logError } from "../../lib/log";
import { LazySchema } from "../../lib/sqlite-schema";
import { type RateLimitState, reportedState, secondsUntilReset, windowKey, windows } from "../rate-limit-policy";
import { API_KEY_AUTHORITY_SCHEMA } from "./schema";
import type { KeyChanges, KeyRecord, KeyUpdate, UseRequest, UseResult, UsedAt } from "./types";
import { UsageBuffer } from "./usage";

export type * from "./types";

/** An expiry may only move earlier: null (never) is the latest of all. */
function isNotLater(next: number | null, current: number | null): boolean {
  if (current === null) return true;
  if (next === null) return false;
  return next <= current;
}

export class ApiKeyAuthority extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /**
   * Memory copies of what SQLite holds, so a use reads nothing from storage: every
   * change is written through to SQLite in the same synchronous step.
   */
  private cachedRecord: KeyRecord | null | undefined;
  private ownerDisabled: boolean | undefined;
  private counts: Map<string, number>;
  private readonly usage: UsageBuffer;
  /** Applied on the first write: a random, well-formed key id reaches a blank object, which answers "invalid" and stores nothing. */
  private readonly schema: LazySchema;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.schema = new LazySchema(ctx.storage.sql, API_KEY_AUTHORITY_SCHEMA);
    this.sql = this.schema.sql;
    this.usage = new UsageBuffer(this.sql, ctx.storage, env.DB);
    this.counts = this.schema.blank ? new Map() : this.usage.counts();
  }

  /** Stores the new key's auth record (version 1). A revoked or erased key stays revoked. */
  setRecord(record: KeyRecord): void {
    this.setMeta("record", JSON.stringify(record));
    this.cachedRecord = undefined;
  }

  /**
   * Applies a change to the key, in the order changes arrive: this object is the one
   * ordered source of what the key may do, and D1 is written from what this returns.
   * `legacy`: the D1 row's record, for keys stored before records carried a version.
   */
  update(changes: KeyChanges, legacy: KeyRecord): KeyUpdate {
    const stored = this.record();
    if (stored === null) return { status: "not_found" };
    if (stored.revoked) return { status: "revoked" };
    const base: KeyRecord = typeof stored.version === "number" ? stored : { ...stored, name: legacy.name, version: legacy.version };
    if (changes.expiresAt !== undefined && !isNotLater(changes.expiresAt, base.expiresAt)) return { status: "expiry_later" };
    const next: KeyRecord = {
      ...base,
      name: changes.name ?? base.name,
      permissions: changes.permissions ?? base.permissions,
      limits: {
        requestsPerMinute: changes.requestsPerMinute !== undefined ? changes.requestsPerMinute : base.limits.requestsPerMinute,
        requestsPerDay: changes.requestsPerDay !== undefined ? changes.requestsPerDay : base.limits.requestsPerDay,
      },
      expiresAt: changes.expiresAt !== undefined ? changes.expiresAt : base.expiresAt,
      version: base.version + 1,
    };
    this.setMeta("record", JSON.stringify(next));
    this.cachedRecord = undefined;
    return { status: "updated", record: next };
  }

  /** Revokes for good: no later setRecord can bring the key back. */
  revoke(): void {
    const record = this.record();
    if (record !== null) this.setMeta("record", JSON.stringify({ ...record, revoked: true }));
    this.setMeta("revoked", "1");
    this.cachedRecord = undefined;
  }

  /** Revokes the key and drops everything it held (its owner's account is being deleted). */
  async erase(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.schema.emptied();
    this.setMeta("revoked", "1");
    this.cachedRecord = undefined;
    this.counts.clear();
    this.usage.reset();
  }

  /**
   * The key's owner was disabled (or enabled again) by an admin: every use is refused
   * while disabled. Kept apart from `revoked`, so enabling the owner gives the key back.
   * `generation` is the owner's authority's number for that decision: one older than the
   * last applied arrived late (a racing disable and enable) and changes nothing.
   */
  setOwnerDisabled(disabled: boolean, generation: number): void {
    if (generation <= Number(this.getMeta("owner_generation") ?? "0")) return;
    this.setMeta("owner_generation", String(generation));
    if (disabled) this.setMeta("owner_disabled", "1");
    else this.sql.exec("DELETE FROM meta WHERE key = 'owner_disabled'");
    this.ownerDisabled = disabled;
  }

  /**
   * Authenticates one use of the key and counts it against every rate-limit window.
   * Synchronous, as every decision here is: nothing else runs between the check and
   * the count, and the answer needs no wait (this is the hot path of every key request).
   */
  use(secretHash: string, request: UseRequest): UseResult {
    if (this.schema.blank) return { status: "invalid" };
    const record = this.record();
    const now = Date.now();
    this.ownerDisabled ??= this.getMeta("owner_disabled") === "1";
    if (
      record === null ||
      record.revoked ||
      this.ownerDisabled ||
      !constantTimeEqual(record.secretHash, secretHash) ||
      (record.expiresAt !== null && now >= record.expiresAt)
    ) {
      return { status: "invalid" };
    }
    const key = { id: record.id, userId: record.userId, permissions: record.permissions, orgId: record.orgId ?? null };
    const active = windows(record.limits, request.defaultRequestsPerMinute, now);
    const names: string[] = [];
    // A window already spent refuses the use; with several, the one that resets last says when to retry.
    let spent: RateLimitState | null = null;
    for (const window of active) {
      const name = windowKey(window);
      names.push(name);
      if ((this.counts.get(name) ?? 0) < window.limit) continue;
      const reset = secondsUntilReset(window, now);
      if (spent === null || reset > spent.reset) spent = { limit: window.limit, remaining: 0, reset };
    }
    if (spent !== null) {
      this.usage.add(now, request, 429, 1);
      return { status: "limited", key, rateLimit: spent, retryAfterSeconds: spent.reset };
    }

    // The one durable write of a use: its usage row, which also carries the windows it
    // counted in. Written first: should it fail, the counts have not moved.
    this.usage.add(now, request, 200, 1, names.length === 0 ? null : names.join(","));
    this.forgetEndedWindows(names);
    const states: RateLimitState[] = [];
    for (const [index, window] of active.entries()) {
      const name = names[index] ?? "";
      const used = (this.counts.get(name) ?? 0) + 1;
      this.counts.set(name, used);
      states.push({ limit: window.limit, remaining: window.limit - used, reset: secondsUntilReset(window, now) });
    }
    return {
      status: "allowed",
      key,
      rateLimit: reportedState(states),
      use: { at: now, endpoint: request.endpoint, method: request.method },
    };
  }

  /**
   * The response to a use ended with another status than the 200 recorded. Written as a
   * correction (-1 for 200, +1 for the real status), so it is right even if the first
   * row has already gone to D1.
   */
  amendUse(use: UsedAt, status: number): void {
    // An erased key's object keeps nothing (its flushes would never send it).
    if (this.schema.blank || this.record() === null) return;
    this.usage.add(use.at, use, 200, -1);
    this.usage.add(use.at, use, status, 1);
  }

  /** Sends buffered usage to D1 now (the usage endpoint calls this before reading). */
  async flushUsage(): Promise<void> {
    if (this.schema.blank) return;
    const record = this.record();
    if (record !== null) await this.usage.flush(record.id);
  }

  /** A flush that failed (D1 unreachable) is tried again later; the rows stay buffered meanwhile. */
  override async alarm(): Promise<void> {
    try {
      await this.flushUsage();
    } catch (error) {
      logError("usage_flush_failed", error, { key_id: this.cachedRecord?.id ?? null });
      await this.usage.retryLater();
    }
  }

  /** A new minute or day: forget the windows that ended (flushes drop them from storage). */
  private forgetEndedWindows(current: readonly string[]): void {
    let stale = this.counts.size > current.length;
    for (const name of current) stale ||= !this.counts.has(name);
    if (!stale) return;
    for (const name of [...this.counts.keys()]) if (!current.includes(name)) this.counts.delete(name);
  }

  private record(): KeyRecord | null {
    if (this.cachedRecord === undefined) {
      const value = this.getMeta("record");
      const record = value === null ? null : (JSON.parse(value) as KeyRecord);
      this.cachedRecord = record !== null && this.getMeta("revoked") === "1" ? { ...record, revoked: true } : record;
    }
    return this.cachedRecord;
  }

  private getMeta(key: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  private setMeta(key: string, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }
}
