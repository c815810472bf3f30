import { env } from "cloudflare:workers";
import { TestClient } from "./client";

export interface OutboxMessage {
  to: string;
  subject: string;
  body: string;
}

/** The development outbox, read the way a developer would: GET /api/v1/dev/outbox. */
export async function outbox(to: string): Promise<OutboxMessage[]> {
  const response = await new TestClient().get(`/api/v1/dev/outbox?to=${encodeURIComponent(to)}`);
  const { items } = (await response.json()) as { items: OutboxMessage[] };
  return items;
}

/** The token of the newest mailed link with this path. */
export async function linkToken(to: string, path: "/verify-email" | "/reset-password"): Promise<string> {
  for (const message of await outbox(to)) {
    const match = new RegExp(`${path}\\?token=([A-Za-z0-9_-]+)`).exec(message.body);
    if (match?.[1] !== undefined) return match[1];
  }
  throw new Error(`no ${path} link mailed to ${to}`);
}

export async function expireMailTokens(email: string): Promise<void> {
  await env.DB.prepare("UPDATE mail_tokens SET expires_at = ? WHERE email = ?")
    .bind(new Date(Date.now() - 1000).toISOString(), email.toLowerCase())
    .run();
}
