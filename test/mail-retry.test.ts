// Mail that could not be sent is kept (sealed) in mail_retry and sent by the cron in a
// later invocation; sent once, never twice (not even when its row cannot be deleted
// after the send); dead after its last try; dropped with the account it was for.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/config";
import { keepForRetry } from "../src/mail/retry-queue";
import { DAILY_CRON, runScheduled } from "../src/scheduled";
import { TestClient } from "./helpers/client";
import { Faults } from "./helpers/faults";
import { login, registerUser } from "./helpers/users";

const MAIL_API = (env as unknown as { TEST_MAIL_API: string }).TEST_MAIL_API;
const RESEND = { MAIL_PROVIDER: "resend", MAIL_API_KEY: "test-mail-key", MAIL_API_URL: `${MAIL_API}/emails` };
const FIVE_MINUTES = "*/5 * * * *";

async function mode(value: "up" | "down"): Promise<void> {
  await fetch(`${MAIL_API}/__mode`, { method: "POST", body: JSON.stringify({ mode: value }) });
}

async function sentTo(address: string): Promise<Array<{ subject: string; text: string }>> {
  return (await (await fetch(`${MAIL_API}/__sent?to=${encodeURIComponent(address)}`)).json()) as Array<{ subject: string; text: string }>;
}

async function waiting(): Promise<Array<{ id: string; box: string; attempts: number; next_at: number | null }>> {
  const { results } = await env.DB.prepare("SELECT id, box, attempts, next_at FROM mail_retry").all<{
    id: string;
    box: string;
    attempts: number;
    next_at: number | null;
  }>();
  return results;
}

async function cron(bindings: Partial<Env> = {}, schedule = FIVE_MINUTES): Promise<Record<string, number>> {
  const ctx = createExecutionContext();
  const done = await runScheduled({ ...env, ...RESEND, ...bindings } as Env, schedule);
  await waitOnExecutionContext(ctx);
  return done;
}

/** A reset mail the provider refused, kept for the cron and due now. */
async function keptResetMail(): Promise<string> {
  await env.DB.prepare("DELETE FROM mail_retry").run();
  const user = await registerUser(new TestClient());
  await mode("down");
  await new TestClient({ settings: RESEND }).post("/api/v1/auth/password-reset/request", { json: { email: user.email } });
  expect(await waiting()).toHaveLength(1);
  await mode("up");
  await env.DB.prepare("UPDATE mail_retry SET next_at = 0").run();
  return user.email.toLowerCase();
}

