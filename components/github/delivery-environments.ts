import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";

/** The GitHub environments Flightdeck manages. */
export type DeliveryEnvironmentName = "staging" | "production";

/** GitHub accepts at most this many user ids and this many team ids as an environment's reviewers. */
export const MAX_REVIEWERS_PER_KIND = 6;

export interface EnvironmentValuesArgs {
  /**
   * Environment secrets, name → value. Pass Pulumi secrets (e.g. from `requireSecretObject`): each
   * value is stored as an `ActionsEnvironmentSecret` and stays encrypted in state.
   * @default {}
   */
  readonly secrets?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Environment variables for values that are not secret, name → value. @default {} */
  readonly variables?: Readonly<Record<string, pulumi.Input<string>>>;
}

export interface ProductionEnvironmentArgs extends EnvironmentValuesArgs {
  /**
   * Who approves a production deployment: user logins and teams as `org/team-slug` (the org must be
   * the repository's owner). Plain values, because they are checked before anything is declared.
   */
  readonly reviewers: { readonly users: readonly string[]; readonly teams: readonly string[] };
  /** No reviewer is required: merging to the default branch is the release decision. @default false */
  readonly mergeIsRelease?: boolean;
  /** Minutes a production deployment waits after approval before it starts. @default 0 */
  readonly waitTimerMinutes?: pulumi.Input<number>;
  /** Repository admins must wait for reviewers too; false lets them bypass. @default true */
  readonly enforceAdmins?: pulumi.Input<boolean>;
}

export interface DeliveryEnvironmentsArgs {
  /** The account or organization that owns the repository (the GitHub provider's `owner`). */
  readonly owner: string;
  /** The repository name, without the owner. */
  readonly repository: pulumi.Input<string>;
  /** The only branch allowed to deploy to these environments. @default "main" */
  readonly defaultBranch?: pulumi.Input<string>;
  /** Declare the `staging` environment with these values. Omit when another stack owns it. */
  readonly staging?: EnvironmentValuesArgs;
  /** Declare the `production` environment with these protections and values. Omit when another stack owns it. */
  readonly production?: ProductionEnvironmentArgs;
}

/**
 * The `staging` and `production` GitHub environments of one repository: who may approve a
 * production deployment, which branch may deploy, and the secrets and variables workflows see.
 * Each environment is optional so that every stack can own exactly its own environment.
 */
export class DeliveryEnvironments extends pulumi.ComponentResource {
  /** The environments this component declared, in declaration order. */
  readonly environments: DeliveryEnvironmentName[];
  /** Per environment, GitHub's id of it; resolves once the environment, its branch policy, secrets and variables all exist. */
  readonly environmentIds: pulumi.Output<Partial<Record<DeliveryEnvironmentName, string>>>;
  /** Per environment, the names of its secrets (never the values); resolves once they are registered. */
  readonly secretNames: pulumi.Output<Partial<Record<DeliveryEnvironmentName, string[]>>>;
  /** Per environment, the names of its variables. */
  readonly variableNames: Partial<Record<DeliveryEnvironmentName, string[]>>;
  /** Production's reviewers as GitHub ids, resolved from the logins and team slugs. */
  readonly productionReviewers?: pulumi.Output<{ users: number[]; teams: number[] }>;

  constructor(name: string, args: DeliveryEnvironmentsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flightdeck:github:DeliveryEnvironments", name, {}, opts);
    checkArgs(name, args);

    const branch = args.defaultBranch ?? "main";
    const declared: ({ env: DeliveryEnvironmentName } & Declared)[] = [];
    this.variableNames = {};

    if (args.staging) {
      declared.push({ env: "staging", ...this.declare(name, "staging", args.repository, branch, {}, args.staging) });
      this.variableNames.staging = Object.keys(args.staging.variables ?? {});
    }
    if (args.production) {
      const prod = args.production;
      const reviewers = this.resolveReviewers(prod.reviewers);
      this.productionReviewers = reviewers;
      const protections = {
        // One reviewer block is the GitHub shape; an empty list means "no approval needed" (mergeIsRelease).
        reviewers: reviewers.apply((r) => (r.users.length + r.teams.length > 0 ? [r] : [])),
        preventSelfReview: true,
        waitTimer: prod.waitTimerMinutes ?? 0,
        canAdminsBypass: pulumi.output(prod.enforceAdmins ?? true).apply((enforce) => !enforce),
      };
      declared.push({ env: "production", ...this.declare(name, "production", args.repository, branch, protections, prod) });
      this.variableNames.production = Object.keys(prod.variables ?? {});
    }

    this.environments = declared.map((d) => d.env);
    this.environmentIds = pulumi
      .all(declared.map((d) => d.id))
      .apply((ids) => Object.fromEntries(declared.map((d, i) => [d.env, ids[i]])));
    this.secretNames = pulumi
      .all(declared.map((d) => d.secretNames))
      .apply((lists) => Object.fromEntries(declared.map((d, i) => [d.env, lists[i]])));
    this.registerOutputs({
      environments: this.environments,
      environmentIds: this.environmentIds,
      secretNames: this.secretNames,
      variableNames: this.variableNames,
      productionReviewers: this.productionReviewers,
    });
  }

