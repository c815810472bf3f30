// What a direct answer (auth/direct-answers.ts) already did to a request it then leaves to
// the app: the body it read (a body can be read once), and the outcome of a call that must
// not be made twice (a key's use is counted once, a refresh token rotated once). Keyed by
// the Request object itself, taken once.
export interface Handover {
  /** When the request arrived (Date.now()): the log line's duration counts the direct answer's time too. */
  started?: number;
  /** The body as readBody gave it, or what it threw (a 413, bad JSON, a media type). */
  body?: { value: unknown } | { error: unknown };
  /** The outcome already decided, named by what decided it: what the call returned, or what it threw. */
  decided?: Decided;
}

/**
 * What each kind of decided outcome is, declared by the module that decides it (this
 * layer cannot name the auth layer's types): auth/direct-answers.ts adds `credential` (the
 * resolution of the request's credential, a key's use counted in it), `key_verdict` and
 * `refresh`. A taker gets the type its tag names.
 */
export interface DecidedOutcomes {}

export type DecidedBy = keyof DecidedOutcomes;

type Decided = { [K in DecidedBy]: { of: K; value: DecidedOutcomes[K] } | { of: K; error: unknown } }[DecidedBy];

const handovers = new WeakMap<Request, Handover>();

/** One kind's outcome: what the call returned, or what it threw. */
export type DecidedAs<K extends DecidedBy> = { of: K; value: DecidedOutcomes[K] } | { of: K; error: unknown };

/** Records (beside what is already recorded) what a direct answer did to the request. */
export function handOver<K extends DecidedBy>(request: Request, handover: Omit<Handover, "decided"> & { decided?: DecidedAs<K> }): void {
  const earlier = handovers.get(request);
  // A DecidedAs<K> is one member of Decided: its tag and its value agree by construction.
  const entry = handover as Handover;
  handovers.set(request, earlier === undefined ? entry : { ...earlier, ...entry });
}

/** When a direct answer that left the request to the app first saw it. */
export function handedStarted(request: Request): number | undefined {
  return handovers.get(request)?.started;
}

/** The body a direct answer read: its value, or it throws what reading it threw. Undefined: none was read. */
export function handedBody(request: Request): { value: unknown } | undefined {
  const body = handovers.get(request)?.body;
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
  const decided = handover?.decided;
  if (handover === undefined || decided === undefined || decided.of !== of) return undefined;
  handover.decided = undefined;
  if ("error" in decided) throw decided.error;
  // The tag matched, so the value is the tag's type.
  return { value: decided.value as DecidedOutcomes[K] };
}
