// Measurement driver. Run: node measure.mjs  (Node 24; after ./build.sh)
import { Miniflare } from "miniflare"; // this folder's own miniflare 4 (package.json)
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";

const ORIGIN = "https://wop.test";
const REDIRECT = "http://127.0.0.1:9999/cb";
const ROUNDS = 10;
const out = { meta: {}, rounds: {}, kvCounts: {}, revocation: {} };
const log = (...a) => console.log(...a);

const mf = new Miniflare({
  modules: true,
  scriptPath: new URL("./dist/worker.js", import.meta.url).pathname,
  compatibilityDate: "2025-09-01",
  kvNamespaces: ["OAUTH_KV"], // local KV simulator, in-memory (no persistence configured)
});
await mf.ready;
const KV = await mf.getKVNamespace("OAUTH_KV"); // out-of-band access, NOT counted by the Worker's proxy

const pkgVersion = JSON.parse(
  readFileSync(new URL("./node_modules/@cloudflare/workers-oauth-provider/package.json", import.meta.url), "utf8"),
).version;
out.meta = {
  package: "@cloudflare/workers-oauth-provider",
  version: pkgVersion,
  node: process.version,
  miniflare: JSON.parse(readFileSync(new URL("./node_modules/miniflare/package.json", import.meta.url), "utf8")).version,
  workerd: JSON.parse(readFileSync(new URL("./node_modules/workerd/package.json", import.meta.url), "utf8")).version,
};
log("meta", out.meta);

const req = (path, init = {}) => mf.dispatchFetch(ORIGIN + path, { redirect: "manual", ...init });
const form = (obj) => ({
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(obj).toString(),
});
const kvStats = async (reset = true) => (await req("/__kv" + (reset ? "?reset" : ""))).json();
const sha256hex = (s) => createHash("sha256").update(s).digest("hex");
const b64url = (buf) => Buffer.from(buf).toString("base64url");
const short = (t) => (t ? t.split(":")[2].slice(0, 8) : String(t));

async function register() {
  const r = await req("/register", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      client_name: "measure",
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
    }),
  });
  const j = await r.json();
  if (r.status !== 201 && r.status !== 200) throw new Error("register " + r.status + " " + JSON.stringify(j));
  return j.client_id;
}

async function authorizeAndExchange(clientId) {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash("sha256").update(verifier).digest());
  const q = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT,
    scope: "read",
    state: "s1",
    code_challenge: challenge,
    code_challenge_method: "S256",
    resource: ORIGIN + "/api",
  });
  const a = await req("/authorize?" + q);
  if (a.status !== 302) throw new Error("authorize " + a.status + " " + (await a.text()));
  const loc = new URL(a.headers.get("location"));
  const code = loc.searchParams.get("code");
  const statsAuthorize = await kvStats();
  const t = await req(
    "/oauth/token",
    form({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      client_id: clientId,
      code_verifier: verifier,
      resource: ORIGIN + "/api",
    }),
  );
  const tj = await t.json();
  if (t.status !== 200) throw new Error("token " + t.status + " " + JSON.stringify(tj));
  const statsExchange = await kvStats();
  return { tokens: tj, iss: loc.searchParams.get("iss"), state: loc.searchParams.get("state"), statsAuthorize, statsExchange };
}

const refresh = (clientId, rt) => req("/oauth/token", form({ grant_type: "refresh_token", refresh_token: rt, client_id: clientId }));
const callApi = async (at) => (await req("/api/hello", { headers: { Authorization: "Bearer " + at } })).status;
const grantKeyOf = (tok) => {
  const [u, g] = tok.split(":");
  return `grant:${u}:${g}`;
};

// ---------- 1. DCR + auth code + PKCE ----------
await kvStats(); // reset
const c0 = await register();
const statsRegister = await kvStats();
const flow = await authorizeAndExchange(c0);
log(
  "1. flow ok: client",
  c0,
  "token_type",
  flow.tokens.token_type,
  "has refresh_token",
  !!flow.tokens.refresh_token,
  "expires_in",
  flow.tokens.expires_in,
  "scope",
  flow.tokens.scope,
  "iss",
  flow.iss,
  "state",
  flow.state,
);
out.flow = {
  clientId: c0,
  token_type: flow.tokens.token_type,
  expires_in: flow.tokens.expires_in,
  scope: flow.tokens.scope,
  resource: flow.tokens.resource,
  has_refresh: !!flow.tokens.refresh_token,
  iss: flow.iss,
};
out.kvCounts.register = statsRegister.count;
out.kvCounts.authorize = flow.statsAuthorize.count;
out.kvCounts.codeExchange = flow.statsExchange.count;

