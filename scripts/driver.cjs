#!/usr/bin/env node
// Runs the driver (stacks/cli.ts) compiled to one CommonJS file, so a command starts without
// TypeScript: the package scripts (`npm run deploy`, `rollback`, …), CI's workflows and the tests
// that run the CLI as CI does all start it here.
//
//   node scripts/driver.cjs <command> [options]      (scripts/engine.sh sets up the engine first)
//
// Why: under tsx every command first compiled and loaded its ~75 TypeScript modules: `status` of
// the local stack took 1.4 s and 1.7 CPU-s under tsx, 1.1 s and 1.15 CPU-s compiled. The
// build is esbuild's (pinned in package.json; tsx ran on it already): the same sources, packages
// left in node_modules. It is kept under .pulumi/driver/, named by its content, and reused while
// none of its inputs changed (their mtimes and sizes, one stat each: about 1 ms); a changed input
// rebuilds it (about 0.3 s) before the command runs.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");
const { nodeBundleOptions, stampFiles, stampsHold } = require("./node-bundle.cjs");

const repo = path.resolve(__dirname, "..");
const entry = path.join(repo, "stacks", "cli.ts");
const dir = path.join(repo, ".pulumi", "driver");
const manifestFile = path.join(dir, "manifest.json");
// Not imported by the driver, but they decide how it is compiled: this file's options among them.
const SETTINGS = [__filename, path.join(__dirname, "node-bundle.cjs"), ...["tsconfig.json", "package.json", "package-lock.json"].map((f) => path.join(repo, f))];

/** The manifest's bundle when it exists and no input changed since it was built; else undefined. */
function freshBundle() {
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8"));
  } catch {
    return undefined; // none yet, or a partial or corrupted one: build again
  }
  if (!manifest || typeof manifest.bundle !== "string" || !Array.isArray(manifest.inputs)) return undefined;
  // An entry that is not a stamp at all: a manifest that is not what it should be, so build again.
  if (!manifest.inputs.every((i) => i !== null && typeof i === "object") || !stampsHold(manifest.inputs)) return undefined;
  const bundle = path.join(dir, path.basename(manifest.bundle));
  return intact(bundle) ? bundle : undefined;
}

/**
 * Whether a build is there whole: its content still has the digest its name carries (a truncated
 * or edited file is built again, never loaded; hashing it takes about 1 ms). One that is gets
 * marked as just used, which pruning goes by.
 */
function intact(bundle) {
  const named = /^cli-([0-9a-f]{16})\.cjs$/.exec(path.basename(bundle));
  let text;
  try {
    text = fs.readFileSync(bundle);
  } catch {
    return false;
  }
  if (!named || digestOf(text) !== named[1]) return false;
  const now = new Date();
  fs.utimesSync(bundle, now, now);
  return true;
}

const digestOf = (text) => crypto.createHash("sha256").update(text).digest("hex").slice(0, 16);

/** Writes `file` whole or not at all: a second driver building at the same time reads one or the other. */
function writeAtomically(file, text) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function build() {
  const { buildSync } = require("esbuild");
  const started = Date.now();
  const result = buildSync(nodeBundleOptions({ entry, outfile: path.join(dir, "cli.cjs"), absWorkingDir: repo }));
  const inputs = stampFiles([...SETTINGS, ...Object.keys(result.metafile.inputs).map((f) => path.resolve(repo, f))]);
  const js = result.outputFiles[0].text;
  const name = `cli-${digestOf(js)}.cjs`;
  fs.mkdirSync(dir, { recursive: true });
  const bundle = path.join(dir, name);
  if (!intact(bundle)) writeAtomically(bundle, js);
  // A source edited while esbuild read it may not be in this build: then no manifest says it is
  // fresh, and the next command builds again.
  if (inputs.every((i) => i.mtimeMs < started)) writeAtomically(manifestFile, JSON.stringify({ bundle: name, inputs }, null, 2));
  // Older builds go once nothing can be about to load them: a driver that built one a moment ago,
  // from sources since edited, may not have required it yet. So do files a killed build left half
  // written.
  for (const f of fs.readdirSync(dir)) {
    if (!/^(cli-[0-9a-f]{16}\.cjs|.*\.\d+\.tmp)$/.test(f) || f === name) continue;
    const st = fs.statSync(path.join(dir, f), { throwIfNoEntry: false });
    if (st && Date.now() - st.mtimeMs > 60_000) fs.rmSync(path.join(dir, f), { force: true });
  }
  return bundle;
}

let bundle;
try {
  bundle = freshBundle() ?? build();
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  // esbuild's errors carry their list: a compile error in the sources, named by file and line.
  if (err && typeof err === "object" && Array.isArray(err.errors)) {
    process.stderr.write(`flightdeck: the driver (stacks/cli.ts) did not compile: ${message}\n`);
  } else {
    process.stderr.write(`flightdeck: the compiled driver could not be written to ${dir}: ${message}\n`);
  }
  process.exit(2);
}
// Stack traces of the driver's own errors name its .ts sources (the build has an inline source map).
process.setSourceMapsEnabled(true);
require(bundle).runCli();
