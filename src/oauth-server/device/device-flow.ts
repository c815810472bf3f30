// The device authorization grant (RFC 8628): the device asks for a pair of codes, the
// user types the user code on /device and consents, and the device polls the token
// endpoint with its device code. The device code is `<user code>.<secret>`: the user
// code names the DeviceAuthorization object, the secret proves the device (its SHA-256
// is also the PKCE challenge of the authorization code the approval makes, so only the
// device can redeem it).
import type { Services } from "../../services/services";
import { randomToken, sha256 } from "../../lib/crypto";
import { isVerified } from "../clients/client-record";
import { type OAuthFailure, failure } from "../grant-answer";
import { type Params, checkResources, checkScopes, param, paramList } from "../params";
import type { Provider } from "../provider";
import { clientOf } from "../token-endpoint";
import type { DeviceRecord } from "./device-authority";
import { displayUserCode, newUserCode } from "./user-code";

export const DEVICE_CODE_SECONDS = 600;
const POLL_INTERVAL_SECONDS = 5;

export type DeviceDeps = Pick<Services, "config" | "d1" | "devices" | "throttle" | "ip">;

export interface DeviceCodes {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** RFC 8628 §3.1, §3.2. */
export async function startDeviceAuthorization(
  services: DeviceDeps,
  provider: Provider,
  params: Params,
  authorization: string | null,
): Promise<{ ok: true; body: DeviceCodes } | OAuthFailure> {
  const authenticated = await clientOf(services, params, authorization);
  if (!authenticated.ok) return authenticated;
  const { client } = authenticated;
  if (!client.grantTypes.includes("urn:ietf:params:oauth:grant-type:device_code")) {
    return failure("unauthorized_client", "The client is not allowed the device authorization grant");
  }
  const scopes = checkScopes(provider, client, param(params, "scope"));
  if (!scopes.ok) return failure(scopes.error, scopes.description);
  const resources = checkResources(provider, client, paramList(params, "resource"));
  if (!resources.ok) return failure(resources.error, resources.description);
  const secret = randomToken(32);
  const [secretHash, challenge] = await Promise.all([sha256(`device:${secret}`), sha256(secret)]);
  for (let attempt = 0; attempt < 3; attempt++) {
    const userCode = newUserCode();
    const record: DeviceRecord = {
      deviceSecretHash: secretHash,
      request: {
        clientId: client.clientId,
        clientName: client.name,
        verified: isVerified(client),
        redirectUri: "",
        scopes: scopes.value,
        resources: resources.value,
        state: null,
        nonce: null,
        codeChallenge: challenge,
        aalRequired: client.requireAal,
        device: { userCode },
      },
      expiresAt: Date.now() + DEVICE_CODE_SECONDS * 1000,
      interval: POLL_INTERVAL_SECONDS,
      lastPollAt: null,
      status: "pending",
      approval: null,
    };
    if (await services.devices.getByName(userCode).create(record)) {
      const shown = displayUserCode(userCode);
      return {
        ok: true,
        body: {
          device_code: `${userCode}.${secret}`,
          user_code: shown,
          verification_uri: `${provider.issuer}/device`,
          verification_uri_complete: `${provider.issuer}/device?user_code=${shown}`,
          expires_in: DEVICE_CODE_SECONDS,
          interval: POLL_INTERVAL_SECONDS,
        },
      };
    }
  }
  return failure("temporarily_unavailable", "Could not draw a free user code; try again", 503);
}

/** The device code's parts; null when it cannot be one. */
export function parseDeviceCode(deviceCode: string): { userCode: string; secret: string } | null {
  const match = /^([A-Z2]{8})\.([A-Za-z0-9_-]{43})$/.exec(deviceCode);
  return match === null ? null : { userCode: match[1] as string, secret: match[2] as string };
}
