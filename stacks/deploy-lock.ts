import * as os from "node:os";
import { isAlive as pidAlive } from "../components/local/os-process";
import { backendStore, type BackendStore } from "./backend-store";
import { describeDelivery, type DeliveryState } from "./plan";
import type { StepLog } from "./steps";

/** Who holds a stack's deploy lock, and how far its command got. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
  /** Renewed every HEARTBEAT_MS while the holder runs: a holder on another host is known dead by its silence. */
  heartbeatAt?: string;
  /**
   * The step the holder is in. From "up" on, what serves traffic may be changing: a holder that
   * dies there leaves the stack for the next command to put back (`restoreTo`). "restore" (of state
   * from a backup) changes no resource: an interrupted one is simply run again.
   */
  phase?: "prepare" | "up" | "bake" | "revert" | "rollback" | "restore";
  /** What ran before the holder started changing things; absent for a first deploy. */
  restoreTo?: DeliveryState;
  /**
   * A rollback's chosen version, once it chose one (from then on `restoreTo` is that target). A
   * rollback that takes the lock over runs the dead one again, to this version (stacks/rollback.ts).
   */
  rollbackTo?: number;
}

export class DeployLockedError extends Error {
  override name = "DeployLockedError";
  constructor(
    readonly stackName: string,
    readonly holder: LockHolder,
    where: string,
  ) {
    super(
      `stack ${stackName} is being deployed by pid ${holder.pid} on ${holder.host} (${holder.command}, since ${holder.startedAt}; lock in ${where}); ` +
        `wait for it to finish — a second deploy would interleave with it`,
    );
  }
}

export interface AcquiredLock {
  release(): Promise<void>;
  /** Records the holder's progress in the lock, so whoever finds it stale knows what to put back. */
  update(progress: Pick<LockHolder, "phase" | "restoreTo" | "rollbackTo">): Promise<void>;
  /**
   * Leaves the lock behind as a dead holder's (pid 0) instead of releasing it: the next command
   * takes it over and puts back `restoreTo`, as after a crash. For a restore that could not finish.
   */
  leaveForRecovery(): Promise<void>;
  /** Set when the lock was taken over from a holder that died holding it (kill -9, a lost runner). */
  staleHolder?: LockHolder;
}

export const HEARTBEAT_MS = 10_000;
/** A holder silent this long is dead, wherever it ran. */
export const SILENT_AFTER_MS = 6 * HEARTBEAT_MS;

export function lockKey(stack: string): string {
  return `.pulumi/flightdeck-locks/${stack}.lock`;
}

/** Whether a holder is gone: its pid is dead on this host, or it stopped renewing its heartbeat. */
export function holderIsDead(holder: LockHolder, now = Date.now(), host = os.hostname()): boolean {
  if (holder.pid === 0) return true;
  if (holder.host === host && !pidAlive(holder.pid)) return true;
  const beat = Date.parse(holder.heartbeatAt ?? holder.startedAt);
  return Number.isFinite(beat) && now - beat > SILENT_AFTER_MS;
}

/**
 * A rollback whose driver died holding the lock is run again by the next rollback, not undone: to
 * the version it chose, if it got that far (else the same choice is made again from the same
 * history). Undoing it first would put the release being rolled back from back in front of users
 * for the length of an update, and a rollback run after that undo would go one version further
 * back than the one asked for. Undefined when the dead holder was not a rollback in its rollback step.
 */
export function interruptedRollback(stale: LockHolder | undefined): { version?: number } | undefined {
  if (!stale || stale.phase !== "rollback" || !/^rollback\b/.test(stale.command)) return undefined;
  return stale.rollbackTo !== undefined ? { version: stale.rollbackTo } : {};
}

/** A stack's lock as `status` shows it: the command holding it, how far it got, whether it still runs. */
export interface LockView {
  command: string;
  pid: number;
  host: string;
  startedAt: string;
  phase: NonNullable<LockHolder["phase"]>;
  /** False: it died holding the lock, and the next deploy or rollback takes it over. */
  running: boolean;
  /** What that next command puts back first: the holder died where traffic may have moved. */
  putsBack?: string;
  /** The same, in one line for people. */
  summary: string;
}

/**
 * Whether what serves traffic may have been changing when the holder died: from "up" on (up, bake,
 * revert, rollback), the next command puts back its `restoreTo`; "prepare" (or no phase) changed
 * nothing, and "restore" (of state from a backup) changed no resource.
 */
export function trafficMayHaveMoved(holder: LockHolder): boolean {
  return holder.phase === "up" || holder.phase === "bake" || holder.phase === "revert" || holder.phase === "rollback";
}

/** A lock's text as its holder; a lock cut short by a crash between create and write (not an object) names nobody alive. */
function parseHolder(text: string): LockHolder {
  try {
    const holder: unknown = JSON.parse(text);
    if (typeof holder === "object" && holder !== null) return holder as LockHolder;
  } catch {
    // cut short: below
  }
  return { pid: 0, host: os.hostname(), command: "a command whose lock was cut short", startedAt: "unknown" };
}

