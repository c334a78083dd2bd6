import type { Stack } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import { pidAlive } from "./pid";
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
