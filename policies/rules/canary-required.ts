import type { ResourceValidationPolicy } from "@pulumi/policy";
import { cloudflareRecordRouterType, dynamicTypeToken, flyResourceTypes, localRouterType } from "../../components/fly/contract";
import { type Finding, type Json, isRecord, list, num, numberOr, reportFindings, restoreMarkerProperty } from "./common";
import type { RestoreMarker } from "./deploy-window";

export interface CanaryRequiredConfig {
  /** The largest share of live traffic the first step may give a new release, in percent. */
  maxFirstStepPercent?: number;
  /** Set by the deploy driver on a revert or rollback: restores switch at once and are never blocked. */
  restore?: RestoreMarker | null;
}

/** The routers of each platform: the local HAProxy can run canary steps; Fly's cannot yet. */
export const routerTypes = {
  local: dynamicTypeToken(localRouterType),
  flyCordon: dynamicTypeToken(flyResourceTypes.cordonRouter),
  cloudflare: dynamicTypeToken(cloudflareRecordRouterType),
} as const;

/** A router switches in canary steps, the first of them small enough. */
export function checkCanaryRouter(type: string, props: Json, config: CanaryRequiredConfig): Finding[] {
  if (isRecord(config.restore)) return [];
  if (type === routerTypes.flyCordon || type === routerTypes.cloudflare) {
    return [
      {
        message: "This Fly stack's router switches all live traffic at once: canary steps are not available on Fly yet, and this stack's policy requires them.",
        remediation: "run this stack without the requirement (canary-required: disabled in its policy config) until Fly canaries exist; see docs/fly.md.",
      },
    ];
  }
  if (type !== routerTypes.local) return [];
  const canary = props.canary;
  const steps = isRecord(canary) ? list(canary.steps).map(num).filter((n): n is number => n !== undefined) : [];
  if (steps.length === 0) {
    return [
      {
        message: "The router switches all live traffic to a new release at once; this stack's policy requires canary steps.",
        remediation: "set strategy: canary (and canary.steps) in the stack's Pulumi.<stack>.yaml.",
      },
    ];
  }
  const max = numberOr(config.maxFirstStepPercent, 25);
  if (steps[0]! > max) {
    return [
      {
        message: `The canary's first step gives a new release ${steps[0]}% of live traffic; this stack's policy allows at most ${max}%.`,
        remediation: `start canary.steps at ${max} or less in the stack's Pulumi.<stack>.yaml.`,
      },
    ];
  }
  return [];
}

export const canaryRequired: ResourceValidationPolicy = {
  name: "canary-required",
  description: "Checks whether live traffic reaches a new release in canary steps (the first one small) rather than all at once.",
  configSchema: {
    properties: {
      maxFirstStepPercent: { type: "integer", minimum: 1, maximum: 99, default: 25, description: "The largest share of live traffic the first step may give a new release, in percent." },
      restore: restoreMarkerProperty("Set by the deploy driver on a revert or rollback (never by hand): restores switch at once and are never blocked."),
    },
  },
  validateResource: (args, report) => {
    reportFindings(report, checkCanaryRouter(args.type, args.props, args.getConfig<CanaryRequiredConfig>()));
  },
};
