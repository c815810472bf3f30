// Second-factor settings: re-authentication age, the TOTP issuer name, the keys that seal
// TOTP secrets, and the WebAuthn relying party (RP ID and accepted origins).
import type { BoxKey } from "../lib/secret-box";
import { type RawSettings, SettingError, readInt, readOrigins, readRaw, readString } from "./parse";

export interface MfaSettings {
  /** REAUTH_MAX_AGE_MINUTES: how long a sign-in or re-authentication keeps a session fresh. */
  reauthMaxAgeMs: number;
  /** The issuer authenticator apps show (MFA_ISSUER). */
  issuer: string;
  /** MFA_ENCRYPTION_KEYS (`id:secret,...`), else one key derived from SECRET_KEY. The first seals; all open. */
  encryptionKeys: BoxKey[];
  webauthn: {
    /** WEBAUTHN_RP_ID; null: the host of APP_BASE_URL, else the host the service is reached at. */
    rpId: string | null;
    rpName: string;
    /** WEBAUTHN_ORIGINS; null: the service's own origin, APP_BASE_URL and every CORS_ORIGINS entry. */
    origins: string[] | null;
  };
}

const MIN_ENCRYPTION_SECRET = 32;

export function readMfaSettings(raw: RawSettings, secretKey: string): MfaSettings {
  const rpId = readRaw(raw, "WEBAUTHN_RP_ID") ?? null;
  if (rpId !== null && !/^[a-z0-9.-]{1,253}$/.test(rpId)) {
    throw new SettingError("WEBAUTHN_RP_ID", "must be a host name such as example.com (no scheme, port or path)");
  }
  const origins = readOrigins(raw, "WEBAUTHN_ORIGINS");
  return {
    reauthMaxAgeMs: readInt(raw, "REAUTH_MAX_AGE_MINUTES", 10, { min: 1, max: 1440 }) * 60_000,
    issuer: readString(raw, "MFA_ISSUER", "Edge Auth"),
    encryptionKeys: readEncryptionKeys(raw, secretKey),
    webauthn: { rpId, rpName: readString(raw, "WEBAUTHN_RP_NAME", "Edge Auth"), origins: origins.length > 0 ? origins : null },
  };
}

function readEncryptionKeys(raw: RawSettings, secretKey: string): BoxKey[] {
  const text = readRaw(raw, "MFA_ENCRYPTION_KEYS");
  if (text === undefined) return [{ id: "sk", secret: secretKey }];
  const keys: BoxKey[] = [];
  for (const item of text.split(",").map((part) => part.trim())) {
    const colon = item.indexOf(":");
    const id = item.slice(0, colon);
    const secret = item.slice(colon + 1);
    if (colon < 1 || !/^[A-Za-z0-9_-]{1,16}$/.test(id) || secret.length < MIN_ENCRYPTION_SECRET) {
      throw new SettingError(
        "MFA_ENCRYPTION_KEYS",
        `each entry is id:secret (id 1-16 letters or digits, secret ${MIN_ENCRYPTION_SECRET}+ characters)`,
      );
    }
    keys.push({ id, secret });
  }
  return keys;
}
