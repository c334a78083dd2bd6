import type { StackValidationPolicy } from "@pulumi/policy";
import { type Finding, type ResourceView, list, record, reportFindings, str, strings, types } from "./common";

/** The type token of the repository resource that carries its merge settings. */
export const githubRepositoryType = "github:index/repository:Repository";

export interface TrunkMergeSettingsConfig {
  /** The repository's default branch. */
  defaultBranch?: string;
  /** This stack must declare the repository's merge settings (the stack that owns them). */
  requireMergeSettings?: boolean;
  /** Every check name the workflows report on a pull request (their jobs' names). */
  reportedChecks?: string[];
}

/** Whether an active branch ruleset targets the default branch (as GitHub matches `conditions.refName`). */
function rulesetCovers(props: Record<string, unknown>, branch: string): boolean {
  if (str(props.target) !== "branch" || str(props.enforcement) !== "active") return false;
  const refName = record(record(props.conditions).refName);
  const names = ["~DEFAULT_BRANCH", `refs/heads/${branch}`];
  if (strings(refName.excludes).some((e) => names.includes(e))) return false;
  const includes = strings(refName.includes);
  return includes.includes("~ALL") || includes.some((i) => names.includes(i));
}

interface BranchRules {
  /** Required check names, with the resource that requires each. */
  checks: { name: string; urn: string }[];
  linearHistory: boolean;
  /** Whether any ruleset or branch protection covers the default branch. */
  covered: boolean;
}

function branchRules(resources: readonly ResourceView[], branch: string): BranchRules {
  const out: BranchRules = { checks: [], linearHistory: false, covered: false };
  for (const r of resources) {
    if (r.type === types.githubRuleset && rulesetCovers(r.props, branch)) {
      const rules = record(r.props.rules);
      out.covered = true;
      if (rules.requiredLinearHistory === true) out.linearHistory = true;
      for (const c of list(record(rules.requiredStatusChecks).requiredChecks)) {
        const name = str(record(c).context);
        if (name) out.checks.push({ name, urn: r.urn });
      }
    }
    if (r.type === types.githubBranchProtection && str(r.props.pattern) === branch) {
      out.covered = true;
      if (r.props.requiredLinearHistory === true) out.linearHistory = true;
      for (const c of list(r.props.requiredStatusChecks)) for (const name of strings(record(c).contexts)) out.checks.push({ name, urn: r.urn });
    }
  }
  return out;
}

/**
 * When the stack manages GitHub: the repository it declares allows no merge commits (and, where
 * this stack owns the merge settings, one is declared), the default branch requires a linear
 * history, and every check the default branch requires is one the workflows report. A required
 * check nobody reports never turns green, so nothing could merge (and auto-merge would wait forever).
 */
export function checkTrunkMergeSettings(resources: readonly ResourceView[], config: TrunkMergeSettingsConfig): Finding[] | "not-applicable" {
  if (!resources.some((r) => r.type.startsWith("github:") && !r.type.startsWith("pulumi:providers:"))) return "not-applicable";
  const branch = config.defaultBranch ?? "main";
  const findings: Finding[] = [];

  const repositories = resources.filter((r) => r.type === githubRepositoryType);
  if (repositories.length === 0 && config.requireMergeSettings !== false) {
    findings.push({
      message: "The stack declares no github.Repository, so nothing holds the repository to merges without merge commits.",
      remediation: "declare the repository's merge settings (components/github/merge-settings.ts, wired for the stack that owns them in infra/delivery.ts), or set requireMergeSettings: false for a stack that does not own them.",
    });
  }
  for (const r of repositories) {
    if (r.props.allowMergeCommit !== false) {
      findings.push({
        urn: r.urn,
        message: `The repository ${str(r.props.name) ?? r.name} allows merge commits (allowMergeCommit is ${JSON.stringify(r.props.allowMergeCommit ?? "unset")}): a merge commit breaks the default branch's linear history.`,
        remediation: "set allowMergeCommit: false and allow exactly one of allowSquashMerge or allowRebaseMerge.",
      });
    }
    if (r.props.allowSquashMerge !== true && r.props.allowRebaseMerge !== true) {
      findings.push({
        urn: r.urn,
        message: `The repository ${str(r.props.name) ?? r.name} allows neither squash nor rebase merges: no pull request could merge.`,
        remediation: "set allowSquashMerge: true (or allowRebaseMerge: true).",
      });
    }
  }

  const rules = branchRules(resources, branch);
  if (rules.covered && !rules.linearHistory) {
    findings.push({
      message: `The default branch "${branch}" does not require a linear history, so a merge commit could still reach it.`,
      remediation: "set rules.requiredLinearHistory: true (ruleset) or requiredLinearHistory: true (branch protection).",
    });
  }

  const reported = config.reportedChecks;
  if (rules.checks.length > 0 && reported === undefined) {
    findings.push({
      message: `The default branch "${branch}" requires checks, but this policy was given no reportedChecks to hold them to.`,
      remediation: "list the check names the workflows report (their pull-request jobs' names) in reportedChecks of this stack's policies/config/<stack>.json.",
    });
  } else if (reported !== undefined) {
    for (const c of rules.checks.filter((c) => !reported.includes(c.name))) {
      findings.push({
        urn: c.urn,
        message: `The default branch "${branch}" requires the check "${c.name}", which no workflow reports (reported: ${reported.join(", ") || "none"}): it would never pass, and no pull request could merge.`,
        remediation: `require only checks the workflows report (github.requiredChecks in the stack file), or add a pull-request job named "${c.name}" and list it in reportedChecks.`,
      });
    }
  }
  return findings;
}

export const trunkMergeSettings: StackValidationPolicy = {
  name: "trunk-merge-settings",
  description:
    "Checks whether the repository allows no merge commits, the default branch requires a linear history, and every check it requires is one the workflows report.",
  configSchema: {
    properties: {
      defaultBranch: { type: "string", default: "main", description: "The repository's default branch." },
      requireMergeSettings: {
        type: "boolean",
        default: true,
        description: "This stack owns the repository's merge settings, so it must declare a github.Repository.",
      },
      reportedChecks: {
        type: "array",
        items: { type: "string" },
        description: "The check names the workflows report on pull requests (tied to .github/workflows by test/unit/workflows.test.ts).",
      },
    },
  },
  validateStack: (args, report) => {
    const views = args.resources
      .filter((r) => r.type.startsWith("github:"))
      .map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.props }));
    const result = checkTrunkMergeSettings(views, args.getConfig<TrunkMergeSettingsConfig>());
    if (result === "not-applicable") return args.notApplicable("the stack manages no GitHub resources");
    reportFindings(report, result);
  },
};
