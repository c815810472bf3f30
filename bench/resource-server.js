// A resource server (an MCP server, say) in front of its own route: it takes the bearer
// token and asks the authorization server over a service binding (AUTH: the service's
// AuthService, or the least-work floor's ResourceFloor) whether the token is for this
// resource with the scope `email`, then answers with the caller's subject. The same
// Worker in front of both, so the pair differs only in the check.
const RESOURCE = "https://mcp.bench.invalid/mcp";

export default {
  async fetch(request, env) {
    const header = request.headers.get("Authorization");
    const token = header !== null && header.startsWith("Bearer ") ? header.slice(7) : null;
    const answer = token === null ? null : await env.AUTH.verifyOAuthToken(token, { resource: RESOURCE, scopes: ["email"] });
    if (answer === null || answer.active !== true) {
      return Response.json(
        { error: answer?.error ?? "invalid_token" },
        { status: answer?.status ?? 401, headers: { "WWW-Authenticate": `Bearer error="${answer?.error ?? "invalid_token"}"` } },
      );
    }
    return Response.json({ active: true, sub: answer.sub, scopes: answer.scopes }, { headers: { "Cache-Control": "no-store" } });
  },
};
