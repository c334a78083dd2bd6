/**
 * The restore drill, on the real engine, for the file and the Postgres backends: deploy, back up,
 * lose the backend's copy (the directory removed, the table dropped), restore, and the next deploy
 * and rollback work with no hand edit while the app kept serving. Around it: the backup holds no
 * plaintext secret, retention, a corrupt checkpoint replaced, and every refusal (a file changed
 * since, another stack's backup, an older backup when something newer exists) changes nothing.
 */
import { execa } from "execa";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupStack, listBackups, readBackup } from "../../stacks/backup";
import { deploy } from "../../stacks/deploy";
import { restore, RestoreRefusedError } from "../../stacks/restore";
import { rollback } from "../../stacks/rollback";
import { history, status } from "../../stacks/status";
import { projectDir, selectExistingStack } from "../../stacks/workspace";
import { FAST_DELIVERY, localTestStack, versionAt, watchLive } from "../support/local-stack";
import { startPostgres, type TestPostgres } from "../support/postgres";
import { driverArgs } from "../support/driver";

const SECRET = "dr-drill-secret-4a7f19c2";
const backendBefore = process.env.PULUMI_BACKEND_URL;
const passphraseBefore = process.env.PULUMI_CONFIG_PASSPHRASE;

/** The drill itself, the same on every backend: `loseBackend` destroys the backend's copy. */
function drill(name: string, stackName: string, basePort: number, openBackend: () => Promise<{ url: string; lose: () => Promise<void>; close: () => Promise<void> }>) {
  describe(`restore drill: ${name} backend`, () => {
    let env: Awaited<ReturnType<typeof localTestStack>>;
    let backend: Awaited<ReturnType<typeof openBackend>>;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-backups-"));
    let backupFile = "";
    let updatesBefore = 0;
    let recordsBefore = 0;

    beforeAll(async () => {
      backend = await openBackend();
      process.env.PULUMI_BACKEND_URL = backend.url;
      process.env.PULUMI_CONFIG_PASSPHRASE = "drill";
      env = await localTestStack(stackName, basePort, FAST_DELIVERY);
      await env.stack.setConfig("flightdeck:appSecrets", { value: JSON.stringify({ API_KEY: SECRET }), secret: true });
      expect((await deploy({ stack: stackName, release: "v1" })).outcome).toBe("succeeded");
      expect((await deploy({ stack: stackName, release: "v2" })).outcome).toBe("succeeded");
      const h = await history(stackName);
      updatesBefore = h.records.length;
      recordsBefore = h.deployments.length;
      expect(recordsBefore).toBe(2);
    });

    afterAll(async () => {
      await env?.cleanup();
      await backend?.close();
      fs.rmSync(dir, { recursive: true, force: true });
      if (backendBefore === undefined) delete process.env.PULUMI_BACKEND_URL;
      else process.env.PULUMI_BACKEND_URL = backendBefore;
      if (passphraseBefore === undefined) delete process.env.PULUMI_CONFIG_PASSPHRASE;
      else process.env.PULUMI_CONFIG_PASSPHRASE = passphraseBefore;
    });

    it("backs up state and history with the secret still encrypted, readable by its owner only", async () => {
      const r = await backupStack({ stack: stackName, dir });
      backupFile = r.file;
      expect(r.backup.updates).toBe(updatesBefore);
      expect(r.backup.deploymentRecords).toBe(recordsBefore);
      expect(r.backup.resources).toBeGreaterThan(3);
      const text = fs.readFileSync(backupFile, "utf8");
      // The secret is in the state (the slot processes get it), as ciphertext only.
      expect(text).toContain('"ciphertext"');
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(Buffer.from(SECRET).toString("base64"));
      expect(fs.statSync(backupFile).mode & 0o777).toBe(0o600);
      expect(readBackup(backupFile).stack).toBe(stackName);
    });

    it("loses the backend's copy, restores it, and the app served throughout", async () => {
      const live = watchLive(env.url);
      await backend.lose();
      expect(await selectExistingStack(stackName)).toBeUndefined();

      const dry = await restore({ stack: stackName, from: backupFile, dryRun: true });
      expect(dry.applied).toBe(false);
      expect(dry.plan.changes.join("\n")).toMatch(/create stack .* with the backup's \d+ resources/);
      expect(dry.plan.changes.join("\n")).toContain(`put back ${updatesBefore} update(s) of history`);
      expect(dry.plan.changes.join("\n")).toContain(`put back ${recordsBefore} deployment record(s)`);
      expect(await selectExistingStack(stackName)).toBeUndefined(); // a dry run creates nothing

      const r = await restore({ stack: stackName, from: backupFile });
      expect(r.applied).toBe(true);
      const after = await history(stackName);
      expect(after.records.length).toBe(updatesBefore);
      expect(after.deployments.map((d) => d.outcome)).toEqual(["succeeded", "succeeded"]);
      const s = await status(stackName);
      expect(s.release).toBe("v2");
      expect(s.consistent).toBe(true);

      const seen = await live.stop();
      expect(seen.failures).toBe(0);
      expect([...seen.served]).toEqual(["v2"]);
    });

    it("the next deploy and rollback work with no hand edit", async () => {
      const live = watchLive(env.url);
      expect((await deploy({ stack: stackName, release: "v3" })).outcome).toBe("succeeded");
      expect(await versionAt(env.url)).toBe("v3");
      const back = await rollback({ stack: stackName });
      expect(back.to.slots[back.to.liveSlot]?.release).toBe("v2");
      expect(await versionAt(env.url)).toBe("v2");
      const seen = await live.stop();
      expect(seen.failures).toBe(0);
      expect([...seen.served].sort()).toEqual(["v2", "v3"]);
    });

    it("refuses the old backup now that the backend holds a newer state, changing nothing", async () => {
      const before = await env.stack.exportStack();
      await expect(restore({ stack: stackName, from: backupFile })).rejects.toThrow(/holds a newer state .* it is not lost/);
      expect(await env.stack.exportStack()).toEqual(before);
    });
  });
}

drill("file", "test-dr-file", 18900, async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-dr-state-"));
  return {
    url: pathToFileURL(root).toString(),
    lose: async () => fs.rmSync(root, { recursive: true, force: true }),
    close: async () => fs.rmSync(root, { recursive: true, force: true }),
  };
});

