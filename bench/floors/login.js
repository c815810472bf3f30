// Floor of `POST /auth/login` (a cookie session): read and check the JSON body, read the
// account from D1, reserve an attempt at the IP's and at the account's throttle object
// side by side, check the password with the service's own hash (the hash ceiling's
// code), give both reservations back, open the session at the user's Durable Object,
// which stores it and writes its KV record, write the sign-in's records to D1 in one
// batch after the answer, and answer the user and the CSRF token with both cookies and
// the API's headers. No framework. It reads the service's users (the same D1).
import { DurableObject } from "cloudflare:workers";
import { eventStatement } from "../../src/events/record-event";
import { clientInfo } from "../../src/http/client-info";
import { randomToken } from "../../src/lib/crypto";
import { verifyPassword } from "../../src/passwords/hash";
import { createSessionToken } from "../../src/sessions/session-token";
import { answer, refused, sha256 } from "./answer.js";

const MAX_ATTEMPTS = 5;
const WINDOW_MS = 15 * 60_000;
const SESSION_MS = 86_400_000;
const IDLE_MS = 30 * 60_000;

export class ThrottleFloor extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, failed INTEGER NOT NULL)",
    );
    this.alarmAt = null;
  }

  async reserve() {
    const now = Date.now();
    const { n } = this.sql.exec("SELECT COUNT(*) AS n FROM attempts WHERE at > ?", now - WINDOW_MS).one();
    if (n >= MAX_ATTEMPTS) return null;
    const { id } = this.sql.exec("INSERT INTO attempts (at, failed) VALUES (?, 0) RETURNING id", now).one();
    // The clean-up alarm, set once per window (the least a bounded object needs).
    if (this.alarmAt === null) {
      this.alarmAt = now + WINDOW_MS;
      await this.ctx.storage.setAlarm(this.alarmAt);
    }
    return id;
  }

  release(id) {
    this.sql.exec("DELETE FROM attempts WHERE id = ?", id);
  }

  clear() {
    this.sql.exec("DELETE FROM attempts");
  }

  alarm() {
    this.alarmAt = null;
    this.sql.exec("DELETE FROM attempts WHERE at <= ?", Date.now() - WINDOW_MS);
  }
}

export class UserFloor extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, csrf_hash TEXT NOT NULL,
      created_at INTEGER NOT NULL, last_activity INTEGER NOT NULL, absolute_expires_at INTEGER NOT NULL, ip TEXT NOT NULL, user_agent TEXT NOT NULL)`);
  }

  async createSession(session, user, maxSessions) {
    const now = Date.now();
    this.sql.exec(
      "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      session.id,
      session.secretHash,
      session.csrfHash,
      now,
      now,
      now + SESSION_MS,
      session.ip,
      session.userAgent,
    );
    this.sql.exec("DELETE FROM sessions WHERE id IN (SELECT id FROM sessions ORDER BY last_activity DESC LIMIT -1 OFFSET ?)", maxSessions);
    const record = {
      id: session.id,
      userId: user.id,
      kind: "cookie",
      secretHash: session.secretHash,
      user,
      createdAt: now,
      lastActivity: now,
      idleMs: IDLE_MS,
      absoluteExpiresAt: now + SESSION_MS,
      aal: 1,
      amr: ["pwd"],
      authTime: now,
      reauthAt: null,
    };
    await this.env.SESSIONS.put(`session:${session.id}`, JSON.stringify(record), { expirationTtl: SESSION_MS / 1000 });
    return true;
  }
}

export default {
  async fetch(request, env, ctx) {
    let body;
    try {
      body = await request.json();
    } catch {
      return refused("invalid_input", 422);
    }
    if (body === null || typeof body.email !== "string" || typeof body.password !== "string") return refused("invalid_input", 422);
    const client = clientInfo(request);
    const { ip } = client;
    const row = await env.DB.prepare(
      "SELECT id, email, username, name, email_verified, is_superuser, created_at, password_hash FROM users WHERE email_normalized = ?",
    )
      .bind(body.email.trim().toLowerCase())
      .first();
    const ipThrottle = env.THROTTLE.getByName(`ip:${ip}`);
    const accountThrottle = env.THROTTLE.getByName(`account:${row?.id ?? body.email}`);
    const [ipAttempt, accountAttempt] = await Promise.all([ipThrottle.reserve(), accountThrottle.reserve()]);
    if (ipAttempt === null || accountAttempt === null) return refused("rate_limited", 429);
    const valid = await verifyPassword(body.password, row?.password_hash ?? null);
    if (!valid || row === null) return refused("invalid_credentials");
    await Promise.all([accountThrottle.clear(), ipThrottle.release(ipAttempt)]);
    const user = {
      id: row.id,
      email: row.email,
      username: row.username,
      name: row.name,
      email_verified: row.email_verified === 1,
      is_superuser: row.is_superuser === 1,
      oauth_providers: [],
      created_at: row.created_at,
    };
    // The service's own token scheme (session-token.ts) and CSRF token size.
    const csrfToken = randomToken(32);
    const [session, csrfHash] = await Promise.all([createSessionToken(row.id), sha256(csrfToken)]);
    const { id, secretHash } = session;
    await env.USERS.getByName(row.id).createSession({ id, secretHash, csrfHash, ip, userAgent: client.userAgent }, user, 1000);
    const now = new Date().toISOString();
    ctx.waitUntil(
      env.DB.batch([
        // The service's own event statement (its schema and its guard against a deleted account).
        eventStatement(env.DB, { userId: row.id, type: "login_succeeded", client, detail: { kind: "cookie", method: "password" } }),
        env.DB.prepare("UPDATE users SET last_login_at = ? WHERE id = ?").bind(now, row.id),
      ]),
    );
    const response = answer({ user, csrf_token: csrfToken });
    const maxAge = SESSION_MS / 1000;
    response.headers.append("Set-Cookie", `session_id=${session.token}; Max-Age=${maxAge}; Path=/; HttpOnly; SameSite=Lax`);
    response.headers.append("Set-Cookie", `csrf_token=${csrfToken}; Max-Age=${maxAge}; Path=/; SameSite=Lax`);
    return response;
  },
};
