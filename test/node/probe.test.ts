// npm run probe against a local service: the Worker as it deploys, served by the bench
// harness, probed through every path it measures, with Server-Timing on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module without types (shared with the benchmark)
import { build, migrate, serveService } from "../../bench/harness.mjs";
// @ts-expect-error: a plain ES module without types
import { probe } from "../../bench/probe.mjs";

type Served = { mf: { dispose(): Promise<void> }; url: string };
type ProbePath = { p50_ms: number; p95_ms: number; samples: number; errors: number; hops: Record<string, number> };
let served: Served;

beforeAll(async () => {
  const script = (build as (entry: null, outdir: string) => string)(null, "bench/out/probe-build");
  served = await (serveService as (script: string, options: { bindings: Record<string, string> }) => Promise<Served>)(script, {
    bindings: {
      ENVIRONMENT: "development",
      SECRET_KEY: "probe-test-secret-key-with-32-characters!!",
      SESSION_SECURE_COOKIES: "false",
      MAIL_PROVIDER: "dev",
      REQUEST_LOGS: "false",
      SERVER_TIMING: "true",
    },
  });
  await (migrate as (mf: unknown) => Promise<void>)(served.mf);
}, 180_000);

afterAll(async () => {
  await served?.mf.dispose();
});

describe("npm run probe", () => {
  it("measures login, check-auth, bearer, refresh and key verify with no error, and reads each path's hops from Server-Timing", async () => {
    const result = (await (probe as (url: string, options: object) => Promise<{ paths: Record<string, ProbePath> }>)(served.url, {
      register: true,
      samples: 5,
    })) as { paths: Record<string, ProbePath> };
    expect(Object.keys(result.paths).sort()).toEqual(["api_key_verify", "bearer", "check_auth", "login", "refresh"]);
    for (const path of Object.values(result.paths)) {
      expect(path.samples).toBe(5);
      expect(path.errors).toBe(0);
      expect(path.p50_ms).toBeGreaterThan(0);
      expect(path.p95_ms).toBeGreaterThanOrEqual(path.p50_ms);
    }
    // What the hops say matches what each path is built to do.
    expect(Object.keys(result.paths.login!.hops).sort()).toEqual(["d1", "do"]);
    expect(Object.keys(result.paths.refresh!.hops)).toEqual(["do"]);
    // The key's object; the owner's record comes from KV once, then from the isolate's memory.
    expect(Object.keys(result.paths.api_key_verify!.hops)).toContain("do");
    expect(result.paths.api_key_verify!.hops).not.toHaveProperty("d1");
  }, 120_000);
});
