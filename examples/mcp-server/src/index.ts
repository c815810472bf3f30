// A remote MCP server protected by edge-auth's OAuth server. An MCP client (Claude,
// ChatGPT, Cursor, the MCP SDK) that calls /mcp without a token gets a 401 whose
// WWW-Authenticate names this server's RFC 9728 metadata; that names edge-auth as the
// authorization server; the client registers itself (DCR or a metadata document), sends
// the user through sign-in and consent, and comes back with a token for this resource.
// requireOAuth checks each token over the service binding (no HTTP hop): the signature,
// this resource as its audience, and that the user has not revoked the app since.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { type OAuthVariables, protectedResourceMetadata, requireOAuth } from "edge-auth/hono";
import { Hono } from "hono";
import { z } from "zod";

type Bindings = {
  /** The service binding to edge-auth's AuthService entrypoint (wrangler.toml). */
  AUTH: Fetcher;
  /** This server's resource identifier: its /mcp URL, listed in edge-auth's OAUTH_SERVER_RESOURCES. */
  MCP_RESOURCE: string;
  /** edge-auth's issuer (its OAUTH_ISSUER, or its public origin). */
  AUTH_ISSUER: string;
};

const app = new Hono<{ Bindings: Bindings; Variables: OAuthVariables }>();

// RFC 9728 §3.1: the metadata of https://host/mcp lives at /.well-known/oauth-protected-resource/mcp.
app.get("/.well-known/oauth-protected-resource/mcp", (c) =>
  protectedResourceMetadata({
    resource: c.env.MCP_RESOURCE,
    authorizationServers: [c.env.AUTH_ISSUER],
    // What MCP clients ask for: who the user is (the whoami tool shows the email).
    scopes: ["openid", "email"],
    name: "edge-auth example MCP server",
  })(c),
);

app.all(
  "/mcp",
  (c, next) => requireOAuth({ resource: c.env.MCP_RESOURCE })(c, next),
  async (c) => {
    const { oauth } = c.var;
    const server = new McpServer({ name: "edge-auth-example", version: "1.0.0" });
    server.registerTool("whoami", { description: "Who this MCP client acts for, and what it may do", inputSchema: {} }, async () => ({
      content: [
        {
          type: "text",
          text: JSON.stringify({
            user_id: oauth.user?.id ?? null,
            email: oauth.user?.email ?? null,
            client_id: oauth.client_id,
            scopes: oauth.scopes,
          }),
        },
      ],
    }));
    server.registerTool("add", { description: "Adds two numbers", inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({
      content: [{ type: "text", text: String(a + b) }],
    }));
    // Stateless: a server and a transport per request, answers as JSON (no session to keep).
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    return transport.handleRequest(c.req.raw);
  },
);

export default app;
