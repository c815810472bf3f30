// What every floor shares: the answer with the headers the contract requires,
// and the few primitives the contract's work needs (SHA-256, a constant-time compare,
// base64url), written as directly as the runtime allows.

const encoder = new TextEncoder();

/**
 * The API's answer: its JSON body with the headers the contract requires of it
 * (`X-Request-Id` on every answer, `Cache-Control: no-store` on answers that carry or
 * depend on a credential, `nosniff`; and `Vary: Origin`, as the contract's CORS_ORIGINS
 * makes every answer depend on the caller's Origin). The service's other security
 * headers (framing, CSP, referrer, resource policy) are its own choice, paid for by the
 * service, not the floor.
 */
export function answer(body, status = 200, extra = undefined) {
  const headers = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    Vary: "Origin",
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
