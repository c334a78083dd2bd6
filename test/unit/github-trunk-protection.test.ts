import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../infra/config/parse";
import type { CloudConfig } from "../../infra/config/schema";
import { cloudLookups, installMocks, ofType, valueOf, type RegisteredResource } from "../support/pulumi-mocks";
import { stackFileConfig, withValue } from "../support/stack-files";

const registered = installMocks({
  invoke: cloudLookups(),
});

function cloud(stack: string, raw: Record<string, unknown> = stackFileConfig(stack)): CloudConfig {
  const cfg = parseStackConfig(stack, raw);
  if (cfg.environment === "local") throw new Error(`${stack} should be a cloud stack`);
  return cfg;
}

const RULESET = "github:index/repositoryRuleset:RepositoryRuleset";
const CLASSIC = "github:index/branchProtection:BranchProtection";

function only(type: string, name: string): Record<string, unknown> {
  const found = ofType(registered, type).filter((r: RegisteredResource) => r.name === name);
  expect(found, `${type} ${name}`).toHaveLength(1);
  return found[0].inputs;
}

beforeAll(async () => {
  const { declareDelivery } = await import("../../infra/delivery");
  const { TrunkProtection } = await import("../../components/github/trunk-protection");
  const noSecrets = { environmentSecrets: pulumi.secret<Record<string, string>>({}) };
  const staging = declareDelivery(cloud("staging"), noSecrets);
  const production = declareDelivery(cloud("production"), noSecrets);

  // The same production config with the team's other choices, declared as components directly.
  const gh = cloud("production").github;
  const classic = new TrunkProtection("classic", {
    repository: gh.repository,
    branch: gh.defaultBranch,
    mode: "branch-protection",
    requiredChecks: gh.requiredChecks,
    requiredApprovals: gh.requiredApprovals,
    enforceAdmins: gh.enforceAdmins,
  });
  const relaxed = cloud("production", withValue(stackFileConfig("production"), "github.enforceAdmins", false)).github;
  const relaxedRuleset = new TrunkProtection("relaxed-ruleset", { ...relaxed, branch: relaxed.defaultBranch, mode: "ruleset" });
  const relaxedClassic = new TrunkProtection("relaxed-classic", { ...relaxed, branch: relaxed.defaultBranch, mode: "branch-protection" });

  await Promise.all([
    valueOf(staging.githubEnvironmentId),
    valueOf(staging.trunkProtection?.id ?? ""),
    valueOf(production.trunkProtection?.id ?? ""),
    valueOf(classic.protectionId),
    valueOf(relaxedRuleset.protectionId),
    valueOf(relaxedClassic.protectionId),
  ]);
});

describe("ruleset (production config, github.protection: ruleset)", () => {
  const ruleset = () => only(RULESET, "production-trunk-ruleset");
  const rules = () => ruleset().rules as Record<string, unknown>;

  it("every stack protects the default branch with its own ruleset", () => {
    const names = ofType(registered, RULESET).map((r) => `${r.name}=${String(r.inputs.name)}`).filter((n) => !n.startsWith("relaxed"));
    expect(names.sort()).toEqual([
      "production-trunk-ruleset=production-trunk: default branch",
      "staging-trunk-ruleset=staging-trunk: default branch",
    ]);
  });
  it("staging's ruleset requires the same protections as production's", () => {
    const { name: _s, ...staging } = only(RULESET, "staging-trunk-ruleset");
    const { name: _p, ...production } = ruleset();
    expect(staging).toEqual(production);
  });
  it("ruleset is enforced on the default branch", () => {
    expect(ruleset()).toMatchObject({
      repository: "flightdeck-app",
      target: "branch",
      enforcement: "active",
      conditions: { refName: { includes: ["refs/heads/main"], excludes: [] } },
    });
  });
  it("default branch requires the configured status checks", () => {
    expect((rules().requiredStatusChecks as Record<string, unknown>).requiredChecks).toEqual([
      { context: "typecheck" },
      { context: "tests" },
      { context: "secret-scan" },
      { context: "dependency-audit" },
      { context: "preview" },
    ]);
  });
  it("default branch must be up to date before merging", () => {
    expect(rules().requiredStatusChecks).toMatchObject({ strictRequiredStatusChecksPolicy: true });
  });
  it("default branch requires the configured approving reviews", () => {
    expect(rules().pullRequest).toMatchObject({ requiredApprovingReviewCount: 1 });
  });
  it("default branch dismisses stale reviews", () => {
    expect(rules().pullRequest).toMatchObject({ dismissStaleReviewsOnPush: true });
  });
  it("default branch requires resolved conversations", () => {
    expect(rules().pullRequest).toMatchObject({ requiredReviewThreadResolution: true });
  });
  it("default branch requires linear history", () => {
    expect(rules().requiredLinearHistory).toBe(true);
  });
  it("default branch forbids force pushes", () => {
    expect(rules().nonFastForward).toBe(true);
  });
  it("default branch cannot be deleted", () => {
    expect(rules().deletion).toBe(true);
  });
  it("nobody bypasses the ruleset when admins are enforced", () => {
    expect(ruleset().bypassActors ?? []).toEqual([]);
  });
  it("repository admins may bypass the ruleset when enforceAdmins is false", () => {
    expect(only(RULESET, "relaxed-ruleset-ruleset").bypassActors).toEqual([
      { actorType: "RepositoryRole", actorId: 5, bypassMode: "always" },
    ]);
  });
});

describe("who declares the default branch's protection", () => {
  it.each([
    ["staging", "ruleset", true],
    ["production", "ruleset", true],
    ["staging", "branch-protection", false],
    ["production", "branch-protection", true],
  ] as const)("%s with %s: %s", async (environment, protection, owns) => {
    const { ownsTrunkProtection } = await import("../../infra/delivery");
    expect(ownsTrunkProtection({ environment, github: { protection } })).toBe(owns);
  });
});

describe("branch protection (production config, github.protection: branch-protection)", () => {
  const bp = () => only(CLASSIC, "classic-branch-protection");

  it("branch protection covers the default branch", () => {
    expect(bp()).toMatchObject({ repositoryId: "flightdeck-app", pattern: "main" });
  });
  it("default branch requires the configured status checks on an up-to-date branch", () => {
    expect(bp().requiredStatusChecks).toEqual([{ strict: true, contexts: ["typecheck", "tests", "secret-scan", "dependency-audit", "preview"] }]);
  });
  it("default branch requires approving reviews and dismisses stale ones", () => {
    expect(bp().requiredPullRequestReviews).toEqual([{ requiredApprovingReviewCount: 1, dismissStaleReviews: true }]);
  });
  it("default branch requires resolved conversations", () => {
    expect(bp().requireConversationResolution).toBe(true);
  });
  it("default branch requires linear history", () => {
    expect(bp().requiredLinearHistory).toBe(true);
  });
  it("default branch forbids force pushes", () => {
    expect(bp().allowsForcePushes).toBe(false);
  });
  it("default branch cannot be deleted", () => {
    expect(bp().allowsDeletions).toBe(false);
  });
  it("admins are included", () => {
    expect(bp().enforceAdmins).toBe(true);
  });
  it("admins are excluded when enforceAdmins is false", () => {
    expect(only(CLASSIC, "relaxed-classic-branch-protection").enforceAdmins).toBe(false);
  });
});
