// esbuild's options for the project's own code that runs as one CommonJS file in node (the
// compiled driver, scripts/driver.cjs; the compiled policy pack, stacks/policy-pack-build.ts):
// packages stay in node_modules, found from where the build lives (one @pulumi/pulumi for the code
// and for what runs it, the policy-pack runner), and stack traces lead back to
// the sources through an inline source map. Plain JavaScript, so the driver's launcher can load it
// before any TypeScript can be.
"use strict";

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

module.exports = { nodeBundleOptions };
