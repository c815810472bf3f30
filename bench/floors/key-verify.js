// Floor of `POST /api-keys/verify`: read and check the JSON body, hash the key's secret,
// and make one call to the key's Durable Object, which compares the hash, counts the use
// in both rate-limit windows (kept in memory) and writes the one usage row; then the
// verdict with its RateLimit-* headers. No framework. `/seed` stores the key.
import { DurableObject } from "cloudflare:workers";
import { answer, base64url, refused, sameSecret, sha256 } from "./answer.js";

const KEY = /^([a-z0-9]{1,16})_([a-z0-9]{8})_([A-Za-z0-9_-]{43})$/;
const PREFIX = "ea";

export class KeyFloor extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    this.sql.exec(`CREATE TABLE IF NOT EXISTS usage_buffer (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
      endpoint TEXT NOT NULL, method TEXT NOT NULL, status INTEGER NOT NULL, delta INTEGER NOT NULL, ip TEXT, windows TEXT)`);
    this.counts = new Map();
  }

  setRecord(record) {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('record', ?)", JSON.stringify(record));
    this.record = undefined;
  }

  use(secretHash, request) {
    this.record ??= JSON.parse(this.sql.exec("SELECT value FROM meta WHERE key = 'record'").one().value);
    const record = this.record;
    const now = Date.now();
    if (!sameSecret(record.secretHash, secretHash)) return null;
    const minute = `m${Math.floor(now / 60_000)}`;
    const day = `d${Math.floor(now / 86_400_000)}`;
    const perMinute = (this.counts.get(minute) ?? 0) + 1;
    const perDay = (this.counts.get(day) ?? 0) + 1;
    if (perMinute > record.perMinute || perDay > record.perDay) return { limited: true };
    this.counts.set(minute, perMinute);
    this.counts.set(day, perDay);
    this.sql.exec(
      "INSERT INTO usage_buffer (at, endpoint, method, status, delta, ip, windows) VALUES (?, ?, ?, 200, 1, ?, ?)",
      now,
      request.endpoint,
      request.method,
      request.ip,
      `${minute},${day}`,
    );
    return {
      key_id: record.id,
      user_id: record.userId,
      permissions: record.permissions,
      ratelimit: { limit: record.perMinute, remaining: record.perMinute - perMinute, reset: 60 - Math.floor((now % 60_000) / 1000) },
    };
  }
}

export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === "/seed") {
      const id = "floorkey";
      const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
      await env.KEYS.getByName(id).setRecord({
        id,
        userId: crypto.randomUUID(),
        secretHash: await sha256(secret),
        permissions: { user_profile: ["read"] },
        perMinute: 1_000_000,
        perDay: 100_000_000,
      });
      return Response.json({ api_key: `${PREFIX}_${id}_${secret}` });
    }
    let body;
    try {
      body = await request.json();
    } catch {
      return refused("invalid_input", 422);
    }
    if (
      body === null ||
      typeof body.api_key !== "string" ||
      (body.resource !== undefined && typeof body.resource !== "string") ||
      (body.action !== undefined && typeof body.action !== "string")
    ) {
      return refused("invalid_input", 422);
    }
    const match = KEY.exec(body.api_key);
    if (match === null || match[1] !== PREFIX) return answer({ valid: false, code: "invalid_api_key" });
    const use = { endpoint: "/api/v1/api-keys/verify", method: "POST", ip: request.headers.get("CF-Connecting-IP") ?? "unknown" };
    const result = await env.KEYS.getByName(match[2]).use(await sha256(match[3]), use);
    if (result === null || result.limited) return answer({ valid: false, code: "invalid_api_key" });
    const verdict = { valid: true, ...result };
    if (body.resource !== undefined)
      verdict.allowed = Object.hasOwn(result.permissions, body.resource) && result.permissions[body.resource].includes(body.action);
    const { limit, remaining, reset } = result.ratelimit;
    return answer(verdict, 200, {
      "RateLimit-Limit": String(limit),
      "RateLimit-Remaining": String(remaining),
      "RateLimit-Reset": String(reset),
    });
  },
};
