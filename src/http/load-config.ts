import { type Config, loadConfig } from "../config/config";
import { SettingError } from "../config/parse";
import { ApiError } from "./errors";

/**
 * The settings, parsed once per isolate. A bad setting stops every request with one
 * error naming it, rather than failing somewhere deep inside a random route.
 */
export function configOf(env: Env): Config {
  const config = loadConfig(env);
  if (config instanceof SettingError) {
    console.error(JSON.stringify({ level: "error", event: "invalid_setting", setting: config.setting, message: config.message }));
    throw new ApiError("configuration_error", `Service misconfigured: ${config.message}`);
  }
  return config;
}
