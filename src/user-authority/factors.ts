// A user's second factors inside their authority: TOTP and passkeys, recovery codes,
// sign-ins waiting at the MFA gate, and the per-user throttle of wrong second factors.
// Every decision is synchronous SQL: a check and its write never have an await between
// them, so a time step, a recovery code, a challenge or an attempt is taken exactly once
// however many requests race for it. The only await (opening a TOTP secret and computing
// codes) comes before the decision, never inside it.
import { open } from "../lib/secret-box";
import { matchTotpStep } from "../lib/totp";
import type { AuthMethod } from "./session-policy";
import type { FactorProof, FactorView, NewPasskey, SecondFactorMethod, StoredPasskey, ThrottlePolicy } from "./types";

type FactorRow = {
  id: string;
  type: "totp" | "webauthn";
  name: string;
  active: number;
  secret_box: string | null;
  credential_id: string | null;
  public_key: string | null;
  counter: number;
  transports: string | null;
  created_at: number;
  last_used_at: number | null;
};

/** What a checked proof came to, before anything is taken (see `take`). */
export type CheckedProof =
  | { ok: false }
  | { ok: true; method: "totp"; factorId: string; step: number }
  | { ok: true; method: "recovery_code"; codeHash: string }
  | { ok: true; method: "webauthn"; proof: Extract<FactorProof, { verified: true }> };

/**
 * A right TOTP code of a time step this user already used: refused like a wrong one, but
 * the refusal says to wait for the next code. Only the holder of a right code learns it,
 * and what they learn is that its step is spent.
 */
export type StepUsed = { status: "invalid_code"; stepUsed: true };

/** The context a TOTP secret is sealed for: a box copied to another user or factor does not open. */
export function totpBoxContext(userId: string, factorId: string): string {
  return `totp:${userId}:${factorId}`;
}

export const AMR_OF: Record<SecondFactorMethod, AuthMethod> = { totp: "otp", recovery_code: "recovery", webauthn: "webauthn" };

const iso = (ms: number): string => new Date(ms).toISOString();

export class Factors {
  constructor(private readonly sql: SqlStorage) {}

  private rows(where: string, ...params: unknown[]): FactorRow[] {
    return this.sql.exec<FactorRow>(`SELECT * FROM factors WHERE ${where} ORDER BY created_at`, ...params).toArray();
  }

  hasActive(): boolean {
    return this.rows("active = 1").length > 0;
  }

  /** The second factors a sign-in can be completed with now. */
  methods(): SecondFactorMethod[] {
    const types = new Set(this.rows("active = 1").map((row) => row.type));
    const methods: SecondFactorMethod[] = [];
    if (types.has("totp")) methods.push("totp");
    if (types.has("webauthn")) methods.push("webauthn");
    if (this.recoveryRemaining() > 0) methods.push("recovery_code");
    return methods;
  }

  list(): { factors: FactorView[]; recovery_codes_remaining: number } {
    const factors = this.rows("active = 1").map((row) => ({
      id: row.id,
      type: row.type,
      name: row.name,
      created_at: iso(row.created_at),
      last_used_at: row.last_used_at === null ? null : iso(row.last_used_at),
    }));
    return { factors, recovery_codes_remaining: this.recoveryRemaining() };
  }

  view(id: string): FactorView | null {
    return this.list().factors.find((factor) => factor.id === id) ?? null;
  }

  recoveryRemaining(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM recovery_codes").one().n;
  }

  addPendingTotp(id: string, name: string, box: string, now: number): void {
    // An unconfirmed factor is replaced by the next enrollment rather than piling up.
    this.sql.exec("DELETE FROM factors WHERE type = 'totp' AND active = 0");
    this.sql.exec(
      "INSERT INTO factors (id, type, name, active, secret_box, created_at) VALUES (?, 'totp', ?, 0, ?, ?)",
      id,
      name,
      box,
      now,
    );
  }

  pendingTotp(id: string): boolean {
    return this.rows("id = ? AND type = 'totp' AND active = 0", id).length > 0;
  }

  activate(id: string, now: number): void {
    this.sql.exec("UPDATE factors SET active = 1, last_used_at = ? WHERE id = ?", now, id);
  }

  addPasskey(passkey: NewPasskey, now: number): boolean {
    if (this.rows("credential_id = ?", passkey.credentialId).length > 0) return false;
    this.sql.exec(
      `INSERT INTO factors (id, type, name, active, credential_id, public_key, counter, transports, device_type, backed_up, created_at)
       VALUES (?, 'webauthn', ?, 1, ?, ?, ?, ?, ?, ?, ?)`,
      passkey.id,
      passkey.name,
      passkey.credentialId,
      passkey.publicKey,
      passkey.counter,
      JSON.stringify(passkey.transports),
      passkey.deviceType,
      passkey.backedUp ? 1 : 0,
      now,
    );
    return true;
  }

  passkeys(): StoredPasskey[] {
    return this.rows("type = 'webauthn' AND active = 1").map((row) => ({
      id: row.id,
      credentialId: row.credential_id ?? "",
      publicKey: row.public_key ?? "",
      counter: row.counter,
      transports: JSON.parse(row.transports ?? "[]") as string[],
    }));
  }

  /** Removes a factor; false when there is no such active factor. With the last one go the recovery codes. */
  remove(id: string): boolean {
    const removed = this.sql.exec("DELETE FROM factors WHERE id = ? AND active = 1", id).rowsWritten > 0;
    if (removed && !this.hasActive()) this.sql.exec("DELETE FROM recovery_codes");
    return removed;
  }

