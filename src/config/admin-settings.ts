// The administrators: who becomes one, what the admin routes ask of them, and the console.
import { emailKey } from "../lib/email-address";
import { type RawSettings, readBool, readRaw } from "./parse";

export interface AdminSettings {
  /** ADMIN_EMAILS, normalized: these addresses become superusers once verified. */
  emails: string[];
  /** ADMIN_REQUIRE_MFA (default true): admin routes need aal 2. */
  requireMfa: boolean;
  /** ADMIN_CONSOLE (default true): the Worker serves the console page at /admin. */
  console: boolean;
}

export function readAdminSettings(raw: RawSettings): AdminSettings {
  return {
    emails: (readRaw(raw, "ADMIN_EMAILS") ?? "")
      .split(",")
      .map((email) => emailKey(email))
      .filter((email) => email !== ""),
    requireMfa: readBool(raw, "ADMIN_REQUIRE_MFA", true),
    console: readBool(raw, "ADMIN_CONSOLE", true),
  };
}
