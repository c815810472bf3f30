// Runs in Node: dependency rules the lockfile must keep. @simplewebauthn/server is pinned,
// and exactly one copy of @peculiar/asn1-schema is installed: two copies break its
// decoders' instanceof checks and make valid attestations fail (SimpleWebAuthn#808).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as { packages: Record<string, { version?: string }> };
const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { dependencies: Record<string, string> };

describe("dependency rules", () => {
  it("installs a single copy of @peculiar/asn1-schema", () => {
    const copies = Object.keys(lock.packages).filter((path) => path.endsWith("node_modules/@peculiar/asn1-schema"));
    expect(copies).toEqual(["node_modules/@peculiar/asn1-schema"]);
  });

  it("pins @simplewebauthn/server to an exact version", () => {
    expect(pkg.dependencies["@simplewebauthn/server"]).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
