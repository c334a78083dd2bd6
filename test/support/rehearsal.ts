/**
 * The rehearsal's harness: the program we ship (`infra/`, the committed `Pulumi.<stack>.yaml`,
 * `policies/config/<stack>.json`) driven by the CLI exactly as the workflows run it, on the real
 * engine, with only what is out of reach replaced: Fly by the emulator (machines are processes,
 * its proxy routes by Host), GitHub and Cloudflare by provider doubles at the plugin boundary.
 * Only endpoints, credentials and the deploy window's clock come from the environment.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { FlyEmulator, sampleAppImage, type ImageSpec } from "../fly-emulator";
import { installProviderDoubles } from "../provider-doubles/install";
import { EDGE_ENV } from "../../components/bluegreen/edge";
import { POLICY_NOW_ENV } from "../../policies/rules/deploy-window";
import { projectDir } from "../../stacks/workspace";
import { fileStore } from "../../stacks/backend-store";
import { buildRecord, writeRecord } from "../../stacks/records";
import { driverArgs } from "./driver";

export type CloudStack = "staging" | "production";

/** The committed stack file's settings the rehearsal needs to know (app, hostname). */
export function committedSettings(stack: CloudStack): { app: string; hostname: string; bakeSeconds: number } {
  const doc = YAML.parse(fs.readFileSync(path.join(projectDir, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  const fly = doc.config["flightdeck:fly"] as { app: string };
  const cf = doc.config["flightdeck:cloudflare"] as { hostname: string };
  return { app: fly.app, hostname: cf.hostname, bakeSeconds: Number(doc.config["flightdeck:bakeSeconds"] ?? 0) };
}

/** A pinned image reference for a label, as CI's push would print it: `registry.fly.io/<app>@sha256:…`. */
export function releaseRef(app: string, label: string): string {
  return `registry.fly.io/${app}@sha256:${crypto.createHash("sha256").update(label).digest("hex")}`;
}

/**
 * The next Tuesday 10:00 in Los Angeles (inside every committed deploy window) as an ISO instant:
 * the deploy window's clock in the rehearsal, so the committed production window is applied as it
 * is at whatever hour the tests run.
 */
export function insideDeployWindow(from = new Date()): string {
  const d = new Date(from.getTime());
  d.setUTCDate(d.getUTCDate() + ((9 - d.getUTCDay()) % 7 || 7));
  // 18:00Z is 10:00 PST or 11:00 PDT: inside 09:00–17:00 Los Angeles either way.
  d.setUTCHours(18, 0, 0, 0);
  return d.toISOString();
}

/** The next Saturday 18:00Z (10:00 or 11:00 in Los Angeles): outside the production deploy window. */
export function outsideDeployWindow(from = new Date()): string {
  const d = new Date(from.getTime());
  d.setUTCDate(d.getUTCDate() + ((13 - d.getUTCDay()) % 7 || 7));
  d.setUTCHours(18, 0, 0, 0);
  return d.toISOString();
}

export interface Rehearsal {
  stack: CloudStack;
  app: string;
  hostname: string;
  fly: FlyEmulator;
  /** The environment every CLI run gets (what a runner's job sets, pointed at the doubles). */
  env: Record<string, string>;
  doubleState: string;
  /** The checkout the CLI runs in. */
  workDir: string;
  /** Adds an image to the emulated registry under a pinned reference; returns the reference. */
  image(label: string, spec?: Partial<ImageSpec>): string;
  /** `npm run flightdeck -- <args>` as the workflows run it. */
  cli(...args: string[]): Promise<{ exitCode: number; all: string }>;
  /** The same, started: its pid (to `kill -9` it mid-run, as a runner dies) and its result. */
  cliStart(opts: { editStackFile?: (doc: YAML.Document) => void; env?: Record<string, string> }, ...args: string[]): { pid: number; done: Promise<{ exitCode: number; all: string }> };
  /** `status --json` of the rehearsed stack, parsed (an error quoting the output if it is not JSON). */
  status(): Promise<Record<string, unknown>>;
  /** The same, from a checkout whose stack file was edited (`edit` gets the committed one) or with more env. */
  cliWith(opts: { editStackFile?: (doc: YAML.Document) => void; env?: Record<string, string> }, ...args: string[]): Promise<{ exitCode: number; all: string }>;
  cleanup(): Promise<void>;
}

/** What a checkout holds that the program, the driver and the policies read; the rest stays behind. */
const NOT_SHIPPED = new Set(["node_modules", ".pulumi", ".git", ".tools", "test", "bench", "docs"]);

/**
 * A checkout of the project as a runner's job has it: the files as they are here, node_modules
 * linked. The rehearsal runs there, never in the repository: the engine writes into the stack file
 * it uses (`encryptionsalt` on first use, config re-serialized), and the committed one must stay as
 * committed.
 */
function checkout(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const entry of fs.readdirSync(projectDir)) {
    if (NOT_SHIPPED.has(entry) || /^Pulumi\.test-.*\.yaml$/.test(entry)) continue;
    fs.cpSync(path.join(projectDir, entry), path.join(dir, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

export async function startRehearsal(stack: CloudStack): Promise<Rehearsal> {
  const { app, hostname } = committedSettings(stack);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `flightdeck-rehearsal-${stack}-`));
  const workDir = checkout(path.join(tmp, "checkout"));
  const stackFile = path.join(workDir, `Pulumi.${stack}.yaml`);
  const committedStackFile = fs.readFileSync(stackFile);
  const home = path.join(tmp, "home");
  const backend = path.join(tmp, "state");
  fs.mkdirSync(backend, { recursive: true });
  const doubleState = path.join(tmp, "providers.json");
  installProviderDoubles(home, { stateFile: doubleState });
  const fly = new FlyEmulator();
  await fly.start();
  const env: Record<string, string> = {
    PULUMI_HOME: home,
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: "rehearsal-passphrase",
    FLY_API_HOSTNAME: fly.url,
    FLY_API_TOKEN: fly.token,
    FLIGHTDECK_FLY_METRICS_URL: fly.metricsUrl,
    [EDGE_ENV]: fly.proxyUrl,
    GITHUB_TOKEN: "ghp_rehearsal0000000000000000000000000000",
    CLOUDFLARE_API_TOKEN: "rehearsal-cloudflare-token",
    [POLICY_NOW_ENV]: insideDeployWindow(),
  };
  const cliStart: Rehearsal["cliStart"] = (opts, ...args) => {
    // Every job starts from a fresh checkout: whatever the last run wrote into the stack file is gone.
    if (opts.editStackFile) {
      const doc = YAML.parseDocument(committedStackFile.toString("utf8"));
      opts.editStackFile(doc);
      fs.writeFileSync(stackFile, doc.toString());
    } else {
      fs.writeFileSync(stackFile, committedStackFile);
    }
    // node:child_process, not execa: execa is ESM-only, and the Fly bench loads this under CommonJS.
    const child = spawn(process.execPath, driverArgs(workDir, ...args), {
      cwd: workDir,
      env: { ...process.env, ...env, ...(opts.env ?? {}) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let all = "";
    child.stdout.on("data", (b: Buffer) => (all += b.toString()));
    child.stderr.on("data", (b: Buffer) => (all += b.toString()));
    const done = new Promise<{ exitCode: number; all: string }>((resolve) => {
      child.on("error", (e) => resolve({ exitCode: 1, all: `${all}\n${e.message}` }));
      child.on("close", (code, signal) => resolve({ exitCode: code ?? (signal ? 128 : 1), all: all.trimEnd() }));
    });
    return { pid: child.pid ?? 0, done };
  };
  const cliWith: Rehearsal["cliWith"] = (opts, ...args) => cliStart(opts, ...args).done;
  return {
    stack,
    app,
    hostname,
    fly,
    env,
    doubleState,
    workDir,
    image(label, spec = {}) {
      const ref = releaseRef(app, label);
      fly.registry.add(ref, { ...sampleAppImage(), ...spec, env: { ...sampleAppImage().env, ...(spec.env ?? {}) } });
      return ref;
    },
    cli: (...args) => cliWith({}, ...args),
    cliWith,
    cliStart,
    async status() {
      const s = await cliWith({}, "status", "--stack", stack, "--json");
      try {
        return JSON.parse(s.all.slice(s.all.indexOf("{"))) as Record<string, unknown>;
      } catch {
        throw new Error(`status --json did not print JSON:\n${s.all}`);
      }
    },
    async cleanup() {
      await fly.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/**
 * Promotion, not rebuild: production takes only what staging recorded as a succeeded deploy. The
 * honest way would be staging deploying each release first in this backend; that is more blue/green
 * deploys with a 30 s bake each, and rehearsal-staging already proves staging's deploys write those
 * records. So staging's records are written with the driver's own buildRecord/writeRecord, exactly
 * as a staging deploy leaves them: the same image under staging's app name (one digest, two refs, as
 * deploy.yml pushes it).
 */
export async function recordStagingSuccesses(r: Rehearsal, labels: string[]): Promise<void> {
  const store = fileStore(fileURLToPath(r.env.PULUMI_BACKEND_URL!), true);
  const app = committedSettings("staging").app;
  for (const label of labels) {
    const at = Date.now();
    await writeRecord(store, buildRecord({ stack: "staging", kind: "deploy", outcome: "succeeded", release: releaseRef(app, label), startedAt: at, endedAt: at + 30_000, steps: [] }, { deployer: "rehearsal" }));
  }
}