  removeAll(): number {
    const removed = this.sql.exec("DELETE FROM factors").rowsWritten;
    this.sql.exec("DELETE FROM recovery_codes");
    return removed;
  }

  replaceRecoveryCodes(hashes: string[]): void {
    this.sql.exec("DELETE FROM recovery_codes");
    for (const hash of hashes) this.sql.exec("INSERT OR IGNORE INTO recovery_codes (code_hash) VALUES (?)", hash);
  }

  /**
   * Checks a proof without taking anything: the TOTP code against every active TOTP
   * factor (or the one pending factor `pendingId`), the recovery code's presence.
   */
  async check(userId: string, proof: FactorProof, now: number, pendingId: string | null = null): Promise<CheckedProof | StepUsed> {
    if (proof.method === "recovery_code") {
      const present = this.sql.exec("SELECT 1 FROM recovery_codes WHERE code_hash = ?", proof.codeHash).toArray().length > 0;
      return present && pendingId === null ? { ok: true, method: "recovery_code", codeHash: proof.codeHash } : { ok: false };
    }
    if (proof.method === "webauthn") {
      return proof.verified && pendingId === null ? { ok: true, method: "webauthn", proof } : { ok: false };
    }
    const candidates = pendingId === null ? this.rows("type = 'totp' AND active = 1") : this.rows("id = ? AND active = 0", pendingId);
    for (const row of candidates) {
      const secret = row.secret_box === null ? null : await open(proof.keys, row.secret_box, totpBoxContext(userId, row.id));
      const step = secret === null ? null : await matchTotpStep(secret, proof.code, now);
      if (step === null) continue;
      // A hint only: `take` decides, so a step used by a racing request is still refused there.
      if (step <= Number(this.meta("totp_last_step") ?? "-1")) return { status: "invalid_code", stepUsed: true };
      return { ok: true, method: "totp", factorId: row.id, step };
    }
    return { ok: false };
  }

  /**
   * Takes what a checked proof used, synchronously: the TOTP step (never one at or
   * before the last step used by this user), the recovery code, the passkey's
   * challenge and signature counter. False when a racing request took it first.
   */
  take(checked: Extract<CheckedProof, { ok: true }>, now: number): boolean {
    if (checked.method === "recovery_code") {
      return this.sql.exec("DELETE FROM recovery_codes WHERE code_hash = ?", checked.codeHash).rowsWritten > 0;
    }
    if (checked.method === "totp") {
      const last = Number(this.meta("totp_last_step") ?? "-1");
      if (checked.step <= last) return false;
      this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('totp_last_step', ?)", String(checked.step));
      this.sql.exec("UPDATE factors SET last_used_at = ? WHERE id = ?", now, checked.factorId);
      return true;
    }
    const { proof } = checked;
    const row = this.rows("credential_id = ? AND type = 'webauthn' AND active = 1", proof.credentialId)[0];
    if (row === undefined || !this.takeChallenge(proof.challenge.hash, proof.challenge.expiresAt)) return false;
    // A counter that does not grow means a cloned authenticator (both zero: one that keeps no counter).
    if ((row.counter > 0 || proof.counter > 0) && proof.counter <= row.counter) return false;
    this.sql.exec("UPDATE factors SET counter = ?, last_used_at = ? WHERE id = ?", proof.counter, now, row.id);
    return true;
  }

  /** Marks a WebAuthn challenge answered; false when it already was. */
  takeChallenge(hash: string, expiresAt: number): boolean {
    this.sql.exec("DELETE FROM used_challenges WHERE expires_at <= ?", Date.now());
    return (
      this.sql.exec("INSERT OR IGNORE INTO used_challenges (challenge_hash, expires_at) VALUES (?, ?)", hash, expiresAt).rowsWritten > 0
    );
  }

  /**
   * Takes one attempt from the per-user throttle before a proof is checked (so racing
   * attempts are counted exactly); null when the window is full, else the attempt's id,
   * which a correct proof gives back.
   */
  reserveAttempt(policy: ThrottlePolicy, now: number): { id: number } | { retryAfterSeconds: number } {
    this.sql.exec("DELETE FROM mfa_failures WHERE at <= ?", now - policy.windowMs);
    const rows = this.sql.exec<{ at: number }>("SELECT at FROM mfa_failures ORDER BY at").toArray();
    if (rows.length >= policy.maxAttempts) {
      return { retryAfterSeconds: Math.max(1, Math.ceil((rows[0]!.at + policy.windowMs - now) / 1000)) };
    }
    this.sql.exec("INSERT INTO mfa_failures (at) VALUES (?)", now);
    return { id: this.sql.exec<{ id: number }>("SELECT last_insert_rowid() AS id").one().id };
  }

  /**
   * Drops what has expired: pending sign-ins, answered challenges, and wrong second
   * factors older than a week (the longest throttle window LOGIN_WINDOW_MINUTES allows).
   */
  purgeExpired(now: number): void {
    this.sql.exec("DELETE FROM mfa_pending WHERE expires_at <= ?", now);
    this.sql.exec("DELETE FROM used_challenges WHERE expires_at <= ?", now);
    this.sql.exec("DELETE FROM mfa_failures WHERE at <= ?", now - 7 * 24 * 3_600_000);
  }

  /** A correct second factor clears the user's failures, like a successful login. */
  clearAttempts(): void {
    this.sql.exec("DELETE FROM mfa_failures");
  }

  private meta(key: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }
}
