// The exact counters a user's authority owns: the API-key cap and the mailed-token cap.
// Each is decided in one transaction, so two racing requests can never both take the
// last place.
import type { AuthorityState } from "./state";
import type { MailSlot, Reservation } from "./types";

const HOUR_MS = 3_600_000;

/**
 * Counts a new API key against the user's cap. `known`: the user's unrevoked keys in
 * D1, needed once to seed the count for keys made before the authority kept it;
 * "needs_seed" asks the caller for them.
 */
export function reserveApiKey(
  state: AuthorityState,
  storage: DurableObjectStorage,
  id: string,
  max: number,
  known: string[] | null,
): Reservation {
  if (state.isDeleted()) return "gone";
  const { sql } = state;
  return storage.transactionSync(() => {
    if (state.getMeta("keys_seeded") === null) {
      if (known === null) return "needs_seed";
      for (const keyId of known) sql.exec("INSERT OR IGNORE INTO api_keys (id, created_at) VALUES (?, ?)", keyId, 0);
      state.setMeta("keys_seeded", "1");
    }
    const count = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM api_keys").one().n;
    if (count >= max) return "too_many";
    sql.exec("INSERT INTO api_keys (id, created_at) VALUES (?, ?)", id, Date.now());
    return "reserved";
  });
}

/** One mailed token for `address`, at most `maxPerHour` per purpose and address, exactly. */
export function takeMailSlot(
  state: AuthorityState,
  storage: DurableObjectStorage,
  purpose: string,
  address: string,
  maxPerHour: number,
): MailSlot {
  if (state.isDeleted()) return { status: "gone" };
  const { sql } = state;
  const now = Date.now();
  return storage.transactionSync((): MailSlot => {
    sql.exec("DELETE FROM mail_sends WHERE at <= ?", now - HOUR_MS);
    const recent = sql
      .exec<{ n: number; oldest: number | null }>(
        "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM mail_sends WHERE purpose = ? AND address = ?",
        purpose,
        address,
      )
      .one();
    if (recent.n >= maxPerHour) {
      return { status: "rate_limited", retryAfterSeconds: Math.max(1, Math.ceil(((recent.oldest ?? now) + HOUR_MS - now) / 1000)) };
    }
    sql.exec("INSERT INTO mail_sends (purpose, address, at) VALUES (?, ?, ?)", purpose, address, now);
    return { status: "allowed" };
  });
}
