// /api/v1/admin/oauth-clients: the OAuth server's clients, managed by admins (a
// superuser at aal 2, fresh for writes, or a superuser's key with admin_oauth_clients).
import { type Context, Hono } from "hono";
import { admin } from "../auth/admin-guard";
import type { AppEnv } from "../auth/app-env";
import { parseBody, parseQuery } from "../http/body";
import { ApiError, validationError } from "../http/errors";
import { changeClient, clientView, createClient, removeClient } from "../oauth-server/clients/admin-clients";
import { createClientBody, updateClientBody } from "../oauth-server/clients/admin-schemas";
import { findClient, listClients } from "../oauth-server/clients/client-store";
import { providerOf } from "../oauth-server/provider";
import { grantsOf } from "../oauth-server/grant-client";
import { auditEntry, target } from "../admin/admin-service";
import { z } from "zod";

export const adminOAuthClientRoutes = new Hono<AppEnv>();
/** /api/v1/admin/users/:id/connected-apps: a user's grants in the admin's view of the user. */
export const adminUserAppRoutes = new Hono<AppEnv>();

const READ = admin({ resource: "admin_oauth_clients", action: "read" });
const WRITE = admin({ resource: "admin_oauth_clients", action: "write" });
const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(50), after: z.string().max(200).optional() });

const notFound = () => new ApiError("not_found", "No such OAuth client");

function enabled(c: Context<AppEnv>): void {
  providerOf(c.get("services"));
}

adminOAuthClientRoutes.get("/", READ, async (c) => {
  enabled(c);
  const query = parseQuery(c, listQuery);
  const items = await listClients(c.get("services").d1, { limit: query.limit, after: query.after ?? null });
  const last = items.at(-1);
  return c.json({ items: items.map(clientView), next_cursor: items.length === query.limit && last !== undefined ? last.clientId : null });
});

adminOAuthClientRoutes.post("/", WRITE, async (c) => {
  enabled(c);
  const input = parseBody(c, createClientBody);
  const result = await createClient(c.get("services"), c.get("principal").userId, input);
  if (!result.ok) throw validationError([{ path: result.path, message: result.message }]);
  c.header("Cache-Control", "no-store");
  return c.json({ ...clientView(result.client), ...(result.secret === null ? {} : { client_secret: result.secret }) }, 201);
});

adminOAuthClientRoutes.get("/:id", READ, async (c) => {
  enabled(c);
  const services = c.get("services");
  const client = await findClient(services.d1, c.req.param("id"));
  if (client === null) throw notFound();
  const { results } = await services.d1
    .prepare("SELECT user_id, first_at, last_at FROM oauth_server_authorizations WHERE client_id = ? ORDER BY last_at DESC LIMIT 100")
    .bind(client.clientId)
    .all<{ user_id: string; first_at: string; last_at: string }>();
  return c.json({ ...clientView(client), authorizations: results });
});

adminOAuthClientRoutes.patch("/:id", WRITE, async (c) => {
  enabled(c);
  const input = parseBody(c, updateClientBody);
  const result = await changeClient(c.get("services"), c.req.param("id"), input);
  if (result === null) throw notFound();
  if (!result.ok) throw validationError([{ path: result.path, message: result.message }]);
  c.header("Cache-Control", "no-store");
  return c.json({ ...clientView(result.client), ...(result.secret === null ? {} : { client_secret: result.secret }) });
});

adminOAuthClientRoutes.delete("/:id", WRITE, async (c) => {
  enabled(c);
  if (!(await removeClient(c.get("services"), c.req.param("id")))) throw notFound();
  return c.body(null, 204);
});

const USER_READ = admin({ resource: "admin_users", action: "read" });
const USER_WRITE = admin({ resource: "admin_users", action: "write" });

adminUserAppRoutes.get("/:id/connected-apps", USER_READ, async (c) => {
  enabled(c);
  const services = c.get("services");
  const user = await target(services, c.req.param("id"));
  return c.json({ items: await grantsOf(services.authority, user.id).grants() });
});

adminUserAppRoutes.delete("/:id/connected-apps/:grant_id", USER_WRITE, async (c) => {
  enabled(c);
  const services = c.get("services");
  const user = await target(services, c.req.param("id"));
  const entry = auditEntry(services, { id: c.get("principal").userId }, user.id, "oauth_grant_revoked");
  if (!(await grantsOf(services.authority, user.id).revoke(c.req.param("grant_id"), undefined, entry)))
    throw new ApiError("not_found", "No such connected app");
  return c.body(null, 204);
});
