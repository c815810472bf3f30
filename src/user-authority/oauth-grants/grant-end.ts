// Ending grants: in one transaction with their revocation events (and, when the user
// revoked it or the client was disabled, the client's remembered consent), then the
// caches read paths check, before the caller answers.
import type { AuthorityParts } from "../parts";
import { type AuditEntry, queueAudit } from "../audit-outbox";

/** Who ended the grants, as their events say. */
export type EndedBy = "user" | "client" | "client_disabled" | "admin";

/** `adminEntry`: an admin ended them (the entry names the admin; by "admin"). */
export async function endGrants(p: AuthorityParts, ids: string[], clientId: string, by: EndedBy, adminEntry?: AuditEntry): Promise<void> {
  const { state } = p;
  const user = state.loadUser();
  p.ctx.storage.transactionSync(() => {
    state.endSessions(ids);
    // Revoked by the user, or the client disabled: its remembered consent goes too, so a
    // silent prompt=none cannot bring the grant straight back.
    if (by !== "client") state.sql.exec("DELETE FROM oauth_consents WHERE client_id = ?", clientId);
    if (user === null) return;
    for (const id of ids) {
      const detail = { grant_id: id, client_id: clientId, by };
      queueAudit(
        state.sql,
        adminEntry === undefined
          ? { userId: user.id, type: "oauth_grant_revoked", client: null, detail }
          : { ...adminEntry, type: "oauth_grant_revoked", detail: { ...adminEntry.detail, ...detail } },
      );
    }
  });
  await p.cache.sync(ids);
  p.ctx.waitUntil(p.sendAudit().catch(() => undefined));
  await p.schedulePurge();
}
