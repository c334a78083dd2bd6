import * as path from "node:path";

/**
 * Node's arguments to run the driver in `workDir` as the package scripts and CI's workflows do
 * (`npm run deploy` is `scripts/engine.sh node scripts/driver.cjs deploy`): the compiled driver,
 * not its sources under tsx, so what the tests run is what ships.
 */
export function driverArgs(workDir: string, ...args: string[]): string[] {
  return [path.join(workDir, "scripts", "driver.cjs"), ...args];
}
