// Remembered consent (contract: "Consent is remembered per user, client, scopes and
// resources; a request for more asks again"): pure rules over the stored sets.

/** Whether what the user consented to covers every scope and resource asked now. */
export function consentCovers(
  consented: { scopes: string; resources: string },
  scopes: readonly string[],
  resources: readonly string[],
): boolean {
  const knownScopes = new Set(JSON.parse(consented.scopes) as string[]);
  const knownResources = new Set(JSON.parse(consented.resources) as string[]);
  return scopes.every((scope) => knownScopes.has(scope)) && resources.every((resource) => knownResources.has(resource));
}

/** The consent after the user allowed a request: what it covered before, and what was asked. */
export function mergeConsent(
  known: { scopes: string; resources: string } | undefined,
  scopes: readonly string[],
  resources: readonly string[],
): { scopes: string; resources: string } {
  const allScopes = new Set([...(known === undefined ? [] : (JSON.parse(known.scopes) as string[])), ...scopes]);
  const allResources = new Set([...(known === undefined ? [] : (JSON.parse(known.resources) as string[])), ...resources]);
  return { scopes: JSON.stringify([...allScopes].sort()), resources: JSON.stringify([...allResources].sort()) };
}
