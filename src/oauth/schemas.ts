import { z } from "zod";

export const startQuery = z.object({
  redirect_to: z.string().max(2048).optional(),
  mode: z.enum(["redirect", "json"]).optional().default("redirect"),
  client: z.enum(["web", "mobile"]).optional().default("web"),
  redirect_uri: z.string().max(2048).optional(),
  code_challenge: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43,128}$/, "code_challenge must be an S256 challenge (base64url)")
    .optional(),
  code_challenge_method: z.literal("S256").optional(),
  app_state: z.string().max(512).optional(),
  link: z.enum(["true", "false"]).optional(),
});

export type StartQuery = z.infer<typeof startQuery>;

export const callbackQuery = z.object({
  code: z.string().max(4096).optional(),
  state: z.string().max(512).optional(),
  error: z.string().max(256).optional(),
});
export type CallbackQuery = z.infer<typeof callbackQuery>;

export const codeGrantBody = z.object({
  grant_type: z.literal("authorization_code"),
  /** Any string: a malformed code is 400 invalid_grant like an unknown one (contract v1.2). */
  code: z.string(),
  code_verifier: z.string().regex(/^[A-Za-z0-9._~-]{43,128}$/, "code_verifier must be 43 to 128 unreserved characters"),
  redirect_uri: z.string().min(1).max(2048),
});
