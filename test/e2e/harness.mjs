// Everything the browser tests need, started on loopback:
// - the API bundle as it deploys (wrangler deploy --dry-run), in Miniflare, twice:
//   "lax" (same-site cross-origin: plain HTTP, SameSite=Lax) and "none" (cross-site:
//   HTTPS, SameSite=None; Secure; Partitioned) behind an HTTPS front with a certificate
//   generated for the run;
//   with the pages (public/: /admin, /account) as Workers static assets;
// - the account page (public/) also served from app origins over HTTP and HTTPS, as a
//   front end on another origin would use the API (its HTML listing the two API origins
//   in <meta name="edge-auth-api-origins">); an attacker's page on a foreign site;
//   and a real OpenID Connect provider;
// - Chromium (Debian's), with every test host name mapped to 127.0.0.1.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { createServer as createHttpServer, request as httpRequest } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { chromium } from "playwright-core";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { startOidcProvider } from "../servers/oidc-idp.ts";

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  "--ignore-certificate-errors",
  "--host-resolver-rules=MAP *.example.test 127.0.0.1, MAP *.other-site.test 127.0.0.1, MAP *.evil-site.test 127.0.0.1",
];

async function freePort() {
  const server = createNetServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function certificate(dir) {
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-subj",
      "/CN=edge-auth e2e",
      "-addext",
      "subjectAltName=DNS:auth.example.test,DNS:app.other-site.test",
    ],
    { stdio: "ignore" },
  );
  return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };

