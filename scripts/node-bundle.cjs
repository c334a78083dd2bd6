// esbuild's options, and the freshness stamps, for the project's own code that runs as one CommonJS
// file in node (the compiled driver, scripts/driver.cjs; the compiled policy pack,
// stacks/policy-pack-build.ts):
// packages stay in node_modules, found from where the build lives (one @pulumi/pulumi for the code
// and for what runs it, the policy-pack runner), and stack traces lead back to
// the sources through an inline source map. Plain JavaScript, so the driver's launcher can load it
// before any TypeScript can be.
"use strict";
const fs = require("node:fs");

/**
 * @param {{ entry: string; outfile: string; absWorkingDir: string }} where
 * @returns {import("esbuild").BuildOptions & { write: false; metafile: true }}
 */
function nodeBundleOptions({ entry, outfile, absWorkingDir }) {
  return {
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    packages: "external",
    sourcemap: "inline",
    sourcesContent: false,
    write: false,
    metafile: true,
    logLevel: "silent",
    absWorkingDir,
    // Where the build will sit: the source map's paths lead back to the sources from there.
    outfile,
  };
}

/**
 * What a build was made from: each input file's mtime and size now (a file that is not there is
 * left out). A build is reused while stampsHold says none of them changed: one stat per file.
 * @param {string[]} files
 * @returns {{ file: string; mtimeMs: number; size: number }[]}
 */
function stampFiles(files) {
  return files.flatMap((file) => {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    return st ? [{ file, mtimeMs: st.mtimeMs, size: st.size }] : [];
  });
}

/**
 * Whether every stamped file still has its mtime and size (a stamp read back from a file that is
 * not what it should be compares false, never throws).
 * @param {{ file: string; mtimeMs: number; size: number }[]} stamps
 */
function stampsHold(stamps) {
  return stamps.every((s) => {
    const st = fs.statSync(String(s.file), { throwIfNoEntry: false });
    return st !== undefined && st.mtimeMs === s.mtimeMs && st.size === s.size;
  });
}

module.exports = { nodeBundleOptions, stampFiles, stampsHold };
