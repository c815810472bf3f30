// The daily clean-up (cron trigger in wrangler.toml): security events past their
// retention, mailed tokens long expired, and old development outbox messages. Each
// purge belongs to the module that owns its table.
import { purgeExpiredMailTokens } from "./account/mail-tokens";
import { loadConfig } from "./config/config";
import { SettingError } from "./config/parse";
import { database } from "./db/client";
import { purgeOldEvents } from "./events/event-log";
import { purgeOutbox } from "./mail/outbox";

export async function runCleanup(env: Env): Promise<{ events: number; tokens: number; outbox: number }> {
  const config = loadConfig(env);
  if (config instanceof SettingError) throw config;
  const events = await purgeOldEvents(database(env.DB), config.eventsRetentionDays);
  const tokens = await purgeExpiredMailTokens(env.DB);
  const outbox = await purgeOutbox(env.DB);
  return { events, tokens, outbox };
}
