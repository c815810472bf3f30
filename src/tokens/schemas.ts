import { z } from "zod";
import { loginIdentifierField, presentedPasswordField } from "../users/schemas";

export const grantTypeBody = z.object({
  grant_type: z.enum(["password", "authorization_code"]).optional().default("password"),
});

/** OAuth2 password grant; `username` may hold an email, as form clients only have that field. */
export const passwordGrantBody = z
  .object({
    username: loginIdentifierField.optional(),
    email: loginIdentifierField.optional(),
    password: presentedPasswordField,
    /** The organization the new family acts in (contract v1.2); the user must be a member (403 not_a_member). */
    org_id: z.string().max(100).optional(),
  })
  .refine((body) => body.username !== undefined || body.email !== undefined, {
    message: "Send username or email",
    path: ["username"],
  });

// Presented credentials are any string here: a malformed one is refused by the credential
// check as what it is (401 invalid_token, or RFC 7009's 200), never as a 422 (contract v1.2).
export const refreshBody = z.object({
  refresh_token: z.string().optional(),
});

export const revokeBody = z.object({
  token: z.string(),
  token_type_hint: z.enum(["access_token", "refresh_token"]).optional(),
});
