// New organization ids, slugs made from names, and invitation tokens.
import { randomBytes, randomToken } from "../lib/crypto";
import { isOrgId } from "./org-names";

export { SLUG, isOrgId } from "./org-names";

export function newOrgId(): string {
  return `org_${Array.from(randomBytes(12), (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

/** A slug made from a name: lower-case letters and digits joined by single hyphens. */
export function slugFrom(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return slug === "" ? "org" : slug;
}

/** An invitation token names its organization (so accepting it reaches the right authority) and carries 256 random bits. */
export function newInvitationToken(orgId: string): string {
  return `${orgId}.${randomToken(32)}`;
}

export function invitationOrg(token: string): string | null {
  const dot = token.indexOf(".");
  if (dot < 0 || token.length > 200) return null;
  const orgId = token.slice(0, dot);
  return isOrgId(orgId) && /^[A-Za-z0-9_-]{43}$/.test(token.slice(dot + 1)) ? orgId : null;
}
