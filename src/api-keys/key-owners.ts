// Which user owns a key, as this isolate learned it from the key's object. A key's owner
// never changes, so the copy never goes stale: a key seen before has its owner's record
// read beside the key's use instead of after it (auth/resolve.ts), and a key use costs
// one round trip. Bounded, oldest dropped first.
const MAX_KEYS = 10_000;
const owners = new Map<string, string>();

export function knownKeyOwner(keyId: string): string | undefined {
  return owners.get(keyId);
}

export function rememberKeyOwner(keyId: string, userId: string): void {
  if (owners.get(keyId) === userId) return;
  if (owners.size >= MAX_KEYS) owners.delete(owners.keys().next().value as string);
  owners.set(keyId, userId);
}
