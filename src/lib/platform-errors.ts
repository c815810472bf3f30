// What the platform says about an error from a binding (Cloudflare's Durable Object error
// properties): `retryable` when the call may be tried again, `overloaded` when it must not
// be (a retry only adds load). Used to retry idempotent authority calls once.

/** The platform marked the error transient and the object is not overloaded. */
export function isRetryable(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const flags = error as { retryable?: unknown; overloaded?: unknown };
  return flags.retryable === true && flags.overloaded !== true;
}

/**
 * Runs an idempotent call, and once more when it failed with a retryable error (a fresh
 * stub each time: after an exception the old one may be broken). Never for a call that
 * changes state in a way a second run would repeat.
 */
export async function retryOnce<R>(call: (attempt: number) => R): Promise<Awaited<R>> {
  try {
    return await call(0);
  } catch (error) {
    if (!isRetryable(error)) throw error;
    return await call(1);
  }
}

/**
 * A bug in this code (a TypeError and its kin), as opposed to a dependency that failed.
 * The platform's own errors (a Durable Object reset or overloaded) carry the flags above,
 * whatever their class.
 */
export function isProgrammingError(error: unknown): boolean {
  if (typeof error === "object" && error !== null && ("retryable" in error || "overloaded" in error)) return false;
  return error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError || error instanceof ReferenceError;
}
