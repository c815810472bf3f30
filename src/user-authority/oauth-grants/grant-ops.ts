// The OAuth grants of a user's authority: redeeming a code into a grant (a session row
// of kind "oauth" whose refresh token rotates like a token family's), rotating, revoking,
// listing, and the authoritative standing of a grant's access token. Each decision is
// one synchronous transaction, in order with every other decision about the user
// (sign-ins, logout-all, password changes, disable, deletion): a code redeemed twice or
// a refresh racing a revocation has one outcome.
import { constantTimeEqual, randomToken } from "../../lib/crypto";
import type { AuthorityParts } from "../parts";
import { isExpired, type AuthMethod } from "../session-policy";
import { times } from "../rows";
import { type AuditEntry, queueAudit, queueRecord } from "../audit-outbox";
import { endGrants } from "./grant-end";
import { grantRow, grantStatus, listGrants } from "./grant-reads";
import { type Narrowing, narrowGrant } from "./narrowing";
import { OAUTH_LIMITS, forgetClient } from "./purge";
import type { CodeRow, GrantListRow } from "./rows";
import type { AuthorizationRequest, GrantStatus, GrantView, Redemption } from "./types";

export interface GrantLifetimes {
  accessTtlSeconds: number;
  refreshTtlMs: number;
}

export class OAuthGrantOps {
  constructor(private readonly p: AuthorityParts) {}