describe("mail retried across invocations", () => {
  it("a reset mail the provider refused is kept sealed, sent by the cron once, and not again", async () => {
    await env.DB.prepare("DELETE FROM mail_retry").run();
    const user = await registerUser(new TestClient());
    await mode("down");
    const client = new TestClient({ settings: RESEND });
    const answer = await client.post("/api/v1/auth/password-reset/request", { json: { email: user.email } });
    expect(answer.status).toBe(202);
    const kept = await waiting();
    expect(kept).toHaveLength(1);
    expect(kept[0]!.box).not.toContain(user.email.toLowerCase()); // sealed: the address and the link are not readable
    expect(kept[0]!.next_at).toBeGreaterThan(Date.now());

    // Not due yet: nothing is sent.
    await mode("up");
    expect((await cron()).mail_sent).toBe(0);
    await env.DB.prepare("UPDATE mail_retry SET next_at = 0").run();
    expect((await cron()).mail_sent).toBe(1);
    const sent = await sentTo(user.email.toLowerCase());
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toMatch(/reset-password\?token=/);
    expect(await waiting()).toHaveLength(0);
    expect((await cron()).mail_sent).toBe(0);
    expect(await sentTo(user.email.toLowerCase())).toHaveLength(1);
  }, 30_000);

  it("still failing: tried again later, then dead after the last try (kept for operators, never sent twice)", async () => {
    await env.DB.prepare("DELETE FROM mail_retry").run();
    const user = await registerUser(new TestClient());
    await mode("down");
    await new TestClient({ settings: RESEND }).post("/api/v1/auth/password-reset/request", { json: { email: user.email } });
    await env.DB.prepare("UPDATE mail_retry SET next_at = 0").run();
    const first = await cron();
    expect(first.mail_retried).toBe(1);
    const [row] = await waiting();
    expect(row!.attempts).toBe(1);
    expect(row!.next_at).toBeGreaterThan(Date.now() + 5 * 60_000);
    await env.DB.prepare("UPDATE mail_retry SET next_at = 0, attempts = 7").run();
    expect((await cron()).mail_dead).toBe(1);
    expect((await waiting())[0]!.next_at).toBeNull();
    await mode("up");
    expect((await cron()).mail_sent).toBe(0);
    expect(await sentTo(user.email.toLowerCase())).toHaveLength(0);
  }, 30_000);

  it("a deleted account's pending mail is dropped with it, never sent; mail for no account is not kept", async () => {
    await env.DB.prepare("DELETE FROM mail_retry").run();
    const user = await registerUser(new TestClient());
    await mode("down");
    await new TestClient({ settings: RESEND }).post("/api/v1/auth/password-reset/request", { json: { email: user.email } });
    expect(await waiting()).toHaveLength(1);

    const client = new TestClient();
    await login(client, user);
    expect((await client.delete("/api/v1/users/me", { json: { password: user.password } })).status).toBe(204);
    expect(await waiting()).toHaveLength(0);
    await mode("up");
    expect((await cron()).mail_sent).toBe(0);
    expect(await sentTo(user.email.toLowerCase())).toHaveLength(0);

    // A send that fails after the deletion (a request's last try) finds no account to keep it for.
    const keys = parseConfig({ ENVIRONMENT: "test" }).mfa.encryptionKeys;
    expect(await keepForRetry(env.DB, keys, { to: user.email, subject: "s", text: "t" })).toBe(false);
    expect(await waiting()).toHaveLength(0);
  }, 30_000);

  it("a sent mail whose row could not be deleted is marked sent and not sent again (the daily clean-up removes it)", async () => {
    const address = await keptResetMail();
    const faults = new Faults().fail("DB", { methods: ["run"], sql: /^DELETE FROM mail_retry WHERE id/, times: 1 });
    expect((await cron({ DB: faults.bindings().DB })).mail_sent).toBe(1);
    expect(faults.failed.get("DB.run")).toBe(1);
    expect(await sentTo(address)).toHaveLength(1);
    const [row] = await waiting();
    expect(row).toMatchObject({ next_at: null, box: "" }); // nothing left to send, nor a link to read

    // Every lease and back-off long over: still sent once.
    await env.DB.prepare("UPDATE mail_retry SET next_at = 0 WHERE next_at IS NOT NULL").run();
    expect((await cron()).mail_sent).toBe(0);
    expect(await sentTo(address)).toHaveLength(1);
    expect((await cron({}, DAILY_CRON)).dead_mail).toBeGreaterThanOrEqual(1);
    expect(await waiting()).toHaveLength(0);
  }, 30_000);

  it("at least once: a drain that could neither delete nor mark a sent row sends it again when its lease runs out", async () => {
    const address = await keptResetMail();
    const faults = new Faults().fail("DB", { methods: ["run"], sql: /^DELETE FROM mail_retry WHERE id|sent_at = \?/, times: 2 });
    expect((await cron({ DB: faults.bindings().DB })).mail_sent).toBe(1);
    expect(faults.failed.get("DB.run")).toBe(2);
    const [row] = await waiting();
    expect(row!.next_at).toBeGreaterThan(Date.now()); // still leased: not sent meanwhile
    expect((await cron()).mail_sent).toBe(0);
    await env.DB.prepare("UPDATE mail_retry SET next_at = 0").run(); // the lease ran out
    expect((await cron()).mail_sent).toBe(1);
    expect(await sentTo(address)).toHaveLength(2);
    expect(await waiting()).toHaveLength(0);
  }, 30_000);
});
