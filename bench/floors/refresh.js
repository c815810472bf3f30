// Floor of `POST /auth/refresh`: read and check the JSON body, hash the presented secret
// and a new one side by side, and make one call to the user's Durable Object, which reads
// the family's row, compares the hash and rotates it in one UPDATE (a trigger records the
// old hash for reuse detection, as in the service's schema), keeping the answer for a
// replay inside the grace period; then an HS256 access token signed with WebCrypto and
// the two tokens with the API's headers. No framework, no JWT library. `/seed` makes 50
// token families.
import { DurableObject } from "cloudflare:workers";
import { userIdOfSession } from "../../src/sessions/session-token";
import { answer, base64url, refused, sameSecret, sha256, utf8 } from "./answer.js";

const ID = /^[0-9a-f]{48}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;
const ACCESS_TTL_SECONDS = 1800;
const HEADER = base64url(utf8(JSON.stringify({ alg: "HS256", typ: "at+jwt", kid: "hs256-floor" })));

export class AuthorityFloor extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, kind TEXT NOT NULL, secret_hash TEXT NOT NULL,
      created_at INTEGER NOT NULL, last_activity INTEGER NOT NULL, absolute_expires_at INTEGER NOT NULL,
      aal INTEGER NOT NULL, amr TEXT NOT NULL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS refresh_history (family_id TEXT NOT NULL, secret_hash TEXT NOT NULL,
      rotated_at INTEGER NOT NULL, PRIMARY KEY (family_id, secret_hash)) WITHOUT ROWID`);
    this.sql.exec(`CREATE TRIGGER IF NOT EXISTS refresh_rotated AFTER UPDATE OF secret_hash ON sessions
      WHEN OLD.kind = 'token' AND OLD.secret_hash <> NEW.secret_hash
      BEGIN INSERT OR IGNORE INTO refresh_history (family_id, secret_hash, rotated_at) VALUES (OLD.id, OLD.secret_hash, NEW.last_activity); END`);
    this.memo = new Map();
  }

  seed(families) {
    const now = Date.now();
    for (const family of families) {
      this.sql.exec(
        `INSERT INTO sessions (id, kind, secret_hash, created_at, last_activity, absolute_expires_at, aal, amr)
         VALUES (?, 'token', ?, ?, ?, ?, 1, '["pwd"]')`,
        family.id,
        family.secretHash,
        now,
        now,
        now + 7 * 86_400_000,
      );
    }
  }

  rotate(familyId, presentedHash, candidate, graceMs) {
    const now = Date.now();
    const row = this.sql
      .exec("SELECT kind, secret_hash, created_at, absolute_expires_at, aal, amr FROM sessions WHERE id = ?", familyId)
      .toArray()[0];
    if (row === undefined || row.kind !== "token" || now >= row.absolute_expires_at) return null;
    if (!sameSecret(row.secret_hash, presentedHash)) {
      const memo = this.memo.get(familyId);
      return memo !== undefined && now < memo.until && sameSecret(memo.presentedHash, presentedHash) ? memo.family : null;
    }
    this.sql.exec("UPDATE sessions SET secret_hash = ?, last_activity = ? WHERE id = ?", candidate.secretHash, now, familyId);
    const family = {
      refreshToken: candidate.refreshToken,
      refreshExpiresIn: Math.floor((row.absolute_expires_at - now) / 1000),
      issuedAt: Math.floor(now / 1000),
      jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
      aal: row.aal,
      amr: JSON.parse(row.amr),
      authTime: Math.floor(row.created_at / 1000),
    };
    this.memo.set(familyId, { presentedHash, family, until: now + graceMs });
    return family;
  }
}

let signingKey;

export default {
  async fetch(request, env) {
    const authority = env.AUTHORITY.getByName("floor-user");
    if (new URL(request.url).pathname === "/seed") {
      const families = [];
      const tokens = [];
      for (let i = 0; i < 50; i++) {
        const id = Array.from(crypto.getRandomValues(new Uint8Array(24)), (byte) => byte.toString(16).padStart(2, "0")).join("");
        const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
        families.push({ id, secretHash: await sha256(secret) });
        tokens.push(`${id}.${secret}`);
      }
      await authority.seed(families);
      return Response.json(tokens);
    }
    let body;
    try {
      body = await request.json();
    } catch {
      return refused("invalid_input", 422);
    }
    if (body === null || typeof body.refresh_token !== "string") return refused("invalid_input", 422);
    const token = body.refresh_token;
    const dot = token.indexOf(".");
    const id = token.slice(0, dot);
    const secret = token.slice(dot + 1);
    if (!ID.test(id) || !SECRET.test(secret)) return refused("invalid_token");
    const nextSecret = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const [presentedHash, nextHash] = await Promise.all([sha256(secret), sha256(nextSecret)]);
    const family = await authority.rotate(id, presentedHash, { secretHash: nextHash, refreshToken: `${id}.${nextSecret}` }, 10_000);
    if (family === null) return refused("invalid_token");
    signingKey ??= await crypto.subtle.importKey("raw", utf8(env.SECRET_KEY), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const claims = {
      sid: id,
      token_type: "access",
      aal: family.aal,
      amr: family.amr,
      auth_time: family.authTime,
      iss: "edge-auth",
      aud: "edge-auth",
      sub: userIdOfSession(id),
      iat: family.issuedAt,
      exp: family.issuedAt + ACCESS_TTL_SECONDS,
      jti: family.jti,
    };
    const input = `${HEADER}.${base64url(utf8(JSON.stringify(claims)))}`;
    const signature = base64url(new Uint8Array(await crypto.subtle.sign("HMAC", signingKey, utf8(input))));
    return answer(
      {
        access_token: `${input}.${signature}`,
        token_type: "bearer",
        expires_in: ACCESS_TTL_SECONDS,
        refresh_token: family.refreshToken,
        refresh_expires_in: family.refreshExpiresIn,
      },
      200,
      { Pragma: "no-cache" },
    );
  },
};
