// Floor of `POST /oauth2/introspect` (RFC 7662) for a resource server an admin
// registered: read the form, authenticate the caller by HTTP Basic (its secret's SHA-256
// against the one held in memory, constant time), take the token's claims (its ES256
// signature checked once per isolate with WebCrypto and remembered, as the bearer path's
// are), check it is meant for the caller's resource, and make one call to the user's
// Durable Object, which reads the grant's row with the user's revocation time in one
// SELECT; then the RFC 7662 answer. No framework, no JWT library. `/seed` signs a token,
// stores its grant and returns the token with the caller's Authorization header.
import { DurableObject } from "cloudflare:workers";
import { answer, base64url, sameSecret, sha256, utf8 } from "./answer.js";

const ISSUER = "https://app.bench.invalid";
const RESOURCE = "https://mcp.bench.invalid/mcp";
const CALLER_ID = "floor-resource-server";
const GRANT_ID = "a".repeat(48);
const decoder = new TextDecoder();

export class IntrospectionFloor extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, kind TEXT NOT NULL, client_id TEXT NOT NULL,
      absolute_expires_at INTEGER NOT NULL)`);
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS account (id INTEGER PRIMARY KEY, username TEXT, not_before INTEGER NOT NULL, disabled INTEGER NOT NULL)",
    );
  }

  seed() {
    this.sql.exec("INSERT OR REPLACE INTO account (id, username, not_before, disabled) VALUES (1, NULL, ?, 0)", Date.now() - 60_000);
    this.sql.exec(
      "INSERT OR REPLACE INTO sessions (id, kind, client_id, absolute_expires_at) VALUES (?, 'oauth', 'floor-app', ?)",
      GRANT_ID,
      Date.now() + 30 * 86_400_000,
    );
  }

  status(grantId, issuedAtSeconds) {
    const row = this.sql
      .exec(
        `SELECT s.kind, s.client_id, s.absolute_expires_at, a.username, a.not_before, a.disabled
         FROM sessions s, account a WHERE s.id = ? AND a.id = 1`,
        grantId,
      )
      .toArray()[0];
    if (row === undefined || row.kind !== "oauth" || row.disabled !== 0 || Date.now() >= row.absolute_expires_at) return null;
    if (issuedAtSeconds * 1000 < row.not_before) return null;
    return { clientId: row.client_id, username: row.username };
  }
}

/** Verified tokens' claims, by the token's text. */
const remembered = new Map();
let keys;
/** The caller's secret, hashed (an admin-registered client's record, held in memory). */
let callerSecretHash;

async function claimsOf(token) {
  const known = remembered.get(token);
  if (known !== undefined) return known;
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const header = JSON.parse(decoder.decode(Uint8Array.fromBase64(parts[0], { alphabet: "base64url" })));
  if (header.alg !== "ES256" || header.typ !== "at+jwt" || header.kid !== "floor-es256") return null;
  const signature = Uint8Array.fromBase64(parts[2], { alphabet: "base64url" });
  const valid = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, keys.publicKey, signature, utf8(`${parts[0]}.${parts[1]}`));
  if (!valid) return null;
  const claims = JSON.parse(decoder.decode(Uint8Array.fromBase64(parts[1], { alphabet: "base64url" })));
  remembered.set(token, claims);
  return claims;
}

function refused(error) {
  return answer({ error }, 401, { "WWW-Authenticate": 'Basic realm="oauth2"' });
}

export default {
  async fetch(request, env) {
    keys ??= await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
    const authority = env.AUTHORITY.getByName("floor-user");
    if (new URL(request.url).pathname === "/seed") {
      await authority.seed();
      const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
      callerSecretHash = await sha256(secret);
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: ISSUER,
        sub: "00000000-0000-4000-8000-000000000001",
        aud: RESOURCE,
        client_id: "floor-app",
        scope: "email",
        iat: now,
        exp: now + 3600,
        jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
        sid: GRANT_ID,
        auth_time: now,
        acr: "aal1",
        amr: ["pwd"],
      };
      const input = `${base64url(utf8(JSON.stringify({ alg: "ES256", typ: "at+jwt", kid: "floor-es256" })))}.${base64url(utf8(JSON.stringify(claims)))}`;
      const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, utf8(input));
      return Response.json({
        token: `${input}.${base64url(new Uint8Array(signature))}`,
        authorization: `Basic ${btoa(`${CALLER_ID}:${secret}`)}`,
      });
    }
    const authorization = request.headers.get("Authorization");
    if (authorization === null || !authorization.startsWith("Basic ")) return refused("invalid_client");
    const credentials = atob(authorization.slice(6));
    const colon = credentials.indexOf(":");
    if (credentials.slice(0, colon) !== CALLER_ID || !sameSecret(await sha256(credentials.slice(colon + 1)), callerSecretHash)) {
      return refused("invalid_client");
    }
    if (request.headers.get("Content-Type") !== "application/x-www-form-urlencoded") return answer({ error: "invalid_request" }, 400);
    const token = new URLSearchParams(await request.text()).get("token");
    if (token === null) return answer({ error: "invalid_request" }, 400);
    const inactive = () => answer({ active: false }, 200, { Pragma: "no-cache" });
    const claims = await claimsOf(token);
    if (claims === null || claims.iss !== ISSUER || Date.now() / 1000 >= claims.exp || claims.aud !== RESOURCE) return inactive();
    const grant = await authority.status(claims.sid, claims.iat);
    if (grant === null || grant.clientId !== claims.client_id) return inactive();
    return answer(
      {
        active: true,
        iss: ISSUER,
        sub: claims.sub,
        client_id: claims.client_id,
        scope: claims.scope,
        aud: claims.aud,
        exp: claims.exp,
        iat: claims.iat,
        token_type: "Bearer",
        sid: claims.sid,
        acr: claims.acr,
        amr: claims.amr,
        auth_time: claims.auth_time,
        ...(grant.username === null ? {} : { username: grant.username }),
      },
      200,
      { Pragma: "no-cache" },
    );
  },
};