// ---------- 3b. KV op counts: one API call, one refresh ----------
await kvStats();
const apiStatus = await callApi(flow.tokens.access_token);
const sApi = await kvStats();
const r1 = await refresh(c0, flow.tokens.refresh_token);
const r1j = await r1.json();
const sRef = await kvStats();
const apiStatus2 = await callApi(flow.tokens.access_token);
const sApi2 = await kvStats();
out.kvCounts.apiCall = { status: apiStatus, ...sApi.count, ops: sApi.ops };
out.kvCounts.refresh = { status: r1.status, ...sRef.count, ops: sRef.ops };
out.kvCounts.apiCallAfterRefresh_oldAT = { status: apiStatus2, ...sApi2.count };
out.kvCounts.register = { ...statsRegister.count, ops: statsRegister.ops };
out.kvCounts.authorize = { ...flow.statsAuthorize.count, ops: flow.statsAuthorize.ops };
out.kvCounts.codeExchange = { ...flow.statsExchange.count, ops: flow.statsExchange.ops };
log("3b. KV ops  API call:", JSON.stringify(sApi.count), sApi.ops.map((o) => o.op + " " + o.key).join(" | "));
log("3b. KV ops  refresh :", JSON.stringify(sRef.count), sRef.ops.map((o) => o.op + " " + o.key).join(" | "));
log(
  "    (register:",
  JSON.stringify(statsRegister.count),
  " authorize:",
  JSON.stringify(flow.statsAuthorize.count),
  " code exchange:",
  JSON.stringify(flow.statsExchange.count),
  ")",
);
log("    old access token still works after a refresh:", apiStatus2);

// ---------- 2. Concurrent refresh ----------
async function round(N, idx) {
  const clientId = await register();
  const { tokens } = await authorizeAndExchange(clientId);
  const rt0 = tokens.refresh_token;
  const gk = grantKeyOf(rt0);
  await kvStats();
  const resps = await Promise.all(Array.from({ length: N }, () => refresh(clientId, rt0)));
  const bodies = await Promise.all(resps.map((r) => r.json()));
  const kvDuring = await kvStats();
  const statuses = resps.map((r) => r.status);
  const ok = bodies.filter((b, i) => statuses[i] === 200);
  const rts = ok.map((b) => b.refresh_token);
  const ats = ok.map((b) => b.access_token);
  const distinctRT = new Set(rts).size;

  // Non-mutating check: compare SHA-256 of each token with the grant record's current/previous slots.
  const { value, metadata } = await KV.getWithMetadata(gk, "text");
  const grant = JSON.parse(value);
  const slot = (t) =>
    sha256hex(t) === grant.refreshTokenId ? "current" : sha256hex(t) === grant.previousRefreshTokenId ? "previous" : "none";
  const slots = rts.map(slot);
  const origSlot = slot(rt0);

  // Active check: try each returned RT (and the original) against a restored snapshot of the grant record,
  // so each try sees the same post-race state (a successful try rotates the grant, which we undo).
  const tryEach = async (t) => {
    const r = await refresh(clientId, t);
    await r.arrayBuffer();
    await KV.put(gk, value, metadata ? { metadata } : {});
    return r.status;
  };
  const tryStatus = [];
  for (const t of rts) tryStatus.push(await tryEach(t));
  const origTry = await tryEach(rt0);
  await kvStats(); // reset counters polluted by tries

  // Do access tokens from all concurrent responses work?
  const atStatus = [];
  for (const t of ats) atStatus.push(await callApi(t));
  await kvStats();

  const row = {
    round: idx,
    N,
    statuses,
    n200: statuses.filter((s) => s === 200).length,
    distinctRT,
    identical: rts.length > 1 ? distinctRT === 1 : null,
    returnedRTslot: slots,
    returnedRTstillWork: tryStatus.map((s) => s === 200),
    nReturnedRTsStillWork: tryStatus.filter((s) => s === 200).length,
    originalRTslot: origSlot,
    originalRTstillWorks: origTry === 200,
    returnedATsWork: atStatus.filter((s) => s === 200).length,
    kvOpsDuringRace: kvDuring.count,
    errors: bodies.filter((b, i) => statuses[i] !== 200),
  };
  log(
    `N=${N} r${idx}: status=[${statuses}] 200s=${row.n200} distinctRT=${distinctRT}/${rts.length} ` +
      `slots=[${slots}] stillWork=[${tryStatus}] origRT=${origSlot}/${origTry} ATs200=${row.returnedATsWork}/${ats.length}` +
      ` kv(get=${kvDuring.count.get},put=${kvDuring.count.put})`,
  );
  return row;
}

