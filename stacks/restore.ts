import type { Stack } from "@pulumi/pulumi/automation";
import { isDeepStrictEqual } from "node:util";
import * as fs from "node:fs";
import * as path from "node:path";
import { checkpointOf, historyPrefix, readBackup, type BackupFile } from "./backup";
import { withDeployLock } from "./deploy-lock";
import { readStackFile } from "./stack-file";
import { recordsPrefix } from "./records";
import { exportEncrypted, importState } from "./state-io";
import { StepLog, firstLine, type StepRecord } from "./steps";
import { HISTORY_PAGE, openStack, PROJECT, projectDir, selectExistingStack } from "./workspace";

/** A restore that would lose something or does not fit this stack: nothing was changed. */
export class RestoreRefusedError extends Error {
  override name = "RestoreRefusedError";
}

interface ResourceView {
  urn: string;
  type?: string;
  id?: string;
  outputs?: unknown;
}

/** What the backend holds of the stack now, as far as it can be read. */
export interface BackendView {
  /** The stack's checkpoint; undefined when the backend has no state of it. */
  state?: { checkpointTime?: string; resources: ResourceView[] };
  /** Why the state could not be read (a corrupt checkpoint): it will be replaced. */
  unreadable?: string;
  /** Names of the update history blobs the backend has; null when the driver cannot see them. */
  historyNames: string[] | null;
  /** Names of the deployment record blobs the backend's store has. */
  recordNames?: string[];
}

/** Another backup of the same stack, for the "is a newer one lost by this?" check. */
export interface OtherBackup {
  file: string;
  checkpointTime: string;
}

export interface RestorePlan {
  /** Why the restore must not run; nothing is changed. */
  refusal?: string;
  /** What it will change, one line each, in the order it will change them. */
  changes: string[];
  /** The backend holds exactly this already. */
  nothingToDo: boolean;
}

const shortName = (urn: string) => urn.split("::").slice(2).join("::");
const newer = (a: string | undefined, b: string) => a !== undefined && Date.parse(a) > Date.parse(b);

/**
 * Pure: whether `backup` (from `file`) may be restored into `stack` with the backend as it is, and
 * what that changes. Refused when it belongs to another stack or project, or when something newer
 * exists (a later backup, or a backend whose state is newer: that backend is not lost, and going
 * back in it is what `rollback` is for) unless `allowOlder`.
 */
export function planRestore(file: string, backup: BackupFile, stack: string, backend: BackendView, others: OtherBackup[], allowOlder = false): RestorePlan {
  const refuse = (refusal: string): RestorePlan => ({ refusal, changes: [], nothingToDo: false });
  const notOurs = identityRefusal(file, backup, stack);
  if (notOurs) return refuse(notOurs);
  const resources = (checkpointOf(backup.deployment).resources ?? []) as ResourceView[];
  if (!allowOlder) {
    const later = others.filter((o) => newer(o.checkpointTime, backup.checkpointTime)).sort((a, b) => Date.parse(b.checkpointTime) - Date.parse(a.checkpointTime))[0];
    if (later) {
      return refuse(
        `${file} holds the state of ${backup.checkpointTime}, but ${later.file} holds a newer one (${later.checkpointTime}): ` +
          `restore that one, or pass --allow-older to go back further on purpose. Nothing was changed.`,
      );
    }
    if (backend.state && newer(backend.state.checkpointTime, backup.checkpointTime)) {
      return refuse(
        `the backend holds a newer state of ${stack} (${backend.state.checkpointTime}, ${backend.state.resources.length} resources) than ${file} (${backup.checkpointTime}): ` +
          `it is not lost. To return to an earlier release use rollback; to replace the state anyway pass --allow-older. Nothing was changed.`,
      );
    }
  }

  const changes: string[] = [];
  if (backend.unreadable) changes.push(`replace the backend's unreadable state of ${stack} (${backend.unreadable}) with the backup's ${resources.length} resources`);
  else if (!backend.state) changes.push(`create stack ${stack} in the backend with the backup's ${resources.length} resources (the backend has no state of it)`);
  else {
    const now = new Map(backend.state.resources.map((r) => [r.urn, r]));
    const then = new Map(resources.map((r) => [r.urn, r]));
    for (const r of resources) {
      const cur = now.get(r.urn);
      if (!cur) changes.push(`+ ${shortName(r.urn)}: back in the state`);
      else if (cur.id !== r.id || !isDeepStrictEqual(cur.outputs, r.outputs)) changes.push(`~ ${shortName(r.urn)}: its recorded id/outputs go back to the backup's`);
    }
    for (const r of backend.state.resources) {
      if (!then.has(r.urn)) changes.push(`- ${shortName(r.urn)}: dropped from the state (what it created keeps running, unmanaged)`);
    }
  }
  let missingHistory = 0;
  if (backup.history && backend.historyNames) {
    const have = new Set(backend.historyNames);
    missingHistory = backup.history.filter((h) => !have.has(h.name)).length;
    if (missingHistory > 0) changes.push(`put back ${missingHistory} update(s) of history (the backend has ${backend.historyNames.length} of the backup's ${backup.history.length})`);
  } else if (!backup.history) {
    changes.push("no update history in this backup (its backend kept it out of the driver's reach): history and rollback start again from the next deploy");
  }
  const haveRecords = new Set(backend.recordNames ?? []);
  const missingRecords = backup.records.filter((r) => !haveRecords.has(r.name)).length;
  if (missingRecords > 0) changes.push(`put back ${missingRecords} deployment record(s) (the backend has ${haveRecords.size} of the backup's ${backup.records.length})`);
  const sameState = !!backend.state && !backend.unreadable && backend.state.checkpointTime === backup.checkpointTime;
  const nothingToDo = sameState && missingHistory === 0 && missingRecords === 0 && changes.length === 0;
  return { changes, nothingToDo };
}

