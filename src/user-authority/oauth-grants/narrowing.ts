// What a token request may narrow a grant to (RFC 6749 §6: a subset of its scopes; RFC
// 8707 §2.2: a subset of its resources). A grant given no resource holds exactly the
// issuer's own (the audience its tokens carry): asking for any other is refused, so a
// client cannot reach a resource the user never saw on the consent page. Checked inside
// the authority before anything changes, so a refused narrowing rotates nothing.

/** The scopes and resources a token request asked for (null: as the grant holds). */
export interface Narrowing {
  scopes: string[] | null;
  resources: string[] | null;
  /** The issuer's own resource, normalized: what a grant with no resource holds. */
  ownResource: string;
}

export type Narrowed =
  { ok: true; scopes: string[]; resources: string[] } | { ok: false; error: "invalid_scope" | "invalid_target"; detail: string };

export function narrowGrant(grant: { scopes: string[]; resources: string[] }, asked: Narrowing): Narrowed {
  const scopes = asked.scopes ?? grant.scopes;
  if (!scopes.every((scope) => grant.scopes.includes(scope)))
    return { ok: false, error: "invalid_scope", detail: "The grant does not hold this scope" };
  const held = grant.resources.length === 0 ? [asked.ownResource] : grant.resources;
  if (asked.resources !== null && !asked.resources.every((resource) => held.includes(resource))) {
    return { ok: false, error: "invalid_target", detail: "The grant was not given this resource" };
  }
  // A grant given no resource keeps issuing tokens whose audience is the issuer.
  return { ok: true, scopes, resources: asked.resources !== null && grant.resources.length > 0 ? asked.resources : grant.resources };
}
