// Parsers for string settings. Each throws a SettingError naming the setting.

export class SettingError extends Error {
  readonly setting: string;

  constructor(setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.name = "SettingError";
    this.setting = setting;
  }
}

export type RawSettings = Record<string, unknown>;

/** The setting as a trimmed string, or undefined when unset or empty. */
export function readRaw(raw: RawSettings, name: string): string | undefined {
  const value = raw[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
    throw new SettingError(name, "must be a string");
  }
  const text = String(value).trim();
  return text === "" ? undefined : text;
}

export function readString(raw: RawSettings, name: string, fallback: string): string {
  return readRaw(raw, name) ?? fallback;
}

export function readInt(raw: RawSettings, name: string, fallback: number, range: { min: number; max: number }): number {
  const text = readRaw(raw, name);
  if (text === undefined) return fallback;
  if (!/^-?\d+$/.test(text)) throw new SettingError(name, `must be a whole number, got "${text}"`);
  const value = Number(text);
  if (value < range.min || value > range.max) {
    throw new SettingError(name, `must be between ${range.min} and ${range.max}, got ${value}`);
  }
  return value;
}

export function readBool(raw: RawSettings, name: string, fallback: boolean): boolean {
  const text = readRaw(raw, name);
  if (text === undefined) return fallback;
  const lower = text.toLowerCase();
  if (["true", "1", "yes", "on"].includes(lower)) return true;
  if (["false", "0", "no", "off"].includes(lower)) return false;
  throw new SettingError(name, `must be true or false, got "${text}"`);
}

export function readEnum<T extends string>(raw: RawSettings, name: string, fallback: T, allowed: readonly T[]): T {
  const text = readRaw(raw, name);
  if (text === undefined) return fallback;
  const match = allowed.find((option) => option.toLowerCase() === text.toLowerCase());
  if (match === undefined) throw new SettingError(name, `must be one of ${allowed.join(", ")}, got "${text}"`);
  return match;
}

/** A comma-separated list of origins (scheme://host[:port]), normalized. */
export function readOrigins(raw: RawSettings, name: string): string[] {
  const text = readRaw(raw, name);
  if (text === undefined) return [];
  const origins: string[] = [];
  for (const item of text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")) {
    if (item === "*") {
      throw new SettingError(name, `"*" is not allowed: credentialed requests need each origin listed`);
    }
    origins.push(parseOrigin(name, item));
  }
  return origins;
}

function parseOrigin(name: string, item: string): string {
  let url: URL;
  try {
    url = new URL(item);
  } catch {
    throw new SettingError(name, `"${item}" is not an origin like https://app.example.com`);
  }
  const bare = url.pathname === "/" && url.search === "" && url.hash === "" && url.username === "";
  if (!bare || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new SettingError(name, `"${item}" is not an origin like https://app.example.com`);
  }
  return url.origin;
}

/** An absolute http(s) URL without a trailing slash. */
export function readUrl(raw: RawSettings, name: string): string | undefined {
  const text = readRaw(raw, name);
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SettingError(name, `"${text}" is not an absolute URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new SettingError(name, "must be an http(s) URL");
  return url.href.replace(/\/$/, "");
}