/** Why a backup is not this stack's (another project or stack, or a resource of another), or undefined. */
export function identityRefusal(file: string, backup: BackupFile, stack: string): string | undefined {
  if (backup.project !== PROJECT) return `${file}: project: expected "${PROJECT}", found "${backup.project}": nothing was changed`;
  if (backup.stack !== stack) return `${file} is a backup of stack "${backup.stack}", not "${stack}": nothing was changed`;
  const resources = (checkpointOf(backup.deployment).resources ?? []) as ResourceView[];
  const own = `urn:pulumi:${stack}::${PROJECT}::`;
  const foreign = resources.findIndex((r) => typeof r.urn !== "string" || !r.urn.startsWith(own));
  if (foreign >= 0) {
    return `${file}: deployment.resources[${foreign}].urn: expected a resource of stack "${stack}" (${own}…), found ${JSON.stringify(resources[foreign]!.urn)}: nothing was changed`;
  }
  return undefined;
}

/** Other backups of the stack beside the given one (same directory), with their checkpoint times. */
export function backupsBeside(file: string, stack: string): OtherBackup[] {
  const dir = path.dirname(path.resolve(file));
  const others: OtherBackup[] = [];
  for (const name of fs.readdirSync(dir)) {
    const other = path.join(dir, name);
    if (other === path.resolve(file) || !name.startsWith(`${stack}-`) || !name.endsWith(".json")) continue;
    try {
      const b = readBackup(other);
      if (b.stack === stack) others.push({ file: other, checkpointTime: b.checkpointTime });
    } catch {
      /* a broken neighbour holds nothing to lose */
    }
  }
  return others;
}

async function backendView(stack: Stack | undefined, listHistory: () => Promise<string[] | null>, listRecords: () => Promise<string[]>): Promise<BackendView> {
  const historyNames = await listHistory();
  const recordNames = await listRecords();
  if (!stack) return { historyNames, recordNames };
  try {
    const checkpoint = checkpointOf(await exportEncrypted(stack));
    if (!checkpoint.manifest?.time) return { historyNames, recordNames };
    return { state: { checkpointTime: checkpoint.manifest.time, resources: (checkpoint.resources ?? []) as ResourceView[] }, historyNames, recordNames };
  } catch (err) {
    return { unreadable: firstLine(err), historyNames, recordNames };
  }
}

export interface RestoreOptions {
  stack: string;
  from: string;
  dryRun?: boolean;
  allowOlder?: boolean;
  workDir?: string;
  onStep?: (s: StepRecord) => void;
}

