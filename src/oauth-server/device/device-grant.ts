// The token endpoint's device_code grant (RFC 8628 §3.4, §3.5): the device's poll, and
// once the user approved, the redemption of the authorization code the approval made.
import { sha256 } from "../../lib/crypto";
import { parseSessionToken } from "../../sessions/session-token";
import type { OAuthClient } from "../clients/client-record";
import { type TokenAnswer, askedNarrowing, failure } from "../grant-answer";
import { type Params, param } from "../params";
import type { Provider } from "../provider";
import { type TokenDeps, redeemCode } from "../token-endpoint";
import { parseDeviceCode } from "./device-flow";

export async function deviceCodeGrant(services: TokenDeps, provider: Provider, client: OAuthClient, params: Params): Promise<TokenAnswer> {
  const text = param(params, "device_code");
  if (text === null) return failure("invalid_request", "device_code is required");
  const narrowing = askedNarrowing(provider, client, params);
  if (!narrowing.ok) return narrowing;
  const parsed = parseDeviceCode(text);
  if (parsed === null) return failure("invalid_grant", "Unknown device code");
  const poll = await services.devices.getByName(parsed.userCode).poll(await sha256(`device:${parsed.secret}`), client.clientId);
  switch (poll.status) {
    case "authorization_pending":
      return failure("authorization_pending", "The user has not finished yet");
    case "slow_down":
      return failure("slow_down", "Polling too fast: wait 5 seconds longer between requests");
    case "expired_token":
      return failure("expired_token", "The device code expired; start again");
    case "access_denied":
      // Contract v1.2: access_denied is a 403 (RFC 8628 would send it as a 400).
      return failure("access_denied", "The user denied the request", 403);
    case "invalid":
      return failure("invalid_grant", "Unknown device code");
  }
  const code = parseSessionToken(poll.code);
  if (code === null) return failure("invalid_grant", "Unknown device code");
  // The approval's code is bound to the device code: its secret is the PKCE verifier.
  return redeemCode(services, provider, client, {
    code,
    userId: poll.userId,
    redirectUri: null,
    verifier: parsed.secret,
    asked: narrowing.asked,
  });
}
