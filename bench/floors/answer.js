// What every floor shares: the answer with the headers every answer of this API carries,
// and the few primitives the contract's work needs (SHA-256, a constant-time compare,
// base64url), written as directly as the runtime allows.

const encoder = new TextEncoder();

/** The API's answer: its JSON body with the headers the service sends on every answer (HSTS is off in the bench). */
export function answer(body, status = 200, extra = undefined) {
  const headers = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "same-site",
    "Referrer-Policy": "no-referrer",
    Vary: "Origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Request-Id": crypto.randomUUID(),
  };
  if (extra !== undefined) Object.assign(headers, extra);
  return new Response(JSON.stringify(body), { status, headers });
}

export function base64url(bytes) {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

export function utf8(text) {
  return encoder.encode(text);
}

export async function sha256(text) {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(text))));
}

export function sameSecret(a, b) {
  const left = utf8(a);
  const right = utf8(b);
  return left.byteLength === right.byteLength && crypto.subtle.timingSafeEqual(left, right);
}

export function iso(ms) {
  return new Date(ms).toISOString();
}

/** A refused or malformed request (not on the measured path). */
export function refused(code, status = 401) {
  return answer({ detail: "Refused", code }, status);
}
