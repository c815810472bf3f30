// The account itself, as the user's authority decides it: the user object caches carry,
// deletion (a tombstone), disabling, a proof of the address, an admin's factor reset,
// and the exact counters it owns (API keys, mailed tokens).
import { OAUTH_ACCOUNT_TABLES } from "./oauth-grants/schema";
import type { PublicUser } from "../users/user-view";
import { type AddressProof, type ProofEffect, proveAddress } from "./address-proof";
import { type AuditEntry, queueAudit } from "./audit-outbox";
import { reserveApiKey, takeMailSlot } from "./counters";
import type { AuthorityParts } from "./parts";
import type { AuthoritySummary, MailSlot, Reservation } from "./types";
import { forgetOAuthDelegations } from "./oauth-grants/purge";

/** What a deletion empties: everything but the meta values it keeps for the tombstone. */
const ACCOUNT_TABLES = [
  ...OAUTH_ACCOUNT_TABLES,
  "sessions",
  "org_standings",
  "email_sign_ins",
  "refresh_history",
  "devices",
  "api_keys",
  "mail_sends",
  "factors",
  "recovery_codes",
  "mfa_pending",
  "mfa_failures",
  "used_challenges",
  "proof_cleanup",
];

export class AccountOps {
  constructor(private readonly p: AuthorityParts) {}

  /** Refreshes the user object that caches carry (after a profile change). */
  async updateUser(user: PublicUser): Promise<void> {
    if (this.p.state.isDeleted()) return;
    this.p.state.saveUser(user);
    await this.p.cache.sync(this.p.state.sessionIds());
  }

  /**
   * The account is being deleted: ends every session and token family, removes their
   * cache entries and the principal record, and keeps only a tombstone that refuses
   * every later session, token family, API key and mail. Returns the API keys to erase.
   */
  async deleteAccount(audit?: AuditEntry): Promise<{ keyIds: string[] }> {
    const { state } = this.p;
    const userId = state.loadUser()?.id ?? null;
    const { ids, keyIds } = this.p.ctx.storage.transactionSync(() => {
      const ids = state.sessionIds();
      const keyIds = this.keyIds();
      for (const table of ACCOUNT_TABLES) state.sql.exec(`DELETE FROM ${table}`);
      state.sql.exec("DELETE FROM meta WHERE key NOT IN ('principal_cached')");
      state.setMeta("deleted", userId ?? "unknown");
      // An admin's entry outlives the account (D1 keeps entries with an actor).
      if (audit !== undefined) queueAudit(state.sql, audit);
      return { ids, keyIds };
    });
    this.p.refresh.clear();
    await this.p.cache.sync(ids);
    await this.p.sendAudit();
    return { keyIds };
  }

  /**
   * An admin disables (or enables) the account. Disabling ends every session and token
   * family, refuses access tokens issued until now and sign-ins waiting for a second
   * factor, and refuses every later sign-in and key reservation until enabled; it
   * returns the key ids the caller must also stop at their own objects. Enabling brings
   * no session back.
   */
  async setDisabled(disabled: boolean, audit?: AuditEntry): Promise<{ keyIds: string[]; generation: number }> {
    const { state } = this.p;
    const { ended, generation } = this.p.ctx.storage.transactionSync(() => {
      // Each decision gets the next number: the key objects apply a decision only over an
      // older one, so a disable and an enable that race reach them in this order.
      const generation = Number(state.getMeta("disabled_generation") ?? "0") + 1;
      state.setMeta("disabled_generation", String(generation));
      // The entry records a change: a second disable (a retry) changes nothing.
      if (audit !== undefined && (state.getMeta("disabled") !== null) !== disabled) queueAudit(state.sql, audit);
      if (!disabled) {
        // An admin's enable also lifts a lock from "this wasn't me".
        state.sql.exec("DELETE FROM meta WHERE key IN ('disabled', 'locked')");
        return { ended: [], generation };
      }
      state.setMeta("disabled", String(Date.now()));
      state.sql.exec("DELETE FROM mfa_pending");
      const ids = state.sessionIds();
      state.endSessions(ids);
      forgetOAuthDelegations(state.sql);
      state.setNotBefore(Date.now());
      return { ended: ids, generation };
    });
    await this.p.cache.sync(ended);
    await this.p.sendAudit();
    return { keyIds: this.keyIds(), generation };
  }

