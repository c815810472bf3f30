// The per-user authority as the Worker binds it (class UserAuthority): the sessions
// half (session-authority.ts), the second factors (factor-authority.ts), and here the
// account itself: its user object, its deletion, and the exact counters it owns.
import type { PublicUser } from "../../users/user-view";
import { reserveApiKey, takeMailSlot } from "./counters";
import { FactorAuthority } from "./factor-authority";
import type { MailSlot, Reservation } from "./types";

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
      const keyIds = state.sql
        .exec<{ id: string }>("SELECT id FROM api_keys")
        .toArray()
        .map((row) => row.id);
      for (const table of ACCOUNT_TABLES) state.sql.exec(`DELETE FROM ${table}`);
      state.sql.exec("DELETE FROM meta WHERE key NOT IN ('principal_cached')");
      state.setMeta("deleted", userId ?? "unknown");
      return { ids, keyIds };
    });
    this.refresh.clear();
    await this.cache.sync(ids);
    return { keyIds };
  }

  reserveApiKey(id: string, max: number, known: string[] | null): Reservation {
    return reserveApiKey(this.state, this.ctx.storage, id, max, known);
  }

  /** A key was revoked (or its creation failed): it no longer counts. */
  releaseApiKey(id: string): void {
    this.state.sql.exec("DELETE FROM api_keys WHERE id = ?", id);
  }

  takeMailSlot(purpose: string, address: string, maxPerHour: number): MailSlot {
    return takeMailSlot(this.state, this.ctx.storage, purpose, address, maxPerHour);
  }
}
