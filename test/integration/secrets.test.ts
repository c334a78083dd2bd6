/**
 * Secrets end to end on the real engine (local environment): a secret config value set on a test
 * stack must never appear in plain text on any path it can take — the stack file, the state and
 * history files on disk, the engine's output of preview and up, the PR comment, the drift report,
 * and the CLI's status/history JSON. One test per path. The unique value makes any hit a real leak.
 */
import { execFile } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectDrift, formatDrift } from "../../stacks/drift";
import { renderPreviewComment } from "../../stacks/pr-comment";
import { previewStack, secretConfigValues } from "../../stacks/preview";
import { projectDir } from "../../stacks/workspace";
import { killSlotProcess, localTestStack } from "../support/local-stack";
import { driverArgs } from "../support/driver";

const run = promisify(execFile);
const BASE = 18500;
const NAME = `test-secrets-${process.pid}`;
const SECRET = `s3cr3t-${crypto.randomBytes(12).toString("hex")}`;
const APP_SECRETS = JSON.stringify({ API_KEY: SECRET });
const stackFile = path.join(projectDir, `Pulumi.${NAME}.yaml`);
const passphraseBefore = process.env.PULUMI_CONFIG_PASSPHRASE;

let env: Awaited<ReturnType<typeof localTestStack>>;

/**
 * A file the backend listing named. Test files run side by side on one backend, so another stack's
 * engine may rename or remove its own temporary file between the listing and the read: such a file
 * reads as empty. This stack is idle while it is read: one of its files missing is an error.
 */
function readListed(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && !file.includes(NAME)) return Buffer.alloc(0);
    throw err;
  }
}

/** The backend's directory (file backend: the tests run under scripts/engine.sh). */
function backendDir(): string {
  const url = process.env.PULUMI_BACKEND_URL ?? "";
  if (!url.startsWith("file://")) throw new Error(`these tests need the file backend, PULUMI_BACKEND_URL=${url}`);
  return url.slice("file://".length);
}

/** Every file under dir; a directory another stack's engine removed while it was walked is skipped, as readListed does for files. */
function filesUnder(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && !dir.includes(NAME)) return [];
    throw err;
  }
  return entries.flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : e.isFile() ? [p] : [];
  });
}

/** Every file under dir whose path mentions this stack (its checkpoint, backups, history). */
function stackFiles(dir: string): string[] {
  return filesUnder(dir).filter((f) => f.includes(NAME));
}

