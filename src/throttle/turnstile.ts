// Cloudflare Turnstile: a route that mails or makes accounts (TURNSTILE_ROUTES) needs a
// token from the widget, checked with siteverify before the route does anything. The
// check sends the client's IP (`remoteip`) and an idempotency key (a retry of this check
// is not a replay), and the answer must name this route as its `action` and an expected
// hostname. No token is 400 captcha_required; a refused one 403 captcha_failed; a
// siteverify that cannot be reached or answers nonsense is 503: never a pass.
import type { TurnstileRoute, TurnstileSettings } from "../config/abuse-settings";
import { ApiError, serviceUnavailable } from "../http/errors";
import { logWarning } from "../lib/log";

/** How long siteverify may take before the check fails closed. */
const VERIFY_TIMEOUT_MS = 5_000;

export interface TurnstileCheck {
  settings: TurnstileSettings;
  /** The hosts a token may have been solved on when TURNSTILE_EXPECTED_HOSTNAMES is not set. */
  defaultHostnames: string[];
  ip: string;
}

/** Whether `route` needs a token under these settings (`always`: login after its failures). */
export function guards(settings: TurnstileSettings, route: TurnstileRoute): boolean {
  return settings.secretKey !== null && settings.routes.has(route);
}

/** Checks a presented token for `route`; throws the contract's refusal, or 503 when siteverify fails. */
export async function verifyTurnstile(check: TurnstileCheck, route: TurnstileRoute, token: string | undefined): Promise<void> {
  const { settings } = check;
  if (settings.secretKey === null) return;
  if (token === undefined || token === "") throw new ApiError("captcha_required", "Complete the challenge and send its token");
  // Tokens are at most 2048 characters: a longer one is refused without asking.
  if (token.length > 2048) throw new ApiError("captcha_failed", "The challenge's token was refused");
  const form = new URLSearchParams({ secret: settings.secretKey, response: token, idempotency_key: crypto.randomUUID() });
  if (check.ip !== "unknown") form.set("remoteip", check.ip);
  let outcome: { success?: unknown; action?: unknown; hostname?: unknown; "error-codes"?: unknown };
  try {
    const response = await fetch(settings.verifyUrl, { method: "POST", body: form, signal: AbortSignal.timeout(VERIFY_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`siteverify answered ${response.status}`);
    outcome = (await response.json()) as typeof outcome;
    // Cloudflare's own failure, not a verdict on the token.
    if (Array.isArray(outcome["error-codes"]) && outcome["error-codes"].includes("internal-error"))
      throw new Error("siteverify: internal-error");
  } catch (error) {
    logWarning("turnstile_unavailable", error);
    throw serviceUnavailable();
  }
  const hostnames = settings.expectedHostnames ?? check.defaultHostnames;
  const passed =
    outcome.success === true &&
    outcome.action === route &&
    typeof outcome.hostname === "string" &&
    hostnames.includes(outcome.hostname.toLowerCase());
  if (!passed) throw new ApiError("captcha_failed", "The challenge's token was refused");
}