  /**
   * Redeems a code (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3): once, by the client it was issued
   * to, with the redirect URI and PKCE verifier of its request, while the session that
   * consented is alive and no credential change came after it. A second use ends the
   * grant its first use made (§4.1.2).
   */
  async redeem(
    codeId: string,
    secretHash: string,
    check: { clientId: string; redirectUri: string | null; challengeOfVerifier: string },
    grant: {
      id: string;
      refresh: { secretHash: string; token: string };
      /** The client registered the refresh_token grant; else a refresh token only with offline_access. */
      refreshAlways: boolean;
      /** The grant's secret when it has no refresh token (never handed out). */
      unusedSecretHash: string;
    },
    lifetimes: GrantLifetimes,
    asked: Narrowing,
  ): Promise<Redemption> {
    const invalid = (detail: string): Redemption => ({ status: "invalid_grant", detail });
    if (this.p.schema.blank) return invalid("Unknown or expired authorization code");
    const { state } = this.p;
    const row = state.sql.exec<CodeRow>("SELECT * FROM oauth_codes WHERE id = ?", codeId).toArray()[0];
    const now = Date.now();
    if (row === undefined || !constantTimeEqual(row.secret_hash, secretHash)) return invalid("Unknown or expired authorization code");
    if (row.used_at !== null) {
      // §4.1.2: the code was stolen or replayed; what its first use issued ends now.
      if (row.grant_id !== null && state.row(row.grant_id) !== null) await this.p.end([row.grant_id]);
      return invalid("The authorization code was already used");
    }
    if (row.expires_at <= now) return invalid("Unknown or expired authorization code");
    const request = JSON.parse(row.request) as AuthorizationRequest;
    if (request.clientId !== check.clientId) return invalid("The code was issued to another client");
    // OAuth 2.1 §4.1.3: redirect_uri must match when the request carried one (it always does here).
    if ((check.redirectUri !== null || request.redirectUriSent === true) && check.redirectUri !== request.redirectUri) {
      return invalid("redirect_uri does not match the authorization request");
    }
    if (!constantTimeEqual(check.challengeOfVerifier, request.codeChallenge)) {
      return invalid("code_verifier does not match the code_challenge");
    }
    const session = state.row(row.session_id);
    const user = state.loadUser();
    if (session === null || user === null || state.isDisabled() || state.isDeleted()) {
      return invalid("The authorization is no longer valid");
    }
    if (row.epoch < state.epoch() || row.created_at < state.notBefore()) return invalid("The authorization is no longer valid");

    // A narrowing the grant cannot give is refused before the code is used (the client may try again).
    const narrowed = narrowGrant(request, asked);
    if (!narrowed.ok) return { status: narrowed.error, detail: narrowed.detail };
    const withRefresh = grant.refreshAlways || request.scopes.includes("offline_access");
    const idleMs = withRefresh ? lifetimes.refreshTtlMs : lifetimes.accessTtlSeconds * 1000;
    const absoluteMs = withRefresh ? OAUTH_LIMITS.grantAbsoluteMs : idleMs;
    const amr = JSON.parse(row.amr) as AuthMethod[];
    const ended = this.p.ctx.storage.transactionSync(() => {
      state.sql.exec("UPDATE oauth_codes SET used_at = ?, grant_id = ? WHERE id = ?", now, grant.id, codeId);
      state.sql.exec(
        `INSERT INTO sessions (id, kind, secret_hash, csrf_hash, created_at, last_activity, cached_activity, idle_ms,
           absolute_expires_at, ip, user_agent, browser, os, device_type, country, city, epoch, aal, amr)
         SELECT ?, 'oauth', ?, NULL, ?, ?, ?, ?, ?, ip, user_agent, browser, os, device_type, country, city, ?, ?, ?
         FROM sessions WHERE id = ?`,
        grant.id,
        withRefresh ? grant.refresh.secretHash : grant.unusedSecretHash,
        row.auth_time,
        now,
        now,
        idleMs,
        now + absoluteMs,
        state.epoch(),
        row.aal,
        row.amr,
        row.session_id,
      );
      state.sql.exec(
        "INSERT INTO oauth_grants (id, client_id, client_name, scopes, resources, refresh, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        grant.id,
        request.clientId,
        request.clientName,
        JSON.stringify(request.scopes),
        JSON.stringify(request.resources),
        withRefresh ? 1 : 0,
        now,
      );
      // A client's own grants are capped first, so one client cannot push the user's other apps out.
      const ofClient = state.sql
        .exec<{ id: string }>(
          "SELECT g.id FROM oauth_grants g JOIN sessions s ON s.id = g.id WHERE g.client_id = ? ORDER BY s.last_activity DESC LIMIT -1 OFFSET ?",
          request.clientId,
          OAUTH_LIMITS.grantsPerClient,
        )
        .toArray()
        .map((entry) => entry.id);
      state.endSessions(ofClient);
      const overUserCap = state.sql
        .exec<{ id: string }>(
          "SELECT g.id FROM oauth_grants g JOIN sessions s ON s.id = g.id ORDER BY s.last_activity DESC LIMIT -1 OFFSET ?",
          OAUTH_LIMITS.grants,
        )
        .toArray()
        .map((entry) => entry.id);
      state.endSessions(overUserCap);
      const surplus = [...ofClient, ...overUserCap];
      // The grant's event and the record of who authorized the client land with it (audit-outbox.ts).
      queueAudit(state.sql, {
        userId: user.id,
        type: "oauth_grant_created",
        client: null,
        detail: { grant_id: grant.id, client_id: request.clientId },
      });
      queueRecord(state.sql, { kind: "authorization", userId: user.id, clientId: request.clientId, at: new Date(now).toISOString() });
      return surplus;
    });
    // Sent after the answer; one that fails stays queued for the alarm (booked below).
    this.p.ctx.waitUntil(this.p.sendAudit().catch(() => undefined));
    // The new grant's id reaches the principal record (read paths check it there); the
    // grants it pushed out are revocations, written before the answer.
    const written = this.p.cache.sync([grant.id, ...ended]);
    if (ended.length > 0) await written;
    else this.p.ctx.waitUntil(written.catch(() => undefined));
    await this.p.schedulePurge();
    return {
      status: "issued",
      tokens: {
        grantId: grant.id,
        user,
        clientId: request.clientId,
        scopes: narrowed.scopes,
        resources: narrowed.resources,
        nonce: request.nonce,
        assurance: { aal: row.aal === 2 ? 2 : 1, amr, authTime: row.auth_time },
        refreshToken: withRefresh ? grant.refresh.token : null,
        refreshExpiresIn: withRefresh ? Math.floor(lifetimes.refreshTtlMs / 1000) : null,
        issuedAt: Math.floor(now / 1000),
        jti: randomToken(16),
      },
    };
  }

