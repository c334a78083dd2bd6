import type { Deployment, Stack } from "@pulumi/pulumi/automation";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { backendStore, type BackendStore } from "./backend-store";
import { recordsPrefix } from "./records";
import { exportEncrypted } from "./state-io";
import { PROJECT, projectDir, selectExistingStack } from "./workspace";

/**
 * A stack's state, as a file that outlives its backend: the engine's own export (secrets stay
 * ciphertext under the stack's secrets provider, exactly as in the backend) and, where the driver
 * can reach the backend's store (file and Postgres backends), the update history that `rollback`
 * reads, and the driver's deployment records that `history` shows. A checksum over all three
 * catches a file cut short or edited by hand.
 */
export const BACKUP_KIND = "flightdeck-state-backup";

const HistoryBlob = z.object({ name: z.string().regex(/^[A-Za-z0-9._-]+\.history\.json$/, "a history blob name"), data: z.string() });
const RecordBlob = z.object({ name: z.string().regex(/^[A-Za-z0-9._-]+\.json$/, "a deployment record's blob name"), data: z.string() });

export const BackupFileSchema = z.object({
  kind: z.literal(BACKUP_KIND),
  formatVersion: z.literal(1),
  project: z.string().min(1),
  stack: z.string().min(1),
  takenAt: z.string().datetime(),
  /** The checkpoint's own time (the engine's manifest): what "newer" compares. */
  checkpointTime: z.string().datetime({ offset: true }),
  resources: z.number().int().nonnegative(),
  updates: z.number().int().nonnegative(),
  /** Where it was taken from, for people: a directory or postgres://host/db (table), never a password. */
  backend: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "64 hex digits"),
  deployment: z.object({ version: z.number().int(), deployment: z.record(z.unknown()) }),
  /** null when the backend keeps its history where the driver cannot reach it (S3, Pulumi Cloud). */
  history: z.array(HistoryBlob).nullable(),
  /** The driver's deployment records (stacks/records.ts): outcomes, commits, deployers, timings. */
  records: z.array(RecordBlob),
});
export type BackupFile = z.infer<typeof BackupFileSchema>;

/** A backup file that cannot be used: which file, which key, what was expected, what was found. */
export class BackupFileError extends Error {
  override name = "BackupFileError";
}

/** Where the backend keeps a stack's update history (diy backends, project-scoped layout). */
export const historyPrefix = (stack: string) => `.pulumi/history/${PROJECT}/${stack}/`;

export function checksumOf(deployment: BackupFile["deployment"], history: BackupFile["history"], records: BackupFile["records"]): string {
  return createHash("sha256").update(JSON.stringify({ deployment, history, records })).digest("hex");
}

interface CheckpointView {
  manifest?: { time?: string };
  resources?: { urn: string }[];
}

export const checkpointOf = (d: Deployment): CheckpointView => (d.deployment ?? {}) as CheckpointView;

/** The update history blobs of a stack in the backend's store, or null when the store is not the state's. */
export async function readHistoryBlobs(store: BackendStore, stack: string): Promise<BackupFile["history"]> {
  if (!store.besideState) return null;
  // Checkpoints per update and .attrs are left out: the engine's history reads neither.
  return readBlobs(store, historyPrefix(stack), ".history.json");
}

/** The stack's deployment records, as blobs (name and text), oldest first. */
export async function readRecordBlobs(store: BackendStore, stack: string): Promise<BackupFile["records"]> {
  return readBlobs(store, recordsPrefix(stack), ".json");
}

/** The blobs directly under a prefix whose names end with a suffix, as name and text, by name. */
async function readBlobs(store: BackendStore, prefix: string, suffix: string): Promise<{ name: string; data: string }[]> {
  const blobs: { name: string; data: string }[] = [];
  for (const key of await store.list(prefix)) {
    const name = key.slice(key.lastIndexOf("/") + 1);
    if (!name.endsWith(suffix)) continue;
    const data = await store.get(key);
    if (data !== undefined) blobs.push({ name, data });
  }
  return blobs.sort((a, b) => a.name.localeCompare(b.name));
}

/** Builds the backup of a stack as it is in the backend now. */
export async function takeBackup(stack: Stack, store: BackendStore, now = new Date()): Promise<BackupFile> {
  const deployment = await exportEncrypted(stack);
  const checkpoint = checkpointOf(deployment);
  if (!checkpoint.manifest?.time) throw new BackupFileError(`stack ${stack.name} has no state to back up (no checkpoint in the backend ${store.where})`);
  const history = await readHistoryBlobs(store, stack.name);
  const records = await readRecordBlobs(store, stack.name);
  const dep = { version: deployment.version, deployment: (deployment.deployment ?? {}) as Record<string, unknown> };
  return {
    kind: BACKUP_KIND,
    formatVersion: 1,
    project: PROJECT,
    stack: stack.name,
    takenAt: now.toISOString(),
    checkpointTime: checkpoint.manifest.time,
    resources: checkpoint.resources?.length ?? 0,
    updates: history?.length ?? 0,
    backend: store.where,
    sha256: checksumOf(dep, history, records),
    deployment: dep,
    history,
    records,
  };
}

