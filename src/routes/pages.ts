// The pages the Worker serves from public/ (Workers static assets, read through the
// ASSETS binding): the admin console at /admin, the account page at /account (also the
// target of the mailed /verify-email and /reset-password links), the files both share
// under /shared, and the scripts of the API reference under /docs (the page itself is
// routes/docs.ts). Each answer carries the pages' CSP: scripts, styles and calls to this
// origin only, nothing inline, never framed. The reference alone may use inline styles,
// its scripts still this origin's only.
import { type Context, Hono } from "hono";
import type { AppEnv } from "../auth/app-env";
import { ApiError, serviceUnavailable } from "../http/errors";
import { providerOf } from "../oauth-server/provider";

const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Turnstile's widget: its script and its frame come from Cloudflare (TURNSTILE_SITE_KEY set). */
const TURNSTILE_ORIGIN = "https://challenges.cloudflare.com";
const CHALLENGE_CSP = PAGE_CSP.replace("script-src 'self'", `script-src 'self' ${TURNSTILE_ORIGIN}`).replace(
  "default-src 'none'",
  `default-src 'none'; frame-src ${TURNSTILE_ORIGIN}`,
);

/** The API reference's (routes/docs.ts): Scalar injects its stylesheet and sets style attributes. */
export const DOCS_CSP = PAGE_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");

/** A page's path → its HTML file. */
const PAGES = new Map([
  ["/admin", "/admin/index.html"],
  ["/admin/", "/admin/index.html"],
  ["/account", "/account/index.html"],
  ["/account/", "/account/index.html"],
  ["/verify-email", "/account/index.html"],
  ["/reset-password", "/account/index.html"],
  ["/accept-invitation", "/account/index.html"],
  ["/magic-link", "/account/index.html"],
]);
const OAUTH_PAGES = new Map([
  ["/oauth2/consent", "/oauth/consent.html"],
  ["/device", "/oauth/device.html"],
]);
const notFound = () => new ApiError("not_found", "Not found");

export async function servePage(c: Context<AppEnv>, file: string): Promise<Response> {
  if (file.startsWith("/admin/") && !c.get("config").admin.console) throw notFound();
  const assets = c.env.ASSETS;
  if (assets === undefined) throw notFound();
  const headers = new Headers();
  const etag = c.req.header("If-None-Match");
  if (etag !== undefined) headers.set("If-None-Match", etag);
  const answer = await assets.fetch(new URL(file, c.req.url), { headers });
  if (answer.status === 404) throw notFound();
  // Any other answer is the assets service failing: the same 503 as any dependency.
  if (answer.status !== 200 && answer.status !== 304) throw serviceUnavailable();
  const response = new Response(answer.status === 304 ? null : answer.body, { status: answer.status, headers: answer.headers });
  const challenge = c.get("config").turnstile.siteKey !== null && c.get("config").turnstile.secretKey !== null;
  response.headers.set("Content-Security-Policy", file.startsWith("/docs/") ? DOCS_CSP : challenge ? CHALLENGE_CSP : PAGE_CSP);
  // Revalidated on every load (by ETag), so a deploy's pages and scripts arrive together.
  response.headers.set("Cache-Control", "no-cache");
  return response;
}

export const pageRoutes = new Hono<AppEnv>();

for (const [path, file] of PAGES) pageRoutes.get(path, (c) => servePage(c, file));
// The OAuth server's pages (its consent page and the device-code entry), only while it is on.
for (const [path, file] of OAUTH_PAGES) {
  pageRoutes.get(path, (c) => {
    providerOf(c.get("services"));
    return servePage(c, file);
  });
}
pageRoutes.get("/:area{admin|account|shared|docs|oauth}/:name{[a-z0-9-]+\\.(?:js|css|svg)}", (c) => servePage(c, c.req.path));
pageRoutes.get("/:area{admin|account|shared}/vendor/:name{[a-z0-9-]+\\.js}", (c) => servePage(c, c.req.path));
