// Refresh-token rotation inside the user's authority. The decision itself is the pure
// `decideRotation` (rotation.ts); this file reads what it needs, applies the verdict in
// one transaction, and keeps the in-memory replay memo (no token is stored at rest).
import { constantTimeEqual, randomToken } from "../lib/crypto";
import { isExpired } from "./session-policy";
import type { CacheWriter } from "./cache-writer";
import { decideRotation } from "./rotation";
import { type RotationRow, assurance, times } from "./rows";
import type { AuthorityState } from "./state";
import type { RotatedFamily, Rotation } from "./types";

interface RotationMemo {
  presentedHash: string;
  family: RotatedFamily;
  until: number;
}

/** The rows whose secret is a rotating refresh token: token families, and OAuth grants. */
export type FamilyKind = "token" | "oauth";

/** Rotated-out hashes kept per token family (reuse detection), and the count that trims them. */
export const HISTORY_KEPT = 100;
const HISTORY_TRIM_AT = 128;

export class RefreshTokens {
  /**
   * The last rotation of each family, so a second refresh with the same token inside
   * the grace period gets the same pair.
   */
  private readonly memo = new Map<string, RotationMemo>();
  /**
   * Rotated-out hashes stored per family: counted on a family's first rotation in this
   * object's life, then kept up to date here, so a rotation reads (and is billed for) no
   * count of up to HISTORY_TRIM_AT rows.
   */
  private readonly historySizes = new Map<string, number>();

  constructor(
    private readonly state: AuthorityState,
    private readonly storage: DurableObjectStorage,
    private readonly cache: CacheWriter,
  ) {}

  /** The family ended: a replay of its last rotation must not answer any more. */
  forget(familyId: string): void {
    this.memo.delete(familyId);
    this.historySizes.delete(familyId);
  }

  clear(): void {
    this.memo.clear();
    this.historySizes.clear();
  }

  /**
   * Rotates a family's refresh token to `candidate`. A token already rotated out is
   * reuse: inside the grace period the same pair as the first time is returned (two
   * tabs, an app retry); after it, the whole family is revoked.
   */
  async rotate(
    familyId: string,
    presentedHash: string,
    candidate: { secretHash: string; refreshToken: string },
    graceMs: number,
    kind: FamilyKind = "token",
    /** The family's row when the caller read it already (a grant's, with its OAuth facts). */
    row: RotationRow | null = this.state.rotationRow(familyId),
  ): Promise<Rotation> {
    const { state } = this;
    const now = Date.now();
    if (row !== null && row.kind === kind && isExpired(times(row), now)) {
      this.storage.transactionSync(() => state.endSessions([familyId]));
      await this.cache.sync([familyId]);
      return { status: "invalid" };
    }
    const live = row !== null && row.kind === kind ? row : null;
    // The history is read only for a token that is not the current one (the rare case).
    const current = live !== null && constantTimeEqual(live.secret_hash, presentedHash);
    const rotatedOutAt = live === null || current ? null : this.rotatedOutAt(familyId, presentedHash);
    const memo = this.memo.get(familyId);
    const replayable = memo !== undefined && now < memo.until && constantTimeEqual(memo.presentedHash, presentedHash);
    const verdict = decideRotation({ currentHash: live?.secret_hash ?? null, presentedHash, rotatedOutAt, replayable, now, graceMs });

    if (verdict === "rotate" && live !== null) {
      // One statement: the schema's refresh_rotated trigger records the old hash in refresh_history.
      state.sql.exec("UPDATE sessions SET secret_hash = ?, last_activity = ? WHERE id = ?", candidate.secretHash, now, familyId);
      this.trimHistory(familyId);
      const family: RotatedFamily = {
        refreshToken: candidate.refreshToken,
        refreshExpiresIn: Math.max(0, Math.floor((live.absolute_expires_at - now) / 1000)),
        issuedAt: Math.floor(now / 1000),
        jti: randomToken(16),
        assurance: assurance(live),
        activeOrg: live.active_org,
      };
      this.memo.set(familyId, { presentedHash, family, until: now + graceMs });
      return { status: "rotated", family };
    }
    if (verdict === "replay" && memo !== undefined) return { status: "rotated", family: memo.family };
    if (verdict === "reuse") {
      this.storage.transactionSync(() => state.endSessions([familyId]));
      await this.cache.sync([familyId]);
      return { status: "reused" };
    }
    return { status: "invalid" };
  }

  /**
   * Keeps a family's history bounded: past HISTORY_TRIM_AT rotated-out hashes, only the
   * newest HISTORY_KEPT stay (a token rotated out longer ago than that is refused as
   * unknown, not detected as reuse). A write once every few dozen rotations.
   */
  private trimHistory(familyId: string): void {
    const { sql } = this.state;
    const known = this.historySizes.get(familyId);
    const size =
      known === undefined
        ? sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM refresh_history WHERE family_id = ?", familyId).one().n
        : known + 1;
    if (size <= HISTORY_TRIM_AT) {
      this.historySizes.set(familyId, size);
      return;
    }
    sql.exec(
      `DELETE FROM refresh_history WHERE family_id = ? AND secret_hash NOT IN
         (SELECT secret_hash FROM refresh_history WHERE family_id = ? ORDER BY rotated_at DESC LIMIT ?)`,
      familyId,
      familyId,
      HISTORY_KEPT,
    );
    this.historySizes.set(familyId, Math.min(size, HISTORY_KEPT));
  }

  /** Whether `presentedHash` is the family's refresh token, current or rotated out (RFC 7009 revocation). */
  belongsTo(familyId: string, presentedHash: string, kind: FamilyKind = "token"): boolean {
    const row = this.state.row(familyId);
    if (row === null || row.kind !== kind) return false;
    return constantTimeEqual(row.secret_hash, presentedHash) || this.rotatedOutAt(familyId, presentedHash) !== null;
  }

  private rotatedOutAt(familyId: string, presentedHash: string): number | null {
    return (
      this.state.sql
        .exec<{ rotated_at: number }>(
          "SELECT rotated_at FROM refresh_history WHERE secret_hash = ? AND family_id = ?",
          presentedHash,
          familyId,
        )
        .toArray()[0]?.rotated_at ?? null
    );
  }
}
