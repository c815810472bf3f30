import { z } from "zod";

export const introspectBody = z.object({ token: z.string().min(1).max(4096).optional() });
