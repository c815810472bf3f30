import { z } from "zod";
import { presentedPasswordField } from "../users/schemas";

export const grantTypeBody = z.object({
  grant_type: z.enum(["password", "authorization_code"]).optional().default("password"),
});

/** OAuth2 password grant; `username` may hold an email, as form clients only have that field. */
export const passwordGrantBody = z
  .object({
    username: z.string().trim().min(1).max(254).optional(),
    email: z.string().trim().min(1).max(254).optional(),
    password: presentedPasswordField,
  })
  .refine((body) => body.username !== undefined || body.email !== undefined, {
    message: "Send username or email",
    path: ["username"],
  });

export const refreshBody = z.object({
  refresh_token: z.string().min(1).max(512).optional(),
});

export const revokeBody = z.object({
  token: z.string().min(1).max(4096),
  token_type_hint: z.enum(["access_token", "refresh_token"]).optional(),
});
