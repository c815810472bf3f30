// Plays the browser in OAuth flows: calls the service (with its cookie jar) and walks
// the real loopback identity provider's pages (login form, consent form) with a
// separate cookie jar, the way a person clicking through would.
import { env } from "cloudflare:workers";
import { BASE_URL, type RequestOptions, type Settings, TestClient } from "./client";

export const servers = env as unknown as {
  OAUTH_TESTIDP_ISSUER: string;
  OAUTH_GOOGLE_ISSUER: string;
  OAUTH_GITHUB_URL: string;
  OAUTH_ROGUE_ISSUER: string;
};

export class OAuthBrowser extends TestClient {
  private readonly providerCookies = new Map<string, string>();

  constructor(options: { settings?: Settings } = {}) {
    super(options);
  }

  /** Starts a login at the service and returns the provider URL it redirects to. */
  async start(path: string, options?: RequestOptions): Promise<string> {
    const response = await this.get(path, options);
    if (response.status === 200) return ((await response.json()) as { url: string }).url; // mode=json
    if (response.status !== 302) throw new Error(`start answered ${response.status}: ${await response.text()}`);
    return response.headers.get("Location") ?? "";
  }

  /**
   * Follows the provider's redirects and submits its login and consent forms as
   * `login`, until the provider sends the browser back to the service (or to an app);
   * returns that URL.
   */
  async signInAtProvider(url: string, login: string): Promise<string> {
    let next: { url: string; method: string; body?: string } = { url, method: "GET" };
    for (let step = 0; step < 20; step++) {
      if (!next.url.startsWith("http://127.0.0.1")) return next.url;
      const response = await fetch(next.url, {
        method: next.method,
        redirect: "manual",
        headers: {
          Cookie: [...this.providerCookies].map(([name, value]) => `${name}=${value}`).join("; "),
          ...(next.body === undefined ? {} : { "Content-Type": "application/x-www-form-urlencoded" }),
        },
        body: next.body,
      });
      for (const line of response.headers.getSetCookie()) {
        const [pair = ""] = line.split(";");
        const eq = pair.indexOf("=");
        this.providerCookies.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      const location = response.headers.get("Location");
      if (location !== null) {
        next = { url: new URL(location, next.url).href, method: "GET" };
        continue;
      }
      const html = await response.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      if (response.status !== 200 || action === undefined) throw new Error(`provider page ${response.status}: ${html.slice(0, 300)}`);
      const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
      const form: Record<string, string> = prompt === "login" ? { prompt, login, password: "any" } : { prompt: prompt ?? "consent" };
      next = { url: new URL(action.replace(/&amp;/g, "&"), next.url).href, method: "POST", body: new URLSearchParams(form).toString() };
    }
    throw new Error("too many provider steps");
  }

  /** Runs a whole login: start, provider, callback. Returns the callback's response. */
  async loginWith(startPath: string, login: string): Promise<Response> {
    const providerUrl = await this.start(startPath);
    const callback = await this.signInAtProvider(providerUrl, login);
    return this.get(callback.replace(BASE_URL, ""));
  }
}