/** `<dir>/<stack>/<stack>-2026-12-01T11-30-00-123Z.json`: names sort in the order they were taken. */
export function backupPath(dir: string, stack: string, takenAt: string): string {
  return path.join(dir, stack, `${stack}-${takenAt.replace(/[:.]/g, "-")}.json`);
}

/** Writes a backup beside and renames it (never a file cut short), readable by its owner only. */
export function writeBackup(dir: string, backup: BackupFile): string {
  const file = backupPath(dir, backup.stack, backup.takenAt);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(backup, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
  return file;
}

/** The backup files of a stack in a directory, oldest first. */
export function listBackups(dir: string, stack: string): string[] {
  const own = path.join(dir, stack);
  if (!fs.existsSync(own)) return [];
  const pattern = new RegExp(`^${stack.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-\\d{4}-\\d\\d-\\d\\dT[\\d-]+Z\\.json$`);
  return fs
    .readdirSync(own)
    .filter((f) => pattern.test(f))
    .sort()
    .map((f) => path.join(own, f));
}

/** Keeps the newest `keep` backups of a stack; returns the files removed. */
export function pruneBackups(dir: string, stack: string, keep: number): string[] {
  const all = listBackups(dir, stack);
  const removed = all.slice(0, Math.max(0, all.length - keep));
  for (const f of removed) fs.rmSync(f, { force: true });
  return removed;
}

/**
 * Reads and checks a backup file: JSON, the format, the checksum. Every problem is one message
 * naming the file and the key.
 */
export function readBackup(file: string): BackupFile {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new BackupFileError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BackupFileError(`${file}: expected a Flightdeck state backup (JSON), found text that is not JSON (${(err as Error).message})`);
  }
  const parsed = BackupFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 5).map((i) => {
      const key = i.path.join(".") || "(the file)";
      const found = valueAt(json, i.path);
      return `${key}: ${i.message}${found === undefined ? ", found nothing" : `, found ${describe(found)}`}`;
    });
    throw new BackupFileError(`${file}: not a usable Flightdeck state backup:\n  - ${problems.join("\n  - ")}`);
  }
  const b = parsed.data;
  const sum = checksumOf(b.deployment, b.history, b.records);
  if (sum !== b.sha256) {
    throw new BackupFileError(`${file}: sha256: expected ${b.sha256} (recorded when the backup was taken), found ${sum}: the file was changed or cut short since`);
  }
  return b;
}

function valueAt(json: unknown, at: (string | number)[]): unknown {
  let v: unknown = json;
  for (const k of at) v = v !== null && typeof v === "object" ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v !== null && typeof v === "object") return "an object";
  return String(v);
}

export const DEFAULT_KEEP = 30;

/** Where backups go unless told: FLIGHTDECK_BACKUP_DIR, or .pulumi/backups in the checkout (beside, not inside, a file backend). */
export function defaultBackupDir(workDir: string): string {
  return process.env.FLIGHTDECK_BACKUP_DIR ?? path.join(workDir, ".pulumi", "backups");
}

export interface BackupReport {
  file: string;
  backup: Omit<BackupFile, "deployment" | "history" | "records"> & { deploymentRecords: number };
  kept: number;
  removed: string[];
}

/**
 * Backs a stack up into `dir` and keeps the newest `keep` backups of it. Takes no lock: it only
 * reads, and a scheduled backup must not fail because a deploy is running (a checkpoint taken
 * mid-update is still a state the next command can recover from).
 */
export async function backupStack(opts: { stack: string; dir?: string; keep?: number; workDir?: string }): Promise<BackupReport> {
  const workDir = opts.workDir ?? projectDir;
  const keep = opts.keep ?? DEFAULT_KEEP;
  const dir = opts.dir ?? defaultBackupDir(workDir);
  const stack = await selectExistingStack(opts.stack, workDir);
  const store = backendStore(workDir);
  try {
    if (!stack) throw new BackupFileError(`stack ${opts.stack}: the backend ${store.where} has no such stack: nothing to back up`);
    const backup = await takeBackup(stack, store);
    const file = writeBackup(dir, backup);
    const removed = pruneBackups(dir, opts.stack, keep);
    const { deployment: _d, history: _h, records: _r, ...summary } = backup;
    return { file, backup: { ...summary, deploymentRecords: backup.records.length }, kept: listBackups(dir, opts.stack).length, removed };
  } finally {
    await store.close();
  }
}
