import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { backendStore, fileStore } from "../../stacks/backend-store";
import { acquireDeployLock, DeployLockedError, holderIsDead, interruptedRollback, lockKey, readDeployLock, SILENT_AFTER_MS, viewLock } from "../../stacks/deploy-lock";

const store = () => fileStore(fs.mkdtempSync(path.join(os.tmpdir(), "fd-lock-")), true);

describe("deploy lock", () => {
  it("a second deploy of the same stack is refused, naming the holder and where the lock is", async () => {
    const s = store();
    const first = await acquireDeployLock(s, "s", "deploy v1");
    await expect(acquireDeployLock(s, "s", "deploy v2")).rejects.toThrow(DeployLockedError);
    await expect(acquireDeployLock(s, "s", "deploy v2")).rejects.toThrow(new RegExp(`pid ${process.pid} .*deploy v1.*lock in ${s.where}`));
    await first.release();
    await (await acquireDeployLock(s, "s", "deploy v2")).release();
  });
  it("another stack's deploy is not blocked", async () => {
    const s = store();
    const a = await acquireDeployLock(s, "a", "deploy");
    await (await acquireDeployLock(s, "b", "deploy")).release();
    await a.release();
  });
  it("a lock whose holder died is taken over and reported, with how far it got", async () => {
    const s = store();
    const dead = spawnSync("true").pid!; // exited and reaped: its pid names no process
    await s.put(lockKey("s"), JSON.stringify({ pid: dead, host: os.hostname(), command: "deploy v0", startedAt: "then", phase: "bake" }));
    const lock = await acquireDeployLock(s, "s", "deploy v1");
    expect(lock.staleHolder).toMatchObject({ pid: dead, command: "deploy v0", phase: "bake" });
    await lock.release();
  });
  it("a holder on another host is dead once its heartbeat is silent, alive while it beats", () => {
    const now = Date.now();
    const other = { pid: 1, host: "another-runner", command: "deploy", startedAt: new Date(now - 3_600_000).toISOString() };
    expect(holderIsDead({ ...other, heartbeatAt: new Date(now - 1000).toISOString() }, now)).toBe(false);
    expect(holderIsDead({ ...other, heartbeatAt: new Date(now - SILENT_AFTER_MS - 1000).toISOString() }, now)).toBe(true);
  });
  it("progress is recorded in the lock; a lock left for recovery stays for the next command", async () => {
    const s = store();
    const lock = await acquireDeployLock(s, "s", "deploy v1");
    await lock.update({ phase: "revert", restoreTo: { liveSlot: "blue", slots: { blue: { release: "v0", features: {} } } } });
    expect(JSON.parse((await s.get(lockKey("s")))!)).toMatchObject({ phase: "revert", restoreTo: { liveSlot: "blue" } });
    await lock.leaveForRecovery();
    await lock.release();
    const next = await acquireDeployLock(s, "s", "deploy v2");
    expect(next.staleHolder).toMatchObject({ pid: 0, phase: "revert", command: "deploy v1 (its revert did not finish)" });
    await next.release();
  });
});

describe("the deploy lock as status shows it", () => {
  const restoreTo = { liveSlot: "green" as const, slots: { green: { release: "v3", features: {} }, blue: { release: "v1", features: {} } } };
  it("a free stack shows no command", async () => {
    expect(await readDeployLock(store(), "s")).toBeUndefined();
  });
  it("a running deploy: its step, pid and host, and that another deploy is refused meanwhile", async () => {
    const s = store();
    const lock = await acquireDeployLock(s, "s", "deploy v4");
    await lock.update({ phase: "bake", restoreTo });
    const v = await readDeployLock(s, "s");
    expect(v).toMatchObject({ command: "deploy v4", pid: process.pid, phase: "bake", running: true });
    expect(v?.putsBack).toBeUndefined();
    expect(v?.summary).toMatch(/^deploy v4 is running, in its bake step \(pid \d+ on .*\); a deploy or rollback now is refused/);
    await lock.release();
    expect(await readDeployLock(s, "s")).toBeUndefined();
  });
  it("a deploy killed in its bake: interrupted, and what the next command puts back first", async () => {
    const s = store();
    const dead = spawnSync("true").pid!;
    await s.put(lockKey("s"), JSON.stringify({ pid: dead, host: os.hostname(), command: "deploy v4", startedAt: "then", phase: "bake", restoreTo }));
    const v = await readDeployLock(s, "s");
    expect(v).toMatchObject({ running: false, phase: "bake", putsBack: "v3 on green (warm: v1)" });
    expect(v?.summary).toBe(`deploy v4 was interrupted in its bake step (pid ${dead} on ${os.hostname()}, since then): what runs is not confirmed; the next deploy or rollback puts back v3 on green (warm: v1) first`);
  });
  it("interrupted before it changed anything, or a first deploy with nothing to put back: no putsBack", () => {
    const holder = { pid: 0, host: "h", command: "deploy v1", startedAt: "then" };
    expect(viewLock({ ...holder, phase: "prepare", restoreTo }, false)).toMatchObject({ phase: "prepare", running: false });
    expect(viewLock({ ...holder, phase: "prepare", restoreTo }, false).summary).toMatch(/before it changed anything/);
    expect(viewLock({ ...holder, phase: "prepare", restoreTo }, false).putsBack).toBeUndefined();
    expect(viewLock({ ...holder, phase: "up" }, false).summary).toMatch(/with nothing before it to put back/);
  });
  it("a rollback that died in its rollback step is run again by the next rollback (to its version, once chosen), never by a deploy", () => {
    const dead = { pid: 0, host: "h", startedAt: "then", restoreTo };
    expect(interruptedRollback({ ...dead, command: "rollback", phase: "rollback", rollbackTo: 15 })).toEqual({ version: 15 });
    expect(interruptedRollback({ ...dead, command: "rollback", phase: "rollback" })).toEqual({});
    expect(interruptedRollback({ ...dead, command: "rollback", phase: "prepare" })).toBeUndefined();
    expect(interruptedRollback({ ...dead, command: "deploy v4", phase: "bake" })).toBeUndefined();
    expect(interruptedRollback(undefined)).toBeUndefined();
    expect(viewLock({ ...dead, command: "rollback", phase: "rollback", rollbackTo: 15 }, false).summary).toMatch(
      /the next rollback runs it again \(to version 15\), a deploy puts back v3 on green \(warm: v1\) first$/,
    );
  });
  it("a lock file cut short by a crash reads as interrupted, never as an error", async () => {
    const s = store();
    await s.put(lockKey("s"), '{"pid": 12');
    expect(await readDeployLock(s, "s")).toMatchObject({ running: false, pid: 0, phase: "prepare" });
  });
});

describe("where the deploy lock lives", () => {
  it("beside a file backend's state, so every checkout sharing it sees the lock", () => {
    expect(backendStore("/work/checkout", "file:///shared/state")).toMatchObject({ where: "/shared/state", besideState: true });
  });
  it("in Postgres, in the state's own table", () => {
    expect(backendStore("/w", "postgres://u:secret@db:5432/pulumi?sslmode=disable&table=states")).toMatchObject({
      where: "postgres://db:5432/pulumi (table states)",
      besideState: true,
    });
  });
  it("in the checkout for other backends (their engine lease still refuses concurrent updates)", () => {
    expect(backendStore("/work/checkout", "s3://bucket")).toMatchObject({ where: "/work/checkout/.pulumi/checkout-locks", besideState: false });
  });
});
