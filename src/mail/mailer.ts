// Mail delivery behind one small interface, chosen by MAIL_PROVIDER:
//   dev     keeps messages in the D1 table mail_outbox (GET /api/v1/dev/outbox reads it)
//   resend  posts to a transactional mail API (Resend's /emails shape) with MAIL_API_KEY
//   cloudflare  sends through the Workers send_email binding EMAIL (cloudflare-email.ts)
//   none    sends nothing (and logs that it did not)
// Sending never slows or fails the request that caused it: callers hand the promise to
// waitUntil. A failed send is retried twice in the same invocation, then kept in
// mail_retry for the cron (retry-queue.ts), which tries again for about a day.
import type { Config } from "../config/config";
import { logError } from "../lib/log";
import { writeOutbox } from "./outbox";
import { keepForRetry } from "./retry-queue";
import { sendThroughBinding } from "./cloudflare-email";

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  /** Keeps a message that could not be sent, for a later invocation to send; false when it is for no account (any more). */
  keep?(message: MailMessage): Promise<boolean>;
}

/** `email`: the send_email binding (MAIL_PROVIDER=cloudflare). */
export function createMailer(config: Config, db: D1Database, email?: SendEmail): Mailer {
  switch (config.mail.provider) {
    case "dev":
      return { send: (message) => writeOutbox(db, message) };
    case "resend":
      return {
        send: (message) => postToProvider(config.mail, message),
        keep: (message) => keepForRetry(db, config.mfa.encryptionKeys, message),
      };
    case "cloudflare":
      return {
        send: (message) => sendThroughBinding(email, config.mail.from, message),
        keep: (message) => keepForRetry(db, config.mfa.encryptionKeys, message),
      };
    case "none":
      return {
        async send(message) {
          console.warn(JSON.stringify({ level: "warn", event: "mail_not_sent", reason: "MAIL_PROVIDER=none", subject: message.subject }));
        },
      };
  }
}

/** Retries a failed send twice (after 1 s and 3 s), then keeps it for the cron; never throws. */
export async function deliver(mailer: Mailer, message: MailMessage): Promise<void> {
  const delays = [1000, 3000];
  for (let attempt = 0; ; attempt++) {
    try {
      await mailer.send(message);
      return;
    } catch (error) {
      const delay = delays[attempt];
      if (delay === undefined) {
        await keep(mailer, message, error);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

async function keep(mailer: Mailer, message: MailMessage, error: unknown): Promise<void> {
  if (mailer.keep === undefined) {
    logError("mail_failed", error);
    return;
  }
  try {
    if (await mailer.keep(message)) logError("mail_deferred", error);
    else logError("mail_failed", error, { reason: "no_account" });
  } catch (keepError) {
    logError("mail_failed", keepError);
  }
}

async function postToProvider(mail: Config["mail"], message: MailMessage): Promise<void> {
  const response = await fetch(mail.apiUrl, {
    method: "POST",
    headers: { Authorization: `Bearer ${mail.apiKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ from: mail.from, to: [message.to], subject: message.subject, text: message.text }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`mail provider answered ${response.status}`);
}
