import type { BuildOptions } from "esbuild";

/** esbuild's options for the project's own code bundled to one CommonJS file (scripts/node-bundle.cjs). */
export declare function nodeBundleOptions(where: { entry: string; outfile: string; absWorkingDir: string }): BuildOptions & { write: false; metafile: true };
