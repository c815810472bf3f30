// The cron triggers (wrangler.toml). Every 5 minutes: mail waiting for a retry is sent,
// and OAuth logins started but never finished (and app codes never redeemed) are
// deleted once expired, so anonymous traffic cannot fill those tables. Daily, besides:
// security events past their retention, mailed tokens long expired, old development
// outbox messages, dead mail and API-key usage past the longest report (365 days). Each purge belongs to the module that owns its table.
// The OAuth server: every 5 minutes the grants of clients disabled or deleted whose ending
// did not finish are ended; daily, dynamically registered clients unused for 90 days go.
import { purgeExpiredMailTokens } from "./account/mail-tokens";
import { purgeOldUsage } from "./api-keys/key-store";
import { loadConfig } from "./config/config";
import { SettingError } from "./config/parse";
import { database } from "./db/client";
import { purgeOldEvents } from "./events/event-log";
import { createMailer } from "./mail/mailer";
import { purgeOutbox } from "./mail/outbox";
import { drainRetries, purgeDeadMail } from "./mail/retry-queue";
import { purgeExpiredAppCodes } from "./oauth/app-codes";
import { purgeExpiredStates } from "./oauth/state-store";
import { sweepDisabledClients } from "./oauth-server/clients/admin-clients";
import { purgeOldAuthorizations, purgeUnusedClients } from "./oauth-server/clients/client-store";

/** Dynamically registered clients no one used for this long are deleted (their grants ended long before: 30-day refresh). */
const UNUSED_DCR_CLIENT_DAYS = 90;

/** The daily cron; any other is the 5-minute one. */
export const DAILY_CRON = "17 3 * * *";

export async function runScheduled(env: Env, cron: string): Promise<Record<string, number>> {
  const config = loadConfig(env);
  if (config instanceof SettingError) throw config;
  const mailer = createMailer(config, env.DB, (env as { EMAIL?: SendEmail }).EMAIL);
  const mail = await drainRetries(env.DB, config.mfa.encryptionKeys, (message) => mailer.send(message));
  const done: Record<string, number> = {
    mail_sent: mail.sent,
    mail_retried: mail.retried,
    mail_dead: mail.dead,
    oauth_states: await purgeExpiredStates(env.DB),
    oauth_codes: await purgeExpiredAppCodes(env.DB),
    oauth_client_grants_ended: await sweepDisabledClients({ d1: env.DB, authority: env.USER_AUTHORITY }),
  };
  if (cron !== DAILY_CRON) return done;
  return {
    ...done,
    events: await purgeOldEvents(database(env.DB), config.eventsRetentionDays),
    tokens: await purgeExpiredMailTokens(env.DB),
    outbox: await purgeOutbox(env.DB),
    dead_mail: await purgeDeadMail(env.DB),
    key_usage: await purgeOldUsage(env.DB),
    oauth_clients: await purgeUnusedClients(env.DB, UNUSED_DCR_CLIENT_DAYS),
    oauth_authorizations: await purgeOldAuthorizations(env.DB),
  };
}
