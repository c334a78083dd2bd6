/**
 * The repository's merge settings as the staging and production stack files declare them (Pulumi
 * mocks capture each resource's inputs and, through a transformation, its options): squash-only
 * (or rebase-only), never a merge commit, auto-merge on, head branches deleted, and a repository
 * that the stack can never delete or replace.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig, StackConfigError } from "../../infra/config/parse";
import type { CloudConfig } from "../../infra/config/schema";
import { cloudLookups, installMocks, ofType, valueOf } from "../support/pulumi-mocks";
import { stackFileConfig, withValue } from "../support/stack-files";

const registered = installMocks({
  invoke: cloudLookups(),
  outputsFor: (type, _name, inputs) => (type === REPOSITORY ? { fullName: `flightdeck-dev/${String(inputs.name)}` } : {}),
});

const REPOSITORY = "github:index/repository:Repository";

function cloud(stack: string, raw: Record<string, unknown> = stackFileConfig(stack)): CloudConfig {
  const cfg = parseStackConfig(stack, raw);
  if (cfg.environment === "local") throw new Error(`${stack} should be a cloud stack`);
  return cfg;
}

/** Options each resource was registered with, captured by a transformation on the stack's components. */
const options = new Map<string, pulumi.CustomResourceOptions>();
const capture: pulumi.ResourceTransformation = ({ name, opts }) => {
  options.set(name, opts);
  return undefined;
};

const repo = (name: string) => {
  const found = ofType(registered, REPOSITORY).filter((r) => r.name === name);
  expect(found, name).toHaveLength(1);
  return found[0].inputs;
};

let productionOut: Awaited<ReturnType<typeof import("../../infra/delivery").declareDelivery>>;

beforeAll(async () => {
  const { declareDelivery } = await import("../../infra/delivery");
  const { MergeSettings } = await import("../../components/github/merge-settings");
  const noSecrets = { environmentSecrets: pulumi.secret<Record<string, string>>({}) };
  const staging = declareDelivery(cloud("staging"), noSecrets, { transformations: [capture] });
  productionOut = declareDelivery(cloud("production"), noSecrets, { transformations: [capture] });
  // The production stack file with github.mergeMethod: rebase, through the same parse the program uses.
  const rebaseConfig = cloud("production", withValue(stackFileConfig("production"), "github.mergeMethod", "rebase")).github;
  const rebase = new MergeSettings("rebase", { repository: rebaseConfig.repository, mergeMethod: rebaseConfig.mergeMethod });
  const direct = new MergeSettings("direct", { repository: "other-repo" });
  await Promise.all([
    valueOf(staging.githubEnvironmentId),
    valueOf(productionOut.mergeSettings?.repository ?? ""),
    valueOf(rebase.fullName),
    valueOf(direct.fullName),
  ]);
});

describe("merge settings (production stack file)", () => {
  const settings = () => repo("production-merge-settings-repository");

  it("only the production stack declares the repository's merge settings", () => {
    // Two stacks managing one repository would fight over it; staging declares none.
    expect(ofType(registered, REPOSITORY).map((r) => r.name).filter((n) => n.startsWith("staging"))).toEqual([]);
    expect(productionOut.mergeSettings?.mergeMethod).toBe("squash");
  });
  it("the repository is the one the stack file names", () => {
    expect(settings().name).toBe("flightdeck-app");
  });
  it("merge commits are never allowed", () => {
    expect(settings().allowMergeCommit).toBe(false);
  });
  it("squash is the only merge method by default", () => {
    expect(settings()).toMatchObject({ allowSquashMerge: true, allowRebaseMerge: false });
  });
  it("a squash commit takes the pull request's title and body", () => {
    expect(settings()).toMatchObject({ squashMergeCommitTitle: "PR_TITLE", squashMergeCommitMessage: "PR_BODY" });
  });
  it("auto-merge is allowed", () => {
    expect(settings().allowAutoMerge).toBe(true);
  });
  it("head branches are deleted on merge", () => {
    expect(settings().deleteBranchOnMerge).toBe(true);
  });
  it("every input it sets is one of these, nothing else about the repository", () => {
    expect(Object.keys(settings()).sort()).toEqual(
      [
        "name",
        "allowMergeCommit",
        "allowSquashMerge",
        "allowRebaseMerge",
        "allowAutoMerge",
        "deleteBranchOnMerge",
        "squashMergeCommitTitle",
        "squashMergeCommitMessage",
        "archiveOnDestroy",
      ].sort(),
    );
  });
});

