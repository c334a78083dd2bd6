/**
 * `npm run bench`: every benchmark of the project, one after the other (they share the machine's
 * two cores, so running them together would measure each other).
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const benches = ["bluegreen.ts", "side-by-side.ts", "cost-growth.ts", "fly-bluegreen.ts", "policies.ts"];
let failed = 0;
for (const bench of benches) {
  console.log(`\n=== bench/${bench} ===`);
  const r = spawnSync(path.join(__dirname, "../node_modules/.bin/tsx"), [path.join(__dirname, bench)], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
