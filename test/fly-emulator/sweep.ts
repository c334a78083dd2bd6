import * as fs from "node:fs";
import { OWNER_ENV } from "./machine-runtime";

/**
 * Kills machine processes whose emulator is gone (a test process killed before its `stop()`):
 * found by the owner pid in their environment. Run when an emulator starts.
 */
export function sweepOrphans(): number {
  let killed = 0;
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    try {
      environ = fs.readFileSync(`/proc/${entry}/environ`, "utf8");
    } catch {
      continue;
    }
    const owner = environ.split("\0").find((kv) => kv.startsWith(`${OWNER_ENV}=`));
    if (!owner) continue;
    const ownerPid = Number(owner.slice(OWNER_ENV.length + 1));
    if (ownerPid === process.pid || fs.existsSync(`/proc/${ownerPid}`)) continue;
    try {
      process.kill(Number(entry), "SIGKILL");
      killed++;
    } catch {
      /* gone meanwhile */
    }
  }
  return killed;
}
