// The bodies of the admin's OAuth client routes (zod only: the OpenAPI document reads them in Node too).
import { z } from "zod";
import { GRANT_TYPES, type GrantType } from "./client-record";

const uri = z.string().min(1).max(2000);
const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/);
const common = {
  name: z.string().trim().min(1).max(200),
  redirect_uris: z.array(uri).max(20),
  grant_types: z
    .array(z.enum(GRANT_TYPES as [GrantType, ...GrantType[]]))
    .min(1)
    .max(4),
  scopes: z.array(scopeToken).max(50).nullable(),
  resources: z.array(uri).max(20).nullable(),
  first_party: z.boolean(),
  require_aal: z.union([z.literal(1), z.literal(2)]),
  introspection: z.boolean(),
  disabled: z.boolean(),
  id_token_signed_response_alg: z.enum(["RS256", "ES256", "EdDSA"]),
};

export const createClientBody = z.object({
  ...common,
  type: z.enum(["public", "confidential"]),
  grant_types: common.grant_types.default(["authorization_code", "refresh_token"]),
  redirect_uris: common.redirect_uris.default([]),
  scopes: common.scopes.default(null),
  resources: common.resources.default(null),
  first_party: common.first_party.default(false),
  require_aal: common.require_aal.default(1),
  introspection: common.introspection.default(false),
  disabled: common.disabled.default(false),
  id_token_signed_response_alg: common.id_token_signed_response_alg.default("RS256"),
});

export const updateClientBody = z.object(common).partial().extend({ rotate_secret: z.boolean().optional() });
