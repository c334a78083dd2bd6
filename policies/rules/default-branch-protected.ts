import type { StackValidationPolicy } from "@pulumi/policy";
import { type Finding, type ResourceView, list, record, reportFindings, str, strings, types } from "./common";

export interface BranchProtectionConfig {
  /** The repository's default branch. */
  defaultBranch?: string;
}

type Requirement = "status checks" | "linear history" | "no force pushes" | "no deletion";
const requirements: readonly Requirement[] = ["status checks", "linear history", "no force pushes", "no deletion"];

const fixes: Record<Requirement, string> = {
  "status checks": "rules.requiredStatusChecks.requiredChecks (ruleset) or requiredStatusChecks[0].contexts (branch protection) listing github.requiredChecks",
  "linear history": "rules.requiredLinearHistory: true (ruleset) or requiredLinearHistory: true (branch protection)",
  "no force pushes": "rules.nonFastForward: true (ruleset) or allowsForcePushes: false (branch protection)",
  "no deletion": "rules.deletion: true (ruleset) or allowsDeletions: false (branch protection)",
};

/** Whether an active branch ruleset targets the default branch. */
function rulesetCovers(props: Record<string, unknown>, branch: string): boolean {
  if (str(props.target) !== "branch" || str(props.enforcement) !== "active") return false;
  const refName = record(record(props.conditions).refName);
  const includes = strings(refName.includes);
  const excludes = strings(refName.excludes);
  const names = ["~DEFAULT_BRANCH", `refs/heads/${branch}`];
  if (excludes.some((e) => names.includes(e))) return false;
  return includes.includes("~ALL") || includes.some((i) => names.includes(i));
}

function rulesetGives(props: Record<string, unknown>): Requirement[] {
  const rules = record(props.rules);
  const out: Requirement[] = [];
  if (list(record(rules.requiredStatusChecks).requiredChecks).length > 0) out.push("status checks");
  if (rules.requiredLinearHistory === true) out.push("linear history");
  if (rules.nonFastForward === true) out.push("no force pushes");
  if (rules.deletion === true) out.push("no deletion");
  return out;
}

function branchProtectionGives(props: Record<string, unknown>): Requirement[] {
  const out: Requirement[] = [];
  if (list(props.requiredStatusChecks).some((c) => list(record(c).contexts).length > 0)) out.push("status checks");
  if (props.requiredLinearHistory === true) out.push("linear history");
  if (props.allowsForcePushes !== true) out.push("no force pushes");
  if (props.allowsDeletions !== true) out.push("no deletion");
  return out;
}

/**
 * When the stack manages GitHub, the default branch requires status checks and linear history and
 * refuses force pushes and deletion. Rulesets layer on GitHub, so requirements may come from several.
 */
export function checkDefaultBranchProtected(resources: readonly ResourceView[], config: BranchProtectionConfig): Finding[] | "not-applicable" {
  if (!resources.some((r) => r.type.startsWith("github:") && !r.type.startsWith("pulumi:providers:"))) return "not-applicable";
  const branch = config.defaultBranch ?? "main";
  const given = new Set<Requirement>();
  for (const r of resources) {
    if (r.type === types.githubRuleset && rulesetCovers(r.props, branch)) rulesetGives(r.props).forEach((g) => given.add(g));
    if (r.type === types.githubBranchProtection && str(r.props.pattern) === branch) branchProtectionGives(r.props).forEach((g) => given.add(g));
  }
  const missing = requirements.filter((q) => !given.has(q));
  if (missing.length === 0) return [];
  return [
    {
      message: `The default branch "${branch}" is not protected for: ${missing.join(", ")}. Unreviewed or rewritten history would reach production on the next merge.`,
      remediation: `in an active branch RepositoryRuleset including ~DEFAULT_BRANCH (or a BranchProtection with pattern "${branch}") set ${missing.map((m) => fixes[m]).join("; ")}.`,
    },
  ];
}

export const defaultBranchProtected: StackValidationPolicy = {
  name: "default-branch-protected",
  description: "Checks whether the repository's default branch requires status checks and linear history and refuses force pushes and deletion.",
  configSchema: {
    properties: {
      defaultBranch: { type: "string", default: "main", description: "The repository's default branch." },
    },
  },
  validateStack: (args, report) => {
    const views = args.resources
      .filter((r) => r.type.startsWith("github:"))
      .map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.props }));
    const result = checkDefaultBranchProtected(views, args.getConfig<BranchProtectionConfig>());
    if (result === "not-applicable") return args.notApplicable("the stack manages no GitHub resources");
    reportFindings(report, result);
  },
};
