// Direct access to session storage, for tests that need to move a session through time.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { CachedSession } from "../../src/user-authority/session-policy";
import { userIdOfSession } from "../../src/sessions/session-token";

export function sessionIdOf(token: string | undefined): string {
  const id = token?.split(".")[0];
  if (id === undefined || id === "") throw new Error("no session token");
  return id;
}

export function authorityStub(sessionId: string): DurableObjectStub {
  return env.USER_AUTHORITY.getByName(userIdOfSession(sessionId));
}

export async function cachedSession(sessionId: string): Promise<CachedSession | null> {
  return env.SESSIONS.get<CachedSession>(`session:${sessionId}`, "json");
}

/** Moves a session's clock back by `ms`, in the authority and in the KV cache alike. */
export async function ageSession(
  sessionId: string,
  ms: number,
  fields: Array<"last_activity" | "absolute_expires_at" | "created_at"> = ["last_activity"],
): Promise<void> {
  await runInDurableObject(authorityStub(sessionId), (_instance, state) => {
    for (const field of fields) {
      state.storage.sql.exec(`UPDATE sessions SET ${field} = ${field} - ?, cached_activity = 0 WHERE id = ?`, ms, sessionId);
    }
  });
  const cached = await cachedSession(sessionId);
  if (cached === null) return;
  const keyOf = { last_activity: "lastActivity", absolute_expires_at: "absoluteExpiresAt", created_at: "createdAt" } as const;
  for (const field of fields) cached[keyOf[field]] -= ms;
  await env.SESSIONS.put(`session:${sessionId}`, JSON.stringify(cached), { expirationTtl: 3600 });
}

export async function authorityLastActivity(sessionId: string): Promise<number | undefined> {
  return runInDurableObject(authorityStub(sessionId), (_instance, state) => {
    const row = state.storage.sql
      .exec<{ last_activity: number }>("SELECT last_activity FROM sessions WHERE id = ?", sessionId)
      .toArray()[0];
    return row?.last_activity;
  });
}
