// Ceiling: one RPC call to a SQLite-backed Durable Object that reads and writes a row,
// the least a per-key rate limit must do.
import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS c (k TEXT PRIMARY KEY, n INTEGER NOT NULL)");
  }

  take() {
    this.ctx.storage.sql.exec("INSERT INTO c (k, n) VALUES ('x', 1) ON CONFLICT (k) DO UPDATE SET n = n + 1");
    return this.ctx.storage.sql.exec("SELECT n FROM c WHERE k = 'x'").one().n;
  }
}

export default {
  async fetch(_request, env) {
    return Response.json({ n: await env.COUNTER.getByName("bench").take() });
  },
};
