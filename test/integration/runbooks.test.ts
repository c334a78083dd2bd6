/**
 * Every runbook in docs/runbooks/, run for real: on a local test stack on the real engine, each
 * scenario makes its situation happen (a release that fails its gate, a driver stuck in its bake, a
 * leaked app secret, a closed deploy window, a corrupt state), then runs the page's runnable `sh`
 * blocks in order through bash, as a reader would after `export STACK=…` and the page's other
 * variables, and checks that each block exits as the page says and that the stack ends where the
 * page says it does. A page without a scenario here fails: a runbook no test has run is a guess.
 */
import { execa, type ResultPromise } from "execa";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploy } from "../../stacks/deploy";
import { history, status } from "../../stacks/status";
import { LOCAL_PASSPHRASE, projectDir } from "../../stacks/workspace";
import { FAST_DELIVERY, localTestStack, versionAt } from "../support/local-stack";
import { runbookDir, runbookFiles, shBlocks, type Block } from "../support/runbooks";
import { driverArgs } from "../support/driver";

const STACK = "test-runbook";
const BASE = 18800;
const stackFile = path.join(projectDir, `Pulumi.${STACK}.yaml`);
const policyFile = path.join(projectDir, "policies", "config", `${STACK}.json`);
let env: Awaited<ReturnType<typeof localTestStack>>;

interface Ran {
  block: Block;
  exitCode: number | undefined;
  output: string;
}

/** Runs a page's runnable blocks in order, as a reader's bash would, and checks each one's exit status. */
async function runRunbook(file: string, vars: Record<string, string>): Promise<Ran[]> {
  const ran: Ran[] = [];
  for (const block of shBlocks(file).filter((b) => b.runnable)) {
    const started = Date.now();
    const r = await execa("bash", ["-e", "-o", "pipefail", "-c", block.code], {
      cwd: projectDir,
      env: { STACK, PULUMI_CONFIG_PASSPHRASE: LOCAL_PASSPHRASE, ...vars },
      reject: false,
      all: true,
      timeout: 150_000,
    });
    const where = `${path.relative(projectDir, file)}:${block.line} (exit ${String(r.exitCode)} after ${((Date.now() - started) / 1000).toFixed(1)}s, expected ${block.exit}):\n${block.code}\n--- output ---\n${r.all ?? ""}`;
    expect(r.exitCode, where).toBe(block.exit);
    ran.push({ block, exitCode: r.exitCode, output: r.all ?? "" });
  }
  return ran;
}

/** The output of the first block that ran a given command. */
function outputOf(ran: Ran[], pattern: RegExp, nth = 0): string {
  const hits = ran.filter((r) => pattern.test(r.block.code));
  expect(hits.length, `no block matches ${pattern}`).toBeGreaterThan(nth);
  return hits[nth]!.output;
}

function cli(...args: string[]) {
  return execa("node", driverArgs(projectDir, ...args), { cwd: projectDir, reject: false, all: true });
}

function editStackFile(edit: (config: Record<string, unknown>) => void): void {
  const doc = YAML.parse(fs.readFileSync(stackFile, "utf8")) as { config: Record<string, unknown> };
  edit(doc.config);
  fs.writeFileSync(stackFile, YAML.stringify(doc));
}

/** The environment of a slot's process, as the kernel has it. */
async function environOf(slot: "blue" | "green"): Promise<string[]> {
  const state = await env.stack.exportStack();
  const resources = (state.deployment as { resources: { type: string; urn: string; outputs?: { pid?: number } }[] }).resources;
  const pid = resources.find((r) => r.type.endsWith("flightdeck:LocalProcess") && r.urn.endsWith(`slot-${slot}-process`))?.outputs?.pid;
  expect(pid, `slot ${slot} has a process`).toBeTypeOf("number");
  return fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
}

const other = (slot: string | undefined) => (slot === "blue" ? "green" : "blue");

