/**
 * The backup file's checks and the restore's plan, without the engine: what is refused (and with
 * which message), what a restore says it will change, and retention.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BACKUP_KIND, backupPath, checksumOf, listBackups, pruneBackups, readBackup, writeBackup, type BackupFile } from "../../stacks/backup";
import { planRestore, type BackendView } from "../../stacks/restore";

const STACK = "staging";
const urn = (name: string, stack = STACK) => `urn:pulumi:${stack}::flightdeck::flightdeck:local:LocalProcess::${name}`;

function backupOf(time: string, resources: { urn: string; id?: string; outputs?: unknown }[], history: BackupFile["history"] = [{ name: "staging-1.history.json", data: "{}" }]): BackupFile {
  const deployment = { version: 3, deployment: { manifest: { time }, resources } };
  return {
    kind: BACKUP_KIND,
    formatVersion: 1,
    project: "flightdeck",
    stack: STACK,
    takenAt: "2026-12-01T10:00:00.000Z",
    checkpointTime: time,
    resources: resources.length,
    updates: history?.length ?? 0,
    backend: "/tmp/state",
    sha256: checksumOf(deployment, history, []),
    deployment,
    history,
    records: [],
  };
}

const T1 = "2026-12-01T09:00:00.000000000Z";
const T2 = "2026-12-01T11:00:00.000000000Z";
const blue = { urn: urn("slot-blue"), id: "pid-1", outputs: { pid: 1 } };
const green = { urn: urn("slot-green"), id: "pid-2", outputs: { pid: 2 } };
const lost: BackendView = { historyNames: [] };

describe("planRestore", () => {
  it("into a lost backend: creates the stack and puts the history back", () => {
    const plan = planRestore("b.json", backupOf(T1, [blue, green]), STACK, lost, []);
    expect(plan.refusal).toBeUndefined();
    expect(plan.changes).toEqual([
      "create stack staging in the backend with the backup's 2 resources (the backend has no state of it)",
      "put back 1 update(s) of history (the backend has 0 of the backup's 1)",
    ]);
  });

  it("another stack's or project's backup, or a resource of another stack inside it, is refused", () => {
    expect(planRestore("b.json", backupOf(T1, [blue]), "production", lost, []).refusal).toBe(
      'b.json is a backup of stack "staging", not "production": nothing was changed',
    );
    expect(planRestore("b.json", { ...backupOf(T1, [blue]), project: "other" }, STACK, lost, []).refusal).toMatch(/project: expected "flightdeck", found "other"/);
    const mixed = backupOf(T1, [blue, { urn: urn("slot-green", "production") }]);
    expect(planRestore("b.json", mixed, STACK, lost, []).refusal).toMatch(/deployment\.resources\[1\]\.urn: expected a resource of stack "staging"/);
  });

  it("an older backup is refused while a newer one lies beside it, unless allowed", () => {
    const others = [{ file: "newer.json", checkpointTime: T2 }];
    expect(planRestore("b.json", backupOf(T1, [blue]), STACK, lost, others).refusal).toMatch(/newer\.json holds a newer one \(2026-12-01T11:00:00\.000000000Z\)/);
    expect(planRestore("b.json", backupOf(T1, [blue]), STACK, lost, others, true).refusal).toBeUndefined();
    // The same checkpoint taken twice is not newer.
    expect(planRestore("b.json", backupOf(T1, [blue]), STACK, lost, [{ file: "same.json", checkpointTime: T1 }]).refusal).toBeUndefined();
  });

  it("a backend that holds a newer state is not lost: refused, pointing at rollback", () => {
    const backend: BackendView = { state: { checkpointTime: T2, resources: [blue] }, historyNames: ["staging-1.history.json"] };
    expect(planRestore("b.json", backupOf(T1, [blue]), STACK, backend, []).refusal).toMatch(/the backend holds a newer state of staging .* it is not lost\. To return to an earlier release use rollback/);
  });

  it("going back on purpose lists each resource the state gains, changes or drops", () => {
    const backend: BackendView = {
      state: { checkpointTime: T2, resources: [{ ...blue, id: "pid-9", outputs: { pid: 9 } }, { urn: urn("router") }] },
      historyNames: ["staging-1.history.json"],
    };
    const plan = planRestore("b.json", backupOf(T1, [blue, green]), STACK, backend, [], true);
    expect(plan.changes).toEqual([
      "~ flightdeck:local:LocalProcess::slot-blue: its recorded id/outputs go back to the backup's",
      "+ flightdeck:local:LocalProcess::slot-green: back in the state",
      "- flightdeck:local:LocalProcess::router: dropped from the state (what it created keeps running, unmanaged)",
    ]);
  });

  it("an unreadable backend state is replaced; the same state with its whole history is nothing to do", () => {
    const corrupt: BackendView = { unreadable: "failed to load checkpoint", historyNames: ["staging-1.history.json"] };
    expect(planRestore("b.json", backupOf(T1, [blue]), STACK, corrupt, []).changes).toEqual([
      "replace the backend's unreadable state of staging (failed to load checkpoint) with the backup's 1 resources",
    ]);
    const same: BackendView = { state: { checkpointTime: T1, resources: [blue] }, historyNames: ["staging-1.history.json"] };
    expect(planRestore("b.json", backupOf(T1, [blue]), STACK, same, []).nothingToDo).toBe(true);
    const noHistory: BackendView = { ...same, historyNames: [] };
    const plan = planRestore("b.json", backupOf(T1, [blue]), STACK, noHistory, []);
    expect(plan.nothingToDo).toBe(false);
    expect(plan.changes).toEqual(["put back 1 update(s) of history (the backend has 0 of the backup's 1)"]);
  });

  it("deployment records the backend lacks are put back", () => {
    const backup = { ...backupOf(T1, [blue]), records: [{ name: "2026-12-01T090000.000Z-ab12cd34.json", data: "{}" }] };
    const same: BackendView = { state: { checkpointTime: T1, resources: [blue] }, historyNames: ["staging-1.history.json"], recordNames: [] };
    const plan = planRestore("b.json", backup, STACK, same, []);
    expect(plan.nothingToDo).toBe(false);
    expect(plan.changes).toEqual(["put back 1 deployment record(s) (the backend has 0 of the backup's 1)"]);
  });

  it("a backup without history says rollback starts again from the next deploy", () => {
    const plan = planRestore("b.json", backupOf(T1, [blue], null), STACK, lost, []);
    expect(plan.changes.at(-1)).toMatch(/no update history in this backup .* history and rollback start again from the next deploy/);
  });
});

describe("backup files", () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-backup-unit-"));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it("round-trips, owner-only, and a changed byte fails the checksum with one message", () => {
    const dir = tmp();
    const file = writeBackup(dir, backupOf(T1, [blue]));
    expect(file).toBe(backupPath(dir, STACK, "2026-12-01T10:00:00.000Z"));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(readBackup(file).checkpointTime).toBe(T1);
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace('"pid-1"', '"pid-7"'));
    expect(() => readBackup(file)).toThrow(/sha256: expected [0-9a-f]{64} \(recorded when the backup was taken\), found [0-9a-f]{64}: the file was changed or cut short since/);
  });

  it("not JSON, not the format, or missing: which file, which key, what was expected, what was found", () => {
    const dir = tmp();
    const f = path.join(dir, "x.json");
    fs.writeFileSync(f, "{ cut sh");
    expect(() => readBackup(f)).toThrow(/x\.json: expected a Flightdeck state backup \(JSON\), found text that is not JSON/);
    fs.writeFileSync(f, JSON.stringify({ ...backupOf(T1, [blue]), kind: "something-else", sha256: "nope" }));
    expect(() => readBackup(f)).toThrow(/x\.json: not a usable Flightdeck state backup:\n  - kind: Invalid literal value, expected "flightdeck-state-backup", found "something-else"\n  - sha256: 64 hex digits, found "nope"/);
    expect(() => readBackup(path.join(dir, "absent.json"))).toThrow(/absent\.json: cannot be read \(ENOENT\)/);
  });

  it("retention keeps the newest and leaves other files alone", () => {
    const dir = tmp();
    for (const t of ["2026-12-01T01:00:00.000Z", "2026-12-01T02:00:00.000Z", "2026-12-01T03:00:00.000Z"]) writeBackup(dir, { ...backupOf(T1, [blue]), takenAt: t });
    fs.writeFileSync(path.join(dir, STACK, "notes.txt"), "keep me");
    const removed = pruneBackups(dir, STACK, 2);
    expect(removed.map((f) => path.basename(f))).toEqual(["staging-2026-12-01T01-00-00-000Z.json"]);
    expect(listBackups(dir, STACK).map((f) => path.basename(f))).toEqual(["staging-2026-12-01T02-00-00-000Z.json", "staging-2026-12-01T03-00-00-000Z.json"]);
    expect(fs.existsSync(path.join(dir, STACK, "notes.txt"))).toBe(true);
  });
});
