// A provider sign-in that claims an account: the provider vouches for the address of an
// account whose credential holder never proved it (registered with a password, then
// verified by a click nobody can tie to who registered it). The person signing in owns
// the address, so, as a password reset would, the claim ends every credential made
// before it; and as whoever set the password never proved the address, the password
// goes too (its owner sets one by reset). Only then is the identity linked.
import type { UserRow } from "../db/schema";
import { link } from "../oauth/oauth-accounts";
import type { ProviderIdentity } from "../oauth/providers/provider";
import type { Services } from "../services/services";
import { authorityFor } from "../sessions/authority-client";
import { claimByProvider } from "../users/user-credentials";
import { proveAddress } from "./prove-address";

/** The account once claimed and linked, or null when it is gone. */
export async function claimAccount(
  services: Services,
  row: UserRow,
  provider: string,
  identity: ProviderIdentity,
): Promise<UserRow | null> {
  // The authority first: a failure after it leaves the account unclaimed in D1 (fail closed).
  if (!(await proveAddress(services, row, "provider"))) return null;
  const claimed = await claimByProvider(services.db, row.id, services.config.admin.emails);
  if (claimed === null) return null;
  // Sign-ins that checked the old password before the claim end, and later ones are refused.
  await authorityFor(services.authority, row.id).credentialsChanged(claimed.credentialEpoch, null);
  await link(services.db, provider, identity, row.id);
  return claimed;
}
