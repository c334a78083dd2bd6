import type { StackValidationPolicy } from "@pulumi/policy";
import { type Finding, type ResourceView, list, record, reportFindings, str, types } from "./common";

export interface ProtectedEnvironmentConfig {
  /** Name of the GitHub environment this policy guards. */
  environment?: string;
  /** The repository's default branch: the only branch allowed to deploy. */
  defaultBranch?: string;
  /** Merging is the release decision: no reviewer is required on the environment. */
  mergeIsRelease?: boolean;
}

function hasReviewer(env: ResourceView): boolean {
  return list(env.props.reviewers).some((r) => list(record(r).users).length + list(record(r).teams).length > 0);
}

/**
 * The guarded GitHub environment requires reviewers (unless merge is the release) and deploys from
 * the default branch only: custom branch policies on, and exactly one deployment policy, whose
 * branch pattern is the default branch.
 */
export function checkProtectedEnvironment(resources: readonly ResourceView[], config: ProtectedEnvironmentConfig): Finding[] | "not-applicable" {
  const name = config.environment ?? "production";
  const branch = config.defaultBranch ?? "main";
  const envs = resources.filter((r) => r.type === types.githubEnvironment && str(r.props.environment) === name);
  if (envs.length === 0) return "not-applicable";
  const policies = resources.filter((r) => r.type === types.githubDeploymentPolicy && str(r.props.environment) === name);
  const findings: Finding[] = [];
  for (const env of envs) {
    if (config.mergeIsRelease !== true && !hasReviewer(env)) {
      findings.push({
        urn: env.urn,
        message: `GitHub environment "${name}" requires no reviewer, so any workflow on an allowed branch can deploy without a person's approval.`,
        remediation: `list github.reviewers (users or teams) in the stack config, or declare protected-deploy-environment.mergeIsRelease: true if merging is the release decision.`,
      });
    }
    const bp = record(env.props.deploymentBranchPolicy);
    if (bp.customBranchPolicies !== true || bp.protectedBranches === true) {
      findings.push({
        urn: env.urn,
        message: `GitHub environment "${name}" does not restrict deployments to named branches (deploymentBranchPolicy.customBranchPolicies is not true).`,
        remediation: `set deploymentBranchPolicy { protectedBranches: false, customBranchPolicies: true } and add a RepositoryEnvironmentDeploymentPolicy with branchPattern "${branch}".`,
      });
    }
  }
  const patterns = policies.map((p) => str(p.props.branchPattern) ?? `tag:${str(p.props.tagPattern) ?? "?"}`);
  if (!patterns.includes(branch)) {
    findings.push({
      message: `No deployment policy lets "${branch}" deploy to GitHub environment "${name}".`,
      remediation: `add a RepositoryEnvironmentDeploymentPolicy { environment: "${name}", branchPattern: "${branch}" }.`,
    });
  }
  const others = patterns.filter((p) => p !== branch);
  if (others.length > 0) {
    findings.push({
      message: `GitHub environment "${name}" also accepts deployments from ${others.join(", ")}; only the default branch "${branch}" may deploy.`,
      remediation: `remove the deployment policies for ${others.join(", ")}.`,
    });
  }
  return findings;
}

export const protectedDeployEnvironment: StackValidationPolicy = {
  name: "protected-deploy-environment",
  description: "Checks whether the guarded GitHub environment requires reviewers (unless merging is the release) and accepts deployments from the default branch only.",
  configSchema: {
    properties: {
      environment: { type: "string", default: "production", description: "The GitHub environment to guard." },
      defaultBranch: { type: "string", default: "main", description: "The only branch allowed to deploy." },
      mergeIsRelease: { type: "boolean", default: false, description: "Merging is the release decision: no reviewer required." },
    },
  },
  validateStack: (args, report) => {
    const views = args.resources
      .filter((r) => r.type === types.githubEnvironment || r.type === types.githubDeploymentPolicy)
      .map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.props }));
    const result = checkProtectedEnvironment(views, args.getConfig<ProtectedEnvironmentConfig>());
    if (result === "not-applicable") return args.notApplicable(`the stack declares no GitHub environment of that name`);
    reportFindings(report, result);
  },
};
