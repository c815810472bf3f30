// Passkeys (WebAuthn L3) through @simplewebauthn/server, the one file that imports it.
// The relying party comes from settings: WEBAUTHN_RP_ID (default: the host of
// APP_BASE_URL, else the host the service is reached at; never a guessed registrable
// domain) and WEBAUTHN_ORIGINS (default: the service's origin, APP_BASE_URL and every
// CORS_ORIGINS entry). User verification is preferred; whether it happened is reported.
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import type { Config } from "../config/config";
import { fromBase64Url, toBase64Url, utf8 } from "../lib/encoding";
import type { NewPasskey, StoredPasskey } from "../user-authority/types";

export type { AuthenticationResponseJSON, RegistrationResponseJSON };

/**
 * The library (with the X.509 and ASN.1 code its attestation formats need) is loaded on
 * the first WebAuthn ceremony, not when the isolate starts: most requests never need it,
 * and evaluating it made a fresh Worker's first response about 100 ms slower.
 */
const library = () => import("@simplewebauthn/server");

export interface RelyingParty {
  id: string;
  name: string;
  origins: string[];
}

export function relyingParty(config: Config, serviceOrigin: string): RelyingParty {
  const { webauthn } = config.mfa;
  const appBase = config.appBaseUrl === undefined ? null : new URL(config.appBaseUrl);
  const id = webauthn.rpId ?? appBase?.hostname ?? new URL(serviceOrigin).hostname;
  const origins = webauthn.origins ?? [...new Set([serviceOrigin, ...(appBase === null ? [] : [appBase.origin]), ...config.corsOrigins])];
  return { id, name: webauthn.rpName, origins };
}

const TIMEOUT_MS = 5 * 60_000;

/** The library wants bytes over a plain ArrayBuffer. */
const own = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);

export async function registrationOptions(
  rp: RelyingParty,
  user: { id: string; email: string; name: string | null },
  challenge: Uint8Array,
  existing: StoredPasskey[],
) {
  const { generateRegistrationOptions } = await library();
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.email,
    userDisplayName: user.name ?? user.email,
    userID: own(utf8(user.id)),
    challenge: own(challenge),
    timeout: TIMEOUT_MS,
    attestationType: "none",
    excludeCredentials: existing.map((passkey) => ({ id: passkey.credentialId, transports: passkey.transports })),
    // Discoverable, so the same passkey also signs in without a password.
    authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
    supportedAlgorithmIDs: [-7, -8, -257],
  });
}

export async function authenticationOptions(rp: RelyingParty, challenge: Uint8Array, allow: StoredPasskey[] | null) {
  const { generateAuthenticationOptions } = await library();
  return generateAuthenticationOptions({
    rpID: rp.id,
    challenge: own(challenge),
    timeout: TIMEOUT_MS,
    userVerification: "preferred",
    allowCredentials: allow?.map((passkey) => ({ id: passkey.credentialId, transports: passkey.transports })),
  });
}

/** What a verified registration gives the authority to store (it adds the factor's id and name). */
export type VerifiedRegistration = Omit<NewPasskey, "id" | "name">;

/** The new credential, or null when the response does not verify (origin, RP ID, challenge, signature). */
export async function verifyRegistration(
  rp: RelyingParty,
  response: RegistrationResponseJSON,
  challenge: string,
): Promise<VerifiedRegistration | null> {
  const { verifyRegistrationResponse } = await library();
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.id,
      requireUserVerification: false,
    });
    if (!result.verified) return null;
    const { credential, credentialDeviceType, credentialBackedUp } = result.registrationInfo;
    return {
      credentialId: credential.id,
      publicKey: toBase64Url(credential.publicKey),
      counter: credential.counter,
      transports: credential.transports ?? response.response.transports ?? [],
      deviceType: credentialDeviceType,
      backedUp: credentialBackedUp,
    };
  } catch {
    // Malformed attestation, unsupported algorithm...: simply not a valid registration.
    return null;
  }
}

/** The assertion's new counter and whether the user was verified, or null when it does not verify against `passkey`. */
export async function verifyAssertion(
  rp: RelyingParty,
  response: AuthenticationResponseJSON,
  challenge: string,
  passkey: StoredPasskey,
): Promise<{ counter: number; userVerified: boolean } | null> {
  const publicKey = fromBase64Url(passkey.publicKey);
  if (publicKey === null) return null;
  const { verifyAuthenticationResponse } = await library();
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.id,
      credential: {
        id: passkey.credentialId,
        publicKey: own(publicKey),
        counter: passkey.counter,
        transports: passkey.transports as never,
      },
      requireUserVerification: false,
    });
    if (!result.verified) return null;
    return { counter: result.authenticationInfo.newCounter, userVerified: result.authenticationInfo.userVerified };
  } catch {
    return null;
  }
}
