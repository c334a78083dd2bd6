import type { Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as os from "node:os";
import type { BackendStore } from "./backend-store";
import { DeploymentRecordSchema, recordsPrefix, type DeploymentRecord, type Outcome } from "./record-format";
import { historyPrefix } from "./backup";
import { scrub } from "./pr-comment";
import { secretConfigValues } from "./preview";
import type { StackFile } from "./stack-file";
import { firstLine, type StepLog, type StepRecord } from "./steps";
import { PROJECT } from "./workspace";

/**
 * Deployment records: what each deploy, rollback and `up` did, as the driver saw it — never the
 * engine's result for one of its updates (a deploy whose `up` succeeded and was then reverted is
 * "reverted", not "succeeded"). One JSON blob per command, kept in the store beside the stack's
 * state (the file backend's directory, the Postgres backend's table), so they outlive the runner
 * that wrote them and every checkout that shares the backend reads the same ones.
 */

// The format and the reading live in ./record-format, which loads nothing heavy: the policy pack
// (release-promoted) reads records too, and type-checks every module it loads.
export { DeploymentRecordSchema, OUTCOMES, parseRecord, readRecords, RECORDS_ROOT, recordsPrefix } from "./record-format";
export type { DeploymentRecord, Outcome, UnreadableRecord } from "./record-format";

/** Who and what deployed: the same for every record one process writes. */
export interface RecordContext {
  commit?: DeploymentRecord["commit"];
  deployer: string;
  runUrl?: string;
}

type Env = Record<string, string | undefined>;

/** The commit in CI (GITHUB_SHA) or of the checkout in `dir`; undefined outside a git checkout. */
export function commitOf(dir: string, env: Env = process.env): DeploymentRecord["commit"] {
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 }).trim();
  let sha = env.GITHUB_SHA?.trim().toLowerCase() || undefined;
  try {
    sha ??= git("rev-parse", "HEAD");
  } catch {
    return undefined; // not a checkout (an unpacked tarball, a container image): no commit to name
  }
  if (!/^[0-9a-f]{7,64}$/.test(sha)) return undefined;
  let time: string | undefined;
  let dirty: boolean | undefined;
  try {
    time = new Date(git("show", "-s", "--format=%cI", sha)).toISOString();
  } catch {
    /* a shallow CI checkout may not have it */
  }
  try {
    dirty = git("status", "--porcelain") !== "";
  } catch {
    /* unknown */
  }
  return { sha, ...(time ? { time } : {}), ...(dirty !== undefined ? { dirty } : {}) };
}

/** The CI actor, else the local user (a container without a passwd entry: $USER or the uid). */
export function deployerOf(env: Env = process.env): string {
  if (env.GITHUB_ACTOR) return env.GITHUB_ACTOR;
  try {
    return os.userInfo().username;
  } catch {
    return env.USER || `uid ${process.getuid?.() ?? "unknown"}`;
  }
}

export function runUrlOf(env: Env = process.env): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
  return server && repo && run ? `${server.replace(/\/$/, "")}/${repo}/actions/runs/${run}` : undefined;
}

export function recordContext(dir: string, env: Env = process.env): RecordContext {
  const runUrl = runUrlOf(env);
  return { commit: commitOf(dir, env), deployer: deployerOf(env), ...(runUrl ? { runUrl } : {}) };
}

/** What a command knows about itself at its end; the rest comes from the context and the clock. */
export interface RecordFacts {
  stack: string;
  kind: DeploymentRecord["kind"];
  outcome: Outcome;
  release?: string;
  previousRelease?: string;
  liveSlot?: string;
  reason?: string;
  startedAt: number;
  endedAt: number;
  steps: readonly StepRecord[];
  switchedAt?: number;
  trafficBackMs?: number;
  trafficMovedMs?: number;
  rollbackTo?: number;
  engineVersion?: number;
  traffic?: DeploymentRecord["traffic"];
}

/** Every string in a value with every form of every secret replaced by `[secret]`. */
export function scrubDeep<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  if (typeof value === "string") return scrub(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, secrets)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDeep(v, secrets)])) as T;
  }
  return value;
}

/**
 * A record from a command's facts. Pure. Step details and reasons can carry engine and app
 * messages, so every string is scrubbed of the stack's secret config values; the result is
 * checked against the schema, so a record that could not be read back is never written.
 */
export function buildRecord(facts: RecordFacts, ctx: RecordContext, secrets: readonly string[] = [], project = PROJECT): DeploymentRecord {
  const record = {
    formatVersion: 1 as const,
    project,
    stack: facts.stack,
    kind: facts.kind,
    ...(facts.release !== undefined && facts.release !== "" ? { release: facts.release } : {}),
    ...(facts.previousRelease !== undefined ? { previousRelease: facts.previousRelease } : {}),
    ...(facts.liveSlot === "blue" || facts.liveSlot === "green" ? { liveSlot: facts.liveSlot } : {}),
    outcome: facts.outcome,
    ...(facts.reason !== undefined ? { reason: facts.reason } : {}),
    ...(ctx.commit ? { commit: ctx.commit } : {}),
    deployer: ctx.deployer,
    ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {}),
    startedAt: new Date(facts.startedAt).toISOString(),
    endedAt: new Date(facts.endedAt).toISOString(),
    durationMs: Math.max(0, facts.endedAt - facts.startedAt),
    ...(facts.switchedAt !== undefined ? { switchedAt: new Date(facts.switchedAt).toISOString() } : {}),
    ...(facts.trafficBackMs !== undefined ? { trafficBackMs: Math.round(facts.trafficBackMs) } : {}),
    ...(facts.trafficMovedMs !== undefined ? { trafficMovedMs: Math.round(facts.trafficMovedMs) } : {}),
    ...(facts.rollbackTo !== undefined ? { rollbackTo: facts.rollbackTo } : {}),
    ...(facts.engineVersion !== undefined ? { engineVersion: facts.engineVersion } : {}),
    ...(facts.traffic !== undefined ? { traffic: facts.traffic } : {}),
    steps: facts.steps.map((s) => ({ name: s.name, status: s.status, ms: Math.round(s.ms * 1000) / 1000, ...(s.detail !== undefined ? { detail: s.detail } : {}) })),
  };
  return DeploymentRecordSchema.parse(scrubDeep(record, secrets));
}

