// The one page the authorization endpoint renders itself: an error it must not send to
// the client (an unknown client or redirect URI, RFC 6749 §4.1.2.1), shown here and
// redirected nowhere. Plain HTML with the pages' stylesheet and no script.
import type { Context } from "hono";
import type { AppEnv } from "../auth/app-env";

const CSP = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function errorPage(c: Context<AppEnv>, status: 400 | 429, description: string): Response {
  c.header("Content-Security-Policy", CSP);
  c.header("Cache-Control", "no-store");
  return c.html(
    `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in request not valid</title><link rel="stylesheet" href="/shared/ui.css"></head>
<body><main class="narrow"><h1>This sign-in request can't be completed</h1>
<p role="alert">${escapeHtml(description)}</p>
<p>Go back to the app and try again, or contact its developer.</p></main></body>
</html>`,
    status,
  );
}
