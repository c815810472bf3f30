// An app's read guarded by edge-auth/hono's requireOrgPermission: the request's cookie
// session is checked over a service binding (AUTH: the service's AuthService, or the
// counted build's) for `members:read` in the organization it acts in, and the app answers
// with the caller's role there. `?org=none`: the same check with no organization asked.
export default {
  async fetch(request, env) {
    const none = new URL(request.url).searchParams.get("org") === "none";
    const answer = await env.AUTH.authenticate(request, none ? {} : { org: { permission: { resource: "members", action: "read" } } });
    if (!answer.authenticated) return Response.json({ code: answer.code }, { status: answer.status });
    return Response.json({ user_id: answer.user.id, org_id: answer.org_id ?? null, org_role: answer.org_role ?? null });
  },
};
