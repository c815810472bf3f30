import { z } from "zod";
import { emailField } from "../users/schemas";

export const introspectBody = z.object({
  /** Any string: a malformed token is `{active: false}`, not a 422 (contract v1.2). */
  token: z.string().optional(),
  /** 2: a credential signed in with one factor answers `{active: false, reason: "aal_required"}`. */
  require_aal: z.union([z.literal(1), z.literal(2)]).optional(),
});

const transport = z.enum(["cookie", "token"]).optional();

/** POST /auth/magic-link and /auth/email-code. */
export const magicLinkBody = z.object({ email: emailField, redirect_to: z.string().max(2048).optional(), transport });
export const emailCodeBody = z.object({ email: emailField });

/** Any string: a malformed link or code is a 401, not a 422 (contract v1.2). */
export const magicLinkVerifyBody = z.object({ token: z.string().max(100_000) });
export const emailCodeVerifyBody = z.object({ email: emailField, code: z.string().max(1000), transport });
