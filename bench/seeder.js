// Seeds stored sessions, users and keys straight through the bindings, inside workerd
// (bulk writes from Node through Miniflare's proxy are far slower).
// POST /seed?from=&to= writes records [from, to): a KV session record, a D1 user row and
// a D1 API key row each (and with &events=N, N security events per user).
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/verify") {
      // An address proven, as `wrangler d1 execute` would mark it (the next sign-in carries it).
      const email = url.searchParams.get("email") ?? "";
      await env.DB.prepare("UPDATE users SET email_verified = 1 WHERE email_normalized = ?").bind(email.toLowerCase()).run();
      return Response.json({ verified: email });
    }
    if (url.pathname === "/promote") {
      // The bench's own admin, made the way `wrangler d1 execute` would.
      const email = url.searchParams.get("email") ?? "";
      await env.DB.prepare("UPDATE users SET is_superuser = 1 WHERE email_normalized = ?").bind(email.toLowerCase()).run();
      return Response.json({ promoted: email });
    }
    const from = Number(url.searchParams.get("from"));
    const to = Number(url.searchParams.get("to"));
    const eventsPerUser = Number(url.searchParams.get("events") ?? "0");
    const now = new Date().toISOString();
    for (let start = from; start < to; start += 2000) {
      const end = Math.min(to, start + 2000);
      const writes = [];
      const users = [];
      const keys = [];
      const events = [];
      for (let i = start; i < end; i++) {
        const userId = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
        const sessionId = `${userId.replace(/-/g, "")}${String(i).padStart(16, "0")}`;
        const user = {
          id: userId,
          email: `u${i}@seed.test`,
          username: null,
          name: null,
          email_verified: false,
          is_superuser: false,
          oauth_providers: [],
          created_at: now,
        };
        const session = {
          id: sessionId,
          userId,
          kind: "cookie",
          secretHash: `seed-${i}`,
          createdAt: Date.now(),
          lastActivity: Date.now(),
          idleMs: 1800000,
          absoluteExpiresAt: Date.now() + 86400000,
          user,
        };
        writes.push(env.SESSIONS.put(`session:${sessionId}`, JSON.stringify(session), { expirationTtl: 86400 }));
        users.push(`('${userId}', 'u${i}@seed.test', 'u${i}@seed.test', '${now}', '${now}')`);
        keys.push(`('s${String(i).padStart(7, "0")}', '${userId}', 'seed', 'fai_s${i}', 'seed-${i}', '{}', '${now}', '${now}')`);
        for (let e = 0; e < eventsPerUser; e++) events.push(`('seed-${i}-${e}', '${userId}', 'login_succeeded', '${now}')`);
      }
      // Values are generated numbers, never input: multi-row inserts are safe and fast here.
      const statements = [];
      for (let j = 0; j < users.length; j += 500) {
        statements.push(
          env.DB.prepare(
            `INSERT INTO users (id, email, email_normalized, created_at, updated_at) VALUES ${users.slice(j, j + 500).join(",")}`,
          ),
        );
        statements.push(
          env.DB.prepare(
            `INSERT INTO api_keys (id, user_id, name, prefix, secret_hash, permissions, created_at, updated_at) VALUES ${keys.slice(j, j + 500).join(",")}`,
          ),
        );
      }
      for (let j = 0; j < events.length; j += 500) {
        statements.push(env.DB.prepare(`INSERT INTO security_events (id, user_id, type, at) VALUES ${events.slice(j, j + 500).join(",")}`));
      }
      await Promise.all([...writes, env.DB.batch(statements)]);
    }
    return Response.json({ seeded: to - from });
  },
};
