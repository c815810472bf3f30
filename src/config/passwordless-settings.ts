// Passwordless sign-in by mail (magic links and email codes) and the sign-up it may make.
import { type RawSettings, readBool, readInt } from "./parse";

export interface PasswordlessSettings {
  /** PASSWORDLESS_SIGNUP (default false): a link or code asked for an address with no account makes a verified one. */
  signup: boolean;
  /** MAGIC_LINK_SAME_BROWSER (default true): a cookie-transport link signs in only the browser that asked for it. */
  sameBrowser: boolean;
  /** MAGIC_LINK_MINUTES (15). */
  linkTtlMs: number;
  /** EMAIL_CODE_MINUTES (10). */
  codeTtlMs: number;
}

export function readPasswordlessSettings(raw: RawSettings): PasswordlessSettings {
  return {
    signup: readBool(raw, "PASSWORDLESS_SIGNUP", false),
    sameBrowser: readBool(raw, "MAGIC_LINK_SAME_BROWSER", true),
    linkTtlMs: readInt(raw, "MAGIC_LINK_MINUTES", 15, { min: 1, max: 1440 }) * 60_000,
    codeTtlMs: readInt(raw, "EMAIL_CODE_MINUTES", 10, { min: 1, max: 60 }) * 60_000,
  };
}
