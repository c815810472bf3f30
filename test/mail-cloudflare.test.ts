// MAIL_PROVIDER=cloudflare: mail through the Workers send_email binding EMAIL (the local
// binding of workerd, declared as an operator would), with the retry outbox behind it.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TestClient } from "./helpers/client";
import { registerUser } from "./helpers/users";
import { senderOf, sendThroughBinding } from "../src/mail/cloudflare-email";

const email = (env as unknown as { EMAIL: SendEmail }).EMAIL;

describe("MAIL_PROVIDER=cloudflare", () => {
  it("reads MAIL_FROM as a named or bare sender", () => {
    expect(senderOf("Edge Auth <no-reply@example.com>")).toEqual({ name: "Edge Auth", email: "no-reply@example.com" });
    expect(senderOf('"Acme, Inc." <auth@acme.test>')).toEqual({ name: "Acme, Inc.", email: "auth@acme.test" });
    expect(senderOf("auth@acme.test")).toBe("auth@acme.test");
  });

  it("sends through the binding, and without one the send fails (to the retry outbox, never silently)", async () => {
    await expect(
      sendThroughBinding(email, "Edge Auth <no-reply@example.com>", { to: "someone@example.com", subject: "Hello", text: "Body" }),
    ).resolves.toBeUndefined();
    await expect(sendThroughBinding(undefined, "a@example.com", { to: "b@example.com", subject: "s", text: "t" })).rejects.toThrow(
      /send_email binding named EMAIL/,
    );
  });

  it("delivers a service mail (a reset link) through it: nothing is left for the retry outbox", async () => {
    const user = await registerUser(new TestClient());
    const client = new TestClient({ settings: { MAIL_PROVIDER: "cloudflare", MAIL_FROM: "Edge Auth <no-reply@example.com>" } });
    expect((await client.post("/api/v1/auth/password-reset/request", { json: { email: user.email } })).status).toBe(202);
    const kept = await env.DB.prepare("SELECT COUNT(*) AS n FROM mail_retry WHERE user_id = ?").bind(user.id).first<{ n: number }>();
    expect(kept?.n).toBe(0);
    const sent = await env.DB.prepare("SELECT COUNT(*) AS n FROM mail_tokens WHERE user_id = ? AND purpose = 'password_reset'")
      .bind(user.id)
      .first<{ n: number }>();
    expect(sent?.n).toBe(1);
  });
});
