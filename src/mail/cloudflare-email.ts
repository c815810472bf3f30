// MAIL_PROVIDER=cloudflare: mail sent through the Workers `send_email` binding named EMAIL
// (Cloudflare Email Service), composed by the binding from its fields (no MIME written
// here). Declared in wrangler.toml by the operator who chooses it:
//   [[send_email]]
//   name = "EMAIL"
// A failed send goes to the same retry outbox as the HTTP providers' (mailer.ts).
import type { MailMessage } from "./mailer";

/** `Name <address>` or a bare address, as MAIL_FROM gives it. */
export function senderOf(from: string): EmailAddress | string {
  const named = /^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(from);
  if (named === null) return from.trim();
  const [, name, email] = named as unknown as [string, string, string];
  return name === "" ? email : { name: name.replace(/^"|"$/g, ""), email };
}

export async function sendThroughBinding(binding: SendEmail | undefined, from: string, message: MailMessage): Promise<void> {
  if (binding === undefined) throw new Error("MAIL_PROVIDER=cloudflare needs a send_email binding named EMAIL");
  await binding.send({ from: senderOf(from), to: message.to, subject: message.subject, text: message.text });
}
