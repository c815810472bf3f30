// POST /api/v1/auth/introspect (RFC 7662 shape): for backends that receive a session
// cookie, an access token or an API key and want to know whether it stands.
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { parseBody } from "../http/body";
import { clientIp } from "../http/client-info";
import { credentialOf, credentialOfToken, identify } from "./identify";
import { introspectBody } from "./schemas";

export const introspectRoutes = new Hono<AppEnv>();

introspectRoutes.post("/introspect", async (c) => {
  const { token } = parseBody(c, introspectBody);
  const config = c.get("config");
  const credential = token !== undefined ? credentialOfToken(config, token) : credentialOf(config, c.req.raw.headers);
  const identity = await identify(
    {
      config,
      kv: c.env.SESSIONS,
      authority: c.env.USER_AUTHORITY,
      keys: c.env.API_KEYS,
      waitUntil: (promise) => c.executionCtx.waitUntil(promise),
    },
    credential,
    { endpoint: c.req.routePath, method: c.req.method, ip: clientIp(c.req.raw) },
  );
  if (!identity.active) return c.json({ active: false });
  const answer: Record<string, unknown> = { active: true, principal: identity.principal, user_id: identity.user_id };
  if (identity.permissions !== undefined) answer.permissions = identity.permissions;
  if (identity.exp !== undefined) answer.exp = identity.exp;
  return c.json(answer);
});
