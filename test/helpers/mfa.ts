// Second factors in tests: enrolling TOTP through the API, computing codes the way an
// authenticator app does (from the base32 secret the API showed), and signing in up to
// the MFA gate.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { fromBase32 } from "../../src/lib/base32";
import { TOTP_STEP_SECONDS, totpCode, totpStep } from "../../src/lib/totp";
import type { TestClient } from "./client";
import type { TestUser } from "./users";

export interface Enrolled {
  factorId: string;
  secret: string;
  recoveryCodes: string[];
}

/** Waits until at least 3 s of the current time step remain, so a code computed now keeps its step on the server. */
export async function stableStep(): Promise<void> {
  const intoStep = (Date.now() / 1000) % TOTP_STEP_SECONDS;
  if (intoStep > TOTP_STEP_SECONDS - 3) await new Promise((resolve) => setTimeout(resolve, (TOTP_STEP_SECONDS - intoStep + 0.2) * 1000));
}

/** The code of the step `offset` steps from now. */
export async function codeAt(secret: string, offset = 0): Promise<string> {
  return totpCode(fromBase32(secret)!, totpStep(Date.now()) + offset);
}

/** The user's authority no longer remembers which TOTP step it last accepted (tests that need more than one code per 30 s). */
export async function forgetUsedSteps(userId: string): Promise<void> {
  await runInDurableObject(env.USER_AUTHORITY.getByName(userId), (_instance, state) => {
    state.storage.sql.exec("DELETE FROM meta WHERE key = 'totp_last_step'");
  });
}

/** Enrolls and confirms TOTP for the signed-in client (its session becomes aal 2). */
export async function enrollTotp(client: TestClient, userId: string): Promise<Enrolled> {
  const started = await client.post("/api/v1/auth/mfa/totp", { json: { name: "Phone" } });
  expect(started.status).toBe(201);
  const { factor_id: factorId, secret } = (await started.json()) as { factor_id: string; secret: string };
  await stableStep();
  const confirmed = await client.post(`/api/v1/auth/mfa/totp/${factorId}/confirm`, { json: { code: await codeAt(secret) } });
  expect(confirmed.status).toBe(200);
  const body = (await confirmed.json()) as { recovery_codes: string[] };
  await forgetUsedSteps(userId);
  return { factorId, secret, recoveryCodes: body.recovery_codes };
}

/** A password login that must stop at the MFA gate: its mfa_token. */
export async function mfaTokenFor(client: TestClient, user: TestUser): Promise<string> {
  const response = await client.post("/api/v1/auth/login", { json: { email: user.email, password: user.password } });
  expect(response.status).toBe(401);
  const body = (await response.json()) as { code: string; mfa_token: string; methods: string[] };
  expect(body.code).toBe("mfa_required");
  return body.mfa_token;
}
