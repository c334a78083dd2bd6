import type { BuildOptions } from "esbuild";

/** esbuild's options for the project's own code bundled to one CommonJS file (scripts/node-bundle.cjs). */
export declare function nodeBundleOptions(where: { entry: string; outfile: string; absWorkingDir: string }): BuildOptions & { write: false; metafile: true };

/** An input file of a build, as it was when the build was made. */
export interface FileStamp {
  file: string;
  mtimeMs: number;
  size: number;
}

/** Each input file's mtime and size now; a file that is not there is left out. */
export declare function stampFiles(files: string[]): FileStamp[];

/** Whether every stamped file still has its mtime and size. */
export declare function stampsHold(stamps: readonly FileStamp[]): boolean;
