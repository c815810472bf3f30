// Floor of `GET /auth/check-auth` when the isolate has not seen the session: read the
// session's KV record (the service's own record, the key it writes), hash the cookie's
// secret beside the read, compare in constant time, check both expiries and answer the
// contract's user and session view with the API's headers. No framework.
import { answer, iso, sameSecret, sha256 } from "./answer.js";

const ID = /^[0-9a-f]{48}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;
const NONE = { authenticated: false };

function sessionCookie(header) {
  if (header === null) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === "session_id") return part.slice(eq + 1).trim();
  }
  return null;
}

export default {
  async fetch(request, env) {
    const token = sessionCookie(request.headers.get("Cookie"));
    if (token === null) return answer(NONE);
    const dot = token.indexOf(".");
    const id = token.slice(0, dot);
    const secret = token.slice(dot + 1);
    if (!ID.test(id) || !SECRET.test(secret)) return answer(NONE);
    const [hash, session] = await Promise.all([sha256(secret), env.SESSIONS.get(`session:${id}`, "json")]);
    const now = Date.now();
    if (session === null || !sameSecret(session.secretHash, hash)) return answer(NONE);
    const expiresAt = Math.min(session.absoluteExpiresAt, session.lastActivity + session.idleMs);
    if (now >= expiresAt) return answer(NONE);
    return answer({
      authenticated: true,
      user: session.user,
      session: {
        id: session.id,
        created_at: iso(session.createdAt),
        last_activity: iso(session.lastActivity),
        expires_at: iso(expiresAt),
        aal: session.aal,
        amr: session.amr,
        auth_time: iso(session.authTime),
        reauthenticated_at: session.reauthAt === null ? null : iso(session.reauthAt),
      },
    });
  },
};
