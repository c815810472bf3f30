// Proving the address, inside the user's authority. A password reset proves the address
// to whoever now holds the password: on an account whose credential holder had not
// proven it before, it is the moment every credential made before ends (sessions and
// token families, second factors and recovery codes, API keys, provider links and the
// app codes that came from them). That is what defeats account pre-hijacking: someone
// who registered another person's address keeps no way in once that person resets the
// password (docs/concepts/accounts.md, "Proving an address").
import { forgetOAuthDelegations } from "./oauth-grants/purge";
import type { AuthorityState } from "./state";
import type { Factors } from "./factors";

/**
 * Who proved the address:
 * - `reset`: the mailbox's holder set the password through a mailed link;
 * - `signed_in`: a verification link confirmed with a session or token of this account
 *   (the credential holder is the mailbox's holder);
 * - `provider`: a provider vouched for the address to whoever signs in with it (the
 *   password, set by someone who never proved the address, goes too: claimByProvider);
 * - `disowned`: the mailbox's holder answered "this wasn't me" (the account is locked
 *   until a password reset);
 * - `email`: a magic link or email code signed in: whoever reads the mailbox signs in,
 *   as a reset (email-sign-ins.ts; the password set before goes too).
 * A verification link confirmed by someone not signed in is none of these: whoever
 * clicked holds the mailbox, but the server cannot tell them from whoever made the
 * account, so it verifies the address for mail and decides nothing here.
 */
export type AddressProof = "reset" | "provider" | "signed_in" | "disowned" | "email";

export interface ProofEffect {
  /** When the proof ended what came before it; null when nothing ended. */
  provenAt: number | null;
  ended: string[];
  keyIds: string[];
  factorsRemoved: number;
  /** Refused, nothing changed: "this wasn't me" on a bound account, or a provider's claim of a bound, disabled or second-factor one. */
  refused?: true;
}

const NOTHING_ENDED: ProofEffect = { provenAt: null, ended: [], keyIds: [], factorsRemoved: 0 };

/**
 * The proof's decision, in the authority's transaction. `boundInRecord`: D1's record
 * that the credential holder proved the address before (for accounts from before the
 * authority kept it); `knownKeyIds`: the user's unrevoked keys in D1, for keys from
 * before the authority counted them.
 */
export function proveAddress(
  state: AuthorityState,
  factors: Factors,
  proof: AddressProof,
  options: { boundInRecord: boolean; knownKeyIds: string[]; now: number },
): ProofEffect {
  const { now } = options;
  const bound = state.getMeta("address_owner") !== null || options.boundInRecord;
  // The holder proved the address already: nobody can disown it with an old link.
  if (proof === "disowned" && bound) return { ...NOTHING_ENDED, refused: true };
  // A provider's word claims only an unbound account with no second factor that no admin
  // disabled, decided here, in order with a factor or a disable that races the claim.
  if (proof === "provider" && (bound || factors.hasActive() || state.getMeta("disabled") !== null)) {
    return { ...NOTHING_ENDED, refused: true };
  }
  if (proof !== "disowned") {
    // Whoever proves the address now holds the account: a lock from "this wasn't me" ends.
    state.setMeta("address_owner", String(now));
    state.sql.exec("DELETE FROM meta WHERE key = 'locked'");
  }
  // The credential holder proved the mailbox, or had already: what they made is theirs.
  if (proof === "signed_in" || (bound && proof !== "disowned")) return NOTHING_ENDED;

  const ended = state.sessionIds();
  state.endSessions(ended);
  forgetOAuthDelegations(state.sql);
  state.setNotBefore(now);
  state.sql.exec("DELETE FROM mfa_pending");
  const factorsRemoved = factors.removeAll();
  const counted = state.sql.exec<{ id: string }>("SELECT id FROM api_keys").toArray();
  const keyIds = [...new Set([...counted.map((row) => row.id), ...options.knownKeyIds])];
  state.sql.exec("DELETE FROM api_keys");
  state.setMeta("address_proven_at", String(now));
  if (proof === "disowned") state.setMeta("locked", String(now));
  const userId = state.loadUser()?.id ?? null;
  if (userId !== null) {
    state.sql.exec("INSERT INTO proof_cleanup (user_id, proven_at, key_ids) VALUES (?, ?, ?)", userId, now, JSON.stringify(keyIds));
  }
  return { provenAt: now, ended, keyIds, factorsRemoved };
}

/**
 * Whether a sign-in resting on a credential made at `madeAt` (an OAuth link, an app
 * code) came before the address was proven, and so must not open anything.
 */
export function madeBeforeProof(state: AuthorityState, madeAt: number | undefined): boolean {
  if (madeAt === undefined) return false;
  return madeAt < Number(state.getMeta("address_proven_at") ?? "0");
}

type CleanupRow = { id: number; user_id: string; proven_at: number; key_ids: string; password_epoch: number | null };

/**
 * Ends outside this object what a proof ended inside it: each key at its own object
 * (revoked for good), then the D1 records of keys, links and app codes made before the
 * proof. Each job is deleted once done; a failure leaves it for the alarm.
 */
export async function runProofCleanup(sql: SqlStorage, env: Pick<Env, "API_KEYS" | "DB">): Promise<void> {
  for (const job of sql.exec<CleanupRow>("SELECT * FROM proof_cleanup ORDER BY id").toArray()) {
    const keyIds = JSON.parse(job.key_ids) as string[];
    const at = new Date(job.proven_at).toISOString();
    // Keys the account made for an organization before the proof are counted there, not here: found in D1.
    const { results: orgKeys } = await env.DB.prepare(
      "SELECT id FROM api_keys WHERE user_id = ? AND org_id IS NOT NULL AND revoked_at IS NULL AND created_at < ?",
    )
      .bind(job.user_id, at)
      .all<{ id: string }>();
    await Promise.all([...keyIds, ...orgKeys.map((row) => row.id)].map((id) => env.API_KEYS.getByName(id).revoke()));
    await env.DB.batch([
      env.DB.prepare(
        `UPDATE api_keys SET revoked_at = ?1, updated_at = ?1
         WHERE user_id = ?2 AND revoked_at IS NULL AND (created_at < ?1 OR id IN (SELECT value FROM json_each(?3)))`,
      ).bind(at, job.user_id, job.key_ids),
      env.DB.prepare("DELETE FROM oauth_accounts WHERE user_id = ? AND created_at < ?").bind(job.user_id, at),
      env.DB.prepare("DELETE FROM oauth_codes WHERE user_id = ? AND created_at < ?").bind(job.user_id, at),
      // A passwordless proof (email-sign-ins.ts): the password set before it goes, unless a
      // newer credential (a reset since the proof) is already recorded; at the proof's epoch
      // too, so a password changed by a session the proof ended, racing it, goes as well.
      env.DB.prepare(
        "UPDATE users SET password_hash = NULL, credential_epoch = MAX(credential_epoch, ?2), updated_at = ?3 WHERE id = ?1 AND credential_epoch <= ?2",
      ).bind(job.user_id, job.password_epoch ?? -1, at),
    ]);
    sql.exec("DELETE FROM proof_cleanup WHERE id = ?", job.id);
  }
}

export function hasProofCleanup(sql: SqlStorage): boolean {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM proof_cleanup").one().n > 0;
}
