import { describe, expect, it } from "vitest";
import { checkProtectedEnvironment } from "../../../policies/rules/protected-deploy-environment";
import type { Finding, ResourceView } from "../../../policies/rules/common";
import { types } from "../../../policies/rules/common";
import { githubResources, view } from "./fixtures";

const config = { environment: "production", defaultBranch: "main" };
function withEnv(change: (props: Record<string, unknown>) => void): ResourceView[] {
  const rs = structuredClone(githubResources());
  change(rs[0].props);
  return rs;
}
const messages = (r: Finding[] | "not-applicable") => (r === "not-applicable" ? r : r.map((f) => `${f.message} Fix: ${f.remediation}`).join("\n"));

describe("protected-deploy-environment", () => {
  it("passes a reviewed, main-only production environment", () => {
    expect(checkProtectedEnvironment(githubResources(), config)).toEqual([]);
  });
  it("production's GitHub environment requires reviewers", () => {
    expect(messages(checkProtectedEnvironment(withEnv((p) => (p.reviewers = [])), config))).toMatch(/requires no reviewer.*mergeIsRelease/);
  });
  it("mergeIsRelease waives reviewers", () => {
    expect(checkProtectedEnvironment(withEnv((p) => (p.reviewers = [])), { ...config, mergeIsRelease: true })).toEqual([]);
  });
  it("production deploys from custom branch policies only", () => {
    const r = checkProtectedEnvironment(withEnv((p) => (p.deploymentBranchPolicy = { protectedBranches: true, customBranchPolicies: false })), config);
    expect(messages(r)).toMatch(/customBranchPolicies is not true/);
  });
  it("production deploys from the default branch", () => {
    const rs = githubResources().filter((r) => r.type !== types.githubDeploymentPolicy);
    expect(messages(checkProtectedEnvironment(rs, config))).toMatch(/No deployment policy lets "main" deploy/);
  });
  it("production deploys from the default branch only", () => {
    const rs = [...githubResources(), view(types.githubDeploymentPolicy, "release", { environment: "production", branchPattern: "release/*" })];
    expect(messages(checkProtectedEnvironment(rs, config))).toMatch(/also accepts deployments from release\/\*/);
  });
  it("is not applicable without that environment", () => {
    expect(checkProtectedEnvironment(withEnv((p) => (p.environment = "staging")), config)).toBe("not-applicable");
  });
});
