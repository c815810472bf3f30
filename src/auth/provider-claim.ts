// A provider sign-in that claims an account: the provider vouches for the address of an
// account whose credential holder never proved it (registered with a password, then
// verified by a click nobody can tie to who registered it). The person signing in owns
// the address, so, as a password reset would, the claim ends every credential made
// before it; and as whoever set the password never proved the address, the password
// goes too (its owner sets one by reset). Only then is the identity linked.
//
// Not when the account has a second factor: a provider's word (perhaps a stale address)
// never removes one (checked here first, decided by the authority with the proof). The identity is linked and the sign-in meets the MFA gate as before;
// someone who registered the owner's address and added a factor is ended by the owner's
// password reset instead.
import type { UserRow } from "../db/schema";
import { link } from "../oauth/oauth-accounts";
import type { ProviderIdentity } from "../oauth/providers/provider";
import type { Services } from "../services/services";
import { authorityFor } from "../sessions/authority-client";
import { clearPasswordForClaim, recordAddressProven } from "../users/user-credentials";
import { proveAddress } from "./prove-address";

export type Claim = { status: "claimed" | "linked"; user: UserRow } | { status: "disabled" } | { status: "gone" };

export async function claimAccount(services: Services, row: UserRow, provider: string, identity: ProviderIdentity): Promise<Claim> {
  if (row.disabled) return { status: "disabled" };
  const authority = authorityFor(services.authority, row.id);
  if ((await authority.listFactors()).factors.length > 0) {
    await link(services.db, provider, identity, row.id);
    return { status: "linked", user: row };
  }
  // The password first, with a new credential epoch: from here no password signs in, and
  // sign-ins that checked it before are refused (or ended) by the authority.
  const cleared = await clearPasswordForClaim(services.db, row.id);
  if (cleared === null) return { status: "gone" };
  await authority.credentialsChanged(cleared.credentialEpoch, null);
  // Then everything else made before, decided by the authority; D1 records it afterwards,
  // so a failure in between leaves the account unproven, and a retry claims it again.
  const effect = await proveAddress(services, cleared, "provider");
  if (effect === null) return { status: "gone" };
  // The authority refused: a factor or a disable raced the check above, or the address was
  // proven meanwhile. Linked, the sign-in meets the gate (or the refusal) as before.
  if (effect.refused === true) {
    await link(services.db, provider, identity, row.id);
    return { status: "linked", user: cleared };
  }
  const proven = (await recordAddressProven(services.db, row.id, row.emailNormalized, services.config.admin.emails)) ?? cleared;
  await link(services.db, provider, identity, row.id);
  return { status: "claimed", user: proven };
}
