import { describe, expect, it } from "vitest";
import { checkDefaultBranchProtected } from "../../../policies/rules/default-branch-protected";
import type { Finding, ResourceView } from "../../../policies/rules/common";
import { types } from "../../../policies/rules/common";
import { githubResources, view } from "./fixtures";

const config = { defaultBranch: "main" };
function withRules(change: (rules: Record<string, unknown>, ruleset: Record<string, unknown>) => void): ResourceView[] {
  const rs = structuredClone(githubResources());
  const ruleset = rs.find((r) => r.type === types.githubRuleset)!.props;
  change(ruleset.rules as Record<string, unknown>, ruleset);
  return rs;
}
const text = (r: Finding[] | "not-applicable") => (r === "not-applicable" ? r : r.map((f) => `${f.message} Fix: ${f.remediation}`).join("\n"));

describe("default-branch-protected", () => {
  it("passes a ruleset with all four protections", () => {
    expect(checkDefaultBranchProtected(githubResources(), config)).toEqual([]);
  });
  it("the default branch requires status checks", () => {
    expect(text(checkDefaultBranchProtected(withRules((r) => delete r.requiredStatusChecks), config))).toMatch(/not protected for: status checks\./);
  });
  it("the default branch requires linear history", () => {
    expect(text(checkDefaultBranchProtected(withRules((r) => (r.requiredLinearHistory = false)), config))).toMatch(/for: linear history/);
  });
  it("the default branch refuses force pushes", () => {
    expect(text(checkDefaultBranchProtected(withRules((r) => (r.nonFastForward = false)), config))).toMatch(/for: no force pushes.*nonFastForward: true/s);
  });
  it("the default branch refuses deletion", () => {
    expect(text(checkDefaultBranchProtected(withRules((r) => (r.deletion = false)), config))).toMatch(/for: no deletion/);
  });
  it("a ruleset in evaluate mode protects nothing", () => {
    expect(checkDefaultBranchProtected(withRules((_r, rs) => (rs.enforcement = "evaluate")), config)).toHaveLength(1);
  });
  it("a ruleset on another branch protects nothing", () => {
    expect(checkDefaultBranchProtected(withRules((_r, rs) => (rs.conditions = { refName: { includes: ["refs/heads/dev"], excludes: [] } })), config)).toHaveLength(1);
  });
  it("branch protection with the same settings passes", () => {
    const rs = githubResources().filter((r) => r.type !== types.githubRuleset);
    rs.push(view(types.githubBranchProtection, "main", { repositoryId: "r", pattern: "main", requiredStatusChecks: [{ strict: true, contexts: ["ci"] }], requiredLinearHistory: true, allowsForcePushes: false, allowsDeletions: false }));
    expect(checkDefaultBranchProtected(rs, config)).toEqual([]);
  });
  it("branch protection that allows force pushes fails", () => {
    const rs = githubResources().filter((r) => r.type !== types.githubRuleset);
    rs.push(view(types.githubBranchProtection, "main", { pattern: "main", requiredStatusChecks: [{ contexts: ["ci"] }], requiredLinearHistory: true, allowsForcePushes: true }));
    expect(text(checkDefaultBranchProtected(rs, config))).toMatch(/for: no force pushes/);
  });
  it("is not applicable when the stack manages no GitHub resources", () => {
    expect(checkDefaultBranchProtected([view(types.flyMachine, "m", {})], config)).toBe("not-applicable");
  });
});
