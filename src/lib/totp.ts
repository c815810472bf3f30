// RFC 6238 TOTP with the parameters every authenticator app uses: HMAC-SHA-1, 6 digits,
// 30-second steps. WebCrypto only.
export const TOTP_STEP_SECONDS = 30;
export const TOTP_DIGITS = 6;

/** The time step a moment falls in. */
export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_STEP_SECONDS);
}

/** The 6-digit code of one time step (RFC 4226 dynamic truncation). */
export async function totpCode(secret: Uint8Array, step: number): Promise<string> {
  const counter = new Uint8Array(8);
  new DataView(counter.buffer).setBigUint64(0, BigInt(step));
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, counter));
  const offset = mac[19]! & 0x0f;
  const binary = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % 10 ** TOTP_DIGITS).padStart(TOTP_DIGITS, "0");
}

/**
 * The step whose code `code` is, among the current step and one step either side
 * (clock skew), or null. Compares every candidate, so the timing does not say which matched.
 */
export async function matchTotpStep(secret: Uint8Array, code: string, nowMs: number): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  const current = totpStep(nowMs);
  const steps = [current - 1, current, current + 1];
  const codes = await Promise.all(steps.map((step) => totpCode(secret, step)));
  let matched: number | null = null;
  codes.forEach((candidate, index) => {
    if (candidate === code) matched = steps[index]!;
  });
  return matched;
}

/** The otpauth:// URI authenticator apps read from a QR code (Key URI Format). */
export function otpauthUri(input: { issuer: string; account: string; secret: string }): string {
  const label = `${encodeURIComponent(input.issuer)}:${encodeURIComponent(input.account)}`;
  const params = new URLSearchParams({ secret: input.secret, issuer: input.issuer, algorithm: "SHA1", digits: "6", period: "30" });
  return `otpauth://totp/${label}?${params.toString()}`;
}
