import * as fs from "node:fs";
import { isAlive as pidAlive } from "../components/local/os-process";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { DeliveryState } from "./plan";

/** Who holds a stack's deploy lock, and how far its command got. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
  /**
   * The step the holder is in. From "up" on, what serves traffic may be changing: a holder that
   * dies there leaves the stack for the next command to put back (`restoreTo`).
   */
  phase?: "prepare" | "up" | "bake" | "revert" | "rollback";
  /** What ran before the holder started changing things; absent for a first deploy. */
  restoreTo?: DeliveryState;
}

/**
 * Where deploy locks live: beside the state, so every checkout and runner that shares the backend
 * sees them. A file backend keeps them in its own directory; for other backends the lock falls back
 * to this checkout (the engine's own lease still refuses a second concurrent update there).
 */
export function lockDirFor(workDir: string, backendUrl = process.env.PULUMI_BACKEND_URL): string {
  if (backendUrl?.startsWith("file://")) return path.join(fileURLToPath(backendUrl), ".pulumi", "flightdeck-locks");
  return path.join(workDir, ".pulumi", "deploy-locks");
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
  /** Records the holder's progress in the lock, so whoever finds it stale knows what to put back. */
  update(progress: Pick<LockHolder, "phase" | "restoreTo">): void;
  /**
   * Leaves the lock behind as a dead holder's (pid 0) instead of releasing it: the next command
   * takes it over and puts back `restoreTo`, as after a crash. For a restore that could not finish.
   */
  leaveForRecovery(): void;
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
  let parked = false;
  let staleHolder: LockHolder | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: "wx" });
      return {
        staleHolder,
        update: (progress) => {
          Object.assign(me, progress);
          // Write beside and rename: a reader never sees a lock cut short.
          const tmp = `${file}.${process.pid}.tmp`;
          fs.writeFileSync(tmp, JSON.stringify(me));
          fs.renameSync(tmp, file);
        },
        leaveForRecovery: () => {
          const tmp = `${file}.${process.pid}.tmp`;
          fs.writeFileSync(tmp, JSON.stringify({ ...me, pid: 0, command: `${me.command} (its revert did not finish)` }));
          fs.renameSync(tmp, file);
          parked = true; // release() now leaves it for the next command
        },
        release: () => {
          if (parked) return;
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
