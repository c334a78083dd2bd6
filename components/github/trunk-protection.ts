import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";

/** How the default branch is protected: a ruleset, or classic branch protection where rulesets are unavailable. */
export type ProtectionMode = "ruleset" | "branch-protection";

/**
 * GitHub's built-in id of the repository admin role, as a ruleset bypass actor. GitHub does not
 * document these ids; they are maintain = 2, write = 4, admin = 5 (not ordered by strength).
 */
export const REPOSITORY_ADMIN_ROLE_ID = 5;

export interface TrunkProtectionArgs {
  /** The repository name, without the owner (the GitHub provider's `owner` holds it). */
  readonly repository: pulumi.Input<string>;
  /** The branch to protect: the repository's default branch. @default "main" */
  readonly branch?: pulumi.Input<string>;
  /** A ruleset, or classic branch protection. Plain, because it chooses the resource type. @default "ruleset" */
  readonly mode?: ProtectionMode;
  /** Status checks that must pass, by name. Plain, because an empty list leaves the rule out. */
  readonly requiredChecks: readonly string[];
  /** Approving reviews a pull request needs before it merges. @default 1 */
  readonly requiredApprovals?: pulumi.Input<number>;
  /**
   * The protections apply to admins too. When false, admins may bypass: classic protection stops
   * enforcing for admins, and a ruleset lists the repository admin role as its only bypass actor.
   * @default true
   */
  readonly enforceAdmins?: pulumi.Input<boolean>;
}

/**
 * Protects the default branch: required status checks on an up-to-date branch, approving reviews
 * (stale ones dismissed), resolved conversations, linear history, no force pushes, no deletion.
 */
export class TrunkProtection extends pulumi.ComponentResource {
  /** Which mechanism protects the branch. */
  readonly mode: ProtectionMode;
  /** GitHub's id of the ruleset or branch protection rule. */
  readonly protectionId: pulumi.Output<string>;

  constructor(name: string, args: TrunkProtectionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flightdeck:github:TrunkProtection", name, {}, opts);
    this.mode = args.mode ?? "ruleset";
    const settings: Settings = {
      repository: args.repository,
      branch: args.branch ?? "main",
      checks: [...args.requiredChecks],
      approvals: args.requiredApprovals ?? 1,
      enforceAdmins: pulumi.output(args.enforceAdmins ?? true),
    };
    this.protectionId = this.mode === "ruleset" ? this.ruleset(name, settings).id : this.branchProtection(name, settings).id;
    this.registerOutputs({ mode: this.mode, protectionId: this.protectionId });
  }

  private ruleset(name: string, s: Settings): github.RepositoryRuleset {
    return new github.RepositoryRuleset(
      `${name}-ruleset`,
      {
        repository: s.repository,
        name: `${name}: default branch`,
        target: "branch",
        enforcement: "active",
        conditions: { refName: { includes: [pulumi.interpolate`refs/heads/${s.branch}`], excludes: [] } },
        bypassActors: s.enforceAdmins.apply((enforce) =>
          enforce ? [] : [{ actorType: "RepositoryRole", actorId: REPOSITORY_ADMIN_ROLE_ID, bypassMode: "always" }],
        ),
        rules: {
          deletion: true,
          nonFastForward: true,
          requiredLinearHistory: true,
          pullRequest: {
            requiredApprovingReviewCount: s.approvals,
            dismissStaleReviewsOnPush: true,
            requiredReviewThreadResolution: true,
          },
          // GitHub rejects a status-check rule with no checks, so an empty list leaves the rule out.
          requiredStatusChecks:
            s.checks.length === 0
              ? undefined
              : { strictRequiredStatusChecksPolicy: true, requiredChecks: s.checks.map((context) => ({ context })) },
        },
      },
      { parent: this },
    );
  }

  private branchProtection(name: string, s: Settings): github.BranchProtection {
    return new github.BranchProtection(
      `${name}-branch-protection`,
      {
        // The provider takes a repository name here as well as a node id.
        repositoryId: s.repository,
        pattern: s.branch,
        enforceAdmins: s.enforceAdmins,
        allowsDeletions: false,
        allowsForcePushes: false,
        requiredLinearHistory: true,
        requireConversationResolution: true,
        requiredStatusChecks: s.checks.length === 0 ? [] : [{ strict: true, contexts: s.checks }],
        requiredPullRequestReviews: [{ requiredApprovingReviewCount: s.approvals, dismissStaleReviews: true }],
      },
      { parent: this },
    );
  }
}

interface Settings {
  repository: pulumi.Input<string>;
  branch: pulumi.Input<string>;
  checks: string[];
  approvals: pulumi.Input<number>;
  enforceAdmins: pulumi.Output<boolean>;
}
