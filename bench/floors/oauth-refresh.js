// Floor of the OAuth server's refresh (`POST /oauth2/token`, grant_type=refresh_token, a
// public client): read the form, know the client (held in memory), hash the presented
// secret and a new one side by side, and make one call to the user's Durable Object,
// which reads the grant's row with its family, checks the client and the hash, and
// rotates it in one UPDATE (a trigger records the old hash for reuse detection, as in the
// service's schema; the grant's last use and sliding lifetime in the same row), keeping
// the answer for a replay inside the grace period; then an RFC 9068 access token signed
// ES256 with WebCrypto and the RFC 6749 §5.1 answer. No framework, no JWT library.
// `/seed` makes 50 grants over 5 apps (family i belongs to app `floor-app-<i % 5>`).
import { DurableObject } from "cloudflare:workers";
import { userIdOfSession } from "../../src/sessions/session-token";
import { answer, base64url, sameSecret, sha256, utf8 } from "./answer.js";

const ID = /^[0-9a-f]{48}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;
const ACCESS_TTL_SECONDS = 3600;
const SLIDING_MS = 30 * 86_400_000;
const ISSUER = "https://app.bench.invalid";
const APPS = new Set(["floor-app-0", "floor-app-1", "floor-app-2", "floor-app-3", "floor-app-4"]);
const HEADER = base64url(utf8(JSON.stringify({ alg: "ES256", typ: "at+jwt", kid: "floor-es256" })));

export class OAuthGrantFloor extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, kind TEXT NOT NULL, secret_hash TEXT NOT NULL,
      created_at INTEGER NOT NULL, last_activity INTEGER NOT NULL, absolute_expires_at INTEGER NOT NULL,
      aal INTEGER NOT NULL, amr TEXT NOT NULL, client_id TEXT NOT NULL, scopes TEXT NOT NULL, resources TEXT NOT NULL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS refresh_history (family_id TEXT NOT NULL, secret_hash TEXT NOT NULL,
      rotated_at INTEGER NOT NULL, PRIMARY KEY (family_id, secret_hash)) WITHOUT ROWID`);
    this.sql.exec(`CREATE TRIGGER IF NOT EXISTS refresh_rotated AFTER UPDATE OF secret_hash ON sessions
      WHEN OLD.kind = 'oauth' AND OLD.secret_hash <> NEW.secret_hash
      BEGIN INSERT OR IGNORE INTO refresh_history (family_id, secret_hash, rotated_at) VALUES (OLD.id, OLD.secret_hash, NEW.last_activity); END`);
    this.memo = new Map();
  }

  seed(grants) {
    const now = Date.now();
    for (const grant of grants) {
      this.sql.exec(
        `INSERT INTO sessions (id, kind, secret_hash, created_at, last_activity, absolute_expires_at, aal, amr, client_id, scopes, resources)
         VALUES (?, 'oauth', ?, ?, ?, ?, 1, '["pwd"]', ?, '["email","offline_access"]', '["https://mcp.bench.invalid/mcp"]')`,
        grant.id,
        grant.secretHash,
        now,
        now,
        now + SLIDING_MS,
        grant.clientId,
      );
    }
  }

  rotate(grantId, presentedHash, candidate, graceMs, clientId) {
    const now = Date.now();
    const row = this.sql
      .exec(
        "SELECT kind, secret_hash, created_at, absolute_expires_at, aal, amr, client_id, scopes, resources FROM sessions WHERE id = ?",
        grantId,
      )
      .toArray()[0];
    if (row === undefined || row.kind !== "oauth" || row.client_id !== clientId || now >= row.absolute_expires_at) return null;
    if (!sameSecret(row.secret_hash, presentedHash)) {
      const memo = this.memo.get(grantId);
      return memo !== undefined && now < memo.until && sameSecret(memo.presentedHash, presentedHash) ? memo.grant : null;
    }
    this.sql.exec(
      "UPDATE sessions SET secret_hash = ?, last_activity = ?, absolute_expires_at = ? WHERE id = ?",
      candidate.secretHash,
      now,
      now + SLIDING_MS,
      grantId,
    );
    const grant = {
      refreshToken: candidate.refreshToken,
      issuedAt: Math.floor(now / 1000),
      jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
      aal: row.aal,
      amr: JSON.parse(row.amr),
      authTime: Math.floor(row.created_at / 1000),
      scopes: JSON.parse(row.scopes),
      resources: JSON.parse(row.resources),
    };
    this.memo.set(grantId, { presentedHash, grant, until: now + graceMs });
    return grant;
  }
}

let signingKey;

function invalid(error, status = 400) {
  return answer({ error }, status, { Pragma: "no-cache" });
}

export default {
  async fetch(request, env) {
    const authority = env.AUTHORITY.getByName("floor-user");
    if (new URL(request.url).pathname === "/seed") {
      const grants = [];
      const tokens = [];
      for (let i = 0; i < 50; i++) {
        const id = Array.from(crypto.getRandomValues(new Uint8Array(24)), (byte) => byte.toString(16).padStart(2, "0")).join("");
        const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
        grants.push({ id, secretHash: await sha256(secret), clientId: `floor-app-${i % 5}` });
        tokens.push(`${id}.${secret}`);
      }
      await authority.seed(grants);
      return Response.json(tokens);
    }
    if (request.headers.get("Content-Type") !== "application/x-www-form-urlencoded") return invalid("invalid_request");
    const form = new URLSearchParams(await request.text());
    const clientId = form.get("client_id");
    if (clientId === null || !APPS.has(clientId)) return invalid("invalid_client", 401);
    const token = form.get("refresh_token");
    if (form.get("grant_type") !== "refresh_token" || token === null) return invalid("invalid_request");
    const dot = token.indexOf(".");
    const id = token.slice(0, dot);
    const secret = token.slice(dot + 1);
    if (!ID.test(id) || !SECRET.test(secret)) return invalid("invalid_grant");
    const nextSecret = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const [presentedHash, nextHash] = await Promise.all([sha256(secret), sha256(nextSecret)]);
    const grant = await authority.rotate(
      id,
      presentedHash,
      { secretHash: nextHash, refreshToken: `${id}.${nextSecret}` },
      10_000,
      clientId,
    );
    if (grant === null) return invalid("invalid_grant");
    signingKey ??= (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"])).privateKey;
    const scope = grant.scopes.join(" ");
    const claims = {
      iss: ISSUER,
      sub: userIdOfSession(id),
      aud: grant.resources.length === 1 ? grant.resources[0] : grant.resources,
      client_id: clientId,
      scope,
      iat: grant.issuedAt,
      exp: grant.issuedAt + ACCESS_TTL_SECONDS,
      jti: grant.jti,
      sid: id,
      auth_time: grant.authTime,
      acr: `aal${grant.aal}`,
      amr: grant.amr,
    };
    const input = `${HEADER}.${base64url(utf8(JSON.stringify(claims)))}`;
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, signingKey, utf8(input));
    return answer(
      {
        access_token: `${input}.${base64url(new Uint8Array(signature))}`,
        token_type: "Bearer",
        expires_in: ACCESS_TTL_SECONDS,
        scope,
        refresh_token: grant.refreshToken,
      },
      200,
      { Pragma: "no-cache" },
    );
  },
};
