// Prints vitest's JSON report as one plain closing line: "unit: N passed, N failed".
import { readFileSync } from "node:fs";
import { basename } from "node:path";

const file = process.argv[2];
const report = JSON.parse(readFileSync(file, "utf8"));
const label = basename(file, ".json");
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${label}: ${report.numPassedTests} passed, ${report.numFailedTests} failed` + (skipped > 0 ? `, ${skipped} skipped` : ""));
if (report.numTotalTests === 0) process.exit(1);