/** What a lock says to someone reading `status`. Pure. */
export function viewLock(holder: LockHolder, running: boolean): LockView {
  const phase = holder.phase ?? "prepare";
  const moving = trafficMayHaveMoved(holder);
  const putsBack = !running && moving && holder.restoreTo ? describeDelivery(holder.restoreTo) : undefined;
  const who = `pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}`;
  const rerun = running ? undefined : interruptedRollback(holder);
  let summary: string;
  if (rerun && putsBack)
    summary =
      `${holder.command} was interrupted in its ${phase} step (${who}): what runs is not confirmed; the next rollback runs it again` +
      `${rerun.version !== undefined ? ` (to version ${rerun.version})` : ""}, a deploy puts back ${putsBack} first`;
  else if (running) summary = `${holder.command} is running, in its ${phase} step (${who}); a deploy or rollback now is refused until it ends`;
  else if (putsBack) summary = `${holder.command} was interrupted in its ${phase} step (${who}): what runs is not confirmed; the next deploy or rollback puts back ${putsBack} first`;
  else if (moving) summary = `${holder.command} was interrupted in its ${phase} step (${who}), with nothing before it to put back; the next deploy or rollback takes its lock over`;
  else summary = `${holder.command} was interrupted in its ${phase} step (${who}) before it changed anything; the next deploy or rollback takes its lock over`;
  return { command: holder.command, pid: holder.pid, host: holder.host, startedAt: holder.startedAt, phase, running, ...(putsBack ? { putsBack } : {}), summary };
}

/** The stack's lock, if a command holds it or died holding it; undefined when it is free. */
export async function readDeployLock(store: BackendStore, stack: string, now = Date.now()): Promise<LockView | undefined> {
  const text = await store.get(lockKey(stack));
  if (text === undefined) return undefined;
  const holder = parseHolder(text);
  return viewLock(holder, !holderIsDead(holder, now));
}

/**
 * A per-stack lock in the store beside the state, created atomically so two deploys can never both
 * hold it, from this checkout or any other that shares the backend. A dead holder's lock is taken
 * over (and reported as such, with how far it got).
 */
export async function acquireDeployLock(store: BackendStore, stack: string, command: string): Promise<AcquiredLock> {
  const key = lockKey(stack);
  const me: LockHolder = { pid: process.pid, host: os.hostname(), command, startedAt: new Date().toISOString() };
  let staleHolder: LockHolder | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    me.heartbeatAt = new Date().toISOString();
    if (await store.create(key, JSON.stringify(me))) return held(store, key, me, staleHolder);
    const text = await store.get(key);
    const holder = parseHolder(text ?? "");
    if (!holderIsDead(holder)) throw new DeployLockedError(stack, holder, store.where);
    // Take over only the lock we judged dead: if it changed meanwhile, someone else took it.
    if ((await store.get(key)) !== text) continue;
    staleHolder = holder;
    await store.delete(key);
  }
  throw new Error(`could not take the deploy lock ${key} in ${store.where}`);
}

function held(store: BackendStore, key: string, me: LockHolder, staleHolder: LockHolder | undefined): AcquiredLock {
  let parked = false;
  let writing: Promise<void> = Promise.resolve();
  const write = (holder: LockHolder) => (writing = writing.then(() => store.put(key, JSON.stringify(holder))));
  const beat = setInterval(() => {
    me.heartbeatAt = new Date().toISOString();
    void write(me).catch(() => undefined);
  }, HEARTBEAT_MS);
  beat.unref();
  return {
    staleHolder,
    update: async (progress) => {
      Object.assign(me, progress);
      await write(me);
    },
    leaveForRecovery: async () => {
      clearInterval(beat);
      parked = true; // release() now leaves it for the next command
      await write({ ...me, pid: 0, command: `${me.command} (its revert did not finish)` });
    },
    release: async () => {
      clearInterval(beat);
      await writing.catch(() => undefined);
      if (parked) return;
      try {
        const cur = JSON.parse((await store.get(key)) ?? "{}") as Partial<LockHolder>;
        if (cur.pid === me.pid && cur.host === me.host) await store.delete(key);
      } catch {
        /* already gone */
      }
    },
  };
}

/** `taken over from pid 123 (deploy v2, in bake), which died holding it`, or `acquired`. */
function describeAcquired(lock: AcquiredLock): string {
  const s = lock.staleHolder;
  return s ? `taken over from pid ${s.pid} (${s.command}, in ${s.phase ?? "prepare"}), which died holding it` : "acquired";
}

/**
 * Runs `body` holding the stack's deploy lock in the store beside its state (recorded as the
 * `lock` step when a log is given). The lock, and the store's connection, are released whatever
 * happens, a refused lock included.
 */
export async function withDeployLock<T>(
  workDir: string,
  stack: string,
  command: string,
  log: StepLog | undefined,
  body: (lock: AcquiredLock, store: BackendStore) => Promise<T>,
): Promise<T> {
  const store = backendStore(workDir);
  try {
    const acquire = () => acquireDeployLock(store, stack, command);
    const lock = log ? await log.run("lock", acquire, describeAcquired) : await acquire();
    try {
      return await body(lock, store);
    } finally {
      await lock.release();
    }
  } finally {
    await store.close();
  }
}
