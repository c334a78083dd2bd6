import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { policyConfigFile } from "../../../policies/config-file";
import type { Finding, ResourceView } from "../../../policies/rules/common";
import { types } from "../../../policies/rules/common";
import { checkTrunkMergeSettings, githubRepositoryType, trunkMergeSettings, type TrunkMergeSettingsConfig } from "../../../policies/rules/trunk-merge-settings";
import { githubResources, view } from "./fixtures";

/** production.json's settings for this policy, as committed. */
const production = (): TrunkMergeSettingsConfig => {
  const all = JSON.parse(fs.readFileSync(policyConfigFile("production"), "utf8")) as Record<string, TrunkMergeSettingsConfig & { enforcementLevel: string }>;
  const { enforcementLevel: _level, ...config } = all["trunk-merge-settings"]!;
  return config;
};

/** The compliant GitHub fixture (its ruleset requires "ci" and "preview") plus a squash-only repository. */
function happy(change: (rs: ResourceView[]) => void = () => undefined): ResourceView[] {
  const rs = structuredClone(githubResources());
  rs.push(
    view(githubRepositoryType, "flightdeck-app", {
      name: "flightdeck-app",
      allowMergeCommit: false,
      allowSquashMerge: true,
      allowRebaseMerge: false,
      allowAutoMerge: true,
      deleteBranchOnMerge: true,
    }),
  );
  change(rs);
  return rs;
}
const config: TrunkMergeSettingsConfig = { defaultBranch: "main", requireMergeSettings: true, reportedChecks: ["ci", "preview", "auto-merge"] };
const repo = (rs: ResourceView[]) => rs.find((r) => r.type === githubRepositoryType)!.props;
const rules = (rs: ResourceView[]) => rs.find((r) => r.type === types.githubRuleset)!.props.rules as Record<string, unknown>;
const text = (r: Finding[] | "not-applicable") => (r === "not-applicable" ? r : r.map((f) => `${f.message} Fix: ${f.remediation}`).join("\n"));

describe("trunk-merge-settings", () => {
  it("passes a squash-only repository whose linear default branch requires reported checks", () => {
    expect(checkTrunkMergeSettings(happy(), config)).toEqual([]);
  });
  it("passes a rebase-only repository", () => {
    expect(checkTrunkMergeSettings(happy((rs) => Object.assign(repo(rs), { allowSquashMerge: false, allowRebaseMerge: true })), config)).toEqual([]);
  });

  it("the repository allows no merge commits", () => {
    const r = checkTrunkMergeSettings(happy((rs) => (repo(rs).allowMergeCommit = true)), config);
    expect(text(r)).toMatch(/The repository flightdeck-app allows merge commits \(allowMergeCommit is true\).*Fix: set allowMergeCommit: false/s);
  });
  it("an unset allowMergeCommit counts as allowed (GitHub's default is to allow merge commits)", () => {
    expect(text(checkTrunkMergeSettings(happy((rs) => delete repo(rs).allowMergeCommit), config))).toMatch(/allowMergeCommit is "unset"/);
  });
  it("the repository allows squash or rebase", () => {
    const r = checkTrunkMergeSettings(happy((rs) => Object.assign(repo(rs), { allowSquashMerge: false, allowRebaseMerge: false })), config);
    expect(text(r)).toMatch(/allows neither squash nor rebase merges/);
  });

  it("the stack that owns the merge settings declares them", () => {
    const r = checkTrunkMergeSettings(happy((rs) => rs.splice(rs.findIndex((x) => x.type === githubRepositoryType), 1)), config);
    expect(text(r)).toMatch(/The stack declares no github\.Repository.*requireMergeSettings: false/s);
  });
  it("a stack that does not own them (requireMergeSettings: false) passes without a repository", () => {
    const rs = happy((rs) => rs.splice(rs.findIndex((x) => x.type === githubRepositoryType), 1));
    expect(checkTrunkMergeSettings(rs, { ...config, requireMergeSettings: false })).toEqual([]);
  });

  it("the default branch requires a linear history", () => {
    const r = checkTrunkMergeSettings(happy((rs) => (rules(rs).requiredLinearHistory = false)), config);
    expect(text(r)).toMatch(/"main" does not require a linear history.*requiredLinearHistory: true/s);
  });
  it("branch protection with a linear history passes", () => {
    const rs = happy((rs) => rs.splice(rs.findIndex((x) => x.type === types.githubRuleset), 1));
    rs.push(view(types.githubBranchProtection, "main", { pattern: "main", requiredLinearHistory: true, requiredStatusChecks: [{ contexts: ["ci"] }] }));
    expect(checkTrunkMergeSettings(rs, config)).toEqual([]);
  });

  it("every required check is one the workflows report", () => {
    const r = checkTrunkMergeSettings(happy((rs) => (rules(rs).requiredStatusChecks = { requiredChecks: [{ context: "ci" }, { context: "lint" }] })), config);
    expect(r).toHaveLength(1);
    expect(text(r)).toMatch(/requires the check "lint", which no workflow reports \(reported: ci, preview, auto-merge\)/);
  });
  it("a branch protection's required checks are held to the same list", () => {
    const rs = happy((rs) => rs.splice(rs.findIndex((x) => x.type === types.githubRuleset), 1));
    rs.push(view(types.githubBranchProtection, "main", { pattern: "main", requiredLinearHistory: true, requiredStatusChecks: [{ contexts: ["build"] }] }));
    expect(text(checkTrunkMergeSettings(rs, config))).toMatch(/requires the check "build"/);
  });
  it("required checks without a reportedChecks list are reported, never passed unchecked", () => {
    const { reportedChecks: _r, ...noList } = config;
    expect(text(checkTrunkMergeSettings(happy(), noList))).toMatch(/given no reportedChecks/);
  });
  it("a ruleset on another branch is not the default branch's", () => {
    const r = checkTrunkMergeSettings(
      happy((rs) => {
        const rs0 = rs.find((x) => x.type === types.githubRuleset)!.props;
        rs0.conditions = { refName: { includes: ["refs/heads/dev"], excludes: [] } };
        rules(rs).requiredStatusChecks = { requiredChecks: [{ context: "nightly" }] };
      }),
      config,
    );
    expect(r).toEqual([]);
  });

  it("is not applicable when the stack manages no GitHub resources", () => {
    expect(checkTrunkMergeSettings([view(types.flyMachine, "m", {})], config)).toBe("not-applicable");
  });

  it("production.json holds the production stack to it with the checks the workflows report", () => {
    const c = production();
    expect(c.requireMergeSettings).toBe(true);
    // The committed stack files require "tests" and "preview"; see workflows.test.ts for the tie to the jobs.
    expect(checkTrunkMergeSettings(happy((rs) => (rules(rs).requiredStatusChecks = { requiredChecks: [{ context: "tests" }, { context: "preview" }] })), c)).toEqual([]);
  });

  it("validateStack reports each finding through the engine's callback", () => {
    const reported: string[] = [];
    const resources = happy((rs) => (repo(rs).allowMergeCommit = true));
    trunkMergeSettings.validateStack(
      {
        resources: resources.map((r) => ({ ...r, isDefaultProvider: false, opts: {}, dependencies: [], propertyDependencies: {} })),
        getConfig: () => config,
        notApplicable: () => {
          throw new Error("should apply");
        },
      } as never,
      (message: string) => reported.push(message),
    );
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatch(/allows merge commits/);
  });
});