  /** Rotates a grant's refresh token (refresh.ts: the replay window and reuse detection), for the client it belongs to. */
  async rotate(
    grantId: string,
    presentedHash: string,
    candidate: { secretHash: string; refreshToken: string },
    graceMs: number,
    clientId: string,
    asked: Narrowing,
  ): Promise<Redemption | { status: "reused" }> {
    const invalid: Redemption = { status: "invalid_grant", detail: "Invalid refresh token" };
    if (this.p.schema.blank) return invalid;
    const facts = grantRow(this.p, grantId);
    if (facts === null || facts.user === null || facts.client_id !== clientId || facts.disabled) return invalid;
    const { user } = facts;
    // A narrowing the grant cannot give is refused before the token rotates (RFC 6749 §6).
    const narrowed = narrowGrant(
      { scopes: JSON.parse(facts.scopes) as string[], resources: JSON.parse(facts.resources) as string[] },
      asked,
    );
    if (!narrowed.ok) return { status: narrowed.error, detail: narrowed.detail };
    const rotation = await this.p.refresh.rotate(grantId, presentedHash, candidate, graceMs, "oauth", facts);
    if (rotation.status === "reused") return { status: "reused" };
    if (rotation.status !== "rotated") return invalid;
    const { family } = rotation;
    return {
      status: "issued",
      tokens: {
        grantId,
        user,
        clientId,
        scopes: narrowed.scopes,
        resources: narrowed.resources,
        nonce: null,
        assurance: { aal: family.assurance.aal, amr: family.assurance.amr, authTime: family.assurance.authTime },
        refreshToken: family.refreshToken,
        refreshExpiresIn: family.refreshExpiresIn,
        issuedAt: family.issuedAt,
        jti: family.jti,
      },
    };
  }

  /**
   * Ends a grant with every token of it; false when the user holds no such grant. Asked
   * by a client (RFC 7009), only the client it was issued to may end it, with one of its
   * tokens: a refresh token (current, or rotated out before) or an access token (whose
   * signature the caller checked: `presentedHash` null).
   */
  async revoke(grantId: string, byClient?: { clientId: string; presentedHash: string | null }, adminEntry?: AuditEntry): Promise<boolean> {
    if (this.p.schema.blank) return false;
    const facts = grantRow(this.p, grantId);
    if (facts === null) return false;
    if (byClient !== undefined) {
      if (facts.client_id !== byClient.clientId) return false;
      if (byClient.presentedHash !== null && !this.p.refresh.belongsTo(grantId, byClient.presentedHash, "oauth")) return false;
    }
    const by = byClient !== undefined ? "client" : adminEntry !== undefined ? "admin" : "user";
    await endGrants(this.p, [grantId], facts.client_id, by, adminEntry);
    return true;
  }

  /** Ends every grant the user gave this client (an admin disabled or deleted it). */
  async revokeClient(clientId: string): Promise<number> {
    if (this.p.schema.blank) return 0;
    const ids = this.p.state.sql
      .exec<{ id: string }>("SELECT id FROM oauth_grants WHERE client_id = ?", clientId)
      .toArray()
      .map((row) => row.id);
    this.p.ctx.storage.transactionSync(() => forgetClient(this.p.state.sql, clientId));
    if (ids.length > 0) await endGrants(this.p, ids, clientId, "client_disabled");
    return ids.length;
  }

  list(): GrantView[] {
    return listGrants(this.p);
  }

  status(grantId: string, issuedAtSeconds: number): GrantStatus {
    return grantStatus(this.p, grantId, issuedAtSeconds);
  }
}
