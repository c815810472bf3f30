// Log lines. Generic on the wire, specific in logs, secrets in neither: an error is
// logged by its class name (and a platform error code when it has one), never by its
// message, because messages carry what failed: drizzle puts a failed query's bound
// parameters (emails, password hashes) in its message, a JWT library may quote the
// token, a fetch error the URL with its query.

/** What may be logged of an error: its name, and the chain of causes' names. */
export function errorKind(error: unknown): string {
  const names: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    names.push(current instanceof Error ? current.name : typeof current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return names.join(" <- ");
}

export function logError(event: string, error: unknown, fields: Record<string, string | number | boolean | null> = {}): void {
  console.error(JSON.stringify({ level: "error", event, ...fields, error: errorKind(error) }));
}

/** A failure the service worked around (a cache read that fell back to the authority). */
export function logWarning(event: string, error: unknown, fields: Record<string, string | number | boolean | null> = {}): void {
  console.warn(JSON.stringify({ level: "warn", event, ...fields, error: errorKind(error) }));
}