/** The CLI as CI runs it: a separate process, under the env scripts/engine.sh gave this test. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, driverArgs(projectDir, ...args), {
      cwd: projectDir,
      env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: "test" },
      timeout: 110_000,
      maxBuffer: 32 * 1024 * 1024,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(err) };
  }
}

describe("secrets never leave the engine in plain text", () => {
  beforeAll(async () => {
    process.env.PULUMI_CONFIG_PASSPHRASE = "test";
    env = await localTestStack(NAME, BASE);
    await env.stack.setConfig("flightdeck:appSecrets", { value: APP_SECRETS, secret: true });
  });
  afterAll(async () => {
    await env?.cleanup();
    fs.rmSync(stackFile, { force: true });
    // `stack rm` keeps the file backend's backups and history of the stack: this test's are its own.
    if (process.env.PULUMI_BACKEND_URL?.startsWith("file://")) {
      for (const f of stackFiles(backendDir())) fs.rmSync(f, { force: true });
      fs.rmSync(path.join(backendDir(), ".pulumi", "history", "flightdeck", NAME), { recursive: true, force: true });
    }
    if (passphraseBefore === undefined) delete process.env.PULUMI_CONFIG_PASSPHRASE;
    else process.env.PULUMI_CONFIG_PASSPHRASE = passphraseBefore;
  });

  it("the driver's redact list holds the decrypted value (so the checks below are not vacuous)", async () => {
    expect(await secretConfigValues(env.stack)).toContain(APP_SECRETS);
  });

  it("Pulumi.<stack>.yaml holds only ciphertext", () => {
    const text = fs.readFileSync(stackFile, "utf8");
    expect(text).toMatch(/flightdeck:appSecrets:\s*\n\s*secure: v1:/);
    expect(text).not.toContain(SECRET);
  });

  it("preview: the engine's output and the PR comment rendered with the driver's redact list", async () => {
    let streamed = "";
    const result = await previewStack(env.stack, { onOutput: (s) => (streamed += s) });
    expect(result.ok).toBe(true);
    expect(result.summary.create).toBeGreaterThan(0);
    expect(streamed + result.stdout).not.toContain(SECRET);
    const comment = renderPreviewComment([result], { redact: await secretConfigValues(env.stack) });
    expect(comment).toContain(`### \`${NAME}\``);
    expect(comment).not.toContain(SECRET);
  });

  it("up: the engine's output and the stack outputs", async () => {
    let streamed = "";
    const result = await env.stack.up({ onOutput: (s) => (streamed += s), message: "secrets test" });
    expect(result.summary.result).toBe("succeeded");
    expect(streamed + result.stdout + result.stderr).not.toContain(SECRET);
    expect(JSON.stringify(result.outputs)).not.toContain(SECRET);
  });

  it("the local app receives it: the live slot's process has it in its environment", async () => {
    const state = await env.stack.exportStack();
    const resources = (state.deployment as { resources: { type: string; urn: string; outputs?: { pid?: number } }[] }).resources;
    const live = resources.find((r) => r.type.endsWith("flightdeck:LocalProcess") && r.urn.includes("slot-blue"));
    expect(live?.outputs?.pid).toBeGreaterThan(0);
    const environ = fs.readFileSync(`/proc/${live!.outputs!.pid!}/environ`, "utf8").split("\0");
    expect(environ).toContain(`API_KEY=${SECRET}`);
  });

  it("state and history files on disk: the value is there only as ciphertext", () => {
    const files = stackFiles(backendDir());
    // The checkpoint and at least one history entry of this stack were written by up.
    expect(files.some((f) => f.endsWith(`${NAME}.json`))).toBe(true);
    const history = files.filter((f) => f.includes(`${path.sep}history${path.sep}`));
    expect(history.length).toBeGreaterThan(0);
    // History records the update's config: the secret key is there, marked secret, as ciphertext.
    const historyText = history.map((f) => fs.readFileSync(f, "utf8")).join("\n");
    expect(historyText).toContain("flightdeck:appSecrets");
    for (const f of files) expect(fs.readFileSync(f, "utf8"), f).not.toContain(SECRET);
  });

  it("the whole backend directory holds the value nowhere", () => {
    const hits = filesUnder(backendDir()).filter((f) => readListed(f).includes(SECRET));
    expect(hits).toEqual([]);
  });

  it("drift: the report and the engine's output of refresh preview and preview", async () => {
    let streamed = "";
    const report = await detectDrift(env.stack, { onOutput: (s) => (streamed += s) });
    expect(report.drifted).toEqual([]);
    expect(streamed).not.toContain(SECRET);
    expect(formatDrift(report)).not.toContain(SECRET);
  });

  it("flightdeck status --json", async () => {
    const r = await cli("status", "--stack", NAME, "--json");
    expect(r.stderr).not.toContain(SECRET);
    expect(r.stdout).not.toContain(SECRET);
    expect(JSON.parse(r.stdout)).toMatchObject({ stack: NAME, healthy: true });
  });

  it("flightdeck history --json", async () => {
    const r = await cli("history", "--stack", NAME, "--json");
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    // This stack's updates were made by the engine directly, not the driver: they are listed as
    // engine history (deployment records are the driver's), and the JSON must still hold them.
    const h = JSON.parse(r.stdout) as { deployments: unknown[]; engineHistory: unknown[] };
    expect(h.deployments).toEqual([]);
    expect(h.engineHistory.length).toBeGreaterThan(0);
  });

  it("flightdeck preview --comment-file: the console and the comment file", async () => {
    const file = path.join(projectDir, ".pulumi", `${NAME}-comment.md`);
    try {
      const r = await cli("preview", "--stack", NAME, "--comment-file", file, "--verbose");
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
      const comment = fs.readFileSync(file, "utf8");
      expect(comment).toContain("No resource changes.");
      expect(comment).not.toContain(SECRET);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it("flightdeck drift: the console", async () => {
    const r = await cli("drift", "--stack", NAME, "--verbose");
    expect(r.stdout, r.stderr).toContain("NO DRIFT");
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it("flightdeck drift on a real drift (a slot's process killed): exits 1, names the resource, no secret", async () => {
    await killSlotProcess(env.stack, "blue", 300);
    const r = await cli("drift", "--stack", NAME);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/changed out of band \(refresh\):\n\s+delete\s+pulumi-nodejs:dynamic\/flightdeck:LocalProcess slot-blue-process/);
    expect(r.stdout).toMatch(/DRIFT: 1 resource\(s\) of test-secrets-\d+ differ/);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });
});
