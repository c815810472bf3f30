// POST /api/v1/auth/introspect (RFC 7662 shape): for backends that receive a session
// cookie, an access token or an API key and want to know whether it stands. Always
// authoritative: a backend asking is about to act on the answer.
import { activeOrgOfPrincipal, orgDescription } from "../auth/org-standing";
import { Hono } from "hono";
import type { AppEnv } from "../auth/app-env";
import { parseBody } from "../http/body";
import { credentialOf, credentialOfToken } from "../auth/credentials";
import { introspectBody } from "../auth/schemas";
import { describePrincipal, meetsAal, resolveCredential } from "../auth/resolve";

export const introspectRoutes = new Hono<AppEnv>();

introspectRoutes.post("/introspect", async (c) => {
  const { token, require_aal: requireAal } = parseBody(c, introspectBody);
  const config = c.get("config");
  const credential = token !== undefined ? credentialOfToken(config, token) : credentialOf(config, c.req.raw.headers);
  if (credential === null) return c.json({ active: false });
  const result = await resolveCredential(c.get("services"), credential, {
    // Asked as a state-changing request would be, but the caller does its own CSRF check.
    unsafe: true,
    url: c.req.url,
    origin: null,
    csrfHeader: null,
    csrf: "skip",
    use: { endpoint: c.req.routePath, method: c.req.method, ip: c.get("services").ip },
  });
  if (result.status === "refused") return c.json({ active: false });
  const described = describePrincipal(result.principal);
  // A caller that needs two factors learns only that this credential does not have them.
  if (!meetsAal(described, requireAal)) return c.json({ active: false, reason: "aal_required" });
  // The organization it acts in, as the organization has the role now (org claims).
  const org = orgDescription(await activeOrgOfPrincipal(c.get("services"), result.principal));
  return c.json({ active: true, ...described, ...org });
});
