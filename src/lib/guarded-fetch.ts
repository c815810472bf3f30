// Fetching a URL a client named (a Client ID Metadata Document today, webhooks next):
// https only, never a private, loopback or link-local address (outside development),
// no redirects followed, a time limit, and a size limit read as the body streams in.
// The outcome is a value: what went wrong is a short reason, never the URL or the body.
import { readAtMost } from "./streams";

export interface GuardOptions {
  /** development and test: loopback http is allowed (local servers in tests). */
  development: boolean;
  timeoutMs: number;
  maxBytes: number;
}

export type GuardedAnswer = { ok: true; status: number; headers: Headers; text: string } | { ok: false; reason: string };

/** Why this URL may not be fetched, or null when it may. */
export function fetchProblem(text: string, options: Pick<GuardOptions, "development">): string | null {
  if (!URL.canParse(text)) return "not an absolute URL";
  const url = new URL(text);
  // "localhost." and "127.0.0.1." name the same hosts: the trailing dot is dropped before any check.
  url.hostname = url.hostname.replace(/\.$/, "");
  if (url.username !== "" || url.password !== "") return "credentials in the URL";
  const loopback = isLoopback(url.hostname);
  if (url.protocol === "http:" && options.development && loopback) return null;
  if (url.protocol !== "https:") return "not https";
  if (!options.development && (loopback || isPrivateHost(url.hostname))) return "a private, loopback or link-local address";
  return null;
}

export async function guardedFetch(url: string, init: RequestInit, options: GuardOptions): Promise<GuardedAnswer> {
  const problem = fetchProblem(url, options);
  if (problem !== null) return { ok: false, reason: problem };
  let response: Response;
  try {
    response = await fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(options.timeoutMs) });
  } catch {
    return { ok: false, reason: "unreachable or too slow" };
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    return { ok: false, reason: "redirected (redirects are not followed)" };
  }
  const declared = Number(response.headers.get("Content-Length") ?? "0");
  if (declared > options.maxBytes) {
    await response.body?.cancel();
    return { ok: false, reason: `larger than ${options.maxBytes} bytes` };
  }
  const body = await readLimited(response, options.maxBytes);
  if (body === null) return { ok: false, reason: `larger than ${options.maxBytes} bytes` };
  return { ok: true, status: response.status, headers: response.headers, text: body };
}

async function readLimited(response: Response, maxBytes: number): Promise<string | null> {
  if (response.body === null) return "";
  try {
    const bytes = await readAtMost(response.body, maxBytes);
    return bytes === null ? null : new TextDecoder().decode(bytes);
  } catch {
    return null;
  }
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost") || host === "[::1]" || /^127\./.test(host);
}

/** IP literals of private, link-local, CGNAT, unspecified and unique-local ranges (DNS names are Cloudflare's to route). */
function isPrivateHost(host: string): boolean {
  if (/^(10|0)\./.test(host) || /^192\.168\./.test(host) || /^169\.254\./.test(host)) return true;
  // Benchmarking (198.18.0.0/15), multicast and reserved (224.0.0.0 and up).
  if (/^198\.1[89]\./.test(host) || /^(22[4-9]|2[3-5]\d)\./.test(host)) return true;
  if (/^172\.(1[6-9]|2\d|3[01])\./.test(host) || /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./.test(host)) return true;
  if (host.startsWith("[")) {
    const v6 = host.slice(1, -1).toLowerCase();
    return (
      v6 === "::" ||
      v6.startsWith("fc") ||
      v6.startsWith("fd") ||
      v6.startsWith("fe8") ||
      v6.startsWith("fe9") ||
      v6.startsWith("fea") ||
      v6.startsWith("feb") ||
      v6.startsWith("::ffff:")
    );
  }
  return host.endsWith(".internal") || host.endsWith(".local");
}
