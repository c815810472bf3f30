// Who is calling: IP, user agent, device and rough location, for device tracking,
// throttling and security events.
import { type Device, parseUserAgent } from "../lib/device";

export interface ClientInfo {
  ip: string;
  userAgent: string;
  device: Device;
  location: { country: string | null; city: string | null };
}

const MAX_USER_AGENT_LENGTH = 512;

export function clientInfo(request: Request): ClientInfo {
  const userAgent = (request.headers.get("User-Agent") ?? "").slice(0, MAX_USER_AGENT_LENGTH);
  const cf = (request as { cf?: IncomingRequestCfProperties }).cf;
  const located = cf !== undefined && !isPlaceholderCf(cf);
  return {
    ip: clientIp(request),
    userAgent,
    device: parseUserAgent(userAgent),
    location: {
      country: located && typeof cf.country === "string" ? cf.country : null,
      city: located && typeof cf.city === "string" ? cf.city : null,
    },
  };
}

/**
 * Miniflare (wrangler dev, local tests) gives every request the same placeholder
 * `request.cf` when it does not fetch the machine's own: Austin, Texas, seen from colo DFW.
 * It is nobody's location, so it reads as unknown. At the edge `cf` describes the request
 * itself; a real one matches only with these exact coordinates, network and colo, and then
 * loses just its city and country.
 */
function isPlaceholderCf(cf: IncomingRequestCfProperties): boolean {
  return cf.asn === 395747 && cf.colo === "DFW" && cf.latitude === "30.27130" && cf.longitude === "-97.74260";
}

/**
 * Cloudflare sets CF-Connecting-IP on every request at the edge and overwrites any
 * value a client sends, so it can be trusted there. Locally it may be missing.
 */
export function clientIp(request: Request): string {
  return request.headers.get("CF-Connecting-IP")?.trim() || "unknown";
}

/**
 * The unit an attacker controls: one IPv4 address, or one IPv6 /64 (a single
 * customer typically owns a whole /64, so per-address limits would be trivial to dodge).
 */
export function throttleKeyForIp(ip: string): string {
  if (!ip.includes(":")) return ip;
  const groups = expandIpv6(ip);
  return groups === null ? ip : `${groups.slice(0, 4).join(":")}::/64`;
}

function expandIpv6(ip: string): string[] | null {
  const [head = "", tail] = ip.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return null;
  const groups = [...left, ...Array<string>(missing).fill("0"), ...right];
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return null;
  return groups.map((group) => group.toLowerCase().replace(/^0+(?=.)/, ""));
}
