// Administrators in tests: made the way a deployment makes its first one (ADMIN_EMAILS,
// then the address verified), signed in with password + TOTP so the session is aal 2.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { type Settings, TestClient } from "./client";
import { linkToken } from "./mail";
import { codeAt, enrollTotp, forgetUsedSteps, stableStep } from "./mfa";
import { type TestUser, login, registerUser, uniqueEmail } from "./users";

export interface Admin {
  client: TestClient;
  user: TestUser;
  secret: string;
}

/** A superuser through ADMIN_EMAILS: registers, verifies the address signed in, enrolls TOTP (that session is aal 2). */
export async function makeAdmin(settings: Settings = {}): Promise<Admin> {
  const email = uniqueEmail();
  const all = { ...settings, ADMIN_EMAILS: email };
  const client = new TestClient({ settings: all });
  const user = await registerUser(client, { email });
  await login(client, user);
  expect((await client.post("/api/v1/auth/verify-email/request")).status).toBe(202);
  const token = await linkToken(email, "/verify-email");
  // Confirmed signed in: the credential holder proves the address (a click from elsewhere never promotes).
  const verified = await client.post("/api/v1/auth/verify-email/confirm", { json: { token } });
  expect(await verified.json()).toMatchObject({ is_superuser: true });
  const { secret } = await enrollTotp(client, user.id);
  return { client, user, secret };
}

/** Signs the admin in again with password and TOTP on a new client (aal 2). */
export async function adminSession(admin: Admin): Promise<TestClient> {
  const client = new TestClient({ settings: admin.client.settings });
  const stopped = await client.post("/api/v1/auth/login", { json: { email: admin.user.email, password: admin.user.password } });
  const { mfa_token: mfaToken } = (await stopped.json()) as { mfa_token: string };
  await forgetUsedSteps(admin.user.id);
  await stableStep();
  const verified = await client.post("/api/v1/auth/mfa/verify", {
    json: { mfa_token: mfaToken, method: "totp", code: await codeAt(admin.secret) },
  });
  expect(verified.status).toBe(200);
  return client;
}

/** Inserts `count` users straight into D1 (as an import would), named `${prefix}-<n>`. */
export async function seedUsers(prefix: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  const base = Date.now() - count * 10;
  const statements = [];
  for (let n = 0; n < count; n++) {
    const id = crypto.randomUUID();
    ids.push(id);
    const email = `${prefix}-${n}@example.com`;
    const at = new Date(base + n * 10).toISOString();
    statements.push(
      env.DB.prepare(
        `INSERT INTO users (id, email, email_normalized, username, username_normalized, name, name_normalized, password_hash,
           email_verified, is_superuser, created_at, updated_at, credential_epoch, disabled)
         VALUES (?, ?, ?, NULL, NULL, ?, ?, NULL, 0, 0, ?, ?, 0, 0)`,
      ).bind(id, email, email, `Seed ${prefix} ${n}`, `seed ${prefix} ${n}`.toLowerCase(), at, at),
    );
  }
  for (let i = 0; i < statements.length; i += 500) await env.DB.batch(statements.slice(i, i + 500));
  return ids;
}
