// Minimal Worker around @cloudflare/workers-oauth-provider for measurement.
// Every request gets an env whose OAUTH_KV is wrapped by a counting Proxy.
import { OAuthProvider } from "@cloudflare/workers-oauth-provider";

const ORIGIN = "https://wop.test";
const USER_ID = "user1"; // fixed user; defaultHandler auto-approves

// KV op counters (module-global; the measuring script issues one request at a time when reading them)
let ops = [];
function countingKV(kv) {
  return new Proxy(kv, {
    get(target, prop) {
      const v = target[prop];
      if (typeof v !== "function") return v;
      return (...args) => {
        const arg0 = args[0];
        const key = typeof arg0 === "string" ? arg0 : arg0 && arg0.prefix !== undefined ? `list(prefix=${arg0.prefix})` : String(arg0);
        ops.push({ op: String(prop), key: key.replace(/:[^:]{16,}/g, ":…") });
        return v.apply(target, args);
      };
    },
  });
}

const apiHandler = {
  async fetch(request, env, ctx) {
    return Response.json({ ok: true, userId: ctx.props?.userId, scope: ctx.auth?.scope });
  },
};

const defaultHandler = {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/authorize") {
      const authReq = await env.OAUTH_PROVIDER.parseAuthRequest(request);
      const { redirectTo } = await env.OAUTH_PROVIDER.completeAuthorization({
        request: authReq,
        userId: USER_ID,
        metadata: { label: "auto-approved" },
        scope: authReq.scope,
        props: { userId: USER_ID },
      });
      return new Response(null, { status: 302, headers: { Location: redirectTo } });
    }
    // Helpers-API grant revocation (alternative to RFC 7009 endpoint)
    if (url.pathname === "/__revoke-grant" && request.method === "POST") {
      const { grantId, userId } = await request.json();
      await env.OAUTH_PROVIDER.revokeGrant(grantId, userId);
      return new Response("revoked", { status: 200 });
    }
    return new Response("not found", { status: 404 });
  },
};

const provider = new OAuthProvider({
  apiRoute: "/api",
  apiHandler,
  defaultHandler,
  authorizeEndpoint: "/authorize",
  tokenEndpoint: "/oauth/token",
  clientRegistrationEndpoint: "/register",
  scopesSupported: ["read"],
  resourceMetadata: { resource: `${ORIGIN}/api`, authorization_servers: [ORIGIN] },
  onError: ({ status, code, description, internal }) => {
    lastErrors.push({ status, code, description, internal });
  },
});
let lastErrors = [];

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__kv") {
      const body = { ops, count: summarize(ops), errors: lastErrors };
      if (url.searchParams.has("reset")) {
        ops = [];
        lastErrors = [];
      }
      return Response.json(body);
    }
    const wrappedEnv = { ...env, OAUTH_KV: countingKV(env.OAUTH_KV) };
    return provider.fetch(request, wrappedEnv, ctx);
  },
};

function summarize(list) {
  const c = { get: 0, put: 0, delete: 0, list: 0, other: 0 };
  for (const o of list) o.op in c ? c[o.op]++ : c.other++;
  c.reads = c.get + c.list; // list counted as a read-class op
  c.writes = c.put + c.delete;
  return c;
}
