// A JSON answer built whole, outside the app, for the few hot requests answered before the
// router (auth/memory-answer.ts, auth/direct-answers.ts): exactly the headers and the log
// line the request frame gives the app's answer to the same request (tested side by side
// in test/direct-answers.test.ts), at the cost of one object instead of a header at a time.
import type { Config } from "../config/config";
import { corsHeaders } from "./cors";
import { logRequest } from "./request-log";
import { jsonAnswerHeaders } from "./security-headers";

export interface DirectAnswer {
  requestId: string;
  /** The route's pattern, as the app's log line names it. */
  route: string;
  body: unknown;
  /** Headers of this route's answer besides the frame's (RateLimit-*, Pragma). */
  headers?: Readonly<Record<string, string>>;
  /** The kind of principal the app would log (null: none). */
  principal: string | null;
  /** When the request arrived (Date.now()), for the log line's duration. */
  started: number;
}

export function directJsonAnswer(config: Config, request: Request, answer: DirectAnswer): Response {
  const headers = {
    ...jsonAnswerHeaders(config),
    ...answer.headers,
    ...corsHeaders(config, request.headers.get("Origin")),
    "X-Request-Id": answer.requestId,
  };
  const response = new Response(JSON.stringify(answer.body), { headers });
  if (config.requestLogs) {
    logRequest({
      requestId: answer.requestId,
      method: request.method,
      route: answer.route,
      status: 200,
      durationMs: Date.now() - answer.started,
      principal: answer.principal,
    });
  }
  return response;
}

/** The path of an absolute request URL, query included (a query means the app answers). */
export function pathOf(url: string): string {
  return url.slice(url.indexOf("/", url.indexOf("//") + 2));
}
