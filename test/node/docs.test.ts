// The documentation's commands and samples, checked. Every ```sh block of the README and
// of docs/guides and docs/concepts runs, in order per page, in bash against the Worker
// as it deploys (Miniflare on loopback, real local D1, KV and Durable Objects) with the
// settings `npm run dev` starts with (.dev.vars.example), at the address the docs give
// it (http://localhost:8787, rewritten to the test's own); a page's
// blocks share one shell, so a later block uses what an earlier one made. A block marked
// `<!-- from: path -->` must be lines of that file, which the tests build and run. Any
// other code block fails this test, so nothing in the docs is untested prose-code.
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module without types (shared with the benchmark)
import { build, migrate, serveService } from "../../bench/harness.mjs";
import { accessTokenVerifier } from "../../examples/verify-jwt/verify";

type Served = { mf: { dispose(): Promise<void> }; url: string };
type Marker = { kind: "from"; file: string } | { kind: "not run"; reason: string } | null;
interface Block {
  page: string;
  line: number;
  lang: string;
  text: string;
  marker: Marker;
}

const PAGES = [
  "README.md",
  ...["docs/guides", "docs/concepts"].flatMap((dir) =>
    readdirSync(dir)
      .filter((name) => name.endsWith(".md"))
      .sort()
      .map((name) => `${dir}/${name}`),
  ),
];
/** Languages that are data or output, not something to run. */
const DATA = new Set(["text", "json"]);
/** Where the docs say `npm run dev` serves; the test points it at its own service. */
const DEV_ORIGIN = "http://localhost:8787";
/** The one line the local walkthrough adds to .dev.vars. */
const WALKTHROUGH_ADMIN = "first-admin@example.com";

function blocksOf(page: string): Block[] {
  const lines = readFileSync(page, "utf8").split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)/.exec(lines[i] ?? "");
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !(lines[i] ?? "").startsWith("```"); i++) body.push(lines[i] ?? "");
    const before =
      lines
        .slice(0, start)
        .reverse()
        .find((line) => line.trim() !== "") ?? "";
    const from = /^<!-- from: (\S+) -->$/.exec(before.trim());
    const notRun = /^<!-- not run: (.+) -->$/.exec(before.trim());
    const marker: Marker = from ? { kind: "from", file: from[1] ?? "" } : notRun ? { kind: "not run", reason: notRun[1] ?? "" } : null;
    blocks.push({ page, line: start + 1, lang: open[1] ?? "", text: body.join("\n"), marker });
  }
  return blocks;
}

