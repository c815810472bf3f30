// The shapes of an organization's id and slug, with no dependencies (the OpenAPI document
// and the request schemas use them too). An id and a slug can never be confused: ids
// carry an underscore, slugs cannot.
export const ORG_ID = /^org_[0-9a-f]{24}$/;
export const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;

export function isOrgId(text: string): boolean {
  return ORG_ID.test(text);
}
