// A real OpenID Connect provider (the `oidc-provider` package) on loopback, for the
// OAuth end-to-end tests. The login form of its development interactions takes any
// login; the login text picks the test identity:
//   "alice@example.com"             -> email alice@example.com, email_verified true
//   "unverified:bob@example.com"    -> email bob@example.com, email_verified false
import { createHash } from "node:crypto";
import type { Server } from "node:http";
import { createServer } from "node:http";
import Provider from "oidc-provider";

export interface IdpOptions {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export async function startOidcProvider(options: IdpOptions): Promise<{ issuer: string; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const issuer = `http://127.0.0.1:${address.port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    findAccount: async (_ctx, login) => ({
      accountId: login,
      claims: async () => identity(login),
    }),
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    cookies: { keys: ["oauth-tests-only"] },
    ttl: { Session: 60, Interaction: 600, Grant: 600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
  });
  provider.on("server_error", (_ctx, error) => console.error("idp server_error", error));
  server.on("request", provider.callback());
  return { issuer, server };
}

function identity(login: string): { sub: string; [claim: string]: unknown } {
  const unverified = login.startsWith("unverified:");
  const email = unverified ? login.slice("unverified:".length) : login;
  return {
    sub: createHash("sha256").update(login).digest("hex").slice(0, 24),
    email,
    email_verified: !unverified,
    name: email.split("@")[0],
  };
}
