// One Durable Object per device authorization (RFC 8628), named by its user code: the
// one place that decides, in order, whether the code is still waiting, approved, denied
// or expired, and how fast the device may poll. Its storage is deleted by the alarm when
// the code expires, so nothing outlives it.
import { DurableObject } from "cloudflare:workers";
import { constantTimeEqual } from "../../lib/crypto";
import type { AuthorizationRequest } from "../../user-authority/oauth-grants/types";

export interface DeviceRecord {
  deviceSecretHash: string;
  /** The request as consent shows it; its code challenge is the device code's (the poll proves it). */
  request: AuthorizationRequest;
  expiresAt: number;
  /** Seconds between polls (slow_down adds 5, RFC 8628 §3.5). */
  interval: number;
  lastPollAt: number | null;
  status: "pending" | "approved" | "denied" | "consumed";
  /** Set on approval: the user and the authorization code the poll redeems. */
  approval: { userId: string; code: string } | null;
}

export type Poll =
  | { status: "authorization_pending" | "slow_down" | "expired_token" | "access_denied" | "invalid" }
  | { status: "approved"; userId: string; code: string };

export class DeviceAuthorization extends DurableObject<Env> {
  /** Stores a new device authorization; false when this user code is taken (the caller draws another). */
  async create(record: DeviceRecord): Promise<boolean> {
    const known = await this.current();
    if (known !== null) return false;
    await this.ctx.storage.put("record", record);
    await this.ctx.storage.setAlarm(record.expiresAt);
    return true;
  }

  /** The waiting request a user's code names, for the consent page; null when there is none. */
  async lookup(): Promise<AuthorizationRequest | null> {
    const record = await this.current();
    return record?.status === "pending" ? record.request : null;
  }

  /** The user's decision; false when the code no longer waits for one. */
  async decide(decision: { approve: true; userId: string; code: string } | { approve: false }): Promise<boolean> {
    const record = await this.current();
    if (record === null || record.status !== "pending") return false;
    record.status = decision.approve ? "approved" : "denied";
    record.approval = decision.approve ? { userId: decision.userId, code: decision.code } : null;
    await this.ctx.storage.put("record", record);
    return true;
  }

  /** A device's poll (RFC 8628 §3.4, §3.5): the approval is handed out once. */
  async poll(deviceSecretHash: string, clientId: string): Promise<Poll> {
    const now = Date.now();
    const record = await this.ctx.storage.get<DeviceRecord>("record");
    if (record === undefined || !constantTimeEqual(record.deviceSecretHash, deviceSecretHash) || record.request.clientId !== clientId) {
      return { status: "invalid" };
    }
    if (record.expiresAt <= now) return { status: "expired_token" };
    const early = record.lastPollAt !== null && now - record.lastPollAt < record.interval * 1000;
    record.lastPollAt = now;
    if (early && record.status === "pending") {
      record.interval += 5;
      await this.ctx.storage.put("record", record);
      return { status: "slow_down" };
    }
    let answer: Poll;
    if (record.status === "pending") answer = { status: "authorization_pending" };
    else if (record.status === "denied") answer = { status: "access_denied" };
    else if (record.status === "approved" && record.approval !== null) {
      answer = { status: "approved", ...record.approval };
      record.status = "consumed";
      record.approval = null;
    } else answer = { status: "invalid" };
    await this.ctx.storage.put("record", record);
    return answer;
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }

  private async current(): Promise<DeviceRecord | null> {
    const record = await this.ctx.storage.get<DeviceRecord>("record");
    if (record === undefined) return null;
    return record.expiresAt > Date.now() ? record : null;
  }
}
