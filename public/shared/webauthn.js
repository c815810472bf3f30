// WebAuthn through the L3 JSON helpers (Chromium 129+, Firefox 119+, Safari 18+): the
// service's options in, the credential's JSON out.
export async function createCredential(optionsJson) {
  const credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(optionsJson) });
  return credential.toJSON();
}

export async function getAssertion(optionsJson) {
  const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(optionsJson) });
  return credential.toJSON();
}