/** Serves a folder (and extra pages) as static files. */
function staticHandler(folder, pages = {}) {
  return (req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (pages[path] !== undefined) {
      res.writeHead(200, { "Content-Type": "text/html" });
      return res.end(pages[path]);
    }
    const file = path.endsWith("/") ? `${path.slice(1)}index.html` : path.slice(1);
    if (file.includes("..")) {
      res.writeHead(400);
      return res.end();
    }
    try {
      const body = readFileSync(join(folder, file));
      res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  };
}

/** An HTTPS front that forwards to a plain-HTTP target, keeping the Host header. */
function httpsProxy(tls, targetPort) {
  return createHttpsServer(tls, (req, res) => {
    const upstream = httpRequest(
      { host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    upstream.on("error", () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** The attacker's page: tries to read the API and to change state with the victim's cookies. */
function attackerPage(api) {
  return `<!doctype html><meta charset="utf-8"><title>attacker</title><pre id="out">running</pre>
<form id="f" method="POST" action="${api}/api/v1/auth/logout-all" enctype="text/plain" target="sink"><input name="x" value="y"></form>
<iframe name="sink" style="display:none"></iframe>
<script>
(async () => {
  const result = {};
  try { await fetch("${api}/api/v1/users/me", { credentials: "include" }); result.read = "readable"; }
  catch (error) { result.read = "blocked"; }
  try {
    await fetch("${api}/api/v1/auth/logout-all", { method: "POST", credentials: "include", mode: "no-cors",
      headers: { "Content-Type": "text/plain" }, body: "{}" });
    result.noCorsPost = "sent";
  } catch (error) { result.noCorsPost = "blocked"; }
  try {
    await fetch("${api}/api/v1/auth/logout-all", { method: "POST", credentials: "include",
      headers: { "Content-Type": "application/json" }, body: "{}" });
    result.corsPost = "succeeded";
  } catch (error) { result.corsPost = "blocked"; }
  document.getElementById("f").submit();
  result.form = "submitted";
  document.getElementById("out").textContent = JSON.stringify(result);
})();
</script>`;
}

/** Becomes a superuser once verified (ADMIN_EMAILS of the "lax" API). */
export const ADMIN_EMAIL = "e2e-admin@example.test";

/**
 * Starts everything; a port taken between picking it and listening on it (another
 * process on the machine) is retried with new ports, and a failed start stops what it
 * had started, so a test run never hangs on a half-started environment.
 */
export async function startEnvironment(settings = {}) {
  for (let attempt = 1; ; attempt++) {
    const started = [];
    try {
      return await startOnce(started, settings);
    } catch (error) {
      for (const stop of started.reverse()) await stop().catch(() => {});
      const portTaken = error?.code === "ERR_ADDRESS_IN_USE" || error?.code === "EADDRINUSE";
      if (!portTaken || attempt === 3) throw error;
    }
  }
}

/** `settings`: more settings of the "lax" API (a test file's own, e.g. Turnstile's). */
async function startOnce(started, settings) {
  const dir = mkdtempSync(join(tmpdir(), "edge-auth-e2e-"));
  // Inside the project: workerd resolves module paths below its working directory.
  const bundle = "test-results/e2e-build";
  execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", bundle], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  const tls = certificate(dir);
  const ports = {
    apiLax: await freePort(),
    apiNoneInner: await freePort(),
    apiNone: await freePort(),
    appHttp: await freePort(),
    appHttps: await freePort(),
    evil: await freePort(),
  };
  const urls = {
    apiLax: `http://auth.example.test:${ports.apiLax}`,
    apiNone: `https://auth.example.test:${ports.apiNone}`,
    appLax: `http://app.example.test:${ports.appHttp}`,
    appNone: `https://app.other-site.test:${ports.appHttps}`,
    evil: `http://attacker.evil-site.test:${ports.evil}`,
  };
  const idp = await startOidcProvider({
    clientId: "edge-auth-e2e",
    clientSecret: "e2e-secret",
    redirectUris: [`${urls.apiLax}/api/v1/auth/oauth/callback/testidp`],
  });
  started.push(async () => {
    idp.server.closeAllConnections();
    await new Promise((resolve) => idp.server.close(resolve));
  });

  const { workerOptions } = unstable_getMiniflareWorkerOptions("wrangler.toml");
  const oauthServerKeys = () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    return JSON.stringify({ keys: [{ ...privateKey.export({ format: "jwk" }), kid: "e2e-es256" }] });
  };
  const common = {
    ENVIRONMENT: "test",
    SECRET_KEY: "e2e-secret-key-with-at-least-32-characters",
    MAIL_PROVIDER: "none",
    REQUEST_LOGS: "false",
    // Every page load here comes from 127.0.0.1; the per-IP registration limit is tested in workerd.
    REGISTRATION_MAX_PER_HOUR: "100000",
  };
  const api = (name, port, bindings) => ({
    name,
    modules: true,
    scriptPath: join(bundle, "index.js"),
    compatibilityDate: "2026-11-01",
    compatibilityFlags: ["nodejs_compat"],
    kvNamespaces: workerOptions.kvNamespaces,
    d1Databases: workerOptions.d1Databases,
    durableObjects: workerOptions.durableObjects,
    assets: workerOptions.assets,
    bindings: { ...common, ...bindings },
    unsafeDirectSockets: [{ host: "127.0.0.1", port }],
  });
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      workers: [
        api("lax", ports.apiLax, {
          SESSION_SECURE_COOKIES: "false",
          SESSION_COOKIE_SAMESITE: "lax",
          CORS_ORIGINS: urls.appLax,
          OAUTH_REDIRECT_BASE_URL: urls.apiLax,
          OAUTH_OIDC_PROVIDERS: "testidp",
          OAUTH_TESTIDP_ISSUER: idp.issuer,
          OAUTH_TESTIDP_CLIENT_ID: "edge-auth-e2e",
          OAUTH_TESTIDP_CLIENT_SECRET: "e2e-secret",
          // The OAuth server (its consent page, /device, connected apps and the console's Apps view).
          OAUTH_SERVER_ENABLED: "true",
          OAUTH_SERVER_SIGNING_KEYS: oauthServerKeys(),
          // The app (app.example.test) and the API (auth.example.test) share the parent
          // domain, as a production deployment's front end and API would.
          WEBAUTHN_RP_ID: "example.test",
          // Mail lands in the outbox (GET /api/v1/dev/outbox), where the tests read links.
          MAIL_PROVIDER: "dev",
          ADMIN_EMAILS: ADMIN_EMAIL,
          ...settings,
        }),
        api("none", ports.apiNoneInner, {
          SESSION_SECURE_COOKIES: "true",
          SESSION_COOKIE_SAMESITE: "none",
          CORS_ORIGINS: urls.appNone,
        }),
      ],
    }),
  );
  started.push(() => mf.dispose());
  await mf.ready;
  const db = await mf.getD1Database("DB", "lax");
  // Every migration, in order, as `wrangler d1 migrations apply` would.
  for (const file of readdirSync("migrations")
    .filter((name) => name.endsWith(".sql"))
    .sort()) {
    const sql = readFileSync(join("migrations", file), "utf8")
      .split("\n")
      .filter((line) => !line.trim().startsWith("--"))
      .join("\n");
    for (const statement of sql
      .split(";")
      .map((part) => part.trim())
      .filter(Boolean))
      await db.prepare(statement).run();
  }

  // A copy of the account page served elsewhere names the services it may use (shared/api.js).
  const accountPage = readFileSync("public/account/index.html", "utf8").replace(
    "<head>",
    `<head>\n    <meta name="edge-auth-api-origins" content="${urls.apiLax} ${urls.apiNone}" />`,
  );
  const app = staticHandler("public", { "/account/": accountPage });
  const servers = [
    createHttpServer(app),
    createHttpsServer(tls, app),
    createHttpServer(staticHandler("public", { "/attack-lax": attackerPage(urls.apiLax), "/attack-none": attackerPage(urls.apiNone) })),
    httpsProxy(tls, ports.apiNoneInner),
  ];
  for (const server of servers)
    started.push(async () => {
      server.closeAllConnections?.();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    });
  await listen(servers[0], ports.appHttp);
  await listen(servers[1], ports.appHttps);
  await listen(servers[2], ports.evil);
  await listen(servers[3], ports.apiNone);

  // WebAuthn needs a secure context: the plain-HTTP app origin and the API's own pages
  // are treated as one (as https:// would be in production).
  const args = [...CHROMIUM_FLAGS, `--unsafely-treat-insecure-origin-as-secure=${urls.appLax},${urls.apiLax}`];
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args });
  return {
    urls,
    browser,
    async close() {
      await browser.close();
      for (const server of servers) {
        server.closeAllConnections?.();
        await new Promise((resolve) => server.close(resolve));
      }
      idp.server.closeAllConnections();
      await new Promise((resolve) => idp.server.close(resolve));
      await mf.dispose();
    },
  };
}
