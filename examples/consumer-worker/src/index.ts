// A Worker another team writes, protected by edge-auth in one line per route. It calls
// the auth service's AuthService entrypoint over a service binding (wrangler.toml), so
// there is no HTTP hop and no secret to share. Refusals are the auth service's own
// answers (status, {detail, code}, Retry-After, WWW-Authenticate, RateLimit-*).
import {
  type AuthServiceBinding,
  type AuthVariables,
  requireAal,
  requireAuth,
  requireOrg,
  requireOrgPermission,
  requirePermission,
} from "edge-auth/hono";
import { Hono } from "hono";

type ConsumerEnv = { Bindings: { AUTH: AuthServiceBinding }; Variables: AuthVariables };

const app = new Hono<ConsumerEnv>();

// Any valid credential: a session cookie (with X-CSRF-Token on writes), a bearer token
// or an API key.
app.get("/me", requireAuth(), (c) => {
  const { principal, user, aal } = c.var.auth;
  return c.json({ principal, user_id: user.id, email: user.email, aal: aal ?? null });
});

// API keys need reports:read; a user's own session or token acts as the user and passes.
app.get("/reports", requirePermission("reports", "read"), (c) => c.json({ owner: c.var.auth.user.id, reports: [] }));

// Guards compose: the second decides from the first one's answer (a key's use counts once).
app.post("/reports", requireAuth(), requirePermission("reports", "write"), async (c) => {
  const { title } = await c.req.json<{ title: string }>();
  return c.json({ title, owner: c.var.auth.user.id }, 201);
});

// Moving money needs a sign-in with a second factor (aal 2); API keys never have one.
app.post("/transfers", requireAal(2), (c) => c.json({ accepted: true, amr: c.var.auth.amr ?? [] }));

// In the organization the session or token acts in (POST /api/v1/auth/active-org), with
// the role the organization gives the caller now: a removed or demoted member is refused at once.
app.get("/workspace", requireOrg(), (c) =>
  c.json({ org_id: c.var.auth.org_id, role: c.var.auth.org_role, permissions: c.var.auth.org_permissions }),
);
app.post("/workspace/invoices", requireOrgPermission("billing:write"), (c) => c.json({ org_id: c.var.auth.org_id, created: true }, 201));

export default app;
