// Mail delivery behind one small interface, chosen by MAIL_PROVIDER:
//   dev     keeps messages in the D1 table mail_outbox (GET /api/v1/dev/outbox reads it)
//   resend  posts to a transactional mail API (Resend's /emails shape) with MAIL_API_KEY
//   none    sends nothing (and logs that it did not)
// Sending never slows or fails the request that caused it: callers hand the promise to
// waitUntil, and a failed send is retried, then logged.
import type { Config } from "../config/config";
import { logError } from "../lib/log";
import { writeOutbox } from "./outbox";

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export function createMailer(config: Config, db: D1Database): Mailer {
  switch (config.mail.provider) {
    case "dev":
      return { send: (message) => writeOutbox(db, message) };
    case "resend":
      return { send: (message) => postToProvider(config.mail, message) };
    case "none":
      return {
        async send(message) {
          console.warn(JSON.stringify({ level: "warn", event: "mail_not_sent", reason: "MAIL_PROVIDER=none", subject: message.subject }));
        },
      };
  }
}

/** Retries a failed send twice (after 1 s and 3 s), then logs it; never throws. */
export async function deliver(mailer: Mailer, message: MailMessage): Promise<void> {
  const delays = [1000, 3000];
  for (let attempt = 0; ; attempt++) {
    try {
      await mailer.send(message);
      return;
    } catch (error) {
      const delay = delays[attempt];
      if (delay === undefined) {
        logError("mail_failed", error);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

async function postToProvider(mail: Config["mail"], message: MailMessage): Promise<void> {
  const response = await fetch(mail.apiUrl, {
    method: "POST",
    headers: { Authorization: `Bearer ${mail.apiKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ from: mail.from, to: [message.to], subject: message.subject, text: message.text }),
  });
  if (!response.ok) throw new Error(`mail provider answered ${response.status}`);
}