for (const N of [2, 5]) {
  const rows = [];
  for (let i = 1; i <= ROUNDS; i++) rows.push(await round(N, i));
  const tot = {
    rounds: rows.length,
    requests: rows.length * N,
    total200: rows.reduce((a, r) => a + r.n200, 0),
    roundsAllIdentical: rows.filter((r) => r.identical === true).length,
    roundsAllDistinct: rows.filter((r) => r.distinctRT === r.n200).length,
    returnedRTsStillWorking: rows.reduce((a, r) => a + r.nReturnedRTsStillWork, 0),
    returnedRTsTotal: rows.reduce((a, r) => a + r.n200, 0),
    roundsOriginalRTStillWorks: rows.filter((r) => r.originalRTstillWorks).length,
    returnedATsWorking: rows.reduce((a, r) => a + r.returnedATsWork, 0),
  };
  out.rounds["N" + N] = { rows, totals: tot };
  log(`TOTAL N=${N}:`, JSON.stringify(tot));
}

// ---------- 2b. Sequential replay of one refresh token (no concurrency) ----------
{
  const clientId = await register();
  const { tokens } = await authorizeAndExchange(clientId);
  const rt0 = tokens.refresh_token;
  const seq = [];
  const issued = [];
  for (let k = 0; k < 5; k++) {
    const r = await refresh(clientId, rt0);
    const j = await r.json();
    seq.push(r.status);
    if (j.refresh_token) issued.push(j.refresh_token);
  }
  // which of the issued RTs work now? (non-mutating hash check against the grant record)
  const g = JSON.parse(await KV.get(grantKeyOf(rt0)));
  const slots = issued.map((t) =>
    sha256hex(t) === g.refreshTokenId ? "current" : sha256hex(t) === g.previousRefreshTokenId ? "previous" : "none",
  );
  const origSlot = sha256hex(rt0) === g.refreshTokenId ? "current" : sha256hex(rt0) === g.previousRefreshTokenId ? "previous" : "none";
  // then use the newest issued RT once: does the original RT die?
  const rn = await refresh(clientId, issued[issued.length - 1]);
  const rnj = await rn.json();
  const r0 = await refresh(clientId, rt0);
  const r0j = await r0.json();
  const r0b = await refresh(clientId, rt0);
  await r0b.arrayBuffer();
  out.sequentialReplay = {
    sameRT_5_sequential_statuses: seq,
    issuedSlotsAfter: slots,
    originalSlotAfter: origSlot,
    refreshWithNewest: rn.status,
    originalAfterNewestUsed: [r0.status, r0j.error],
    originalAgain: r0b.status,
  };
  log(
    "2b. same RT replayed sequentially 5x:",
    seq,
    "issued slots",
    slots,
    "original slot",
    origSlot,
    "| newest used:",
    rn.status,
    "-> original now:",
    r0.status,
    r0j.error,
    "-> original again:",
    r0b.status,
  );
}

