import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The project's root: the nearest directory at or above `from` that holds Pulumi.yaml. Looked for,
 * not taken as this module's parent, because the driver runs both from its sources (stacks/, under
 * tsx or vitest) and compiled into one file under .pulumi/driver/ (scripts/driver.cjs). Without a
 * Pulumi.yaml above (code bundled elsewhere that imports this module without using it: the
 * compiled policy pack), the parent of `from`, as before.
 */
export function findProjectDir(from: string): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, "..");
  }
}

/** This driver's project root. */
export const projectDir = findProjectDir(__dirname);
