import type { Stack } from "@pulumi/pulumi/automation";
import type { BackendStore } from "./backend-store";
import { trafficMayHaveMoved, type LockHolder } from "./deploy-lock";
import { killOrphans } from "./orphans";
import { describeDelivery } from "./plan";
import type { StackFile } from "./stack-file";
import { firstLine, type StepLog } from "./steps";
import { exportEncrypted, importState } from "./state-io";
import { trafficSwitchOutput } from "./traffic-spec";
import { trafficSwitchFor } from "./traffic";
import { upTo } from "./update";
import { readStackOutputs } from "./engine-cli";
import "./cloudflare-switch";
import "./fly-switch";
import { PROJECT } from "./workspace";
import * as os from "node:os";
import { isAlive as pidAlive } from "../components/local/os-process";

interface PulumiLock {
  pid: number;
  hostname: string;
  timestamp: string;
}

/**
 * Locks a diy backend keeps for a stack (`.pulumi/locks/<org>/<project>/<stack>/*.json`, files on
 * the file backend, rows on Postgres) whose process died on this host. Other backends manage their
 * own leases.
 */
export async function staleEngineLocks(store: BackendStore, project: string, stack: string): Promise<string[]> {
  if (!store.besideState) return [];
  const stale: string[] = [];
  for (const key of await store.list(`.pulumi/locks/organization/${project}/${stack}/`)) {
    if (!key.endsWith(".json")) continue;
    try {
      const lock = JSON.parse((await store.get(key)) ?? "") as PulumiLock;
      if (lock.hostname === os.hostname() && !pidAlive(lock.pid)) stale.push(key);
    } catch {
      /* not a lock we can read: leave it to the engine */
    }
  }
  return stale;
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
export async function recoverInterruptedUpdate(stack: Stack, store: BackendStore, project: string, interrupted: boolean): Promise<Recovery> {
  const locks = await staleEngineLocks(store, project, stack.name);
  // Pending operations are left only by an update that was cut short: one whose driver died
  // holding the deploy lock, or whose engine died holding its own lock. Otherwise skip the export.
  if (!interrupted && locks.length === 0) return { clearedLocks: 0, clearedPendingOperations: [] };
  if (locks.length > 0) {
    await stack.cancel();
    // `cancel` clears the lock on the file backend; make sure on any diy store.
    for (const key of locks) await store.delete(key);
  }
  // Encrypted both ways: the Automation API's export shows secrets and its import leaves them in /tmp.
  const state = await exportEncrypted(stack);
  const deployment = state.deployment as { pending_operations?: { type: string; resource: { urn: string } }[] } | undefined;
  const pending = deployment?.pending_operations ?? [];
  if (pending.length > 0) {
    deployment!.pending_operations = [];
    await importState(stack, state);
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
  store: BackendStore,
  log: StepLog,
  opts: {
    workDir: string;
    onEngineOutput?: (s: string) => void;
    /** Why the dead holder's work is run again instead of put back (a rollback taking over a rollback's lock). */
    rerun?: string;
  },
): Promise<void> {
  if (stale) {
    const killed = await killOrphans(stale.pid);
    if (killed.length > 0) log.note("stop orphans", `stopped ${killed.length} engine process(es) of dead pid ${stale.pid}: ${killed.join(", ")}`);
  }
  await log.run("recover", () => recoverInterruptedUpdate(stack, store, PROJECT, !!stale), (r) =>
    r.clearedLocks + r.clearedPendingOperations.length === 0
      ? "nothing interrupted"
      : `cleared ${r.clearedLocks} stale engine lock(s) and ${r.clearedPendingOperations.length} pending operation(s)` +
        (r.clearedPendingOperations.length ? `: ${r.clearedPendingOperations.join(", ")}` : ""),
  );
  if (!stale || !trafficMayHaveMoved(stale)) {
    if (stale?.phase === "restore") log.note("restore", `an interrupted restore of state (pid ${stale.pid}) changed no resource; if the state is not the backup's, run restore again`);
    return;
  }
  if (!stale.restoreTo) {
    log.note("restore", `the interrupted ${stale.command} was a first deploy: nothing earlier to put back`);
    return;
  }
  if (opts.rerun) {
    log.note("restore", opts.rerun);
    return;
  }
  const reason = `${stale.command} was interrupted during ${stale.phase} (pid ${stale.pid} died)`;
  const restoreTo = stale.restoreTo;
  // Traffic first (ADR 0006): the dead driver may have left the new release in rotation (on Fly, a
  // canary step's cordons, which the router's state cannot see), and the restore is about to update
  // those machines in place. Best effort: the restore must run even if the router cannot be reached
  // now (a local HAProxy that died with the driver is started again by it).
  const found = await readStackOutputs(stack).then((o) => trafficSwitchOutput(o, stack.name)).catch(() => undefined);
  if (found) {
    await trafficSwitchFor(found)
      .pointAt(restoreTo.liveSlot)
      .then(
        () => log.note("traffic first", `live traffic on ${restoreTo.liveSlot} alone before the restore`),
        (err: Error) => log.note("traffic first", `the router could not be reached (${firstLine(err)}); the restore goes on, and points traffic after`),
      );
  }
  const outputs = await log.run(
    "restore",
    () => upTo(stack, file, restoreTo, `revert: ${reason}`, { workDir: opts.workDir, onEngineOutput: opts.onEngineOutput, restore: { kind: "recover", reason } }),
    () => `${describeDelivery(restoreTo)} put back`,
  );
  // The router's state may not say what the dead driver left in rotation (on Fly the Machines API
  // cannot read cordons back, so the update above saw no change to make): pointing live traffic at
  // the restored slot once more, with the machines the restore left, leaves nothing split.
  const spec = trafficSwitchOutput(outputs, stack.name);
  if (spec) {
    await log.run("traffic", () => trafficSwitchFor(spec).pointAt(restoreTo.liveSlot), () => `live traffic on ${restoreTo.liveSlot} alone, as the state says`);
  }
}
