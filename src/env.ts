// The Hono environment of the app: Cloudflare bindings plus per-request variables.
import type { Principal } from "./auth/principal";
import type { Config } from "./config/config";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    config: Config;
    requestId: string;
    /** The parsed request body (JSON or form) of an unsafe request, undefined when empty. */
    body: unknown;
    /** Set by the authenticate middleware. */
    principal: Principal;
  };
}
