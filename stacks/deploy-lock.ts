import * as fs from "node:fs";
import { pidAlive } from "./pid";
import * as os from "node:os";
import * as path from "node:path";

/** Who holds a stack's deploy lock. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
}

export class DeployLockedError extends Error {
  override name = "DeployLockedError";
  constructor(
    readonly stackName: string,
    readonly holder: LockHolder,
  ) {
    super(
      `stack ${stackName} is being deployed by pid ${holder.pid} on ${holder.host} (${holder.command}, since ${holder.startedAt}); ` +
        `wait for it to finish — a second deploy would interleave with it`,
    );
  }
}

export interface AcquiredLock {
  release(): void;
  /** Set when the lock was taken over from a process that died holding it (kill -9, crash). */
  staleHolder?: LockHolder;
}


/**
 * A per-stack lock file, created with O_EXCL so two deploys can never both hold it. A holder on
 * this host whose pid is gone is stale and is taken over (and reported as such).
 */
export function acquireDeployLock(lockDir: string, stack: string, command: string): AcquiredLock {
  fs.mkdirSync(lockDir, { recursive: true });
  const file = path.join(lockDir, `${stack}.lock`);
  const me: LockHolder = { pid: process.pid, host: os.hostname(), command, startedAt: new Date().toISOString() };
  let staleHolder: LockHolder | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: "wx" });
      return {
        staleHolder,
        release: () => {
          try {
            const cur = JSON.parse(fs.readFileSync(file, "utf8")) as LockHolder;
            if (cur.pid === me.pid && cur.host === me.host) fs.rmSync(file, { force: true });
          } catch {
            /* already gone */
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    let holder: LockHolder;
    try {
      holder = JSON.parse(fs.readFileSync(file, "utf8")) as LockHolder;
    } catch {
      // A lock file cut short by a crash between create and write: nobody holds it.
      holder = { pid: 0, host: os.hostname(), command: "unknown", startedAt: "unknown" };
    }
    if (holder.host !== os.hostname() || pidAlive(holder.pid)) throw new DeployLockedError(stack, holder);
    staleHolder = holder;
    fs.rmSync(file, { force: true });
  }
  throw new Error(`could not take the deploy lock ${file}`);
}
