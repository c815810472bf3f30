const INBOUND_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request's id: the caller's X-Request-Id when it looks like one (so traces join up
 * across services), else a new UUID. Echoed on every response, errors included.
 */
export function requestIdOf(headers: Headers): string {
  const inbound = headers.get("X-Request-Id");
  return inbound !== null && INBOUND_ID.test(inbound) ? inbound : crypto.randomUUID();
}