/** Waits until a running driver's output matches. */
async function until(child: ResultPromise, pattern: RegExp, what: string): Promise<string> {
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} never happened:\n${output}`)), 120_000);
    child.all!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return output;
}

/** A situation a runbook is for: made to happen, the page run, the end state checked. */
type Scenario = (file: string) => Promise<void>;

const SCENARIOS: Record<string, Scenario> = {
  "failed-deploy.md": async (file) => {
    const before = await status(STACK);
    // The situation, as the CLI shows it: the symptom the page quotes.
    const failed = await cli("deploy", "--stack", STACK, "--release", "v3-unhealthy");
    expect(failed.exitCode).toBe(1);
    expect(failed.all).toMatch(/FAILED: deploy failed before traffic moved: health gate closed for release v3-unhealthy: .*; the last good state is back/);
    expect(await versionAt(env.url)).toBe(before.release);

    const ran = await runRunbook(file, { RELEASE: "v4", RUN_ID: "" });
    expect(outputOf(ran, /npm run history/)).toMatch(/failed/);
    expect(await versionAt(env.url)).toBe("v4");
    expect(await status(STACK)).toMatchObject({ release: "v4", liveSlot: other(before.liveSlot), consistent: true, healthy: true });
  },

  "stuck-deploy.md": async (file) => {
    const good = await versionAt(env.url);
    // A bake long enough that the page's steps run while the driver is still in it.
    editStackFile((c) => (c["flightdeck:bakeSeconds"] = 90));
    // node itself, not npx: the pid is the driver's, the one the lock names.
    const child = cli("deploy", "--stack", STACK, "--release", "v5");
    try {
      await until(child, /✓ up \(slot, gate, switch\)/, "the deploy's bake");
      expect(await versionAt(env.url)).toBe("v5");
      const ran = await runRunbook(file, { HOLDER_PID: String(child.pid), RUN_ID: "" });
      const [refused, , , recovered, after] = ran.map((r) => r.output);
      expect(refused).toMatch(new RegExp(`stack ${STACK} is being deployed by pid ${child.pid} on .*wait for it to finish`));
      expect((await child).signal).toBe("SIGKILL");
      expect(recovered).toMatch(new RegExp(`lock .*taken over from pid ${child.pid} \\(deploy v5, in bake\\)`));
      expect(recovered).toMatch(/✓ restore/);
      expect(after).toMatch(/UNCHANGED/);
    } finally {
      child.kill("SIGKILL");
      await child;
      editStackFile((c) => (c["flightdeck:bakeSeconds"] = FAST_DELIVERY.bakeSeconds));
    }
    // The release the killed driver was baking is not what users get: the last good one is back.
    expect(await versionAt(env.url)).toBe(good);
    expect(await status(STACK)).toMatchObject({ release: good, consistent: true, healthy: true });
  },

  "leaked-secret.md": async (file) => {
    const OLD_VALUE = `leaked-${crypto.randomBytes(8).toString("hex")}`;
    const NEW_VALUE = `rotated-${crypto.randomBytes(8).toString("hex")}`;
    // Set the documented way (a map of secrets, README "Stack config"), the one `--path` reads.
    const set = await execa("pulumi", ["config", "set", "--secret", "--path", "flightdeck:appSecrets.API_KEY", OLD_VALUE, "--stack", STACK], {
      cwd: projectDir,
      env: { PULUMI_CONFIG_PASSPHRASE: LOCAL_PASSPHRASE },
      reject: false,
      all: true,
    });
    expect(set.exitCode, set.all).toBe(0);
    expect((await deploy({ stack: STACK })).outcome).toBe("succeeded");
    const leakedOn = (await status(STACK)).liveSlot as "blue" | "green";
    expect(await environOf(leakedOn)).toContain(`API_KEY=${OLD_VALUE}`);

    await runRunbook(file, { SECRET_NAME: "API_KEY", OLD_VALUE, NEW_VALUE, FLY_APP: "" });
    // The live process runs the new value; the stack file holds it only as ciphertext.
    const s = await status(STACK);
    expect(s).toMatchObject({ consistent: true, healthy: true });
    expect(s.liveSlot).toBe(other(leakedOn));
    expect(await environOf(s.liveSlot as "blue" | "green")).toContain(`API_KEY=${NEW_VALUE}`);
    expect(fs.readFileSync(stackFile, "utf8")).not.toContain(NEW_VALUE);
    // What the page says of the slot rolled away from: it still runs the old value, warm.
    expect(await environOf(leakedOn)).toContain(`API_KEY=${OLD_VALUE}`);
    // Neither value is in the state as the backend holds it (the page checks that too; this checks the check)...
    const plain = await execa("pulumi", ["stack", "export", "--stack", STACK], { cwd: projectDir, env: { PULUMI_CONFIG_PASSPHRASE: LOCAL_PASSPHRASE } });
    expect(plain.stdout).toMatch(/"ciphertext"/);
    expect(plain.stdout).not.toContain(OLD_VALUE);
    expect(plain.stdout).not.toContain(NEW_VALUE);
    // ...and decrypted, the old value is held only by the warm slot the page warns about, never the live one.
    const resources = ((await env.stack.exportStack()).deployment as { resources: { urn: string }[] }).resources;
    const holding = resources.filter((r) => JSON.stringify(r).includes(OLD_VALUE)).map((r) => r.urn.split("::").pop());
    expect(holding.length).toBeGreaterThan(0);
    expect(holding.every((name) => name?.startsWith(`slot-${leakedOn}`))).toBe(true);
  },

  "deploy-window-emergency.md": async (file) => {
    // The local stack's policies with a window that has no day: every forward deploy is outside it.
    const local = JSON.parse(fs.readFileSync(path.join(projectDir, "policies", "config", "local.json"), "utf8")) as Record<string, unknown>;
    local["deploy-window"] = { enforcementLevel: "mandatory", days: [], start: "09:00", end: "17:00", timeZone: "UTC" };
    fs.writeFileSync(policyFile, JSON.stringify(local, null, 2) + "\n");
    try {
      const live = await versionAt(env.url);
      const refused = await cli("deploy", "--stack", STACK, "--release", "v6");
      expect(refused.exitCode).toBe(1);
      expect(refused.all).toMatch(/Deploys are allowed only inside the deploy window \(no days 09:00–17:00 UTC\)/);
      expect(refused.all).toMatch(/FAILED: refused before anything changed/);
      expect(await versionAt(env.url)).toBe(live);

      // The version to roll back to: the first good deploy (v1).
      const first = (await history(STACK)).records.find((r) => r.result === "succeeded" && r.release === "v1");
      expect(first).toBeDefined();
      const vars = {
        RELEASE: "v6-hotfix",
        VERSION: String(first!.version),
        REASON: "runbook test hotfix",
        APPROVER: "runbook-tester",
        EXPIRES: new Date(Date.now() + 2 * 3600_000).toISOString(),
      };
      const ran = await runRunbook(file, vars);
      expect(outputOf(ran, /npm run preview/)).toMatch(/Deploys are allowed only inside the deploy window/);
      expect(outputOf(ran, /npm run rollback/)).toMatch(/ROLLED BACK to version/);
      expect(outputOf(ran, /npm run preview/, 1)).toMatch(/Emergency override in use outside the deploy window .*approved by runbook-tester, reason: "runbook test hotfix"/);
      expect(outputOf(ran, /npm run deploy/)).toMatch(/SUCCEEDED: v6-hotfix is live/);
      expect(outputOf(ran, /npm run preview/, 2)).toMatch(/Deploys are allowed only inside the deploy window/);
      // The override is gone again, the rest of the policy config as it was.
      expect(JSON.parse(fs.readFileSync(policyFile, "utf8"))).toEqual(local);
      expect(await versionAt(env.url)).toBe("v6-hotfix");
      expect(await status(STACK)).toMatchObject({ release: "v6-hotfix", consistent: true, healthy: true });
    } finally {
      fs.rmSync(policyFile, { force: true });
    }
  },

  "lost-backend.md": async (file) => {
    // A backup taken while the stack was good, then the stack's checkpoint in the file backend
    // destroyed (the .bak beside it too: the backend is lost, only the backup is left).
    const live = await versionAt(env.url);
    const BACKUP_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-backups-"));
    try {
      const backup = await cli("backup", "--stack", STACK, "--dir", BACKUP_DIR);
      expect(backup.exitCode, backup.all).toBe(0);
      // The newest backup of the stack, as the page's Diagnosis lists them.
      const newest = fs.readdirSync(path.join(BACKUP_DIR, STACK)).filter((f) => f.startsWith(`${STACK}-`) && f.endsWith(".json")).sort().pop();
      expect(newest).toBeDefined();
      const BACKUP_FILE = path.join(BACKUP_DIR, STACK, newest!);
      expect(backup.all).toContain(`BACKED UP ${STACK}: `);
      const checkpoint = path.join(projectDir, ".pulumi", "state", ".pulumi", "stacks", "flightdeck", `${STACK}.json`);
      fs.writeFileSync(checkpoint, "{ this is not json");
      fs.rmSync(`${checkpoint}.bak`, { force: true });
      const ran = await runRunbook(file, { BACKUP_DIR, BACKUP_FILE, BACKUP_RUN_ID: "" });
      // status fails on the engine's own words here (the page lists both symptoms).
      expect(outputOf(ran, /npm run status/)).toMatch(/state could not be read|failed to load checkpoint/);
      expect(outputOf(ran, /restore --stack "\$STACK" --from "\$BACKUP_FILE"$/m)).toMatch(new RegExp(`RESTORED ${STACK} from`));
    } finally {
      fs.rmSync(BACKUP_DIR, { recursive: true, force: true });
    }
    expect(await versionAt(env.url)).toBe(live);
    expect(await status(STACK)).toMatchObject({ release: live, consistent: true, healthy: true });
  },
};

describe("runbooks, run on a local test stack", () => {
  beforeAll(async () => {
    fs.rmSync(policyFile, { force: true });
    env = await localTestStack(STACK, BASE, FAST_DELIVERY);
    expect((await deploy({ stack: STACK, release: "v1" })).outcome).toBe("succeeded");
    expect((await deploy({ stack: STACK, release: "v2" })).outcome).toBe("succeeded");
  });
  afterAll(async () => {
    fs.rmSync(policyFile, { force: true });
    await env?.cleanup();
  });

  const files = runbookFiles();

  it("finds the runbooks", () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
    expect(path.dirname(files[0]!)).toBe(runbookDir);
  });

  it.each(files.map((f) => [path.basename(f), f]))(
    "%s: its situation, then its steps in order, each exiting as the page says",
    async (name, file) => {
      const scenario = SCENARIOS[name];
      expect(scenario, `no scenario for docs/runbooks/${name}: add one to SCENARIOS in test/integration/runbooks.test.ts`).toBeDefined();
      await scenario!(file);
    },
    600_000,
  );
});
