// Loopback stand-ins for the abuse defences' providers (never the real services):
//   POST /siteverify            Turnstile's siteverify. A token "pass:<action>:<hostname>"
//                               succeeds for that action and hostname once (used again: the
//                               duplicate answer, unless the same idempotency_key repeats);
//                               anything else fails. GET /__turnstile lists the requests.
//   GET  /range/<5 hex>         the Pwned Passwords range API: BREACHED's hashes with a count,
//                               PADDED's with count 0 (padding), and filler lines; records
//                               each request's prefix and Add-Padding header (GET /__range).
//   POST /__mode {down: bool}   answers 503 to both while down.
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { readBody } from "./read-body";
import { BREACHED, PADDED } from "./abuse-fixtures";

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex").toUpperCase();
}

export async function startAbuseServices(): Promise<{ url: string; server: Server }> {
  let down = false;
  const used = new Map<string, string>();
  const verifications: Array<Record<string, string>> = [];
  const ranges: Array<{ prefix: string; padding: string | null }> = [];
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const url = `http://127.0.0.1:${address.port}`;
  server.on("request", async (req, res) => {
    const path = new URL(req.url ?? "/", url);
    const body = await readBody(req);
    const send = (status: number, value: unknown, type = "application/json"): void => {
      res.writeHead(status, { "Content-Type": type });
      res.end(typeof value === "string" ? value : JSON.stringify(value));
    };
    if (path.pathname === "/__mode") {
      down = (JSON.parse(body) as { down: boolean }).down;
      return send(200, { down });
    }
    if (path.pathname === "/__turnstile") return send(200, verifications);
    if (path.pathname === "/__range") return send(200, ranges);
    if (down) return send(503, { error: "unavailable" });
    if (path.pathname === "/siteverify" && req.method === "POST") {
      const form = Object.fromEntries(new URLSearchParams(body));
      verifications.push(form);
      const token = form.response ?? "";
      const key = form.idempotency_key ?? "";
      const first = used.get(token);
      if (first !== undefined && first !== key) return send(200, { success: false, "error-codes": ["timeout-or-duplicate"] });
      const [verdict, action, hostname] = token.split(":");
      if (verdict !== "pass" || form.secret !== "turnstile-test-secret")
        return send(200, { success: false, "error-codes": ["invalid-input-response"] });
      used.set(token, key);
      return send(200, { success: true, action, hostname, challenge_ts: new Date().toISOString() });
    }
    const range = /^\/range\/([0-9A-F]{5})$/i.exec(path.pathname);
    if (range !== null && req.method === "GET") {
      const prefix = (range[1] ?? "").toUpperCase();
      const padding = req.headers["add-padding"];
      ranges.push({ prefix, padding: typeof padding === "string" ? padding : null });
      const lines: string[] = [];
      for (const password of BREACHED) if (sha1(password).startsWith(prefix)) lines.push(`${sha1(password).slice(5)}:42`);
      for (const password of PADDED) if (sha1(password).startsWith(prefix)) lines.push(`${sha1(password).slice(5)}:0`);
      for (let i = 0; i < 20; i++) lines.push(`${createHash("sha1").update(`${prefix}${i}`).digest("hex").toUpperCase().slice(5)}:0`);
      return send(200, lines.join("\r\n"), "text/plain");
    }
    return send(404, {});
  });
  return { url, server };
}
