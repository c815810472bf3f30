// The OAuth authorization requests of a user's authority: a signed-in user's request
// answered with a code at once (first-party client, or consent already given), or kept
// for the consent page, and the user's decision on it. Each decision is one synchronous
// transaction, in order with everything else decided about the user.
import { isExpired } from "../session-policy";
import { assurance, times } from "../rows";
import type { AuthorityParts } from "../parts";
import { consentCovers, mergeConsent } from "./consent";
import { OAUTH_LIMITS } from "./purge";
import type { AuthorizationRequest, AuthorizeOutcome, AuthorizingSession, Decision, NewCode } from "./types";
import { queueRecord } from "../audit-outbox";

export class OAuthRequestOps {
  constructor(private readonly p: AuthorityParts) {}

  /**
   * A signed-in user's authorization request: a code at once when the client is first
   * party or the user already consented to as much, else the request waits for consent.
   */
  authorize(input: {
    requestId: string;
    request: AuthorizationRequest;
    session: AuthorizingSession;
    code: NewCode;
    firstParty: boolean;
    prompt: "none" | "consent" | null;
  }): AuthorizeOutcome {
    const session = this.liveSession(input.session.id);
    if (session === null) return { status: "refused" };
    if (input.request.aalRequired > session.assurance.aal) return { status: "aal_required" };
    const { sql } = this.p.state;
    const consented = sql
      .exec<{ scopes: string; resources: string }>(
        "SELECT scopes, resources FROM oauth_consents WHERE client_id = ?",
        input.request.clientId,
      )
      .toArray()[0];
    // prompt=consent asks even a first-party client's user (OpenID Connect Core §3.1.2.1).
    const remembered =
      input.prompt !== "consent" &&
      (input.firstParty || (consented !== undefined && consentCovers(consented, input.request.scopes, input.request.resources)));
    if (remembered) {
      this.p.ctx.storage.transactionSync(() => this.insertCode(input.code, input.request, session));
      void this.p.schedulePurge();
      return { status: "code", code: input.code.code };
    }
    if (input.prompt === "none") return { status: "consent_required_error" };
    const now = Date.now();
    this.p.ctx.storage.transactionSync(() => {
      sql.exec("DELETE FROM oauth_requests WHERE expires_at <= ?", now);
      sql.exec(
        "INSERT INTO oauth_requests (id, session_id, request, expires_at) VALUES (?, ?, ?, ?)",
        input.requestId,
        input.session.id,
        JSON.stringify(input.request),
        now + OAUTH_LIMITS.requestMs,
      );
      sql.exec(
        "DELETE FROM oauth_requests WHERE id NOT IN (SELECT id FROM oauth_requests ORDER BY expires_at DESC LIMIT ?)",
        OAUTH_LIMITS.pendingRequests,
      );
    });
    void this.p.schedulePurge();
    return { status: "consent_required", requestId: input.requestId };
  }

  /** A waiting request, for the consent page; null when unknown or expired. */
  pendingRequest(requestId: string): AuthorizationRequest | null {
    if (this.p.schema.blank || this.p.state.isDeleted()) return null;
    const row = this.p.state.sql
      .exec<{ request: string; expires_at: number }>("SELECT request, expires_at FROM oauth_requests WHERE id = ?", requestId)
      .toArray()[0];
    if (row === undefined || row.expires_at <= Date.now()) return null;
    return JSON.parse(row.request) as AuthorizationRequest;
  }

  /** The user's answer to a waiting request (used once): a code, or a denial for the redirect. */
  decide(requestId: string, allow: boolean, session: AuthorizingSession, code: NewCode): Decision | { status: "aal_required" } {
    const request = this.pendingRequest(requestId);
    const live = this.liveSession(session.id);
    // Only the session that started the request answers it (another of the user's sessions sees it as unknown).
    const startedBy = this.p.state.sql
      .exec<{ session_id: string }>("SELECT session_id FROM oauth_requests WHERE id = ?", requestId)
      .toArray()[0]?.session_id;
    if (request === null || live === null || startedBy !== session.id) return { status: "unknown" };
    if (allow && request.aalRequired > live.assurance.aal) return { status: "aal_required" };
    const { sql } = this.p.state;
    this.p.ctx.storage.transactionSync(() => {
      sql.exec("DELETE FROM oauth_requests WHERE id = ?", requestId);
      if (!allow) return;
      this.insertCode(code, request, live);
      // Who authorized the client lands in D1 from the consent on, not only from a grant:
      // an admin disabling the client then reaches this user's consent and code too.
      const user = this.p.state.loadUser();
      if (user !== null)
        queueRecord(sql, { kind: "authorization", userId: user.id, clientId: request.clientId, at: new Date().toISOString() });
      // A device's consent is asked every time (the user code is what a phisher sends): nothing to remember.
      if (request.device !== undefined) return;
      const known = sql
        .exec<{ scopes: string; resources: string }>("SELECT scopes, resources FROM oauth_consents WHERE client_id = ?", request.clientId)
        .toArray()[0];
      const merged = mergeConsent(known, request.scopes, request.resources);
      sql.exec(
        "INSERT OR REPLACE INTO oauth_consents (client_id, scopes, resources, granted_at) VALUES (?, ?, ?, ?)",
        request.clientId,
        merged.scopes,
        merged.resources,
        Date.now(),
      );
      sql.exec(
        "DELETE FROM oauth_consents WHERE client_id NOT IN (SELECT client_id FROM oauth_consents ORDER BY granted_at DESC LIMIT ?)",
        OAUTH_LIMITS.consents,
      );
    });
    // Sent after the answer; one that fails stays queued for the alarm.
    if (allow) this.p.ctx.waitUntil(this.p.sendAudit().catch(() => undefined));
    void this.p.schedulePurge();
    return allow ? { status: "code", code: code.code, request } : { status: "denied", request };
  }

  private insertCode(code: NewCode, request: AuthorizationRequest, session: AuthorizingSession): void {
    const now = Date.now();
    this.p.state.sql.exec(
      `INSERT INTO oauth_codes (id, secret_hash, session_id, request, aal, amr, auth_time, epoch, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      code.id,
      code.secretHash,
      session.id,
      JSON.stringify(request),
      session.assurance.aal,
      JSON.stringify(session.assurance.amr),
      session.assurance.authTime,
      this.p.state.epoch(),
      now,
      now + OAUTH_LIMITS.codeMs,
    );
  }

  /**
   * The authorizing session when it is the user's own sign-in (not a grant), alive, and
   * the account may authorize; with its assurance as this object knows it now (a step-up
   * included), which is what the code carries, never the caller's copy.
   */
  private liveSession(sessionId: string): AuthorizingSession | null {
    if (this.p.schema.blank) return null;
    const { state } = this.p;
    const row = state.row(sessionId);
    if (row === null || row.kind === "oauth" || state.isDeleted() || state.isDisabled() || state.loadUser() === null) return null;
    if (isExpired(times(row), Date.now())) return null;
    const { aal, amr, authTime, reauthAt } = assurance(row);
    return { id: row.id, assurance: { aal, amr, authTime: Math.max(authTime, reauthAt ?? 0) } };
  }
}