// ---------- 3a. Revocation ----------
async function freshGrantWithTwoATs() {
  const clientId = await register();
  const { tokens } = await authorizeAndExchange(clientId);
  const r = await refresh(clientId, tokens.refresh_token);
  const j = await r.json();
  return { clientId, at1: tokens.access_token, at2: j.access_token, rt: j.refresh_token, rtOld: tokens.refresh_token };
}
// (A) RFC 7009 at the token endpoint with the refresh token (library revokes the whole grant)
{
  const g = await freshGrantWithTwoATs();
  const before = [await callApi(g.at1), await callApi(g.at2)];
  await kvStats();
  const rv = await req("/oauth/token", form({ token: g.rt, token_type_hint: "refresh_token", client_id: g.clientId }));
  await rv.arrayBuffer();
  const sRv = await kvStats();
  const t0 = performance.now();
  const after = [await callApi(g.at1), await callApi(g.at2)];
  const ms = performance.now() - t0;
  const rr = await refresh(g.clientId, g.rt);
  const rrj = await rr.json();
  const rrOld = await refresh(g.clientId, g.rtOld);
  await rrOld.arrayBuffer();
  const left = (await KV.list({ prefix: `token:${g.rt.split(":")[0]}:${g.rt.split(":")[1]}:` })).keys.length;
  const grantLeft = (await KV.get(grantKeyOf(g.rt))) !== null;
  out.revocation.rfc7009_refreshToken = {
    revokeStatus: rv.status,
    apiBefore: before,
    apiImmediatelyAfter: after,
    msForBothCalls: +ms.toFixed(1),
    refreshAfter: [rr.status, rrj.error],
    previousRTrefreshAfter: rrOld.status,
    tokenKeysLeft: left,
    grantKeyLeft: grantLeft,
    kv: { ...sRv.count, ops: sRv.ops },
  };
  log(
    "3a. RFC7009(refresh_token) revoke:",
    rv.status,
    "API before",
    before,
    "API immediately after",
    after,
    "refresh after",
    rr.status,
    rrj.error,
    "kv",
    JSON.stringify(sRv.count),
    "token keys left",
    left,
    "grant left",
    grantLeft,
  );
}
// (B) helpers API env.OAUTH_PROVIDER.revokeGrant via an app route
{
  const g = await freshGrantWithTwoATs();
  const [userId, grantId] = g.rt.split(":");
  const before = [await callApi(g.at1), await callApi(g.at2)];
  await kvStats();
  const rv = await req("/__revoke-grant", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ grantId, userId }),
  });
  await rv.arrayBuffer();
  const sRv = await kvStats();
  const after = [await callApi(g.at1), await callApi(g.at2)];
  const rr = await refresh(g.clientId, g.rt);
  await rr.arrayBuffer();
  out.revocation.helpers_revokeGrant = {
    revokeStatus: rv.status,
    apiBefore: before,
    apiImmediatelyAfter: after,
    refreshAfter: rr.status,
    kv: { ...sRv.count, ops: sRv.ops },
  };
  log(
    "3a. helpers.revokeGrant:",
    rv.status,
    "API before",
    before,
    "API immediately after",
    after,
    "refresh after",
    rr.status,
    "kv",
    JSON.stringify(sRv.count),
  );
}
// (C) RFC 7009 with an access token (only that token is revoked)
{
  const g = await freshGrantWithTwoATs();
  await kvStats();
  const rv = await req("/oauth/token", form({ token: g.at2, token_type_hint: "access_token", client_id: g.clientId }));
  await rv.arrayBuffer();
  const sRv = await kvStats();
  const after = [await callApi(g.at1), await callApi(g.at2)];
  const rr = await refresh(g.clientId, g.rt);
  await rr.arrayBuffer();
  out.revocation.rfc7009_accessToken = {
    revokeStatus: rv.status,
    apiAfter_at1_at2revoked: after,
    refreshAfter: rr.status,
    kv: { ...sRv.count, ops: sRv.ops },
  };
  log(
    "3a. RFC7009(access_token at2) revoke:",
    rv.status,
    "API after [at1, at2]",
    after,
    "refresh after",
    rr.status,
    "kv",
    JSON.stringify(sRv.count),
  );
}

// discovery metadata, for the feature check
const md = await (await req("/.well-known/oauth-authorization-server")).json();
out.metadata = md;
log(
  "metadata grant_types_supported",
  md.grant_types_supported,
  "response_types",
  md.response_types_supported,
  "auth methods",
  md.token_endpoint_auth_methods_supported,
  "keys",
  Object.keys(md).join(","),
);
const oidc = await req("/.well-known/openid-configuration");
out.metadata_openid_configuration_status = oidc.status;
await oidc.arrayBuffer();
log("GET /.well-known/openid-configuration ->", oidc.status);

writeFileSync(new URL("./results.json", import.meta.url), JSON.stringify(out, null, 2));
await mf.dispose();
log("wrote results.json");
