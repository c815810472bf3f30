import { describe, expect, it } from "vitest";
import { clientInfo } from "../src/http/client-info";
import { parseUserAgent } from "../src/lib/device";

describe("device parsing for the session list", () => {
  it.each([
    [
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
      { browser: "Chrome", os: "Linux", type: "desktop" },
    ],
    [
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36 Edg/130.0",
      { browser: "Edge", os: "Windows", type: "desktop" },
    ],
    [
      "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36",
      { browser: "Chrome", os: "Android", type: "mobile" },
    ],
    [
      "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
      { browser: "Safari", os: "iOS", type: "tablet" },
    ],
    ["okhttp/4.12.0", { browser: "Android app", os: "unknown", type: "unknown" }],
    ["curl/8.5.0", { browser: "curl", os: "unknown", type: "unknown" }],
    ["", { browser: "unknown", os: "unknown", type: "unknown" }],
  ])("parses %s", (userAgent, expected) => {
    expect(parseUserAgent(userAgent)).toEqual(expected);
  });
});

describe("location for the session list", () => {
  // Miniflare's placeholder request.cf (its fallbackCf), which wrangler dev gives every
  // request when it does not fetch the machine's own.
  const placeholder = {
    asn: 395747,
    colo: "DFW",
    city: "Austin",
    region: "Texas",
    country: "US",
    latitude: "30.27130",
    longitude: "-97.74260",
    clientTcpRtt: 0,
  };
  const locate = (cf: Record<string, unknown> | undefined) => clientInfo(new Request("http://localhost/", { cf } as RequestInit)).location;

  it("does not show the local placeholder's Austin as anyone's location", () => {
    expect(locate(placeholder)).toEqual({ country: null, city: null });
    expect(locate(undefined)).toEqual({ country: null, city: null });
  });

  it("keeps the edge's location, also for a real request from Austin", () => {
    expect(
      locate({ ...placeholder, country: "NL", city: "Amsterdam", asn: 1136, colo: "AMS", latitude: "52.37", longitude: "4.89" }),
    ).toEqual({
      country: "NL",
      city: "Amsterdam",
    });
    expect(locate({ ...placeholder, asn: 7018, latitude: "30.26715" })).toEqual({ country: "US", city: "Austin" });
  });
});
