// npm run probe -- <url>: the service's hot paths measured from where you run it, against
// a deployed service (or a local one): cookie login, check-auth, bearer (GET /users/me),
// refresh and API-key verify, each N times one after another, with their p50 and p95 and,
// when the service sends Server-Timing (SERVER_TIMING=true), the median of each hop.
//
//   npm run probe -- https://auth.example.com --email probe@example.com --password '...'
//   npm run probe -- http://127.0.0.1:8787 --register        (makes a throwaway account)
//   options: --samples N (default 20), --json FILE
//
// The account should be one kept for probing: logins are throttled per IP and per account
// only when they fail, and every sample signs in for real (a session, a token family).
import { writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";

/** Measures each path; returns {paths: {name: {p50_ms, p95_ms, samples, errors, hops}}}. */
export async function probe(base, { email, password, register = false, samples = 20 } = {}) {
  const url = base.replace(/\/$/, "");
  const json = { "Content-Type": "application/json" };
  if (register) {
    email = `probe-${randomUUID()}@example.com`;
    password = `Probe-${randomUUID()}`;
    const made = await fetch(`${url}/api/v1/users`, { method: "POST", headers: json, body: JSON.stringify({ email, password }) });
    if (made.status !== 201) throw new Error(`registration: ${made.status} ${await made.text()}`);
  }
  if (email === undefined || password === undefined) throw new Error("give --email and --password, or --register");
  const credentials = JSON.stringify({ email, password });
  const results = {};
  const time = async (name, call) => {
    const entry = (results[name] ??= { times: [], errors: 0, hops: {} });
    const started = performance.now();
    const response = await call();
    entry.times.push(performance.now() - started);
    if (!response.ok) entry.errors += 1;
    for (const part of (response.headers.get("Server-Timing") ?? "").split(",")) {
      const match = /^\s*([\w-]+);dur=([\d.]+)/.exec(part);
      if (match !== null && match[1] !== "total") (entry.hops[match[1]] ??= []).push(Number(match[2]));
    }
    return response;
  };

  let cookie = "";
  let csrf = "";
  for (let i = 0; i < samples; i++) {
    const login = await time("login", () => fetch(`${url}/api/v1/auth/login`, { method: "POST", headers: json, body: credentials }));
    cookie = login.headers
      .getSetCookie()
      .map((line) => line.split(";")[0])
      .join("; ");
    csrf = (await login.json()).csrf_token;
  }
  for (let i = 0; i < samples; i++) {
    const check = await time("check_auth", () => fetch(`${url}/api/v1/auth/check-auth`, { headers: { Cookie: cookie } }));
    await check.arrayBuffer();
  }
  const pair = await (await fetch(`${url}/api/v1/auth/token`, { method: "POST", headers: json, body: credentials })).json();
  for (let i = 0; i < samples; i++) {
    const me = await time("bearer", () => fetch(`${url}/api/v1/users/me`, { headers: { Authorization: `Bearer ${pair.access_token}` } }));
    await me.arrayBuffer();
  }
  let refreshToken = pair.refresh_token;
  for (let i = 0; i < samples; i++) {
    const body = JSON.stringify({ refresh_token: refreshToken });
    const refreshed = await time("refresh", () => fetch(`${url}/api/v1/auth/refresh`, { method: "POST", headers: json, body }));
    refreshToken = (await refreshed.json()).refresh_token ?? refreshToken;
  }
  const created = await fetch(`${url}/api/v1/api-keys`, {
    method: "POST",
    headers: { ...json, Cookie: cookie, "X-CSRF-Token": csrf },
    body: JSON.stringify({ name: `probe ${new Date().toISOString()}`, permissions: { user_profile: ["read"] } }),
  });
  if (created.status !== 201) throw new Error(`key creation: ${created.status} ${await created.text()}`);
  const key = await created.json();
  const verifyBody = JSON.stringify({ api_key: key.api_key, resource: "user_profile", action: "read" });
  for (let i = 0; i < samples; i++) {
    const verified = await time("api_key_verify", () =>
      fetch(`${url}/api/v1/api-keys/verify`, { method: "POST", headers: json, body: verifyBody }),
    );
    await verified.arrayBuffer();
  }
  // The probe's key is revoked again: it leaves no working credential behind but the sessions, which expire.
  await fetch(`${url}/api/v1/api-keys/${key.id}`, { method: "DELETE", headers: { Cookie: cookie, "X-CSRF-Token": csrf } });

  const paths = {};
  for (const [name, entry] of Object.entries(results)) {
    const hops = {};
    for (const [hop, times] of Object.entries(entry.hops)) hops[hop] = round(percentile(times, 50));
    paths[name] = {
      p50_ms: round(percentile(entry.times, 50)),
      p95_ms: round(percentile(entry.times, 95)),
      samples: entry.times.length,
      errors: entry.errors,
      hops,
    };
  }
  return { url, paths };
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function round(value) {
  return Math.round(value * 10) / 10;
}

function table(result) {
  const lines = [
    `probe of ${result.url}`,
    "",
    "| path | p50 ms | p95 ms | errors | hops (median ms, from Server-Timing) |",
    "|---|---|---|---|---|",
  ];
  for (const [name, path] of Object.entries(result.paths)) {
    const hops =
      Object.entries(path.hops)
        .map(([hop, ms]) => `${hop} ${ms}`)
        .join(", ") || "-";
    lines.push(`| ${name} | ${path.p50_ms} | ${path.p95_ms} | ${path.errors}/${path.samples} | ${hops} |`);
  }
  return lines.join("\n");
}

function option(args, name) {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const base = args.find((arg) => /^https?:\/\//.test(arg));
  if (base === undefined) {
    process.stderr.write("usage: npm run probe -- <url> (--email E --password P | --register) [--samples N] [--json FILE]\n");
    process.exit(2);
  }
  const result = await probe(base, {
    email: option(args, "--email"),
    password: option(args, "--password"),
    register: args.includes("--register"),
    samples: Number(option(args, "--samples") ?? 20),
  });
  process.stdout.write(`${table(result)}\n`);
  const file = option(args, "--json");
  if (file !== undefined) writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  const failed = Object.values(result.paths).some((path) => path.errors > 0);
  process.exit(failed ? 1 : 0);
}
