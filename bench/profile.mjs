// npm run bench:profile -- "<path>": a CPU profile of one hot path under load, taken
// inside workerd through its inspector (the DevTools protocol), from a build that keeps
// its function names (not minified). Prints the functions with the most self time and
// writes bench/out/profile.cpuprofile (open it in Chrome's DevTools).
// Paths: "me (bearer)", "me (api key)", "api key verify", "refresh", "session check",
// "oauth refresh", "oauth introspection".
import { mkdirSync, writeFileSync } from "node:fs";
import autocannon from "autocannon";
import { oauthFixture } from "./oauth.mjs";
import {
  COMPAT,
  Miniflare,
  benchAccount,
  benchSettings,
  build,
  convertV4MiniflareOptions,
  migrate,
  refreshTarget,
  serviceWorker,
} from "./harness.mjs";

const PATH = process.argv[2] ?? "me (api key)";
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 6);
const INSPECTOR_PORT = 9239;
const OUT = "bench/out";

mkdirSync(OUT, { recursive: true });
const script = build(null, `${OUT}/plain`, ["--minify=false"]);
// ADMIN_REQUIRE_MFA=false: the OAuth fixture's admin registers a resource server without a second factor.
const worker = serviceWorker("service", script, { ...benchSettings(), ADMIN_REQUIRE_MFA: "false" });
const seeder = { ...serviceWorker("seeder", "bench/seeder.js", {}), durableObjects: undefined, compatibilityDate: COMPAT };
const mf = new Miniflare(convertV4MiniflareOptions({ workers: [worker, seeder], inspectorPort: INSPECTOR_PORT }));
await mf.ready;
const base = (await mf.unsafeGetDirectURL("service")).href.replace(/\/$/, "");
const seederUrl = (await mf.unsafeGetDirectURL("seeder")).href.replace(/\/$/, "");
await migrate(mf);

const { email, password, cookie, key, post } = await benchAccount(base, "profile");
const tokens = await (await post("/api/v1/auth/token", { email, password })).json();
// Each connection rotates its own token family; a run cut short leaves its families unusable, so each run gets new ones.
const families = [];
async function newFamilies() {
  families.length = 0;
  for (let i = 0; i < 50; i++) families.push((await (await post("/api/v1/auth/token", { email, password })).json()).refresh_token);
}

const oauth = PATH.startsWith("oauth") ? await oauthFixture(base, seederUrl, 50) : null;
const oauthFamilies = [];
const targets = {
  "me (bearer)": { method: "GET", url: `${base}/api/v1/users/me`, headers: { Authorization: `Bearer ${tokens.access_token}` } },
  "me (api key)": { method: "GET", url: `${base}/api/v1/users/me`, headers: { "X-API-Key": key.api_key } },
  "session check": { method: "GET", url: `${base}/api/v1/auth/check-auth`, headers: { Cookie: cookie } },
  "api key verify": {
    method: "POST",
    url: `${base}/api/v1/api-keys/verify`,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ api_key: key.api_key, resource: "user_profile", action: "read" }),
  },
  refresh: refreshTarget(`${base}/api/v1/auth/refresh`, families),
  "oauth refresh": refreshTarget(`${base}/oauth2/token`, oauthFamilies, oauth?.refreshBody),
  "oauth introspection": {
    method: "POST",
    url: `${base}/oauth2/introspect`,
    headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: oauth?.introspection },
    body: new URLSearchParams({ token: oauth?.accessToken ?? "" }).toString(),
  },
};
if (!Object.hasOwn(targets, PATH)) throw new Error(`unknown path ${PATH}: one of ${Object.keys(targets).join(", ")}`);
const target = targets[PATH];

const list = await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json`)).json();
const entry = list.find((item) => item.id?.includes("service") || item.title?.includes("service")) ?? list[0];
const socket = new WebSocket(entry.webSocketDebuggerUrl);
await new Promise((resolve, reject) => {
  socket.onopen = resolve;
  socket.onerror = reject;
});
let nextId = 1;
const pending = new Map();
socket.onmessage = (event) => {
  const message = JSON.parse(event.data);
  if (message.id !== undefined && pending.has(message.id)) {
    pending.get(message.id)(message);
    pending.delete(message.id);
  }
};
const send = (method, params = {}) =>
  new Promise((resolve) => {
    const id = nextId++;
    pending.set(id, resolve);
    socket.send(JSON.stringify({ id, method, params }));
  });

async function prepare() {
  if (PATH === "refresh") await newFamilies();
  if (PATH === "oauth refresh") oauthFamilies.splice(0, oauthFamilies.length, ...(await oauth.newFamilies()));
}
const run = (seconds) => autocannon({ connections: 50, duration: seconds, ...target });
await prepare();
await run(3);
await prepare();
await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 50 });
await send("Profiler.start");
const result = await run(SECONDS);
const { result: stopped } = await send("Profiler.stop");
const profile = stopped.profile;
writeFileSync(`${OUT}/profile.cpuprofile`, JSON.stringify(profile));

const self = new Map();
const counts = new Map();
for (const sample of profile.samples) counts.set(sample, (counts.get(sample) ?? 0) + 1);
let total = 0;
for (const node of profile.nodes) {
  const hits = counts.get(node.id) ?? 0;
  total += hits;
  const frame = node.callFrame;
  const name = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").pop()}:${frame.lineNumber + 1}`;
  self.set(name, (self.get(name) ?? 0) + hits);
}
console.log(`${PATH}: ${Math.round(result.requests.average)} req/s, ${result.non2xx} non-2xx, ${total} samples`);
if (result.non2xx > 0) console.log("(some answers were not 2xx: this profile is not of the path's success)");
for (const [name, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_TOP ?? 40))) {
  console.log(`${((100 * hits) / total).toFixed(1).padStart(5)}%  ${name}`);
}
socket.close();
await mf.dispose();
