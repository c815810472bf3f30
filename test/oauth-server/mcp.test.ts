// examples/mcp-server, protected by this service, driven by the official MCP TypeScript
// SDK's client: it discovers the authorization server from the server's 401, registers
// by DCR, sends the user through sign-in and consent, and calls a tool. After the user
// revokes the connected app, the next call needs authorization again.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { type OAuthClientProvider, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE_URL, TestClient, callWorker, uniqueIp } from "../helpers/client";
import { login, registerUser } from "../helpers/users";

const MCP_URL = "https://mcp.example.test/mcp";
const REDIRECT = "http://127.0.0.1:33418/callback";

/** What an MCP client keeps: its registration, its tokens, the PKCE verifier, and where it would send the user. */
class MemoryProvider implements OAuthClientProvider {
  information: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = "";
  authorizationUrl: URL | undefined;
  readonly redirectUrl = REDIRECT;
  readonly clientMetadata: OAuthClientMetadata = {
    redirect_uris: [REDIRECT],
    client_name: "MCP SDK test client",
    token_endpoint_auth_method: "none",
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
  };
  clientInformation() {
    return this.information;
  }
  saveClientInformation(information: OAuthClientInformationMixed) {
    this.information = information;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  /** What the SDK asks a client to forget when the server refuses it (a revoked grant's refresh token). */
  invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery") {
    if (scope === "all" || scope === "tokens") this.saved = undefined;
    if (scope === "all" || scope === "client") this.information = undefined;
    if (scope === "all" || scope === "verifier") this.verifier = "";
  }
}

/** The network as the client sees it: the MCP server behind its Worker, this service behind its own. */
function network(): typeof fetch {
  const ip = uniqueIp();
  return async (input, init) => {
    const request = new Request(input, init);
    if (new URL(request.url).host === "mcp.example.test") return env.MCP_EXAMPLE.fetch(request);
    const headers = new Headers(request.headers);
    headers.set("CF-Connecting-IP", ip);
    return callWorker(new Request(request, { headers }));
  };
}

async function connect(provider: MemoryProvider, fetchFn: typeof fetch): Promise<Client> {
  const client = new Client({ name: "edge-auth-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(MCP_URL), { authProvider: provider, fetch: fetchFn }));
  return client;
}

describe("an MCP server protected by this service (examples/mcp-server)", () => {
  it("answers an unauthenticated call with a 401 naming its protected-resource metadata, which names this service", async () => {
    const response = await env.MCP_EXAMPLE.fetch(
      new Request(MCP_URL, { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } }),
    );
    expect(response.status).toBe(401);
    const challenge = response.headers.get("WWW-Authenticate") ?? "";
    expect(challenge).toContain('resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp"');
    const metadata = await env.MCP_EXAMPLE.fetch(new Request("https://mcp.example.test/.well-known/oauth-protected-resource/mcp"));
    expect(await metadata.json()).toMatchObject({ resource: MCP_URL, authorization_servers: [BASE_URL] });
  });

  it("lets the MCP SDK client discover, register, authorize through consent and call a tool; a revoked app must authorize again", async () => {
    const fetchFn = network();
    const provider = new MemoryProvider();
    await expect(connect(provider, fetchFn)).rejects.toThrow(UnauthorizedError);
    expect(provider.information?.client_id).toMatch(/^dcr_/);
    const authorizationUrl = provider.authorizationUrl as URL;
    expect(authorizationUrl.origin).toBe(BASE_URL);
    expect(authorizationUrl.searchParams.get("resource")).toBe(MCP_URL);

    // The user, signed in, follows the link and allows the app on the consent page.
    const browser = new TestClient();
    const user = await registerUser(browser);
    await login(browser, user);
    const started = await browser.get(`${authorizationUrl.pathname}${authorizationUrl.search}`);
    const consent = new URL(started.headers.get("Location") as string, BASE_URL);
    expect(consent.pathname).toBe("/oauth2/consent");
    const requestId = consent.searchParams.get("request") as string;
    const view = (await (await browser.get(`/api/v1/oauth2/requests/${requestId}`)).json()) as {
      client: { verified: boolean };
      resources: string[];
    };
    expect(view).toMatchObject({ client: { verified: false }, resources: [MCP_URL] });
    const decided = (await (await browser.post(`/api/v1/oauth2/requests/${requestId}/decision`, { json: { allow: true } })).json()) as {
      redirect_to: string;
    };
    const code = new URL(decided.redirect_to).searchParams.get("code") as string;

    const transport = new StreamableHTTPClientTransport(new URL(MCP_URL), { authProvider: provider, fetch: fetchFn });
    await transport.finishAuth(code);
    const client = await connect(provider, fetchFn);
    const result = (await client.callTool({ name: "whoami", arguments: {} })) as { content: Array<{ text: string }> };
    expect(JSON.parse(result.content[0]?.text ?? "{}")).toMatchObject({ user_id: user.id, email: user.email });
    const sum = (await client.callTool({ name: "add", arguments: { a: 2, b: 3 } })) as { content: Array<{ text: string }> };
    expect(sum.content[0]?.text).toBe("5");

    // The user revokes the app on their account page: the very next call is refused.
    const { items } = (await (await browser.get("/api/v1/users/me/connected-apps")).json()) as { items: Array<{ grant_id: string }> };
    expect((await browser.delete(`/api/v1/users/me/connected-apps/${items[0]?.grant_id}`)).status).toBe(204);
    await expect(client.callTool({ name: "whoami", arguments: {} })).rejects.toThrow();
    provider.authorizationUrl = undefined;
    await expect(connect(provider, fetchFn)).rejects.toThrow(UnauthorizedError);
    expect(provider.authorizationUrl).toBeDefined();
  });
});
