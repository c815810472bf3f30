// The daily clean-up (cron trigger in wrangler.toml): security events past their
// retention, mailed tokens long expired, and old development outbox messages.
import { loadConfig } from "./config/config";
import { SettingError } from "./config/parse";
import { purgeOldEvents } from "./events/event-log";

export async function runCleanup(env: Env): Promise<{ events: number; tokens: number }> {
  const config = loadConfig(env);
  if (config instanceof SettingError) throw config;
  const events = await purgeOldEvents(env.DB, config.eventsRetentionDays);
  const dayAgo = new Date(Date.now() - 86_400_000).toISOString();
  const tokens = await env.DB.prepare("DELETE FROM mail_tokens WHERE expires_at < ?").bind(dayAgo).run();
  const weekAgo = new Date(Date.now() - 7 * 86_400_000).toISOString();
  await env.DB.prepare("DELETE FROM mail_outbox WHERE created_at < ?").bind(weekAgo).run();
  return { events, tokens: tokens.meta.changes ?? 0 };
}
