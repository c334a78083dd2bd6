import { localPlatformTypes } from "../components/fly/contract";
import type { StackConfig } from "../infra/config/schema";
import { checkedTypes, typeMatches } from "../policies/checked-types";
import { type Finding, formatFinding, types } from "../policies/rules/common";
import { checkHealthGate, type HealthGateThresholdsConfig } from "../policies/rules/health-gate-thresholds";
import { isObject, type PolicyConfig } from "./policy-config";

type Level = "mandatory" | "advisory" | "disabled";

/** A rule's level in a policy config file: a bare level, or an object's `enforcementLevel`; absent means the pack's default, mandatory. */
function levelOf(entry: unknown): Level {
  const level = typeof entry === "string" ? entry : isObject(entry) ? entry.enforcementLevel : undefined;
  return level === "advisory" || level === "disabled" ? level : "mandatory";
}

/**
 * Rules the driver checks itself before the engine starts, with the rule's own check, on values the
 * program hands to the checked resource unchanged: the health gate's thresholds are the stack
 * config's `healthGate` as it is (components/bluegreen/bluegreen.ts). The update checks them again.
 */
const checkedFromConfig: Readonly<Record<string, (config: StackConfig, rule: PolicyConfig) => Finding[]>> = {
  "health-gate-thresholds": (config, rule) => checkHealthGate({ ...config.healthGate }, rule as HealthGateThresholdsConfig),
};

export interface PolicyPreflight {
  /** Mandatory findings from the rules checked on config: the deploy is refused before anything changes. */
  refusals: string[];
  /** Why the update must be previewed first; undefined when the update alone enforces every rule in time. */
  previewBecause?: string;
}

/**
 * What a forward deploy of this stack must do about its policies before its update.
 *
 * The update enforces every policy itself; a preview first only matters when a mandatory rule could
 * refuse after the update has changed something: a rule on any resource but the root (the engine
 * checks each resource as it reaches it), or a stack rule (checked once all have changed). So the
 * preview is skipped only when every mandatory rule reads the root alone, types this stack's
 * platform never registers, or values the driver checks here from config. Fly stacks are taken to
 * register every type (their GitHub and Cloudflare resources depend on config).
 */
export function policyPreflight(config: StackConfig, policy: PolicyConfig | undefined): PolicyPreflight {
  if (policy === undefined) return { refusals: [] };
  const registers = (pattern: string) => config.environment !== "local" || localPlatformTypes.some((t) => typeMatches(pattern, t));
  const refusals: string[] = [];
  let previewBecause: string | undefined;
  for (const [rule, checks] of Object.entries(checkedTypes)) {
    const entry = policy[rule];
    if (levelOf(entry) !== "mandatory") continue;
    const ruleConfig = isObject(entry) ? entry : {};
    const fromConfig = checkedFromConfig[rule];
    if (fromConfig) {
      refusals.push(...fromConfig(config, ruleConfig).map((f) => `[mandatory] ${rule}: ${formatFinding(f)}`));
      continue;
    }
    const extra = rule === "secret-inputs-are-secrets" && isObject(ruleConfig.extraInputs) ? Object.keys(ruleConfig.extraInputs) : [];
    const reached = [...checks, ...extra].filter((t) => t !== types.stack && registers(t));
    if (reached.length > 0 && previewBecause === undefined) {
      previewBecause = `${rule} is mandatory and checks ${reached.join(", ")}, which an update reaches after changing others`;
    }
  }
  return { refusals, ...(previewBecause ? { previewBecause } : {}) };
}