  /** One environment, deployable from the default branch only, with its secrets and variables. */
  private declare(
    name: string,
    env: DeliveryEnvironmentName,
    repository: pulumi.Input<string>,
    branch: pulumi.Input<string>,
    protections: Pick<github.RepositoryEnvironmentArgs, "reviewers" | "preventSelfReview" | "waitTimer" | "canAdminsBypass">,
    values: EnvironmentValuesArgs,
  ): Declared {
    const environment = new github.RepositoryEnvironment(
      `${name}-${env}`,
      {
        repository,
        environment: env,
        ...protections,
        // Custom policies (not "protected branches") so the allow-list is exactly the default branch.
        deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
      },
      { parent: this },
    );
    const policy = new github.RepositoryEnvironmentDeploymentPolicy(
      `${name}-${env}-branch`,
      { repository, environment: environment.environment, branchPattern: branch },
      { parent: this },
    );
    const variables = Object.entries(values.variables ?? {}).map(
      ([key, value]) =>
        new github.ActionsEnvironmentVariable(
          `${name}-${env}-var-${key}`,
          { repository, environment: environment.environment, variableName: key, value },
          { parent: this },
        ),
    );
    // Secret names are only known once the secret config resolves (it is known in previews too),
    // so these resources are declared inside apply; each value is re-wrapped as a secret there.
    const secrets = pulumi.output(values.secrets ?? {}).apply((map) =>
      Object.keys(map)
        .sort()
        .map(
          (key) =>
            new github.ActionsEnvironmentSecret(
              `${name}-${env}-secret-${key}`,
              { repository, environment: environment.environment, secretName: key, value: pulumi.secret(map[key]) },
              { parent: this },
            ),
        ),
    );
    const secretNames = secrets.apply((list) => pulumi.all(list.map((s) => s.secretName)));
    const secretIds = secrets.apply((list) => pulumi.all(list.map((s) => s.id)));
    const id = pulumi
      .all([environment.id, policy.id, secretIds, pulumi.all(variables.map((v) => v.id))])
      .apply(([environmentId]) => environmentId);
    return { id, secretNames };
  }

  /** Logins and `org/team-slug`s to the numeric ids GitHub's environment API takes. */
  private resolveReviewers(reviewers: ProductionEnvironmentArgs["reviewers"]): pulumi.Output<{ users: number[]; teams: number[] }> {
    const users = reviewers.users.map((username) => github.getUserOutput({ username }, { parent: this }).id.apply(toId));
    const teams = reviewers.teams.map((team) =>
      github.getTeamOutput({ slug: teamSlug(team), summaryOnly: true }, { parent: this }).id.apply(toId),
    );
    return pulumi.all([pulumi.all(users), pulumi.all(teams)]).apply(([u, t]) => ({ users: u, teams: t }));
  }
}

interface Declared {
  id: pulumi.Output<string>;
  secretNames: pulumi.Output<string[]>;
}

function teamSlug(team: string): string {
  return team.slice(team.indexOf("/") + 1);
}

function toId(id: string): number {
  const n = Number(id);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`GitHub returned a non-numeric id ${JSON.stringify(id)}`);
  return n;
}

/** Contradictions that GitHub would only report halfway through an update. */
function checkArgs(name: string, args: DeliveryEnvironmentsArgs): void {
  const where = `DeliveryEnvironments ${name}`;
  if (!args.staging && !args.production) {
    throw new Error(`${where}: declares no environment; pass staging, production or both`);
  }
  const prod = args.production;
  if (!prod) return;
  const { users, teams } = prod.reviewers;
  if (users.length + teams.length === 0 && !prod.mergeIsRelease) {
    throw new Error(`${where}: production has no reviewers; list reviewers, or set mergeIsRelease to release on merge`);
  }
  for (const [kind, list] of [["users", users], ["teams", teams]] as const) {
    if (list.length > MAX_REVIEWERS_PER_KIND) {
      throw new Error(`${where}: production lists ${list.length} reviewer ${kind}; GitHub allows at most ${MAX_REVIEWERS_PER_KIND}`);
    }
  }
  for (const team of teams) {
    const [org, slug] = team.split("/");
    if (!slug) throw new Error(`${where}: reviewer team ${JSON.stringify(team)} must be written "org/team-slug"`);
    // Team lookups run against the provider's owner; a team of another org can never review here.
    if (org.toLowerCase() !== args.owner.toLowerCase()) {
      throw new Error(`${where}: reviewer team ${team} belongs to ${org}, but the repository's owner is ${args.owner}`);
    }
  }
}
