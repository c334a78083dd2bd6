import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { SemVer } from "semver";
import { freshBuild } from "./policy-pack-build";
import { readPolicyConfig } from "./policy-config";
import { projectDir } from "./project-dir";

export { projectDir };
export const PROJECT = "flightdeck";

/**
 * The local stack's secrets passphrase. Not a secret: it protects only the local stack's state,
 * which holds nothing of value. Other stacks take PULUMI_CONFIG_PASSPHRASE from the environment.
 */
export const LOCAL_PASSPHRASE = "flightdeck-local";

/** Set in the environment of every engine the driver starts: the driver's pid. */
export const DRIVER_PID_ENV = "FLIGHTDECK_DRIVER_PID";

export class StackSetupError extends Error {
  override name = "StackSetupError";
}

/** Environment the engine runs with for this stack. */
export function engineEnv(stackName: string): Record<string, string> {
  const env: Record<string, string> = {
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_NODEJS_TRANSPILE_ONLY: process.env.PULUMI_NODEJS_TRANSPILE_ONLY ?? "true",
    // Checkpoints stay on (the engine's default): a kill during an update must leave every
    // resource it created recorded, or the next update cannot clean it up (on Fly: orphaned
    // machines). Marks the engine and its plugins as this driver's, so a later command can stop
    // what a killed driver left running (stacks/orphans.ts).
    [DRIVER_PID_ENV]: String(process.pid),
  };
  if (process.env.PULUMI_CONFIG_PASSPHRASE === undefined && process.env.PULUMI_CONFIG_PASSPHRASE_FILE === undefined) {
    if (stackName !== "local" && !stackName.startsWith("test-")) {
      throw new StackSetupError(
        `stack ${stackName}: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to open its secrets; ` +
          `only the local stack has a default passphrase`,
      );
    }
    env.PULUMI_CONFIG_PASSPHRASE = LOCAL_PASSPHRASE;
  }
  return env;
}

// scripts/engine.sh already pinned the engine to the SDK's version: checking it again on every
// stack open would cost a `pulumi version` run per command.
process.env.PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK ??= "true";

let engineCommand: { path: string; command: Promise<PulumiCommand> } | undefined;

/**
 * The engine's CLI, looked up once per driver process (and again if PATH changes). Without it the
 * Automation API runs `pulumi version` on every stack open: 0.3 s each, on every command's path.
 */
export function pulumiCommand(): Promise<PulumiCommand> {
  const pathNow = process.env.PATH ?? "";
  if (engineCommand?.path !== pathNow) {
    const known = builtEngine();
    const command = known ? Promise.resolve(known) : PulumiCommand.get();
    engineCommand = { path: pathNow, command };
    // A failed lookup is not kept: the next open tries again (and reports it).
    command.catch(() => {
      if (engineCommand?.command === command) engineCommand = undefined;
    });
  }
  return engineCommand.command;
}

/**
 * The engine scripts/engine.sh built, when it is the `pulumi` on PATH: its version is the SDK's,
 * which engine.sh names (FLIGHTDECK_ENGINE=<binary>@<version>), so nothing needs to ask it. The
 * Automation API offers no public way to name a known CLI (its constructor is private in the
 * types), hence Reflect.construct, checked with instanceof.
 */
function builtEngine(): PulumiCommand | undefined {
  const named = /^(.+)@(\d+\.\d+\.\d+)$/.exec(process.env.FLIGHTDECK_ENGINE ?? "");
  if (!named) return undefined;
  const [, binary, version] = named;
  const onPath = (process.env.PATH ?? "").split(path.delimiter).map((dir) => path.join(dir, "pulumi")).find((p) => fs.existsSync(p));
  if (onPath === undefined || path.resolve(onPath) !== path.resolve(binary!)) return undefined;
  const command: unknown = Reflect.construct(PulumiCommand, ["pulumi", new SemVer(version!)]);
  return command instanceof PulumiCommand ? command : undefined;
}

/** Opens (creating on first use) a stack of this project through the Automation API. */
export async function openStack(stackName: string, workDir: string = projectDir): Promise<Stack> {
  if (!process.env.PULUMI_BACKEND_URL) {
    throw new StackSetupError("PULUMI_BACKEND_URL is not set: run project commands through npm (scripts/engine.sh sets it)");
  }
  const key = openingKey(stackName, workDir);
  const early = openedEarly.get(key);
  openedEarly.delete(key);
  if (early && Date.now() - early.at < OPENED_EARLY_MS) return early.stack;
  return createOrSelect(stackName, workDir);
}

/** The workspace options every stack of this project opens with. */
async function workspaceOptions(stackName: string) {
  return { envVars: engineEnv(stackName), secretsProvider: "passphrase", pulumiCommand: await pulumiCommand() };
}

