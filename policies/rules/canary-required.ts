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

/** The routers of each platform: the local HAProxy and one Fly app's cordons run canary steps; the Cloudflare record cannot. */
export const routerTypes = {
  local: dynamicTypeToken(localRouterType),
  flyCordon: dynamicTypeToken(flyResourceTypes.cordonRouter),
  cloudflare: dynamicTypeToken(cloudflareRecordRouterType),
} as const;

const numbers = (v: unknown) => list(v).map(num).filter((n): n is number => n !== undefined);

/** A router switches in canary steps, the first of them small enough. */
export function checkCanaryRouter(type: string, props: Json, config: CanaryRequiredConfig): Finding[] {
  if (isRecord(config.restore)) return [];
  if (type === routerTypes.cloudflare) {
    return [
      {
        message: "This stack's router (two Fly apps behind the Cloudflare record) switches all live traffic at once: it cannot run canary steps, and this stack's policy requires them.",
        remediation: "use fly.router: cordon with strategy: canary (a share of one app's machines in rotation), or disable canary-required in this stack's policy config; see docs/fly.md.",
      },
    ];
  }
  if (type !== routerTypes.local && type !== routerTypes.flyCordon) return [];
  const canary = props.canary;
  // On Fly a step is a share of machines in rotation: what counts is the share the slot size allows, not the one asked.
  const steps = isRecord(canary) ? (type === routerTypes.flyCordon ? numbers(canary.percents) : numbers(canary.steps)) : [];
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
    const fly = type === routerTypes.flyCordon && isRecord(canary) ? ` (asked ${numbers(canary.steps)[0]}%; with fly.machinesPerSlot machines per slot, one new machine in rotation is ${steps[0]}%)` : "";
    return [
      {
        message: `The canary's first step gives a new release ${steps[0]}% of live traffic${fly}; this stack's policy allows at most ${max}%.`,
        remediation:
          type === routerTypes.flyCordon
            ? `raise fly.machinesPerSlot (n machines per slot give a first step of 100/(n+1)%) or this policy's maxFirstStepPercent.`
            : `start canary.steps at ${max} or less in the stack's Pulumi.<stack>.yaml.`,
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
