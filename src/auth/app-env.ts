// The Hono environment of the app: the HTTP layer's variables, the principal the
// authenticate middleware sets, and the request's services (src/services).
import type { HttpVariables } from "../http/http-env";
import type { Services } from "../services/services";
import type { Caller } from "./caller";
import type { Principal } from "./principal";

export interface AppEnv {
  Bindings: Env;
  Variables: HttpVariables & {
    /** Set by the authenticate middleware. */
    principal: Principal;
    /** Set by the authenticate middleware instead of `principal` on routes that act at the authority (caller.ts). */
    caller: Caller;
    /** Set once per request by the app's services middleware. */
    services: Services;
  };
}
