// Authenticated encryption of small secrets at rest (TOTP secrets): AES-256-GCM with a
// key derived by HKDF-SHA-256 from a setting. The text form names its format version and
// key id, `v1.<kid>.<iv>.<ciphertext>`, so keys can rotate: the first key encrypts, every
// listed key decrypts.
import { fromBase64Url, toBase64Url, utf8 } from "./encoding";

export interface BoxKey {
  id: string;
  secret: string;
}

const derived = new Map<string, Promise<CryptoKey>>();

function aesKey(key: BoxKey): Promise<CryptoKey> {
  const cacheKey = `${key.id}\u0000${key.secret}`;
  let promise = derived.get(cacheKey);
  if (promise === undefined) {
    promise = crypto.subtle
      .importKey("raw", utf8(key.secret), "HKDF", false, ["deriveKey"])
      .then((material) =>
        crypto.subtle.deriveKey(
          { name: "HKDF", hash: "SHA-256", salt: utf8("edge-auth secret box"), info: utf8(`v1:${key.id}`) },
          material,
          { name: "AES-GCM", length: 256 },
          false,
          ["encrypt", "decrypt"],
        ),
      );
    derived.set(cacheKey, promise);
  }
  return promise;
}

export async function seal(keys: readonly BoxKey[], plaintext: Uint8Array, context: string): Promise<string> {
  const key = keys[0];
  if (key === undefined) throw new Error("no encryption key");
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: utf8(context) }, await aesKey(key), plaintext);
  return `v1.${key.id}.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`;
}

/** The plaintext, or null when the box is malformed, its key is not listed, or it was not sealed for `context`. */
export async function open(keys: readonly BoxKey[], box: string, context: string): Promise<Uint8Array | null> {
  const [version, kid, ivText, sealedText] = box.split(".");
  const key = keys.find((candidate) => candidate.id === kid);
  const iv = fromBase64Url(ivText ?? "");
  const sealed = fromBase64Url(sealedText ?? "");
  if (version !== "v1" || key === undefined || iv === null || sealed === null) return null;
  try {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: utf8(context) }, await aesKey(key), sealed);
    return new Uint8Array(plain);
  } catch {
    return null;
  }
}
