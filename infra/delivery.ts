import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { PublicHostname } from "../components/cloudflare/public-hostname";
import type { CloudflareRecordRef } from "../components/cloudflare/switch-plan";
import { DeliveryEnvironments, type EnvironmentValuesArgs } from "../components/github/delivery-environments";
import { MergeSettings, type MergeMethod } from "../components/github/merge-settings";
import { TrunkProtection, type ProtectionMode } from "../components/github/trunk-protection";
import type { CloudConfig } from "./config/schema";

/** Values a stack's GitHub environment receives. */
export interface DeliveryValues {
  /** From the secret config key `flightdeck:environmentSecrets` (name → value), already secret. */
  readonly environmentSecrets: pulumi.Output<Record<string, string>>;
  /** Non-secret environment variables, name → value. @default {} */
  readonly environmentVariables?: Readonly<Record<string, string>>;
}

/** Things declared elsewhere that the public hostname waits for or points at. */
export interface DeliveryWiring {
  /** The Fly app that takes live traffic (two-app blue/green: the live slot's app). @default config.fly.app */
  readonly liveFlyApp?: pulumi.Input<string>;
  /** The `FlyCertificate` for config.cloudflare.hostname, declared beside this; the record waits for it. */
  readonly certificate?: pulumi.Input<pulumi.Resource>;
  /** Further certificates the record waits for (two-app mode: one per slot's app). @default [] */
  readonly certificates?: pulumi.Resource[];
  /** Two-app mode: the Cloudflare record router owns the record's content (see PublicHostname). @default false */
  readonly routerOwnsContent?: boolean;
}

export interface DeliveryOutputs {
  /** The GitHub environment this stack owns (named after config.environment). */
  githubEnvironment: CloudConfig["environment"];
  /** GitHub's id of that environment; resolves once its branch policy, secrets and variables exist. */
  githubEnvironmentId: pulumi.Output<string>;
  /** Names (never values) of that environment's secrets. */
  environmentSecretNames: pulumi.Output<string[]>;
  environmentVariableNames: string[];
  /** How this stack protects the default branch, when it declares that protection (see ownsTrunkProtection). */
  trunkProtection?: { mode: ProtectionMode; id: pulumi.Output<string> };
  /** The repository's merge settings, when this stack declares them (see ownsMergeSettings). */
  mergeSettings?: { mergeMethod: MergeMethod; repository: pulumi.Output<string> };
  /** The proxied record, for the Cloudflare router (`cloudflareSwitchPlan`). */
  publicHostname: {
    hostname: string;
    recordId: pulumi.Output<string>;
    zoneId: pulumi.Output<string>;
    content: pulumi.Output<string>;
    record: pulumi.Output<CloudflareRecordRef>;
  };
}

/**
 * Declares a cloud stack's delivery settings: its own GitHub environment, the default branch's
 * protection, and its public hostname.
 *
 * Ownership, so two stacks never manage the same GitHub object: each stack declares only the
 * environment named after `config.environment`, and its own protection of the default branch (see
 * `ownsTrunkProtection`).
 */
/**
 * Whether this stack declares the default branch's protection. Rulesets layer on GitHub, so every
 * stack keeps its own (destroying staging leaves production's in place); classic branch protection
 * allows one rule per branch, so only the production stack declares it.
 */
export function ownsTrunkProtection(config: Pick<CloudConfig, "environment"> & { github: Pick<CloudConfig["github"], "protection"> }): boolean {
  return config.github.protection === "ruleset" || config.environment === "production";
}

/**
 * Whether this stack declares the repository's merge settings. They belong to the repository, not
 * to an environment, so exactly one stack owns them: production, whose policy pack holds the
 * default branch to no merge commits (trunk-merge-settings).
 */
export function ownsMergeSettings(config: Pick<CloudConfig, "environment">): boolean {
  return config.environment === "production";
}

export function declareDelivery(
  config: CloudConfig,
  values: DeliveryValues,
  opts?: pulumi.ComponentResourceOptions,
  wiring: DeliveryWiring = {},
): DeliveryOutputs {
  const env = config.environment;
  const gh = config.github;
  // The config names the repository's owner; the token comes from GITHUB_TOKEN, read by the provider.
  const githubProvider = new github.Provider(`${env}-github`, { owner: gh.owner }, { parent: opts?.parent });
  const githubOpts = pulumi.mergeOptions(opts, { providers: [githubProvider] });

  const environmentValues: EnvironmentValuesArgs = {
    secrets: values.environmentSecrets,
    variables: values.environmentVariables ?? {},
  };
  const environments = new DeliveryEnvironments(
    `${env}-environments`,
    {
      owner: gh.owner,
      repository: gh.repository,
      defaultBranch: gh.defaultBranch,
      ...(env === "production"
        ? {
            production: {
              ...environmentValues,
              reviewers: gh.reviewers,
              mergeIsRelease: gh.mergeIsRelease,
              waitTimerMinutes: gh.waitTimerMinutes,
              enforceAdmins: gh.enforceAdmins,
            },
          }
        : { staging: environmentValues }),
    },
    githubOpts,
  );

  const trunk = ownsTrunkProtection(config)
    ? new TrunkProtection(
        `${env}-trunk`,
        {
          repository: gh.repository,
          branch: gh.defaultBranch,
          mode: gh.protection,
          requiredChecks: gh.requiredChecks,
          requiredApprovals: gh.requiredApprovals,
          enforceAdmins: gh.enforceAdmins,
        },
        githubOpts,
      )
    : undefined;

  const merge = ownsMergeSettings(config)
    ? new MergeSettings(`${env}-merge-settings`, { repository: gh.repository, mergeMethod: gh.mergeMethod ?? "squash" }, githubOpts)
    : undefined;

  const hostname = new PublicHostname(
    `${env}-hostname`,
    {
      zone: config.cloudflare.zone,
      hostname: config.cloudflare.hostname,
      flyApp: wiring.liveFlyApp ?? config.fly.app,
      certificate: wiring.certificate,
      // Only set when given, so the record's inputs and options stay as they were in cordon mode.
      ...(wiring.certificates ? { certificates: wiring.certificates } : {}),
      ...(wiring.routerOwnsContent ? { routerOwnsContent: true } : {}),
    },
    opts,
  );

  return {
    githubEnvironment: env,
    githubEnvironmentId: environments.environmentIds.apply((ids) => ids[env] ?? ""),
    environmentSecretNames: environments.secretNames.apply((names) => names[env] ?? []),
    environmentVariableNames: environments.variableNames[env] ?? [],
    trunkProtection: trunk ? { mode: trunk.mode, id: trunk.protectionId } : undefined,
    mergeSettings: merge ? { mergeMethod: merge.mergeMethod, repository: merge.fullName } : undefined,
    publicHostname: {
      hostname: config.cloudflare.hostname,
      recordId: hostname.recordId,
      zoneId: hostname.zoneId,
      content: hostname.content,
      record: hostname.record,
    },
  };
}
