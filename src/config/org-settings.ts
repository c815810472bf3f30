// Organization settings: the seat limit and how long an invitation's link lives.
import { type RawSettings, readInt, readRaw } from "./parse";

export interface OrgSettings {
  /** ORG_MAX_MEMBERS: members plus pending invitations of one organization; null: no limit (the default). */
  maxMembers: number | null;
  /** ORG_INVITATION_DAYS: how long a mailed invitation can be accepted (7). */
  invitationTtlMs: number;
}

export function readOrgSettings(raw: RawSettings): OrgSettings {
  return {
    maxMembers: readRaw(raw, "ORG_MAX_MEMBERS") === undefined ? null : readInt(raw, "ORG_MAX_MEMBERS", 0, { min: 1, max: 1_000_000 }),
    invitationTtlMs: readInt(raw, "ORG_INVITATION_DAYS", 7, { min: 1, max: 90 }) * 86_400_000,
  };
}
