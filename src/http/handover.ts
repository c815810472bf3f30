// What a direct answer (auth/direct-answers.ts) already did to a request it then leaves to
// the app: the body it read (a body can be read once), the outcome of a call that must not
// be made twice (a key's use is counted once, a refresh token rotated once), and when it
// first saw the request. One record per request, keyed by the Request object itself; the
// outcome is taken once.
export interface Handover {
  /** When the request arrived (Date.now()): the log line's duration counts the direct answer's time too. */
  readonly started: number;
  /** The body as readBody gave it, or what it threw (a 413, bad JSON, a media type). */
  body?: { value: unknown } | { error: unknown };
  /** The outcome already decided, named by what decided it: what the call returned, or what it threw. */
  decided?: { [K in DecidedBy]: DecidedAs<K> }[DecidedBy];
}

/**
 * What each kind of decided outcome is, declared by the module that decides it (this
 * layer cannot name the auth layer's types): auth/direct-answers.ts adds `credential` (the
 * resolution of the request's credential, a key's use counted in it), `key_verdict` and
 * `refresh`. A taker gets the type its tag names.
 */
export interface DecidedOutcomes {}

export type DecidedBy = keyof DecidedOutcomes;

/** One kind's outcome: what the call returned, or what it threw. */
export type DecidedAs<K extends DecidedBy> = { of: K; value: DecidedOutcomes[K] } | { of: K; error: unknown };

const handovers = new WeakMap<Request, Handover>();

/** The record a direct answer keeps of what it does to `request`, should it leave the request to the app. */
export function handoverFor(request: Request, started: number): Handover {
  const handover: Handover = { started };
  handovers.set(request, handover);
  return handover;
}

/** Records the outcome of the request's one call. */
export function recordOutcome<K extends DecidedBy>(handover: Handover, outcome: DecidedAs<K>): void {
  // A DecidedAs<K> is one member of the union: its tag and its value agree by construction.
  handover.decided = outcome as Handover["decided"];
}

/** What a direct answer did to the request before leaving it to the app (undefined: none saw it). */
export function handedOver(request: Request): Handover | undefined {
  return handovers.get(request);
}

/** The body a direct answer read: its value, or it throws what reading it threw. Undefined: none was read. */
export function handedBody(handover: Handover | undefined): { value: unknown } | undefined {
  const body = handover?.body;
  if (body === undefined) return undefined;
  if ("error" in body) throw body.error;
  return body;
}

/**
 * The outcome a direct answer decided for this request, once: what its call returned (in
 * `value`), or it throws what the call threw (a dependency that failed: the app's 503).
 */
export function takeDecided<K extends DecidedBy>(request: Request, of: K): { value: DecidedOutcomes[K] } | undefined {
  const handover = handovers.get(request);
  const outcome = handover?.decided;
  if (handover === undefined || outcome === undefined || outcome.of !== of) return undefined;
  handover.decided = undefined;
  if ("error" in outcome) throw outcome.error;
  // The tag matched, so the value is the tag's type.
  return { value: outcome.value as DecidedOutcomes[K] };
}
