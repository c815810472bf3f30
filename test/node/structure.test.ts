// Runs in Node: the structure check (scripts/check-structure.mjs) passes on this tree,
// and fails on a tree that breaks each of its rules, so it cannot pass vacuously.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const script = path.resolve("scripts/check-structure.mjs");

function run(root: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [script, root], { encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), "structure-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
  return root;
}

describe("the structure check", () => {
  it("passes on this repository: no folder imports a higher layer, no oversized file, every package declared", () => {
    expect(execFileSync(process.execPath, [script], { encoding: "utf8" })).toContain("in order");
  });

  it("fails when a lower folder imports a higher one (sessions importing routes)", () => {
    const root = tree({
      "package.json": "{}",
      "src/routes/sessions.ts": 'import { x } from "../sessions/session-service";\nexport const y = x;\n',
      "src/sessions/session-service.ts": 'import { y } from "../routes/sessions";\nexport const x = 1;\nvoid y;\n',
    });
    const result = run(root);
    expect(result.status).toBe(1);
    expect(result.output).toContain("sessions may not depend on routes");
    expect(result.output).not.toContain("routes may not depend on sessions");
  });

  it("fails on an import cycle inside one layer (tokens and sessions importing each other)", () => {
    const root = tree({
      "package.json": "{}",
      "src/sessions/a.ts": 'import "../tokens/b";\n',
      "src/tokens/b.ts": 'import "../sessions/a";\n',
    });
    const result = run(root);
    expect(result.status).toBe(1);
    expect(result.output).toContain("sessions may not depend on tokens");
  });

  it("fails on a source file over the size limit and on an undeclared package", () => {
    const root = tree({
      "package.json": JSON.stringify({ devDependencies: { vitest: "*" } }),
      "src/lib/big.ts": "export const a = 1;\n".repeat(300),
      "bench/run.mjs": 'import autocannon from "autocannon";\nimport { describe } from "vitest";\n',
    });
    const result = run(root);
    expect(result.status).toBe(1);
    expect(result.output).toContain("src/lib/big.ts has 301 lines");
    expect(result.output).toContain("imports autocannon, which package.json does not declare");
    expect(result.output).not.toContain("imports vitest");
  });

  it("fails on a folder that is in no layer", () => {
    const root = tree({ "package.json": "{}", "src/misc/thing.ts": "export const a = 1;\n" });
    const result = run(root);
    expect(result.status).toBe(1);
    expect(result.output).toContain("src/misc/ is in no layer");
  });
});
