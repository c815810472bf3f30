import type { MiddlewareHandler } from "hono";
import { loadConfig } from "../config/config";
import { SettingError } from "../config/parse";
import type { HttpEnv } from "./http-env";
import { ApiError } from "./errors";

/**
 * Parses the settings once per isolate. A bad setting stops every request with one
 * error naming it, rather than failing somewhere deep inside a random route.
 */
export function configLoader(): MiddlewareHandler<HttpEnv> {
  return async function configLoaderMiddleware(c, next) {
    const config = loadConfig(c.env);
    if (config instanceof SettingError) {
      console.error(JSON.stringify({ level: "error", event: "invalid_setting", setting: config.setting, message: config.message }));
      throw new ApiError("configuration_error", `Service misconfigured: ${config.message}`);
    }
    c.set("config", config);
    await next();
  };
}