let db: TestPostgres | undefined;
drill("Postgres", "test-dr-pg", 18910, async () => {
  db = startPostgres(18920);
  const url = db.url;
  return {
    url,
    lose: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query("DROP TABLE pulumi_state");
      await client.end();
    },
    close: async () => db?.stop(),
  };
});

describe("restore refuses what does not fit, before changing anything", () => {
  const stackName = "test-dr-checks";
  let env: Awaited<ReturnType<typeof localTestStack>>;
  let root = "";
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-backups-"));

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-dr-state-"));
    process.env.PULUMI_BACKEND_URL = pathToFileURL(root).toString();
    env = await localTestStack(stackName, 18930, FAST_DELIVERY);
    expect((await deploy({ stack: stackName, release: "v1" })).outcome).toBe("succeeded");
  });
  afterAll(async () => {
    await env?.cleanup();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
    if (backendBefore === undefined) delete process.env.PULUMI_BACKEND_URL;
    else process.env.PULUMI_BACKEND_URL = backendBefore;
  });

  it("keeps only the newest --keep backups", async () => {
    for (let i = 0; i < 3; i++) await backupStack({ stack: stackName, dir, keep: 2 });
    expect(listBackups(dir, stackName)).toHaveLength(2);
  });

  it("a file changed since it was taken: one message naming the file and the checksum, through the CLI", async () => {
    const [file] = listBackups(dir, stackName);
    const changed = path.join(dir, "changed.json");
    fs.writeFileSync(changed, fs.readFileSync(file!, "utf8").replace(/"v1"/, '"v9"'));
    const r = await execa("node", [...driverArgs(projectDir), "restore", "--stack", stackName, "--from", changed], { cwd: projectDir, reject: false, all: true });
    expect(r.exitCode).toBe(1);
    expect(r.all).toContain(`flightdeck: ${changed}: sha256: expected`);
    expect(r.all).toContain("the file was changed or cut short since");
    expect(r.all).not.toMatch(/\n\s+at /); // no stack trace
    const truncated = path.join(dir, "truncated.json");
    fs.writeFileSync(truncated, fs.readFileSync(file!, "utf8").slice(0, 500));
    await expect(restore({ stack: stackName, from: truncated })).rejects.toThrow(/truncated\.json: expected a Flightdeck state backup \(JSON\), found text that is not JSON/);
  });

  it("another stack's backup is refused", async () => {
    await expect(restore({ stack: "local", from: listBackups(dir, stackName)[0]! })).rejects.toThrow(/is a backup of stack "test-dr-checks", not "local": nothing was changed/);
  });

  it("an older backup is refused while a newer one exists, and --allow-older says what going back changes", async () => {
    const [older] = listBackups(dir, stackName);
    expect((await deploy({ stack: stackName, release: "v2" })).outcome).toBe("succeeded");
    await backupStack({ stack: stackName, dir, keep: 5 });
    const newest = listBackups(dir, stackName).at(-1)!;
    const err = await restore({ stack: stackName, from: older! }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RestoreRefusedError);
    expect((err as Error).message).toContain(`${newest} holds a newer one`);
    const dry = await restore({ stack: stackName, from: older!, allowOlder: true, dryRun: true });
    expect(dry.plan.changes.some((c) => c.startsWith("~ ") && c.includes("its recorded id/outputs go back"))).toBe(true);
  });

  it("a corrupt checkpoint in the backend is replaced by the newest backup, and the stack deploys again", async () => {
    const newest = listBackups(dir, stackName).at(-1)!;
    const checkpoint = path.join(root, ".pulumi", "stacks", "flightdeck", `${stackName}.json`);
    fs.writeFileSync(checkpoint, "{ not json");
    await expect(status(stackName)).rejects.toThrow();
    const r = await restore({ stack: stackName, from: newest });
    expect(r.plan.changes[0]).toMatch(/replace the backend's unreadable state/);
    expect((await status(stackName)).release).toBe("v2");
    expect((await deploy({ stack: stackName, release: "v3" })).outcome).toBe("succeeded");
  });

  it("restoring what the backend already holds changes nothing", async () => {
    const r = await backupStack({ stack: stackName, dir, keep: 5 });
    const again = await restore({ stack: stackName, from: r.file });
    expect(again.plan.nothingToDo).toBe(true);
    expect(again.applied).toBe(false);
  });
});
