// Bodies of the OAuth server's JSON routes (the consent page's, /device's).
import { z } from "zod";

export const decisionBody = z.object({ allow: z.boolean() });

export const deviceLookupBody = z.object({ user_code: z.string().min(1).max(32) });

/** Ids the routes take from the path: 48 hex digits (the user's 32, then 16 of their own). */
export const GRANT_OR_REQUEST_ID = /^[0-9a-f]{48}$/;
