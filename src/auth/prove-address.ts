// Proving an address, the Worker's half: asks the user's authority to decide the proof
// (user-authority/address-proof.ts) and records what it ended. Used by email
// verification, "this wasn't me" and the password reset (account/), and by a provider
// sign-in that claims an account (provider-claim.ts).
import { activeKeyIds } from "../api-keys/key-store";
import type { UserRow } from "../db/schema";
import { recordEventLater } from "../events/event-log";
import type { Services } from "../services/services";
import { authorityFor } from "../sessions/authority-client";
import type { AddressProof, ProofEffect } from "../user-authority/address-proof";

export type ProofDeps = Pick<Services, "db" | "d1" | "config" | "authority" | "waitUntil" | "client">;

/**
 * Asks the user's authority to end what came before the proof (unless the credential
 * holder made it), and records it as a security event when anything ended. Null when
 * the account is gone.
 */
export async function proveAddress(deps: ProofDeps, row: UserRow, proof: AddressProof): Promise<ProofEffect | null> {
  const effect = await authorityFor(deps.authority, row.id).proveAddress(proof, {
    boundInRecord: row.addressProven,
    knownKeyIds: await activeKeyIds(deps.db, row.id),
  });
  if (effect === null) return null;
  if (effect.provenAt !== null) {
    recordEventLater(deps, row.id, "address_proven", {
      by: proof,
      sessions_ended: effect.ended.length,
      factors_removed: effect.factorsRemoved,
      api_keys_revoked: effect.keyIds.length,
    });
  }
  return effect;
}
