// The per-user authority as the Worker binds it (class UserAuthority): the sessions
// half (session-authority.ts), the second factors (factor-authority.ts), and here the
// account itself: its user object, its deletion, and the exact counters it owns.
import type { PublicUser } from "../../users/user-view";
import { reserveApiKey, takeMailSlot } from "./counters";
import { FactorAuthority } from "./factor-authority";
import type { AuthoritySummary, MailSlot, Reservation } from "./types";

export type * from "./types";

/** What a deletion empties: everything but the meta values it keeps for the tombstone. */
const ACCOUNT_TABLES = [
  "sessions",
  "refresh_history",
  "devices",
  "api_keys",
  "mail_sends",
  "factors",
  "recovery_codes",
  "mfa_pending",
  "mfa_failures",
  "used_challenges",
];

export class UserAuthority extends FactorAuthority {
  /** Refreshes the user object that caches carry (after a profile change). */
  async updateUser(user: PublicUser): Promise<void> {
    if (this.state.isDeleted()) return;
    this.state.saveUser(user);
    await this.cache.sync(this.state.sessionIds());
  }

  /**
   * The account is being deleted: ends every session and token family, removes their
   * cache entries and the principal record, and keeps only a tombstone that refuses
   * every later session, token family, API key and mail. Returns the API keys to erase.
   */
  async deleteAccount(): Promise<{ keyIds: string[] }> {
    const { state } = this;
    const userId = state.loadUser()?.id ?? null;
    const { ids, keyIds } = this.ctx.storage.transactionSync(() => {
      const ids = state.sessionIds();
      const keyIds = this.keyIds();
      for (const table of ACCOUNT_TABLES) state.sql.exec(`DELETE FROM ${table}`);
      state.sql.exec("DELETE FROM meta WHERE key NOT IN ('principal_cached')");
      state.setMeta("deleted", userId ?? "unknown");
      return { ids, keyIds };
    });
    this.refresh.clear();
    await this.cache.sync(ids);
    return { keyIds };
  }

  /**
   * An admin disables (or enables) the account. Disabling ends every session and token
   * family, refuses access tokens issued until now and sign-ins waiting for a second
   * factor, and refuses every later sign-in and key reservation until enabled; it
   * returns the key ids the caller must also stop at their own objects. Enabling brings
   * no session back.
   */
  async setDisabled(disabled: boolean): Promise<{ keyIds: string[] }> {
    const { state } = this;
    const ended = this.ctx.storage.transactionSync(() => {
      if (!disabled) {
        state.sql.exec("DELETE FROM meta WHERE key = 'disabled'");
        return [];
      }
      state.setMeta("disabled", String(Date.now()));
      state.sql.exec("DELETE FROM mfa_pending");
      const ids = state.sessionIds();
      state.endSessions(ids);
      state.setNotBefore(Date.now());
      return ids;
    });
    await this.cache.sync(ended);
    return { keyIds: this.keyIds() };
  }

  /** What the admin list shows: disabled, MFA, live sessions, last sign-in. */
  summary(): AuthoritySummary {
    const { state } = this;
    this.ctx.storage.transactionSync(() => state.purgeExpired(Date.now()));
    const lastLogin = state.getMeta("last_login_at");
    return {
      disabled: state.isDisabled(),
      mfaEnabled: this.factors.hasActive(),
      sessionCount: state.sessionIds().length,
      lastLoginAt: lastLogin === null ? null : Number(lastLogin),
    };
  }

  /** An admin removes every factor and recovery code (the user's sessions stay). Returns how many factors went. */
  removeAllFactors(): number {
    return this.ctx.storage.transactionSync(() => this.factors.removeAll());
  }

  reserveApiKey(id: string, max: number, known: string[] | null): Reservation {
    if (this.state.isDisabled()) return "gone";
    return reserveApiKey(this.state, this.ctx.storage, id, max, known);
  }

  /** A key was revoked (or its creation failed): it no longer counts. */
  releaseApiKey(id: string): void {
    this.state.sql.exec("DELETE FROM api_keys WHERE id = ?", id);
  }

  takeMailSlot(purpose: string, address: string, maxPerHour: number): MailSlot {
    return takeMailSlot(this.state, this.ctx.storage, purpose, address, maxPerHour);
  }

  private keyIds(): string[] {
    return this.state.sql
      .exec<{ id: string }>("SELECT id FROM api_keys")
      .toArray()
      .map((row) => row.id);
  }
}
