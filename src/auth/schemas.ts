import { z } from "zod";

export const introspectBody = z.object({
  /** Any string: a malformed token is `{active: false}`, not a 422 (contract v1.2). */
  token: z.string().optional(),
  /** 2: a credential signed in with one factor answers `{active: false, reason: "aal_required"}`. */
  require_aal: z.union([z.literal(1), z.literal(2)]).optional(),
});
