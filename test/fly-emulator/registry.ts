import * as path from "node:path";

/** What an image runs, as its Dockerfile's CMD, WORKDIR and ENV would say, plus the emulator's faults. */
export interface ImageSpec {
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** The process exits with 1 at once (a release that cannot boot). */
  crashAtStart?: boolean;
  /** The process exits with 1 this long after it started. */
  crashAfterMs?: number;
  /** The process listens only this long after it started (a slow boot). */
  slowStartMs?: number;
}

const appDir = path.resolve(__dirname, "../../examples/app");

/**
 * The sample app as examples/app/Dockerfile builds it: `node server.js`, PORT=8080. Its /version
 * reports FLY_IMAGE_REF, which the emulator sets as Fly does, so the release is the image.
 */
export function sampleAppImage(extra: Partial<ImageSpec> = {}): ImageSpec {
  return { command: [process.execPath, "server.js"], cwd: appDir, ...extra, env: { PORT: "8080", ...(extra.env ?? {}) } };
}

/** The images machines can be created from, by reference. An unknown one fails like an unpullable image. */
export class ImageRegistry {
  private readonly images = new Map<string, ImageSpec>();
  add(ref: string, spec: ImageSpec): void {
    this.images.set(ref, spec);
  }
  get(ref: string): ImageSpec | undefined {
    return this.images.get(ref);
  }
}
