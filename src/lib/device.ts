// Browser, OS and device type from a User-Agent string, for the session list.
// A short ordered table, not a full parser: the list only has to help a person
// recognise their own devices.

export interface Device {
  browser: string;
  os: string;
  type: "desktop" | "mobile" | "tablet" | "bot" | "unknown";
}

// Order matters: Edge and Opera also claim Chrome, Chrome also claims Safari.
const BROWSERS: Array<[RegExp, string]> = [
  [/\bEdg(?:e|A|iOS)?\//, "Edge"],
  [/\b(?:OPR|Opera)\//, "Opera"],
  [/\bSamsungBrowser\//, "Samsung Internet"],
  [/\b(?:Firefox|FxiOS)\//, "Firefox"],
  [/\b(?:Chrome|CriOS|Chromium|HeadlessChrome)\//, "Chrome"],
  [/\bVersion\/[\d.]+.*\bSafari\//, "Safari"],
  [/^curl\//, "curl"],
  [/\b(?:okhttp|Dalvik)\//, "Android app"],
  [/\bCFNetwork\//, "iOS app"],
];

const SYSTEMS: Array<[RegExp, string]> = [
  [/\b(?:iPhone|iPad|iPod)\b/, "iOS"],
  [/\bAndroid\b/, "Android"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bWindows\b/, "Windows"],
  [/\bMac OS X\b|\bMacintosh\b/, "macOS"],
  [/\bLinux\b/, "Linux"],
];

export function parseUserAgent(userAgent: string | null): Device {
  if (userAgent === null || userAgent.trim() === "") return { browser: "unknown", os: "unknown", type: "unknown" };
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? "unknown";
  const os = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? "unknown";
  return { browser, os, type: deviceType(userAgent, os) };
}

function deviceType(userAgent: string, os: string): Device["type"] {
  if (/bot|crawler|spider|slurp/i.test(userAgent)) return "bot";
  if (/\biPad\b|\bTablet\b/.test(userAgent) || (os === "Android" && !/\bMobile\b/.test(userAgent))) return "tablet";
  if (/\bMobile\b|\biPhone\b|\biPod\b/.test(userAgent) || os === "iOS" || os === "Android") return "mobile";
  if (os === "unknown") return "unknown";
  return "desktop";
}
