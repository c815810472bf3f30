// /api/v1/admin/orgs: organizations for an admin (admin_users:read, as the user views).
import { Hono } from "hono";
import { z } from "zod";
import { admin } from "../auth/admin-guard";
import type { AppEnv } from "../auth/app-env";
import { parseQuery } from "../http/body";
import { adminOrg, searchOrgs } from "../orgs/admin-orgs";
import { notFound } from "../orgs/org-service";
import { unlessEmpty } from "../orgs/schemas";

export const adminOrgRoutes = new Hono<AppEnv>();

const READ = admin({ resource: "admin_users", action: "read" });

// `?query=` (empty) lists them all, as no query does.
const listQuery = z.object({
  query: unlessEmpty(z.string().trim().max(100).optional()),
  limit: unlessEmpty(z.coerce.number().int().min(1).max(100).default(50)),
  cursor: unlessEmpty(
    z
      .string()
      .regex(/^org_[0-9a-f]{24}$/, "A cursor from next_cursor")
      .optional(),
  ),
});

adminOrgRoutes.get("/", READ, async (c) => {
  const query = parseQuery(c, listQuery);
  const page = await searchOrgs(c.get("services"), query.query, query.limit, query.cursor);
  return c.json({ items: page.items, next_cursor: page.next });
});

adminOrgRoutes.get("/:org", READ, async (c) => {
  const org = await adminOrg(c.get("services"), c.req.param("org"));
  if (org === null) throw notFound();
  return c.json(org);
});
