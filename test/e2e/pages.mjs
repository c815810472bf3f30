// What the browser tests of the pages share: waiting on the page's status and message
// lines, an authenticator app's code, screenshots at the two widths the pages are
// built for, and an accessibility check with axe-core run in the page.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";

export const SHOTS = "test-results/e2e";
mkdirSync(SHOTS, { recursive: true });

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export const password = () => `Correct-Horse-${crypto.randomUUID()}`;

export const status = (page, text) => page.waitForFunction((want) => document.getElementById("status").textContent === want, text);

export const message = (page, pattern) =>
  page.waitForFunction((source) => new RegExp(source).test(document.getElementById("message").textContent), pattern.source);

/** RFC 6238 code of the step `offset` steps from now (what an authenticator app shows). */
export function totp(base32, offset = 0) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of base32) bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + offset));
  const mac = createHmac("sha1", key).update(counter).digest();
  const at = mac[19] & 0x0f;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/** Sets up TOTP on the signed-in account page; returns the secret. */
export async function enrollTotp(page) {
  await page.click("#totp-start");
  await page.waitForSelector("#totp-setup:not([hidden])");
  const secret = (await page.textContent("#totp-secret")).trim();
  await page.fill("#totp-confirm [name=code]", totp(secret));
  await page.click("#totp-confirm button");
  await message(page, /^Authenticator app added/);
  return secret;
}

/** Full-page screenshots at 360 px and 1280 px; the viewport is left at 1280. */
export async function shots(page, name) {
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SHOTS}/${name}-${width}.png`, fullPage: true });
  }
}

/**
 * axe-core's WCAG 2.1 A/AA and best-practice rules on what the page shows now, at both
 * widths; fails on any serious or critical violation. axe is evaluated through the
 * DevTools protocol, which the page's CSP (script-src 'self') does not govern.
 */
export async function accessible(page, name) {
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    if (!(await page.evaluate(() => "axe" in globalThis))) await page.evaluate(AXE);
    const violations = await page.evaluate(async () => {
      const result = await globalThis.axe.run(document, {
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
      });
      return result.violations.map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        nodes: violation.nodes.map((node) => node.target.join(" ")).slice(0, 5),
      }));
    });
    const serious = violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
    assert.deepEqual(serious, [], `${name} at ${width} px: ${JSON.stringify(serious)}`);
  }
}

/** What a page with this API base calls, run in the page (the test hosts resolve only in Chromium). */
export function inPage(page) {
  return {
    async get(path, headers = {}) {
      return page.evaluate(
        async ({ path, headers }) => {
          const response = await fetch(path, { headers, credentials: "omit" });
          return { status: response.status, body: await response.json().catch(() => null) };
        },
        { path, headers },
      );
    },
    async patch(path, headers, json) {
      return page.evaluate(
        async ({ path, headers, json }) => {
          const response = await fetch(path, {
            method: "PATCH",
            headers: { ...headers, "Content-Type": "application/json" },
            credentials: "omit",
            body: JSON.stringify(json),
          });
          return { status: response.status };
        },
        { path, headers, json },
      );
    },
  };
}

/** Reloads the page over a slow network (every request 150 ms), so its data arrives over many frames. */
export async function reloadSlowly(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 150, downloadThroughput: -1, uploadThroughput: -1 });
  await page.reload();
  return async () => {
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await cdp.detach();
  };
}

/**
 * The page's cumulative layout shift since it loaded (shifts within 500 ms of a user's
 * input excluded, as the metric defines): how far content moved when data arrived.
 */
export async function layoutShift(page) {
  return page.evaluate(
    () =>
      new Promise((resolve) => {
        let total = 0;
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
        }).observe({ type: "layout-shift", buffered: true });
        setTimeout(() => resolve(total), 200);
      }),
  );
}