/** `2026-12-01T113338.123Z`: sorts by time as text, and is a valid file name everywhere. */
export function recordStamp(startedAt: string): string {
  return startedAt.replace(/:/g, "");
}

/**
 * Writes one record as a blob of its own, with `create`: two writers (two checkouts, a runner and
 * a person) can never overwrite each other's record, and nothing is ever rewritten.
 */
export async function writeRecord(store: BackendStore, record: DeploymentRecord): Promise<string> {
  const text = `${JSON.stringify(record, null, 2)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const key = `${recordsPrefix(record.stack, record.project)}${recordStamp(record.startedAt)}-${randomBytes(4).toString("hex")}.json`;
    if (await store.create(key, text)) return key;
  }
  throw new Error(`could not create a record under ${recordsPrefix(record.stack, record.project)} in ${store.where}`);
}

/**
 * How many updates the backend holds for a stack: the version of its newest update (diy backends
 * number history by position, oldest 1 — `numberHistory`). Undefined where the store is not the
 * state's own (S3, Pulumi Cloud), or it cannot be read.
 */
export async function engineVersionOf(store: BackendStore, stack: string): Promise<number | undefined> {
  if (!store.besideState) return undefined;
  try {
    return (await store.list(historyPrefix(stack))).filter((k) => k.endsWith(".history.json")).length;
  } catch {
    return undefined;
  }
}

/**
 * Records one command, from its start: `finish` builds the record and writes it beside the state.
 *
 * A record that cannot be written never changes the command's outcome: the record describes the
 * deploy, it is not part of it. Failing a deploy whose release is live and healthy would tell CI
 * (and a person) that it failed, inviting a rollback of a good release. So the failure is a
 * `record` note on the command's steps (printed like every step) and the command goes on.
 */
export function startRecord(
  store: BackendStore,
  log: StepLog,
  opts: { workDir: string; stack: string; kind: DeploymentRecord["kind"]; startedAt: number; context?: RecordContext },
) {
  let versionBefore: Promise<number | undefined> | undefined;
  return {
    /** Call once the lock is held: the update count before the command changes anything. */
    begin(): void {
      versionBefore = engineVersionOf(store, opts.stack);
    },
    async finish(facts: Omit<RecordFacts, "stack" | "kind" | "startedAt" | "endedAt" | "steps">, secrets: () => Promise<string[]> = async () => []): Promise<string | undefined> {
      const endedAt = Date.now();
      try {
        const before = await versionBefore;
        const after = await engineVersionOf(store, opts.stack);
        const engineVersion = after !== undefined && before !== undefined && after > before ? after : undefined;
        const ctx = opts.context ?? recordContext(opts.workDir);
        const record = buildRecord(
          { ...facts, stack: opts.stack, kind: opts.kind, startedAt: opts.startedAt, endedAt, steps: [...log.steps], ...(engineVersion ? { engineVersion } : {}) },
          ctx,
          await secrets(),
        );
        return await writeRecord(store, record);
      } catch (err) {
        log.note("record", `WARNING: the deployment record was not written (${firstLine(err)}); the ${opts.kind} itself ${facts.outcome}`);
        return undefined;
      }
    },
  };
}

/**
 * The stack's secret config values, to scrub from a record: only when its committed file holds a
 * `secure:` value (otherwise there is none, and no CLI call is spent). Without an open stack,
 * nothing the engine said can be in the record.
 */
export async function secretsOf(stack: Stack | undefined, file: Pick<StackFile, "text"> | undefined): Promise<string[]> {
  if (!stack || !file || !/\bsecure:/.test(file.text)) return [];
  return secretConfigValues(stack);
}

/** `12.345s`: a duration to the millisecond. */
export function formatMs(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}

/**
 * One line of `history` / `status`, outcome first:
 * `reverted     deploy    v4-fails-after-5000ms  2026-12-01T11:33:38.123Z   12.345s  3f2a1bc  alice  v14  release … failed after the switch`
 */
export function formatRecord(r: DeploymentRecord): string {
  const commit = r.commit ? `${r.commit.sha.slice(0, 7)}${r.commit.dirty ? "+" : ""}` : "-";
  const cols = [
    r.outcome.toUpperCase().padEnd(11),
    r.kind.padEnd(8),
    (r.release ?? "-").padEnd(22),
    r.startedAt,
    formatMs(r.durationMs).padStart(9),
    commit.padEnd(8),
    r.deployer.padEnd(12),
    (r.engineVersion !== undefined ? `v${r.engineVersion}` : "-").padEnd(5),
    r.reason ?? "",
  ];
  return cols.join(" ").trimEnd();
}

/** An update from before records were kept: the engine's result, marked as such. */
export function formatEngineUpdate(u: { version: number; startedAt: string; result: string; durationMs: number; release?: string; liveSlot?: string; message: string }): string {
  return `(engine history) v${String(u.version).padEnd(4)} ${u.startedAt}  ${u.result.padEnd(10)} ${formatMs(u.durationMs).padStart(9)}  ${u.release ?? "-"}@${u.liveSlot ?? "-"}  ${u.message}`;
}
