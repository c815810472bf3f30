// Account deletion: who may delete (the policy), and the order it happens in. Each
// feature names the rows it owns (its *Deletion functions); this file only orders them.
import { allKeyIds, keyRowDeletions } from "../api-keys/key-store";
import type { PrincipalSession } from "../auth/principal";
import { eventDeletion } from "../events/event-log";
import { ApiError, tooManyRequests, validationError } from "../http/errors";
import { mailRetryDeletion } from "../mail/retry-queue";
import { appCodeDeletion } from "../oauth/app-codes";
import { identityDeletion } from "../oauth/oauth-accounts";
import type { Services } from "../services/services";
import { authorityFor } from "../sessions/authority-client";
import type { AuditEntry } from "../user-authority/audit-outbox";
import { findUserById, userRowDeletion } from "../users/user-store";
import type { PublicUser } from "../users/user-view";
import { checkCurrentPassword } from "./account-service";
import { isFresh, reauthenticationRequired } from "../auth/fresh";
import { mailTokenDeletion } from "./mail-tokens";
import { leaveEveryOrg } from "../orgs/user-deletion";

/**
 * Deletes the signed-in user's account once confirmed: with the password when the
 * account has one (it counts as re-authentication), else by a fresh session (a sign-in
 * or re-authentication within REAUTH_MAX_AGE_MINUTES).
 */
export async function deleteOwnAccount(
  services: Services,
  who: { user: PublicUser; session: Pick<PrincipalSession, "assurance"> },
  password: string | undefined,
): Promise<void> {
  const row = await findUserById(services.db, who.user.id);
  if (row === null) throw new ApiError("not_authenticated", "Not authenticated");
  if (row.passwordHash !== null) {
    if (password === undefined) throw validationError([{ path: "password", message: "Required" }]);
    const check = await checkCurrentPassword(services, who.user, password);
    if (check.status === "throttled") throw tooManyRequests("too_many_attempts", check.retryAfterSeconds);
    if (check.status === "wrong") throw new ApiError("invalid_credentials", "The password is not correct");
  } else if (!isFresh(services, who.session.assurance)) {
    // The assurance is the session's or token family's as its authority knows it (this is
    // a state-changing request): a refreshed access token does not renew it.
    throw await reauthenticationRequired(services, who.user.id);
  }
  await deleteAccount(services, who.user.id);
}

/**
 * Deletes an account for good. The authority goes first and keeps a tombstone, so no
 * login, refresh, key creation or mail that raced the deletion can create anything
 * afterwards; then every API key is erased at its own authority (those the user's
 * authority counted, and any older ones D1 lists); then every row of personal data in
 * D1, in one transaction. API keys and their usage go too: they identify the person.
 * Each organization the user belonged to takes them out at its own authority first.
 * `audit`: an admin's entry, queued with the tombstone (it outlives the account).
 */
export async function deleteAccount(
  services: Pick<Services, "db" | "d1" | "authority" | "keys" | "orgs">,
  userId: string,
  audit?: AuditEntry,
): Promise<void> {
  const { db, d1 } = services;
  const { keyIds } = await authorityFor(services.authority, userId).deleteAccount(audit);
  const ids = new Set([...keyIds, ...(await allKeyIds(db, userId))]);
  await Promise.all([...ids].map((id) => services.keys.getByName(id).erase()));
  await leaveEveryOrg(services, userId);
  await d1.batch([
    ...keyRowDeletions(db, d1, userId),
    mailTokenDeletion(d1, userId),
    mailRetryDeletion(d1, userId),
    eventDeletion(db, d1, userId),
    identityDeletion(db, d1, userId),
    appCodeDeletion(d1, userId),
    // Who authorized which OAuth client (oauth-server/): the user's grants ended with the authority.
    d1.prepare("DELETE FROM oauth_server_authorizations WHERE user_id = ?").bind(userId),
    userRowDeletion(db, d1, userId),
  ]);
  // Once more, now that D1 refuses any new membership of this user: a joining that raced
  // the first pass is recorded by now, and its organization takes the member out.
  await leaveEveryOrg(services, userId);
}
