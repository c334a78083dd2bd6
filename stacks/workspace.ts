import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as path from "node:path";

/** The project's root: where Pulumi.yaml lives. */
export const projectDir = path.resolve(__dirname, "..");
export const PROJECT = "flightdeck";

/**
 * The local stack's secrets passphrase. Not a secret: it protects only the local stack's state,
 * which holds nothing of value. Other stacks take PULUMI_CONFIG_PASSPHRASE from the environment.
 */
export const LOCAL_PASSPHRASE = "flightdeck-local";

export class StackSetupError extends Error {
  override name = "StackSetupError";
}

/** Environment the engine runs with for this stack. */
export function engineEnv(stackName: string): Record<string, string> {
  const env: Record<string, string> = {
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_NODEJS_TRANSPILE_ONLY: process.env.PULUMI_NODEJS_TRANSPILE_ONLY ?? "true",
    // Only the final checkpoint of an update is written: a release or rollback should not wait on
    // rewriting the whole state file after every step. An interrupted update is still recovered
    // (stacks/recover.ts) and reconciled by the next refresh and up.
    PULUMI_SKIP_CHECKPOINTS: process.env.PULUMI_SKIP_CHECKPOINTS ?? "true",
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

/** Opens (creating on first use) a stack of this project through the Automation API. */
export async function openStack(stackName: string, workDir: string = projectDir): Promise<Stack> {
  if (!process.env.PULUMI_BACKEND_URL) {
    throw new StackSetupError("PULUMI_BACKEND_URL is not set: run project commands through npm (scripts/engine.sh sets it)");
  }
  return LocalWorkspace.createOrSelectStack(
    { stackName, workDir },
    { envVars: engineEnv(stackName), secretsProvider: "passphrase" },
  );
}

/** Options every preview and up of the project's scripts take: output, and the policy pack. */
export function engineOptions(stackName: string, workDir: string, onOutput?: (s: string) => void) {
  const packs = policyPackFor(stackName, workDir);
  return {
    onOutput,
    ...(packs ? { policyPacks: [packs.pack], policyPackConfigs: [packs.config] } : {}),
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
