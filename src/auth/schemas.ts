import { z } from "zod";

export const introspectBody = z.object({
  token: z.string().min(1).max(4096).optional(),
  /** 2: a credential signed in with one factor answers `{active: false, reason: "aal_required"}`. */
  require_aal: z.union([z.literal(1), z.literal(2)]).optional(),
});
