/**
 * The registry: every policy of the Flightdeck pack, one exported constant per policy in
 * policies/rules/. Importing this module starts nothing; policies/index.ts builds the PolicyPack.
 */
import type { Policies } from "@pulumi/policy";
import { canaryRequired } from "./rules/canary-required";
import { defaultBranchProtected } from "./rules/default-branch-protected";
import { deployWindow } from "./rules/deploy-window";
import { flyImagePinnedByDigest } from "./rules/fly-image-pinned-by-digest";
import { flyMachineRedundancy } from "./rules/fly-machine-redundancy";
import { flyServiceHttpHealthCheck } from "./rules/fly-service-http-health-check";
import { healthGateThresholds } from "./rules/health-gate-thresholds";
import { machineSizeCeiling } from "./rules/machine-size-ceiling";
import { protectedDeployEnvironment } from "./rules/protected-deploy-environment";
import { publicDnsProxied } from "./rules/public-dns-proxied";
import { releasePromoted } from "./rules/release-promoted";
import { secretInputsAreSecrets } from "./rules/secret-inputs-are-secrets";
import { trunkMergeSettings } from "./rules/trunk-merge-settings";

export const policyPackName = "flightdeck";

export const policies: Policies = [
  deployWindow,
  flyMachineRedundancy,
  flyServiceHttpHealthCheck,
  healthGateThresholds,
  flyImagePinnedByDigest,
  releasePromoted,
  secretInputsAreSecrets,
  protectedDeployEnvironment,
  defaultBranchProtected,
  trunkMergeSettings,
  publicDnsProxied,
  machineSizeCeiling,
  canaryRequired,
];
