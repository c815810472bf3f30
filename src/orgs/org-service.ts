// Between the organization routes and the organization authorities: which organization a
// path names, the caller as an actor, and the authority's refusals as the contract's errors.
import { ApiError } from "../http/errors";
import type { Services } from "../services/services";
import type { Actor, OrgAuthority, OrgView, Refusal } from "./authority/org-authority";
import { SLUG, isOrgId } from "./org-ids";

type OrgDeps = Pick<Services, "d1" | "orgs">;

/** The id an `{org}` path segment names (an id, or a slug looked up in D1); null when it names none. */
export async function orgIdOf(deps: OrgDeps, ref: string): Promise<string | null> {
  if (isOrgId(ref)) return ref;
  if (!SLUG.test(ref)) return null;
  const row = await deps.d1.prepare("SELECT id FROM organizations WHERE slug = ?").bind(ref).first<{ id: string }>();
  return row?.id ?? null;
}

export function notFound(): ApiError {
  return new ApiError("org_not_found", "Organization not found");
}

/** The authority of the organization a path names; 404 org_not_found when it names none. */
export async function authorityOf(deps: OrgDeps, ref: string): Promise<DurableObjectStub<OrgAuthority>> {
  return (await orgOf(deps, ref)).stub;
}

/** The id and the authority of the organization a path names; 404 org_not_found when it names none. */
export async function orgOf(deps: OrgDeps, ref: string): Promise<{ id: string; stub: DurableObjectStub<OrgAuthority> }> {
  const id = await orgIdOf(deps, ref);
  if (id === null) throw notFound();
  return { id, stub: deps.orgs.getByName(id) };
}

export function actorOf(services: Pick<Services, "client">, userId: string): Actor {
  return { userId, client: services.client };
}

/** The contract's error for a refusal. */
export function refusalError(refusal: Refusal): ApiError {
  switch (refusal.status) {
    case "not_found":
      return notFound();
    case "no_member":
      return new ApiError("not_found", "Not found");
    case "forbidden":
      return new ApiError("forbidden", refusal.detail);
    case "last_owner":
      return new ApiError("last_owner", "An organization keeps at least one owner");
    case "seat_limit":
      return new ApiError("seat_limit_reached", "Every seat of this organization is taken (members and pending invitations)");
    case "conflict":
      return new ApiError("conflict", refusal.detail);
    case "invalid":
      return new ApiError("invalid_input", refusal.detail);
    case "invitation_invalid":
      return new ApiError("invitation_invalid", "This invitation is not valid (used, withdrawn or expired)");
    case "wrong_address":
      return new ApiError("forbidden", "This invitation is for another email address");
  }
}

/** The outcome's value, or its refusal thrown as the contract's error. */
export function settled<O extends { status: string }>(outcome: O): Extract<O, { status: "ok" }> {
  if (outcome.status === "ok") return outcome as Extract<O, { status: "ok" }>;
  throw refusalError(outcome as unknown as Refusal);
}

/** An organization as the API shows it: `{id, name, slug, created_at, role}`. */
export function orgJson(org: OrgView): { id: string; name: string; slug: string; created_at: string; role: string } {
  return { id: org.id, name: org.name, slug: org.slug, created_at: org.created_at, role: org.role };
}

/** The signed-in user's organizations, from D1's membership records. */
export async function listUserOrgs(deps: OrgDeps, userId: string): Promise<Array<ReturnType<typeof orgJson>>> {
  const { results } = await deps.d1
    .prepare(
      `SELECT o.id, o.name, o.slug, o.created_at, m.role FROM org_members m JOIN organizations o ON o.id = m.org_id
       WHERE m.user_id = ? ORDER BY m.joined_at, o.id LIMIT 500`,
    )
    .bind(userId)
    .all<{ id: string; name: string; slug: string; created_at: string; role: string }>();
  return results.map((row) => ({ id: row.id, name: row.name, slug: row.slug, created_at: row.created_at, role: row.role }));
}

/** Each member's public profile (id, email, name), read from D1 for a page of members. */
export async function profiles(deps: OrgDeps, ids: string[]): Promise<Map<string, { id: string; email: string; name: string | null }>> {
  if (ids.length === 0) return new Map();
  const { results } = await deps.d1
    .prepare(`SELECT id, email, name FROM users WHERE id IN (${ids.map(() => "?").join(", ")})`)
    .bind(...ids)
    .all<{ id: string; email: string; name: string | null }>();
  return new Map(results.map((row) => [row.id, row]));
}
