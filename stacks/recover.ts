import type { Stack } from "@pulumi/pulumi/automation";
import type { LockHolder } from "./deploy-lock";
import { killOrphans } from "./orphans";
import { describeDelivery } from "./plan";
import type { StackFile } from "./stack-file";
import type { StepLog } from "./steps";
import { upTo } from "./update";
import { PROJECT } from "./workspace";
import * as fs from "node:fs";
import { isAlive as pidAlive } from "../components/local/os-process";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

interface PulumiLock {
  pid: number;
  hostname: string;
  timestamp: string;
}


/**
 * Locks the file backend keeps for a stack (`.pulumi/locks/<org>/<project>/<stack>/*.json`) whose
 * process died on this host. Only file backends are inspected; others manage their own leases.
 */
export function staleEngineLocks(backendUrl: string | undefined, project: string, stack: string): string[] {
  if (!backendUrl?.startsWith("file://")) return [];
  const dir = path.join(fileURLToPath(backendUrl), ".pulumi", "locks", "organization", project, stack);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .filter((f) => {
      try {
        const lock = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as PulumiLock;
        return lock.hostname === os.hostname() && !pidAlive(lock.pid);
      } catch {
        return false;
      }
    })
    .map((f) => path.join(dir, f));
}

export interface Recovery {
  clearedLocks: number;
  clearedPendingOperations: string[];
}

/**
 * Makes a stack that an interrupted update (kill -9) left behind deployable again: removes the
 * engine locks of dead processes and the pending operations in its state. Resources those
 * operations touched are reconciled by the refresh and up that follow.
 */
export async function recoverInterruptedUpdate(stack: Stack, project: string, interrupted: boolean): Promise<Recovery> {
  const locks = staleEngineLocks(process.env.PULUMI_BACKEND_URL, project, stack.name);
  // Pending operations are left only by an update that was cut short: one whose driver died
  // holding the deploy lock, or whose engine died holding its own lock. Otherwise skip the export.
  if (!interrupted && locks.length === 0) return { clearedLocks: 0, clearedPendingOperations: [] };
  if (locks.length > 0) await stack.cancel();
  const state = await stack.exportStack();
  const deployment = state.deployment as { pending_operations?: { type: string; resource: { urn: string } }[] } | undefined;
  const pending = deployment?.pending_operations ?? [];
  if (pending.length > 0) {
    deployment!.pending_operations = [];
    await stack.importStack(state);
  }
  return {
    clearedLocks: locks.length,
    clearedPendingOperations: pending.map((p) => `${p.type} ${p.resource.urn.split("::").pop()}`),
  };
}

/**
 * Everything the next command does after a driver died holding the lock (kill -9, a lost runner):
 * stop the engine and plugins it left running, clear the engine's stale locks and pending
 * operations, and, when it died while what serves traffic could be changing (up, bake, revert,
 * rollback), put back the state it recorded as good before it began. An interrupted deploy is
 * therefore never taken for a good one: its release is undone, and deploying it again is a new
 * deploy with its own gate and bake.
 */
export async function recoverStack(
  stack: Stack,
  file: StackFile,
  stale: LockHolder | undefined,
  log: StepLog,
  opts: { workDir: string; onEngineOutput?: (s: string) => void },
): Promise<void> {
  if (stale) {
    const killed = killOrphans(stale.pid);
    if (killed.length > 0) log.note("stop orphans", `stopped ${killed.length} engine process(es) of dead pid ${stale.pid}: ${killed.join(", ")}`);
  }
  await log.run("recover", () => recoverInterruptedUpdate(stack, PROJECT, !!stale), (r) =>
    r.clearedLocks + r.clearedPendingOperations.length === 0
      ? "nothing interrupted"
      : `cleared ${r.clearedLocks} stale engine lock(s) and ${r.clearedPendingOperations.length} pending operation(s)` +
        (r.clearedPendingOperations.length ? `: ${r.clearedPendingOperations.join(", ")}` : ""),
  );
  const changing = stale?.phase === "up" || stale?.phase === "bake" || stale?.phase === "revert" || stale?.phase === "rollback";
  if (!stale || !changing) return;
  if (!stale.restoreTo) {
    log.note("restore", `the interrupted ${stale.command} was a first deploy: nothing earlier to put back`);
    return;
  }
  const reason = `${stale.command} was interrupted during ${stale.phase} (pid ${stale.pid} died)`;
  await log.run(
    "restore",
    () => upTo(stack, file, stale.restoreTo!, `revert: ${reason}`, { ...opts, restore: { kind: "recover", reason } }),
    () => `${describeDelivery(stale.restoreTo)} put back`,
  );
}
