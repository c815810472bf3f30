// Response schemas of the OAuth server's routes (oauth-server-routes.ts). Protocol
// documents are loose objects: their RFCs allow members beyond those listed.
import { z } from "zod";

export const serverMetadata = z.looseObject({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  jwks_uri: z.string(),
});
export const resourceMetadata = z.looseObject({ resource: z.string(), authorization_servers: z.array(z.string()) });
export const tokenResponse = z.looseObject({
  access_token: z.string(),
  token_type: z.literal("Bearer"),
  expires_in: z.number(),
  scope: z.string(),
  refresh_token: z.string().optional(),
  id_token: z.string().optional(),
});
export const deviceResponse = z.object({
  device_code: z.string(),
  user_code: z.string(),
  verification_uri: z.string(),
  verification_uri_complete: z.string(),
  expires_in: z.number(),
  interval: z.number(),
});
export const introspectionResponse = z.looseObject({ active: z.boolean() });
export const registrationResponse = z.looseObject({
  client_id: z.string(),
  client_id_issued_at: z.number(),
  redirect_uris: z.array(z.string()),
});
export const userInfoResponse = z.looseObject({ sub: z.string() });
export const oauthError = z.object({ error: z.string(), error_description: z.string().optional() });

export const requestView = z.object({
  client: z.object({ client_id: z.string(), name: z.string(), verified: z.boolean(), redirect_host: z.string().nullable() }),
  scopes: z.array(z.string()),
  resources: z.array(z.string()),
  aal_required: z.union([z.literal(1), z.literal(2)]),
});
export const decisionResponse = z.object({ redirect_to: z.string().nullable() });
export const lookupResponse = z.object({ request: z.string() });
export const connectedAppsResponse = z.object({
  items: z.array(
    z.object({
      grant_id: z.string(),
      client_id: z.string(),
      client_name: z.string(),
      scopes: z.array(z.string()),
      resources: z.array(z.string()),
      created_at: z.string(),
      last_used_at: z.string(),
    }),
  ),
});
export const clientView = z.looseObject({
  client_id: z.string(),
  name: z.string(),
  source: z.string(),
  type: z.enum(["public", "confidential"]),
  redirect_uris: z.array(z.string()),
  grant_types: z.array(z.string()),
  disabled: z.boolean(),
  client_secret: z.string().optional(),
});
export const clientListResponse = z.object({ items: z.array(clientView), next_cursor: z.string().nullable() });