export interface RestoreReport {
  stack: string;
  from: string;
  plan: RestorePlan;
  applied: boolean;
  resources: number;
  updates: number;
  steps: StepRecord[];
}

/**
 * Puts a stack's state back from a backup file: checks it (format, checksum, stack, nothing newer
 * lost), says what it will change, then imports it and the missing update history under the deploy
 * lock. Resources are not touched: what runs keeps running; the next deploy or rollback works from
 * the restored state and history.
 */
export async function restore(opts: RestoreOptions): Promise<RestoreReport> {
  const workDir = opts.workDir ?? projectDir;
  const log = new StepLog(opts.onStep);
  const backup = await log.run("read backup", async () => readBackup(opts.from), (b) => `${b.stack} at ${b.checkpointTime}: ${b.resources} resources, ${b.history?.length ?? "no"} update(s) of history`);
  const notOurs = identityRefusal(opts.from, backup, opts.stack);
  if (notOurs) throw new RestoreRefusedError(notOurs);
  // The stack must be one this checkout knows (its committed file holds the secrets' salt).
  readStackFile(workDir, opts.stack);
  return withDeployLock(workDir, opts.stack, "restore", log, async (lock, store) => {
    const existing = await selectExistingStack(opts.stack, workDir);
    const listHistory = async () => (store.besideState ? (await store.list(historyPrefix(opts.stack))).map((k) => k.slice(k.lastIndexOf("/") + 1)).filter((n) => n.endsWith(".history.json")) : null);
    const listRecords = async () => (await store.list(recordsPrefix(opts.stack))).map((k) => k.slice(k.lastIndexOf("/") + 1));
    const view = await log.run("read backend", () => backendView(existing, listHistory, listRecords), (v) =>
      v.unreadable ? `state unreadable: ${v.unreadable}` : v.state ? `state of ${v.state.checkpointTime}, ${v.state.resources.length} resources` : "no state of this stack",
    );
    const plan = planRestore(opts.from, backup, opts.stack, view, backupsBeside(opts.from, opts.stack), opts.allowOlder);
    const report = (applied: boolean): RestoreReport => ({ stack: opts.stack, from: opts.from, plan, applied, resources: backup.resources, updates: backup.history?.length ?? 0, steps: log.steps });
    if (plan.refusal) throw new RestoreRefusedError(plan.refusal);
    for (const change of plan.changes) log.note("will change", change);
    if (plan.nothingToDo) {
      log.note("restore", "the backend holds this very state and history already: nothing to do");
      return report(false);
    }
    if (opts.dryRun) return report(false);

    await lock.update({ phase: "restore" });
    const stack = existing ?? (await openStack(opts.stack, workDir));
    await log.run("import state", () => importState(stack, backup.deployment), () => `${backup.resources} resources`);
    if (backup.history && store.besideState) {
      const have = new Set((await listHistory()) ?? []);
      const missing = backup.history.filter((h) => !have.has(h.name));
      await log.run("put back history", async () => {
        for (const h of missing) await store.put(`${historyPrefix(opts.stack)}${h.name}`, h.data);
        return missing.length;
      }, (n) => `${n} update(s)`);
    }
    const haveRecords = new Set(await listRecords());
    const missingRecords = backup.records.filter((r) => !haveRecords.has(r.name));
    if (missingRecords.length > 0) {
      await log.run("put back records", async () => {
        for (const r of missingRecords) await store.create(`${recordsPrefix(opts.stack)}${r.name}`, r.data);
        return missingRecords.length;
      }, (n) => `${n} deployment record(s)`);
    }
    await log.run("verify", async () => {
      const now = checkpointOf(await exportEncrypted(stack));
      const updates = (await stack.history(HISTORY_PAGE, 1)).length;
      if (now.manifest?.time !== backup.checkpointTime || (now.resources?.length ?? 0) !== backup.resources) {
        throw new Error(`the backend now holds the state of ${now.manifest?.time ?? "nothing"} with ${now.resources?.length ?? 0} resources, expected the backup's ${backup.checkpointTime} with ${backup.resources}`);
      }
      return updates;
    }, (updates) => `state of ${backup.checkpointTime} with ${backup.resources} resources; history lists ${updates} update(s)`);
    return report(true);
  });
}