const ALL = PAGES.flatMap(blocksOf);
const workRoot = "test-results/docs-run";
/** The settings of .dev.vars.example, as wrangler reads the .dev.vars made from it. */
function devVarsExample(): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(".dev.vars.example", "utf8").split("\n")) {
    const setting = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (setting) vars[setting[1] ?? ""] = setting[2] ?? "";
  }
  return vars;
}
const bindings: Record<string, string> = {
  ...devVarsExample(),
  // npm run dev puts a random key in place of the example's, and an ES256 key for the OAuth server.
  SECRET_KEY: "docs-test-secret-key-with-at-least-32-chars",
  OAUTH_SERVER_SIGNING_KEYS: JSON.stringify({
    keys: [{ ...generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" }), kid: "docs-test-oauth" }],
  }),
  ADMIN_EMAILS: WALKTHROUGH_ADMIN,
  REQUEST_LOGS: "false",
};
let served: Served | undefined;

beforeAll(async () => {
  for (const tool of ["curl", "jq"]) {
    const found = spawnSync(tool, ["--version"], { encoding: "utf8" });
    if (found.status !== 0) throw new Error(`The documentation's commands need ${tool}: install it (apt-get install -y ${tool})`);
  }
  bundle = (build as (entry: null, outdir: string) => string)(null, "bench/out/docs-build");
  served = await serve(bindings);
  rmSync(workRoot, { recursive: true, force: true });
}, 180_000);

afterAll(async () => {
  await served?.mf.dispose();
});

/** The Worker as it deploys, built once. */
let bundle = "";
/** Serves the bundle with these settings, on a fresh database. */
async function serve(settings: Record<string, string>): Promise<Served> {
  const service = await (serveService as (script: string, options: { bindings: Record<string, string> }) => Promise<Served>)(bundle, {
    bindings: settings,
  });
  await (migrate as (mf: unknown) => Promise<void>)(service.mf);
  return service;
}

describe("the documentation", () => {
  it("has a code sample only where it is run here or taken from a file the tests build", () => {
    const problems: string[] = [];
    for (const block of ALL) {
      const where = `${block.page}:${block.line}`;
      if (block.marker?.kind === "from") {
        if (!existsSync(block.marker.file)) {
          problems.push(`${where}: ${block.marker.file} does not exist`);
          continue;
        }
        const source = new Set(
          readFileSync(block.marker.file, "utf8")
            .split("\n")
            .map((line) => line.trim()),
        );
        for (const line of block.text.split("\n").map((text) => text.trim())) {
          if (line !== "" && !source.has(line)) problems.push(`${where}: "${line}" is not in ${block.marker.file}`);
        }
      } else if (block.marker?.kind === "not run") {
        if (block.page !== "README.md") problems.push(`${where}: only the README's quick start may be marked "not run"`);
      } else if (block.lang !== "sh" && !DATA.has(block.lang)) {
        problems.push(`${where}: a ${block.lang || "plain"} block must name its source (<!-- from: path -->)`);
      } else if (block.lang === "sh" && block.text.includes("https://auth.example.com")) {
        problems.push(`${where}: commands run against npm run dev: call ${DEV_ORIGIN}, not https://auth.example.com`);
      }
    }
    expect(readFileSync("docs/guides/local-walkthrough.md", "utf8")).toContain(`ADMIN_EMAILS=${WALKTHROUGH_ADMIN}`);
    expect(problems).toEqual([]);
    expect(ALL.filter((block) => block.lang === "sh" && block.marker === null).length).toBeGreaterThanOrEqual(10);
    expect(ALL.filter((block) => block.marker?.kind === "from").length).toBeGreaterThanOrEqual(5);
  });

  it("links only to files and headings that exist", () => {
    const slug = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, "")
        .replace(/ /g, "-");
    const headingsOf = (file: string) =>
      new Set(
        readFileSync(file, "utf8")
          .split("\n")
          .filter((line) => /^#{1,6} /.test(line))
          .map((line) => slug(line.replace(/^#+ /, ""))),
      );
    const pages = [
      "README.md",
      "CHANGELOG.md",
      "examples/consumer-worker/README.md",
      ...readdirSync("docs", { recursive: true })
        .map(String)
        .filter((name) => name.endsWith(".md"))
        .map((name) => `docs/${name}`),
    ].filter((file) => existsSync(file));
    const broken: string[] = [];
    for (const page of pages) {
      for (const match of readFileSync(page, "utf8").matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = match[1] ?? "";
        if (/^(https?:|mailto:)/.test(link)) continue;
        const [target = "", anchor] = link.split("#");
        const file = target === "" ? page : path.normalize(path.join(path.dirname(page), target));
        if (!existsSync(file)) broken.push(`${page}: ${link}`);
        else if (anchor !== undefined && file.endsWith(".md") && !headingsOf(file).has(anchor))
          broken.push(`${page}: ${link} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  for (const page of PAGES) {
    const runnable = ALL.filter((block) => block.page === page && block.lang === "sh" && block.marker === null);
    if (runnable.length === 0) continue;
    it(`${page}: every command runs against the service`, () => {
      const url = served?.url ?? "";
      const dir = path.join(workRoot, page.replace(/[^A-Za-z0-9]+/g, "-"));
      mkdirSync(dir, { recursive: true });
      let script = "set -euo pipefail\n";
      for (const block of runnable) script += `echo "== ${page}:${block.line}" >&2\n${block.text}\n`;
      script = script.split(DEV_ORIGIN).join(url);
      const run = spawnSync("bash", ["-c", script], { cwd: dir, encoding: "utf8", timeout: 90_000 });
      if (run.status !== 0) throw new Error(`exit ${run.status}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
      expect(run.status).toBe(0);
    }, 120_000);
  }

  it("the backend guide's JWKS verifier accepts the service's access tokens and refuses a tampered one", async () => {
    // The guide's settings for it: ES256 with a signing key (development signs with HS256).
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const signingKeys = JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid: "docs-test" }] });
    const es256 = await serve({ ...bindings, ALGORITHM: "ES256", JWT_SIGNING_KEYS: signingKeys });
    try {
      const url = es256.url;
      const credentials = { email: `jwks-${Date.now()}@example.com`, password: "a verifier passphrase" };
      const post = (route: string, body: unknown) =>
        fetch(`${url}${route}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const user = (await (await post("/api/v1/users", credentials)).json()) as { id: string };
      const pair = (await (await post("/api/v1/auth/token", credentials)).json()) as { access_token: string; refresh_token: string };
      const verify = accessTokenVerifier(`${url}/.well-known/jwks.json`);
      const payload = await verify(pair.access_token);
      expect(payload.sub).toBe(user.id);
      const [header, body, signature = ""] = pair.access_token.split(".");
      const flipped = `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`;
      await expect(verify(`${header}.${body}.${flipped}`)).rejects.toThrow();
      await expect(verify(pair.refresh_token)).rejects.toThrow();
    } finally {
      await es256.mf.dispose();
    }
  }, 120_000);
});
