// The parts every organization operation shares: the tables, the one-at-a-time queue, the
// caller's standing, and committing a decision with its D1 records (records.ts).
import type { SecurityEvent, SecurityEventType } from "../../events/record-event";
import { logError } from "../../lib/log";
import { LazySchema } from "../../lib/sqlite-schema";
import { type Membership, type OrgRow, OrgTables } from "./membership";
import { type OrgRecord, flushRecords, hasQueuedRecords, queueRecords } from "./records";
import { ORG_AUTHORITY_SCHEMA } from "./schema";
import { SEND_WIDTH, markStanding, markedStanding, sendStanding } from "./standing-push";
import type { Actor, Refusal } from "./types";

const RETRY_MS = 5_000;

export type Standing = Refusal | { status: "ok"; membership: Membership; org: OrgRow };

export class OrgCore {
  readonly schema: LazySchema;
  readonly tables: OrgTables;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly ctx: DurableObjectState,
    readonly env: Env,
  ) {
    this.schema = new LazySchema(ctx.storage.sql, ORG_AUTHORITY_SCHEMA);
    this.tables = new OrgTables(this.schema.sql);
  }

  get sql(): SqlStorage {
    return this.schema.sql;
  }

  /** Runs changes one at a time, awaits included: a decision is never interleaved with another. */
  serial<T>(work: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The organization and the caller's membership; not_found for a non-member (the same answer as for no organization). */
  standing(actor: Actor, permission?: string): Standing {
    if (this.schema.blank) return { status: "not_found" };
    const org = this.tables.org();
    const membership = org === null ? null : this.tables.membership(actor.userId);
    if (org === null || membership === null) return { status: "not_found" };
    if (permission !== undefined && !this.tables.may(membership, permission)) {
      return { status: "forbidden", detail: `Your role in this organization lacks the ${permission} permission` };
    }
    return { status: "ok", membership, org };
  }

  /** An event of this organization, for the D1 queue: about `userId`, caused by `actor`. */
  event(userId: string, type: SecurityEventType, actor: Actor | null, detail: SecurityEvent["detail"] = {}): OrgRecord {
    const orgId = this.tables.org()?.id ?? "";
    const by = actor === null || actor.userId === userId ? null : actor.userId;
    return { kind: "event", event: { userId, type, client: actor?.client ?? null, detail: { org_id: orgId, ...detail, by } } };
  }

  /**
   * Applies a decision's rows and queues its records in one transaction, then sends the
   * records. A membership record (a member added, given a role, gone) marks that member's
   * standing for their own authority (standing-push.ts). The retry alarm is armed with
   * the transaction (no await between them: one write), so what this object keeps queued
   * is sent even if it restarts before sending and is never called again.
   */
  async commit(change: () => OrgRecord[]): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      const records = change();
      queueRecords(this.sql, records);
      markStanding(
        this.sql,
        records.flatMap((record) => (record.kind === "member" || record.kind === "member_gone" ? [record.userId] : [])),
      );
    });
    const armed = this.ctx.storage.setAlarm(Date.now() + RETRY_MS);
    await armed;
    await this.flush();
  }

  /**
   * Inside the queue, before a decision answers: sends the queued records and tells the
   * marked members' authorities their standing, each independent of the other (D1
   * failing delays no member's standing, and the reverse). More members than one round of
   * tells (a slug change, a deletion, a role redefined) are told by the alarm, outside the
   * queue, so a wide change never holds up the decisions after it.
   */
  async flush(): Promise<void> {
    if (this.schema.blank) return;
    const wide = markedStanding(this.sql) > SEND_WIDTH;
    const sent = await Promise.all([
      this.attempt("org_records_deferred", () => this.sendRecords()),
      wide ? false : this.attempt("org_standing_deferred", () => sendStanding(this.sql, this.tables, this.env)),
    ]);
    if (wide) await this.ctx.storage.setAlarm(Date.now());
    else if (sent.includes(false)) await this.ctx.storage.setAlarm(Date.now() + RETRY_MS);
    else await this.wipeIfGone();
  }

  /** The alarm: the records in the queue; the tells outside it (they are ordered by their numbers, not by the queue). */
  async retry(): Promise<void> {
    const recordsSent = await this.serial(() =>
      this.schema.blank || !hasQueuedRecords(this.sql) ? true : this.attempt("org_records_deferred", () => this.sendRecords()),
    );
    const told = this.schema.blank
      ? true
      : await this.attempt("org_standing_deferred", () => sendStanding(this.sql, this.tables, this.env));
    if (!recordsSent || !told) {
      await this.ctx.storage.setAlarm(Date.now() + RETRY_MS);
      return;
    }
    await this.serial(async () => {
      if (!this.schema.blank && !hasQueuedRecords(this.sql) && markedStanding(this.sql) === 0) await this.wipeIfGone();
    });
  }

  private async sendRecords(): Promise<void> {
    if (await flushRecords(this.sql, this.env.DB)) await this.ctx.storage.setAlarm(Date.now());
  }

  /** A deleted organization's storage goes once its records and tells are all sent. */
  private async wipeIfGone(): Promise<void> {
    if (this.sql.exec("SELECT 1 FROM org WHERE deleted_at IS NOT NULL").toArray().length === 0) return;
    await this.ctx.storage.deleteAll();
    this.schema.emptied();
  }

  private async attempt(event: string, send: () => Promise<void>): Promise<boolean> {
    try {
      await send();
      return true;
    } catch (error) {
      logError(event, error);
      return false;
    }
  }
}
