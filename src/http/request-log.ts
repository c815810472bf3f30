/**
 * One JSON line per request for Workers Logs: request id, route pattern (never the raw
 * path, which may carry ids), status, duration and the kind of principal. Never a
 * header, cookie, token, body or query string.
 */
export function logRequest(entry: {
  requestId: string;
  method: string;
  route: string;
  status: number;
  durationMs: number;
  principal: string | null;
}): void {
  console.log(
    JSON.stringify({
      level: entry.status >= 500 ? "error" : "info",
      event: "request",
      request_id: entry.requestId,
      method: entry.method,
      route: entry.route,
      status: entry.status,
      duration_ms: entry.durationMs,
      principal: entry.principal,
    }),
  );
}
