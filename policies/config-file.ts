import * as fs from "node:fs";
import * as path from "node:path";

/** The directory of the policy pack: pass it as `policyPacks: [policiesDir]`. */
export const policiesDir = __dirname;

/**
 * The absolute path of a stack's policy config (the `--policy-pack-config` format), for
 * `policyPackConfigs: [policyConfigFile(stack)]`. A stack without a file is an error, never a
 * silent "no guardrails".
 */
export function policyConfigFile(stack: string): string {
  const file = path.join(__dirname, "config", `${stack}.json`);
  if (!fs.existsSync(file)) {
    throw new Error(`no policy config for stack "${stack}": create policies/config/${stack}.json (copy production.json for the strictest levels)`);
  }
  return file;
}