  /**
   * The address was proven (address-proof.ts): ends, in one transaction, every
   * credential made before the proof unless the credential holder proved it, then what
   * lies outside this object (keys, links, app codes). A cleanup that failed stays
   * booked for the alarm (the key objects refuse nothing until it runs: about 10 s).
   */
  async proveAddress(proof: AddressProof, options: { boundInRecord: boolean; knownKeyIds: string[] }): Promise<ProofEffect | null> {
    const { state, factors } = this.p;
    const effect = this.p.ctx.storage.transactionSync(() =>
      state.isDeleted() ? null : proveAddress(state, factors, proof, { ...options, now: Date.now() }),
    );
    if (effect === null) return null;
    // The proof is decided: what lies outside the object follows. The caller still records the proof.
    await this.p.afterProof(effect);
    return effect;
  }

  /**
   * An admin gave the account a new address: nobody has proven it yet, so the next
   * proof decides again (a reset by the new address's owner ends what came before).
   */
  forgetAddressProof(): void {
    this.p.state.sql.exec("DELETE FROM meta WHERE key = 'address_owner'");
    // Links and codes mailed to the old address open nothing.
    this.p.state.sql.exec("DELETE FROM email_sign_ins");
  }

  /** What the admin list shows: disabled, MFA, live sessions, last sign-in. */
  summary(): AuthoritySummary {
    const { state } = this.p;
    this.p.ctx.storage.transactionSync(() => state.purgeExpired(Date.now()));
    const lastLogin = state.getMeta("last_login_at");
    return {
      disabled: state.isDisabled(),
      mfaEnabled: this.p.factors.hasActive(),
      sessionCount: state.sessionIds().length,
      lastLoginAt: lastLogin === null ? null : Number(lastLogin),
    };
  }

  /** An admin removes every factor and recovery code (the user's sessions stay). Returns how many factors went. */
  async removeAllFactors(audit?: AuditEntry): Promise<number> {
    const removed = this.p.ctx.storage.transactionSync(() => {
      const removed = this.p.factors.removeAll();
      if (audit !== undefined) queueAudit(this.p.state.sql, audit, { factors_removed: removed });
      return removed;
    });
    await this.p.sendAudit();
    return removed;
  }

  /** Counts a new key made by `sessionId`, which must still stand (an address proof or a logout may have ended it). */
  reserveApiKey(id: string, sessionId: string, max: number, known: string[] | null): Reservation {
    if (this.p.state.isDisabled() || !this.p.hasSession(sessionId)) return "gone";
    return reserveApiKey(this.p.state, this.p.ctx.storage, id, max, known);
  }

  /** Whether a reserved key still counts (no proof of the address or deletion ended it meanwhile). */
  holdsApiKey(id: string): boolean {
    if (this.p.state.isDeleted()) return false;
    return this.p.state.sql.exec("SELECT 1 FROM api_keys WHERE id = ?", id).toArray().length > 0;
  }

  /** A key was revoked (or its creation failed): it no longer counts. */
  releaseApiKey(id: string): void {
    this.p.state.sql.exec("DELETE FROM api_keys WHERE id = ?", id);
  }

  takeMailSlot(purpose: string, address: string, maxPerHour: number): MailSlot {
    return takeMailSlot(this.p.state, this.p.ctx.storage, purpose, address, maxPerHour);
  }

  private keyIds(): string[] {
    return this.p.state.sql
      .exec<{ id: string }>("SELECT id FROM api_keys")
      .toArray()
      .map((row) => row.id);
  }
}
