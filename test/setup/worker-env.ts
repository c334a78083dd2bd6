import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Test files run in parallel workers. Each worker's engines get a PULUMI_HOME of their own: the
 * engine rewrites its workspace file (the selected stack) on every stack select, and two engines
 * writing it at once can leave the other one reading half a file. Plugins are not shared either:
 * tests that need plugins (the provider doubles) already bring a PULUMI_HOME of their own.
 */
const worker = process.env.VITEST_POOL_ID ?? "0";
const base = process.env.PULUMI_HOME;
if (base !== undefined) {
  const home = path.join(path.dirname(base), `home-worker-${worker}`);
  fs.mkdirSync(home, { recursive: true });
  process.env.PULUMI_HOME = home;
}