describe("the repository is never deleted or replaced", () => {
  const opts = () => options.get("production-merge-settings-repository")!;

  it("the stack keeps the repository when the resource or the stack is destroyed", () => {
    expect(opts().retainOnDelete).toBe(true);
  });
  it("were it ever deleted, the provider archives it instead", () => {
    expect(repo("production-merge-settings-repository").archiveOnDestroy).toBe(true);
  });
  it("every input that is not a merge setting is ignored, including those that force a replacement", () => {
    const ignored = opts().ignoreChanges ?? [];
    for (const k of ["template", "fork", "sourceOwner", "sourceRepo", "autoInit", "gitignoreTemplate", "licenseTemplate"]) expect(ignored).toContain(k);
    // Left unset, these would be sent as false or "" and change the real repository.
    for (const k of ["hasIssues", "hasWiki", "hasProjects", "description", "visibility", "topics", "archived"]) expect(ignored).toContain(k);
    for (const k of Object.keys(repo("production-merge-settings-repository"))) expect(ignored).not.toContain(k);
  });
  it("is not protected: destroying the stack stays possible and only forgets the repository", () => {
    expect(opts().protect).toBeUndefined();
  });
});

describe("rebase-only (github.mergeMethod: rebase)", () => {
  const rebase = () => repo("rebase-repository");

  it("rebase is the only merge method, still no merge commits", () => {
    expect(rebase()).toMatchObject({ allowMergeCommit: false, allowSquashMerge: false, allowRebaseMerge: true, allowAutoMerge: true, deleteBranchOnMerge: true });
  });
  it("squash commit settings are left alone when squash is off", () => {
    expect(rebase().squashMergeCommitTitle).toBeUndefined();
  });
});

describe("the component used directly", () => {
  it("defaults to squash-only", () => {
    expect(repo("direct-repository")).toMatchObject({ name: "other-repo", allowMergeCommit: false, allowSquashMerge: true, allowRebaseMerge: false });
  });
  it("refuses a merge method that would allow merge commits, before declaring anything", async () => {
    const { MergeSettings } = await import("../../components/github/merge-settings");
    expect(() => new MergeSettings("bad", { repository: "r", mergeMethod: "merge" as never })).toThrow(/mergeMethod must be one of squash, rebase, found merge/);
    expect(registered.some((r) => r.name === "bad-repository")).toBe(false);
  });
});

describe("config", () => {
  const error = (stack: string, raw: Record<string, unknown>) => {
    try {
      parseStackConfig(stack, raw);
    } catch (e) {
      if (e instanceof StackConfigError) return e.message;
      throw e;
    }
    throw new Error("accepted");
  };
  it("github.mergeMethod accepts squash and rebase only, naming file and key", () => {
    expect(error("production", withValue(stackFileConfig("production"), "github.mergeMethod", "merge"))).toMatch(
      /Pulumi\.production\.yaml[\s\S]*flightdeck:github\.mergeMethod: expected one of "squash", "rebase", found "merge"/,
    );
  });
  it("staging may not set github.mergeMethod: production owns the repository's settings", () => {
    expect(error("staging", withValue(stackFileConfig("staging"), "github.mergeMethod", "squash"))).toMatch(
      /flightdeck:github\.mergeMethod: .*declared by the production stack/,
    );
  });
});
