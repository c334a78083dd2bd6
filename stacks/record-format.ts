/**
 * The deployment records' format, and reading them from the store beside the state: what every
 * reader needs (the driver, `history`, metrics, and the release-promoted policy), with no import
 * of the engine or the driver, so the policy pack can load it. Writing is in ./records.
 */
import { z } from "zod";
import { SLOTS } from "../components/bluegreen/slots";
import { deliveryStateSchema } from "../infra/config/delivery";
import type { BackendStore } from "./backend-store";
import { firstLine } from "./steps";
import { trafficSwitchSpecSchema } from "./traffic-spec";
import { PROJECT } from "./workspace";

/** Every stack's records live under this key; `recordsPrefix` is one stack's. */
export const RECORDS_ROOT = ".pulumi/flightdeck-records";

/** Where a stack's records are kept in the backend's store (include it in backups). */
export function recordsPrefix(stack: string, project = PROJECT): string {
  return `${RECORDS_ROOT}/${project}/${stack}/`;
}

export const OUTCOMES = ["succeeded", "unchanged", "reverted", "failed", "rolled back"] as const;
export type Outcome = (typeof OUTCOMES)[number];

const iso = z.string().datetime({ offset: true });

const StepSchema = z.object({
  name: z.string(),
  status: z.enum(["ok", "failed", "skipped", "note"]),
  ms: z.number().nonnegative(),
  detail: z.string().optional(),
});

export const DeploymentRecordSchema = z.object({
  formatVersion: z.literal(1),
  project: z.string().min(1),
  stack: z.string().min(1),
  /** Which command: a blue/green deploy, a rollback, or `npm start`'s up of the stack as it is. */
  kind: z.enum(["deploy", "rollback", "up"]),
  /** What the command put (or tried to put) live: a version label on local, an image digest on Fly. */
  release: z.string().optional(),
  /** What was live when the command began. */
  previousRelease: z.string().optional(),
  /** The live slot when the command ended. */
  liveSlot: z.enum(SLOTS).optional(),
  /** The driver's verdict, never the engine's result of one update. */
  outcome: z.enum(OUTCOMES),
  reason: z.string().optional(),
  /** The commit the driver ran from; absent when it did not run from a git checkout. */
  commit: z
    .object({
      sha: z.string().regex(/^[0-9a-f]{7,64}$/, "a git commit hash"),
      time: iso.optional(),
      /** The checkout had changes not in the commit: what ran is not exactly `sha`. */
      dirty: z.boolean().optional(),
    })
    .optional(),
  /** The CI actor (GITHUB_ACTOR) or the local user. */
  deployer: z.string().min(1),
  /** The CI run that deployed, when one did. */
  runUrl: z.string().url().optional(),
  startedAt: iso,
  endedAt: iso,
  durationMs: z.number().nonnegative(),
  /** When live traffic first moved to the new release (a deploy that reached users). */
  switchedAt: iso.optional(),
  /** A post-switch failure: ms from the first failed probe to traffic back on the warm slot. */
  trafficBackMs: z.number().nonnegative().optional(),
  /** A rollback: ms from its start until live traffic was on the target release. */
  trafficMovedMs: z.number().nonnegative().optional(),
  /** A rollback: the history version it returned to. */
  rollbackTo: z.number().int().positive().optional(),
  /** The stack's update version after the command, when it made one (what `rollback --to` takes). */
  engineVersion: z.number().int().positive().optional(),
  steps: z.array(StepSchema),
  /**
   * What the stack runs once the command ended with it as its state says (it succeeded, changed
   * nothing, or its revert finished), and how to move its traffic: rollback switches to the warm
   * slot from this before it asks the engine anything (stacks/warm-switch.ts). Absent otherwise.
   */
  traffic: z
    .object({
      delivery: deliveryStateSchema,
      switch: trafficSwitchSpecSchema,
      slotUrls: z.object({ blue: z.string().url().optional(), green: z.string().url().optional() }),
    })
    .optional(),
});
export type DeploymentRecord = z.infer<typeof DeploymentRecordSchema>;

/** A blob under the records prefix that is not a valid record: reported, never silently dropped. */
export interface UnreadableRecord {
  key: string;
  problem: string;
}

/** Checks one blob's text as a record. */
export function parseRecord(key: string, text: string): { record: DeploymentRecord } | { unreadable: UnreadableRecord } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { unreadable: { key, problem: `not JSON (${firstLine(err)})` } };
  }
  const r = DeploymentRecordSchema.safeParse(json);
  if (r.success) return { record: r.data };
  const problem = r.error.issues.map((i) => `${i.path.join(".") || "(record)"}: ${i.message}`).join("; ");
  return { unreadable: { key, problem } };
}

/**
 * The stack's newest readable record, reading no more than it must (keys sort by start time):
 * rollback reads it before it moves traffic, where reading every record would cost the most.
 */
export async function latestRecord(store: BackendStore, stack: string, project = PROJECT): Promise<DeploymentRecord | undefined> {
  const keys = (await store.list(recordsPrefix(stack, project))).filter((k) => k.endsWith(".json")).sort().reverse();
  for (const key of keys) {
    const text = await store.get(key);
    if (text === undefined) continue; // removed between list and get
    const parsed = parseRecord(key, text);
    if ("record" in parsed) return parsed.record;
  }
  return undefined;
}

/** A stack's records, newest first, and the blobs that are not valid records. */
export async function readRecords(store: BackendStore, stack: string, project = PROJECT): Promise<{ records: DeploymentRecord[]; unreadable: UnreadableRecord[] }> {
  const keys = (await store.list(recordsPrefix(stack, project))).filter((k) => k.endsWith(".json")).sort().reverse();
  const records: DeploymentRecord[] = [];
  const unreadable: UnreadableRecord[] = [];
  for (const key of keys) {
    const text = await store.get(key);
    if (text === undefined) continue; // removed between list and get
    const parsed = parseRecord(key, text);
    if ("record" in parsed) records.push(parsed.record);
    else unreadable.push(parsed.unreadable);
  }
  // The key sorts by start time; a record's own startedAt is the truth if a key was renamed.
  records.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  return { records, unreadable };
}
