import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";

/**
 * How pull requests reach the default branch. Both keep its history linear; a merge commit is
 * never offered.
 */
export type MergeMethod = "squash" | "rebase";
export const mergeMethods: readonly MergeMethod[] = ["squash", "rebase"];

export interface MergeSettingsArgs {
  /** The repository name, without the owner (the GitHub provider's `owner` holds it). It must exist: see below. */
  readonly repository: pulumi.Input<string>;
  /** The only merge method the repository offers. Plain, because it chooses which inputs are managed. @default "squash" */
  readonly mergeMethod?: MergeMethod;
}

/** The `github.Repository` inputs this component decides. Everything else about the repository is left as it is. */
export type ManagedRepositoryInputs = Pick<
  github.RepositoryArgs,
  | "allowMergeCommit"
  | "allowSquashMerge"
  | "allowRebaseMerge"
  | "allowAutoMerge"
  | "deleteBranchOnMerge"
  | "squashMergeCommitTitle"
  | "squashMergeCommitMessage"
  | "archiveOnDestroy"
>;

/**
 * The repository's merge settings for a trunk-based flow: one merge method, never a merge commit,
 * auto-merge allowed (a green pull request merges itself), head branches deleted on merge. A
 * squash commit takes the pull request's title and body, so the default branch reads as the list
 * of pull requests. `archiveOnDestroy` is a second guard behind `retainOnDelete`: were the
 * resource ever deleted, the provider would archive the repository rather than delete it.
 */
export function mergeSettingsInputs(method: MergeMethod): ManagedRepositoryInputs {
  return {
    allowMergeCommit: false,
    allowSquashMerge: method === "squash",
    allowRebaseMerge: method === "rebase",
    allowAutoMerge: true,
    deleteBranchOnMerge: true,
    ...(method === "squash" ? { squashMergeCommitTitle: "PR_TITLE", squashMergeCommitMessage: "PR_BODY" } : {}),
    archiveOnDestroy: true,
  };
}

/**
 * Every input of `github.Repository` in the pinned @pulumi/github. Typed as a record over the
 * args' keys, so a provider upgrade that adds an input fails the type check here until it is
 * listed (and so ignored unless managed).
 */
const repositoryInputs: Record<keyof github.RepositoryArgs, true> = {
  allowAutoMerge: true, allowForking: true, allowMergeCommit: true, allowRebaseMerge: true, allowSquashMerge: true,
  allowUpdateBranch: true, archiveOnDestroy: true, archived: true, autoInit: true, defaultBranch: true,
  deleteBranchOnMerge: true, description: true, etag: true, fork: true, gitignoreTemplate: true, hasDiscussions: true,
  hasDownloads: true, hasIssues: true, hasProjects: true, hasWiki: true, homepageUrl: true,
  ignoreVulnerabilityAlertsDuringRead: true, isTemplate: true, licenseTemplate: true, mergeCommitMessage: true,
  mergeCommitTitle: true, name: true, pages: true, private: true, securityAndAnalysis: true, sourceOwner: true,
  sourceRepo: true, squashMergeCommitMessage: true, squashMergeCommitTitle: true, template: true, topics: true,
  visibility: true, vulnerabilityAlerts: true, webCommitSignoffRequired: true,
};

/**
 * The inputs the engine must leave as they are: all but `name` and the managed ones. The provider
 * sends unset optional inputs as their zero value (an unset `hasIssues` would turn issues off, an
 * unset `description` would clear it), and some (`template`, `fork`, `sourceOwner`, `sourceRepo`)
 * force a replacement when they differ from an imported repository's. Ignoring them keeps what the
 * imported state holds.
 */
export function unmanagedRepositoryInputs(managed: ManagedRepositoryInputs): string[] {
  return Object.keys(repositoryInputs).filter((k) => k !== "name" && !(k in managed)).sort();
}

/**
 * Declares an existing repository's merge settings (`github.Repository`). It never creates,
 * replaces or deletes the repository: import it once (`pulumi import`, see
 * docs/github-cloudflare.md), after which only the merge settings change. A first `up` without the
 * import asks GitHub to create a repository with that name, which GitHub refuses (the name exists),
 * so nothing happens. `retainOnDelete` keeps the repository when the resource or the stack is
 * destroyed; every input but the managed ones is ignored, so no change can force a replacement.
 */
export class MergeSettings extends pulumi.ComponentResource {
  readonly mergeMethod: MergeMethod;
  /** The repository's `owner/name`. */
  readonly fullName: pulumi.Output<string>;

  constructor(name: string, args: MergeSettingsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flightdeck:github:MergeSettings", name, {}, opts);
    this.mergeMethod = args.mergeMethod ?? "squash";
    if (!mergeMethods.includes(this.mergeMethod)) {
      throw new Error(`MergeSettings ${name}: mergeMethod must be one of ${mergeMethods.join(", ")}, found ${String(this.mergeMethod)} (merge commits are never allowed)`);
    }
    const managed = mergeSettingsInputs(this.mergeMethod);
    const repository = new github.Repository(
      `${name}-repository`,
      { name: args.repository, ...managed },
      { parent: this, retainOnDelete: true, ignoreChanges: unmanagedRepositoryInputs(managed) },
    );
    this.fullName = repository.fullName;
    this.registerOutputs({ mergeMethod: this.mergeMethod, fullName: this.fullName });
  }
}
