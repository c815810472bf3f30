// The Hono environment the HTTP layer's own middleware needs: Cloudflare bindings plus
// the variables it sets. The full app environment (auth/app-env.ts) extends it.
import type { Config } from "../config/config";

export interface HttpVariables {
  config: Config;
  requestId: string;
  /** The parsed request body (JSON or form) of an unsafe request, undefined when empty. */
  body: unknown;
  /** Who the request acts for, once the auth layer knows: logged by kind only. */
  principal: { kind: string };
  /** Instead of `principal`, on routes that act at the user's authority. */
  caller: { kind: string };
  /** The kind of credential the user's authority accepted on such a route (logged). */
  acted: string | undefined;
  /**
   * Headers the frame sets on the answer, whatever it turns out to be (an error
   * included): an API key's RateLimit-* headers. One list the frame walks, instead of a
   * Headers object made for them before the answer exists.
   */
  answerHeaders: ReadonlyArray<readonly [string, string]> | undefined;
  /** SERVER_TIMING: the hops of this request (server-timing.ts). */
  timing: { header(): string } | undefined;
}

export interface HttpEnv {
  Bindings: Env;
  Variables: HttpVariables;
}
