"use strict";
// Preloaded into every Node.js process the project starts (scripts/engine.sh puts it in
// NODE_OPTIONS). It acts in one process only: the SDK's policy-pack runner, when the pack it runs
// is one the driver compiled to JavaScript (stacks/policy-pack-build.ts marks its package.json).
//
// Why: the runner (@pulumi/pulumi/cmd/run-policy-pack) registers ts-node for every pack, whatever
// it is written in, and so loads the TypeScript compiler: about 0.5 s of every update, spent while
// the engine waits for the pack before it starts the program. A compiled pack has no TypeScript
// to compile. Here the runner's two requests for TypeScript and ts-node get what it reads from
// them (TypeScript's version, and a register() with nothing to register) instead of the modules.
// Any other process, or a pack that is not compiled, is left exactly as it was.
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

const RUNNER = /[\\/]@pulumi[\\/]pulumi[\\/]cmd[\\/]run-policy-pack[\\/]index\.js$/;
const MARK = "flightdeckCompiledPolicyPack";

function isCompiledPack(dir) {
  if (typeof dir !== "string") return false;
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(path.resolve(dir), "package.json"), "utf8"));
    return pkg[MARK] === true && typeof pkg.main === "string" && pkg.main.endsWith(".js");
  } catch {
    return false;
  }
}

if (RUNNER.test(process.argv[1] ?? "") && isCompiledPack(process.argv[3])) {
  // The SDK files that ask for them: tsutils.js (typeScriptRequireStrings) and the runner's run.js.
  const askers = /[\\/]@pulumi[\\/]pulumi[\\/](tsutils|cmd[\\/]run-policy-pack[\\/]run)\.js$/;
  const isTypeScript = (r) => r === "typescript" || /[\\/]typescript@[^\\/]+[\\/]typescript\.js$/.test(r);
  const isTsNode = (r) => r === "ts-node" || /[\\/]ts-node@[^\\/]+$/.test(r);
  let typescriptVersion;
  const versionOfTypeScript = (parent) => {
    if (typescriptVersion === undefined) {
      try {
        const pkg = require.resolve("typescript/package.json", { paths: [path.dirname(parent)] });
        typescriptVersion = JSON.parse(fs.readFileSync(pkg, "utf8")).version;
      } catch {
        typescriptVersion = "3.8.3"; // the SDK's vendored TypeScript, which it would fall back to
      }
    }
    return typescriptVersion;
  };
  const load = Module._load;
  Module._load = function compiledPackLoad(request, parent, isMain) {
    const from = parent && parent.filename ? path.normalize(parent.filename) : "";
    if (askers.test(from)) {
      if (isTypeScript(request)) return { version: versionOfTypeScript(from) };
      if (isTsNode(request)) return { VERSION: "none", register() {} };
    }
    return load.apply(this, arguments);
  };
}
