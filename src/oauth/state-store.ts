// Pending OAuth logins in D1. `state` is 256 random bits, stored hashed, valid 10
// minutes, and taken with DELETE ... RETURNING: it can be used exactly once.
import { hmacSha256, sha256 } from "../lib/crypto";
import { toBase64Url } from "../lib/encoding";

export const STATE_LIFETIME_MS = 10 * 60 * 1000;

export interface PendingLogin {
  provider: string;
  bindingHash: string;
  codeVerifier: string;
  nonce: string;
  redirectTo: string;
  mode: "redirect" | "json";
  /** A link started by a signed-in user: who, and from which session or token family. */
  link: { userId: string; sessionId: string } | null;
  app: { redirectUri: string; codeChallenge: string; state: string | null } | null;
}

/**
 * A login's PKCE verifier and OIDC nonce, derived with SECRET_KEY from its state and the
 * binding cookie's secret: the callback redeems the code before it takes the state, and
 * takes the state beside the account lookup (one round trip less). Both are also stored
 * with the state, and the callback checks they match.
 */
export async function loginSecrets(secretKey: string, state: string, binding: string): Promise<{ codeVerifier: string; nonce: string }> {
  const [verifier, nonce] = await Promise.all([
    hmacSha256(secretKey, `oauth-pkce-verifier:${state}:${binding}`),
    hmacSha256(secretKey, `oauth-nonce:${state}:${binding}`),
  ]);
  return { codeVerifier: toBase64Url(verifier), nonce: toBase64Url(nonce) };
}

export async function savePendingLogin(d1: D1Database, state: string, login: PendingLogin): Promise<void> {
  const now = Date.now();
  await d1
    .prepare(
      `INSERT INTO oauth_states (state_hash, provider, binding_hash, code_verifier, nonce, redirect_to, mode,
         link_user_id, link_session_id, app_redirect_uri, app_code_challenge, app_state, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      await sha256(state),
      login.provider,
      login.bindingHash,
      login.codeVerifier,
      login.nonce,
      login.redirectTo,
      login.mode,
      login.link?.userId ?? null,
      login.link?.sessionId ?? null,
      login.app?.redirectUri ?? null,
      login.app?.codeChallenge ?? null,
      login.app?.state ?? null,
      new Date(now).toISOString(),
      new Date(now + STATE_LIFETIME_MS).toISOString(),
    )
    .run();
}

type StateRow = {
  provider: string;
  binding_hash: string;
  code_verifier: string;
  nonce: string;
  redirect_to: string;
  mode: "redirect" | "json";
  link_user_id: string | null;
  link_session_id: string | null;
  app_redirect_uri: string | null;
  app_code_challenge: string | null;
  app_state: string | null;
  expires_at: string;
};

/** Takes the pending login for `state` (whatever happens next, the state is used up). */
export async function takePendingLogin(d1: D1Database, state: string): Promise<(PendingLogin & { expired: boolean }) | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(state)) return null;
  const row = await d1
    .prepare("DELETE FROM oauth_states WHERE state_hash = ? RETURNING *")
    .bind(await sha256(state))
    .first<StateRow>();
  if (row === null) return null;
  return {
    provider: row.provider,
    bindingHash: row.binding_hash,
    codeVerifier: row.code_verifier,
    nonce: row.nonce,
    redirectTo: row.redirect_to,
    mode: row.mode,
    link: row.link_user_id === null || row.link_session_id === null ? null : { userId: row.link_user_id, sessionId: row.link_session_id },
    app:
      row.app_redirect_uri === null || row.app_code_challenge === null
        ? null
        : { redirectUri: row.app_redirect_uri, codeChallenge: row.app_code_challenge, state: row.app_state },
    expired: Date.parse(row.expires_at) <= Date.now(),
  };
}

/** Deletes logins started but never finished, once expired (the scheduled clean-up). */
export async function purgeExpiredStates(d1: D1Database, now: number = Date.now()): Promise<number> {
  const result = await d1.prepare("DELETE FROM oauth_states WHERE expires_at < ?").bind(new Date(now).toISOString()).run();
  return result.meta.changes ?? 0;
}