async function createOrSelect(stackName: string, workDir: string): Promise<Stack> {
  return LocalWorkspace.createOrSelectStack({ stackName, workDir }, await workspaceOptions(stackName));
}

/** A stack opened as its command began (stacks/warm-up.ts), for that command's own openStack. */
const openedEarly = new Map<string, { stack: Promise<Stack>; at: number }>();
const OPENED_EARLY_MS = 60_000;

function openingKey(stackName: string, workDir: string): string {
  return JSON.stringify([path.resolve(workDir), stackName, process.env.PULUMI_BACKEND_URL ?? "", engineEnv(stackName)]);
}

/**
 * Opens the stack now, beside the command's lock, so its `open stack` step finds it open (one CLI
 * run, 0.3 s or more, off the command's path). What is opened is only a handle: the command reads
 * everything it decides on after it holds the lock. A failure here is the open step's to report.
 */
export function openStackEarly(stackName: string, workDir: string = projectDir): void {
  if (!process.env.PULUMI_BACKEND_URL) return;
  const key = openingKey(stackName, workDir);
  const stack = createOrSelect(stackName, workDir);
  stack.catch(() => undefined); // reported when openStack hands it over
  openedEarly.set(key, { stack, at: Date.now() });
}

/** Opens a stack only if the backend has it: undefined when it does not (nothing is created). */
export async function selectExistingStack(stackName: string, workDir: string = projectDir): Promise<Stack | undefined> {
  if (!process.env.PULUMI_BACKEND_URL) {
    throw new StackSetupError("PULUMI_BACKEND_URL is not set: run project commands through npm (scripts/engine.sh sets it)");
  }
  // A file backend whose directory is gone (lost, or never made) has no stack at all.
  const url = process.env.PULUMI_BACKEND_URL;
  if (url.startsWith("file://") && !fs.existsSync(path.join(fileURLToPath(url), ".pulumi"))) return undefined;
  try {
    return await LocalWorkspace.selectStack({ stackName, workDir }, await workspaceOptions(stackName));
  } catch (err) {
    if (/no stack named/i.test((err as Error).message)) return undefined;
    throw err;
  }
}

/** A restore (automatic revert, rollback): forward-deploy guardrails such as the deploy window let it through. */
export interface Restore {
  kind: "revert" | "rollback" | "recover";
  reason: string;
}

/**
 * Options every preview and up of the project's scripts take: output, and the policy pack. A
 * restore runs with a copy of the stack's policy config that says so (`deploy-window.restore`):
 * restoring is never blocked by a guardrail meant for forward deploys, and the update's output
 * records that it ran as a restore.
 */
export function engineOptions(stackName: string, workDir: string, onOutput?: (s: string) => void, restore?: Restore) {
  const packs = policyPackFor(stackName, workDir);
  if (packs && restore) {
    // A malformed file is one message naming it, as a deploy's is (stacks/policy-config.ts).
    const config = readPolicyConfig(packs.config) ?? {};
    // Every guardrail meant for forward deploys hears of it: the deploy window, promotion (a revert
    // or rollback puts back a release that already ran; it is never a promotion), and the canary
    // requirement (a restore switches at once).
    for (const name of ["deploy-window", "release-promoted", "canary-required"]) {
      const entry = config[name];
      if (entry === undefined && name !== "deploy-window") continue;
      config[name] = { ...(typeof entry === "object" ? entry : typeof entry === "string" ? { enforcementLevel: entry } : {}), restore };
    }
    const dir = path.join(workDir, ".pulumi", "run");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `policy-${stackName}-${process.pid}-${restore.kind}.json`);
    fs.writeFileSync(file, JSON.stringify(config, null, 2));
    packs.config = file;
  }
  // The compiled pack when this driver built it and nothing changed since (stacks/policy-pack-build.ts):
  // the same policies, with no TypeScript to load. Otherwise the pack's sources, as `pulumi` runs them.
  return {
    onOutput,
    ...(packs ? { policyPacks: [freshBuild(packs.pack) ?? packs.pack], policyPackConfigs: [packs.config] } : {}),
  };
}

/** The project's policy pack and this stack's policy config, when the project has them. */
export function policyPackFor(stackName: string, workDir: string): { pack: string; config: string } | undefined {
  const pack = path.join(workDir, "policies");
  if (!fs.existsSync(path.join(pack, "PulumiPolicy.yaml"))) return undefined;
  // A stack without policy config of its own (a developer's or a test's) gets the local one.
  const own = path.join(pack, "config", `${stackName}.json`);
  const config = fs.existsSync(own) ? own : path.join(pack, "config", "local.json");
  return fs.existsSync(config) ? { pack, config } : undefined;
}

/**
 * How many updates history reads at once. The CLI pages history (10 by default), which would
 * make positions, and so the file backend's versions, shift; one large page keeps them stable.
 */
export const HISTORY_PAGE = 10_000;
