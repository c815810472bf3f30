// Redirect URIs: what a client may register, and how a requested one is matched
// (OAuth 2.1 §2.3.1: exact string comparison; RFC 8252 §7.3: a loopback IP literal's
// port may differ, since a native app gets its port from the OS at run time).

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]"]);

/** Why a redirect URI cannot be registered, or null when it can. */
export function redirectUriProblem(uri: string, options: { development: boolean }): string | null {
  if (uri.length > 2000) return "is longer than 2000 characters";
  if (!URL.canParse(uri)) return "is not an absolute URI";
  const url = new URL(uri);
  if (uri.includes("#")) return "must not have a fragment";
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:") {
    if (LOOPBACK_HOSTS.has(url.hostname)) return null;
    if (options.development && url.hostname === "localhost") return null;
    return "must use https (http only on a loopback IP literal, RFC 8252 §7.3)";
  }
  // A private-use scheme of a native app (RFC 8252 §7.1): reverse domain name, with a dot.
  if (/^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(url.protocol)) return null;
  return "must be https, a loopback http URI, or a private-use scheme such as com.example.app:/callback";
}

/** Whether the requested URI is one the client registered. */
export function matchesRedirectUri(registered: readonly string[], requested: string): boolean {
  if (registered.includes(requested)) return true;
  if (!URL.canParse(requested)) return false;
  const asked = new URL(requested);
  if (asked.protocol !== "http:" || !LOOPBACK_HOSTS.has(asked.hostname)) return false;
  return registered.some((uri) => {
    if (!URL.canParse(uri)) return false;
    const known = new URL(uri);
    return (
      known.protocol === "http:" &&
      known.hostname === asked.hostname &&
      known.pathname === asked.pathname &&
      known.search === asked.search &&
      // The port alone may differ; the path, query and host must be the registered ones, as sent.
      withoutPort(uri) === withoutPort(requested)
    );
  });
}

function withoutPort(uri: string): string {
  const url = new URL(uri);
  url.port = "";
  return url.href;
}
