// A software WebAuthn authenticator for tests: WebCrypto keys (ES256 or EdDSA) producing
// real attestation ("none" format) and assertion responses, byte for byte what a browser
// hands the page, so the service's verification runs on real signatures.
import { fromBase64Url, toBase64Url, utf8 } from "../../src/lib/encoding";

type Cbor = number | string | Uint8Array | Cbor[] | Map<Cbor, Cbor> | { [key: string]: Cbor };

function head(major: number, value: number): number[] {
  if (value < 24) return [(major << 5) | value];
  if (value < 256) return [(major << 5) | 24, value];
  if (value < 65536) return [(major << 5) | 25, value >> 8, value & 255];
  return [(major << 5) | 26, (value >>> 24) & 255, (value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/** Minimal CBOR encoder (what attestation objects and COSE keys need). */
export function cbor(value: Cbor): Uint8Array {
  const out: number[] = [];
  const put = (item: Cbor): void => {
    if (typeof item === "number") out.push(...(item >= 0 ? head(0, item) : head(1, -1 - item)));
    else if (typeof item === "string") {
      const bytes = utf8(item);
      out.push(...head(3, bytes.length), ...bytes);
    } else if (item instanceof Uint8Array) out.push(...head(2, item.length), ...item);
    else if (Array.isArray(item)) {
      out.push(...head(4, item.length));
      item.forEach(put);
    } else {
      const entries = item instanceof Map ? [...item.entries()] : Object.entries(item);
      out.push(...head(5, entries.length));
      for (const [key, entry] of entries) {
        put(key);
        put(entry);
      }
    }
  };
  put(value);
  return new Uint8Array(out);
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
};

const sha256 = async (bytes: Uint8Array): Promise<Uint8Array> =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)));

/** An ECDSA P-256 signature as WebAuthn carries it (ASN.1 DER), from WebCrypto's raw r||s. */
function derSignature(raw: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array): Uint8Array => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    let trimmed: Uint8Array = bytes.slice(start);
    if (trimmed[0]! & 0x80) trimmed = concat(new Uint8Array([0]), trimmed);
    return concat(new Uint8Array([0x02, trimmed.length]), trimmed);
  };
  const body = concat(integer(raw.slice(0, 32)), integer(raw.slice(32)));
  return concat(new Uint8Array([0x30, body.length]), body);
}

export interface AuthenticatorOptions {
  algorithm?: "ES256" | "EdDSA";
  /** Report user verification (a PIN or biometric). */
  userVerified?: boolean;
  /** Whether the authenticator keeps a signature counter (else it always reports 0). */
  counter?: boolean;
}

export class SoftwareAuthenticator {
  readonly credentialId = crypto.getRandomValues(new Uint8Array(16));
  signCount = 0;
  userHandle: Uint8Array | null = null;
  private keys: CryptoKeyPair | null = null;

  constructor(readonly options: AuthenticatorOptions = {}) {}

  get id(): string {
    return toBase64Url(this.credentialId);
  }

  private async keyPair(): Promise<CryptoKeyPair> {
    if (this.keys === null) {
      const params = this.options.algorithm === "EdDSA" ? { name: "Ed25519" } : { name: "ECDSA", namedCurve: "P-256" };
      this.keys = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
    }
    return this.keys;
  }

  private async coseKey(): Promise<Uint8Array> {
    const jwk = (await crypto.subtle.exportKey("jwk", (await this.keyPair()).publicKey)) as JsonWebKey;
    if (this.options.algorithm === "EdDSA")
      return cbor(
        new Map<Cbor, Cbor>([
          [1, 1],
          [3, -8],
          [-1, 6],
          [-2, fromBase64Url(jwk.x!)!],
        ]),
      );
    return cbor(
      new Map<Cbor, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, fromBase64Url(jwk.x!)!],
        [-3, fromBase64Url(jwk.y!)!],
      ]),
    );
  }

  private flags(attested: boolean): number {
    return 0x01 | (this.options.userVerified === false ? 0 : 0x04) | (attested ? 0x40 : 0);
  }

  private counterBytes(): Uint8Array {
    if (this.options.counter !== false) this.signCount += 1;
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, this.options.counter === false ? 0 : this.signCount);
    return bytes;
  }

  /** navigator.credentials.create(), as RegistrationResponseJSON. */
  async register(
    options: { challenge: string; rp: { id?: string }; user: { id: string } },
    origin: string,
    overrides: { rpId?: string } = {},
  ): Promise<Record<string, unknown>> {
    this.userHandle = fromBase64Url(options.user.id);
    const rpId = overrides.rpId ?? options.rp.id!;
    const clientData = utf8(JSON.stringify({ type: "webauthn.create", challenge: options.challenge, origin, crossOrigin: false }));
    const idLength = new Uint8Array([this.credentialId.length >> 8, this.credentialId.length & 255]);
    const authData = concat(
      await sha256(utf8(rpId)),
      new Uint8Array([this.flags(true)]),
      this.counterBytes(),
      new Uint8Array(16),
      idLength,
      this.credentialId,
      await this.coseKey(),
    );
    const attestationObject = cbor({ fmt: "none", attStmt: {}, authData });
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      response: { clientDataJSON: toBase64Url(clientData), attestationObject: toBase64Url(attestationObject), transports: ["internal"] },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /** navigator.credentials.get(), as AuthenticationResponseJSON. */
  async assert(
    options: { challenge: string; rpId?: string },
    origin: string,
    overrides: { rpId?: string } = {},
  ): Promise<Record<string, unknown>> {
    const rpId = overrides.rpId ?? options.rpId!;
    const clientData = utf8(JSON.stringify({ type: "webauthn.get", challenge: options.challenge, origin, crossOrigin: false }));
    const authData = concat(await sha256(utf8(rpId)), new Uint8Array([this.flags(false)]), this.counterBytes());
    const signed = concat(authData, await sha256(clientData));
    const key = (await this.keyPair()).privateKey;
    const raw =
      this.options.algorithm === "EdDSA"
        ? new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, new Uint8Array(signed)))
        : new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, new Uint8Array(signed)));
    const signature = this.options.algorithm === "EdDSA" ? raw : derSignature(raw);
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      response: {
        clientDataJSON: toBase64Url(clientData),
        authenticatorData: toBase64Url(authData),
        signature: toBase64Url(signature),
        ...(this.userHandle === null ? {} : { userHandle: toBase64Url(this.userHandle) }),
      },
      clientExtensionResults: {},
    };
  }
}
