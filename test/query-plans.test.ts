// Every D1 query on a hot or sign-in path uses an index: the statements a login (cookie
// and token), a registration, an OAuth sign-in of a returning user, a refresh, an API-key
// use and a session check really run (their after-answer records included) are recorded,
// and SQLite's plan for each must search by an index or a primary key, never scan a
// table. At 100,000 users a scan is a login that reads every row.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TestClient } from "./helpers/client";
import { OAuthBrowser } from "./helpers/oauth-browser";
import { login, registerUser } from "./helpers/users";

interface Recorded {
  sql: string;
  params: unknown[];
}

/** env.DB, recording every statement it runs (alone or in a batch) with its parameters. */
function recordingD1(into: Recorded[]): D1Database {
  const known = new WeakMap<object, Recorded>();
  const statement = (prepared: D1PreparedStatement, recorded: Recorded): D1PreparedStatement => {
    const wrapped = new Proxy(prepared, {
      get(target, property) {
        if (property === "bind") return (...values: unknown[]) => statement(target.bind(...values), { sql: recorded.sql, params: values });
        const value = Reflect.get(target, property, target) as unknown;
        if (typeof value !== "function") return value;
        if (["first", "all", "run", "raw"].includes(String(property))) into.push(recorded);
        return (value as (...args: unknown[]) => unknown).bind(target);
      },
    });
    known.set(wrapped, recorded);
    return wrapped;
  };
  return new Proxy(env.DB, {
    get(target, property) {
      if (property === "prepare") return (sql: string) => statement(target.prepare(sql), { sql, params: [] });
      if (property === "batch")
        return (statements: D1PreparedStatement[]) => {
          for (const item of statements) into.push(known.get(item) ?? { sql: "", params: [] });
          return target.batch(statements);
        };
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The tables a plan reads by scanning every row (SQLite's "SCAN <table>"), none expected. */
async function scannedTables(statements: Recorded[]): Promise<string[]> {
  const scans: string[] = [];
  for (const { sql, params } of statements) {
    if (sql === "") continue;
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...params)
      .all<{ detail: string }>();
    for (const { detail } of plan.results) {
      const scanned = /^SCAN (\w+)/.exec(detail)?.[1];
      if (scanned !== undefined && scanned !== "CONSTANT") scans.push(`${scanned}: ${sql.slice(0, 80)}`);
    }
  }
  return scans;
}

describe("query plans on the hot and sign-in paths", () => {
  it("the check sees a scan when there is one", async () => {
    expect(await scannedTables([{ sql: "SELECT id FROM users WHERE password_hash = ?", params: ["x"] }])).toEqual([
      "users: SELECT id FROM users WHERE password_hash = ?",
    ]);
  });

  it("registration, cookie and token login (with their records) search by index", async () => {
    const recorded: Recorded[] = [];
    const client = new TestClient();
    client.bindings = { DB: recordingD1(recorded) };
    const user = await registerUser(client);
    await login(client, user);
    expect((await client.post("/api/v1/auth/token", { json: { email: user.email, password: user.password } })).status).toBe(200);
    expect((await client.post("/api/v1/auth/login", { json: { username: user.username, password: "wrong-password-1" } })).status).toBe(401);
    expect(
      (await client.post("/api/v1/auth/login", { json: { email: `nobody-${crypto.randomUUID()}@example.com`, password: "x-password-1" } }))
        .status,
    ).toBe(401);
    // The records written after the answers are among them.
    expect(recorded.some((entry) => /security_events/i.test(entry.sql))).toBe(true);
    expect(recorded.some((entry) => /last_login_at/i.test(entry.sql))).toBe(true);
    expect(await scannedTables(recorded)).toEqual([]);
  });

  it("an OAuth sign-in of a returning user searches by index", async () => {
    const address = `plans-${crypto.randomUUID()}@example.com`;
    expect((await new OAuthBrowser().loginWith("/api/v1/auth/oauth/testidp?mode=json", address)).status).toBe(200);
    const recorded: Recorded[] = [];
    const browser = new OAuthBrowser();
    browser.bindings = { DB: recordingD1(recorded) };
    expect((await browser.loginWith("/api/v1/auth/oauth/testidp?mode=json", address)).status).toBe(200);
    expect(recorded.some((entry) => /oauth_accounts/.test(entry.sql))).toBe(true);
    expect(await scannedTables(recorded)).toEqual([]);
  });
});
