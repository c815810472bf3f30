// An OpenID Connect issuer on loopback that misbehaves on purpose: its token endpoint
// hands out ID tokens with one thing wrong (audience, issuer, nonce, expiry, signature),
// chosen per login with POST /__scenario {state, scenario}. Discovery and keys are real.
import { createServer, type Server } from "node:http";
import { readBody } from "./read-body";
import { SignJWT, exportJWK, generateKeyPair } from "jose";

export const ROGUE_CLIENT_ID = "rogue-client";
export const ROGUE_CLIENT_SECRET = "rogue-secret";

export async function startRogueIdp(): Promise<{ issuer: string; server: Server }> {
  const signing = await generateKeyPair("RS256", { extractable: true });
  const stranger = await generateKeyPair("RS256");
  const publicJwk = { ...(await exportJWK(signing.publicKey)), kid: "rogue-1", alg: "RS256", use: "sig" };
  const scenarios = new Map<string, string>();
  const codes = new Map<string, { scenario: string; nonce: string }>();
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const issuer = `http://127.0.0.1:${address.port}`;

  server.on("request", async (req, res) => {
    const url = new URL(req.url ?? "/", issuer);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === "/.well-known/openid-configuration") {
      return json(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        code_challenge_methods_supported: ["S256"],
      });
    }
    if (url.pathname === "/jwks") return json(200, { keys: [publicJwk] });
    if (url.pathname === "/__scenario" && req.method === "POST") {
      const body = JSON.parse(await readBody(req)) as { state: string; scenario: string };
      scenarios.set(body.state, body.scenario);
      return json(204, {});
    }
    if (url.pathname === "/authorize") {
      const state = url.searchParams.get("state") ?? "";
      const code = `code-${Math.random().toString(36).slice(2)}`;
      codes.set(code, { scenario: scenarios.get(state) ?? "valid", nonce: url.searchParams.get("nonce") ?? "" });
      res.writeHead(302, { Location: `${url.searchParams.get("redirect_uri")}?code=${code}&state=${encodeURIComponent(state)}` });
      return res.end();
    }
    if (url.pathname === "/token" && req.method === "POST") {
      const form = new URLSearchParams(await readBody(req));
      const grant = codes.get(form.get("code") ?? "");
      if (grant === undefined) return json(400, { error: "invalid_grant" });
      const { scenario, nonce } = grant;
      // A provider that has stopped answering: the request is held open, never answered.
      if (scenario === "stall") return;
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: scenario === "wrong_iss" ? "https://evil.example" : issuer,
        aud: scenario === "wrong_aud" ? "another-client" : ROGUE_CLIENT_ID,
        sub: `rogue-${scenario}-${Math.random().toString(36).slice(2)}`,
        nonce: scenario === "bad_nonce" ? "not-the-nonce" : nonce,
        email: `rogue-${Math.random().toString(36).slice(2)}@example.com`,
        email_verified: true,
        iat: scenario === "expired" ? now - 7200 : now,
        exp: scenario === "expired" ? now - 3600 : now + 600,
      };
      const key = scenario === "bad_signature" ? stranger.privateKey : signing.privateKey;
      const idToken = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "rogue-1", typ: "JWT" }).sign(key);
      return json(200, { access_token: "rogue-access", token_type: "Bearer", expires_in: 600, id_token: idToken });
    }
    res.writeHead(404);
    res.end();
  });
  return { issuer, server };
}
