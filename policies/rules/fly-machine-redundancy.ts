import type { StackValidationPolicy } from "@pulumi/policy";
import { type Finding, type ResourceView, numberOr, record, reportFindings, str, types } from "./common";

export interface RedundancyConfig {
  /** Fewest live (not cordoned) Fly machines the stack may run. */
  minMachines?: number;
  /** Fewest distinct regions those machines may span. */
  minRegions?: number;
}

/** Live machines (cordoned ones are the idle slot, out of rotation) must reach both minimums. */
export function checkRedundancy(resources: readonly ResourceView[], config: RedundancyConfig): Finding[] {
  const minMachines = numberOr(config.minMachines, 2);
  const minRegions = numberOr(config.minRegions, 1);
  const live = resources.filter((r) => r.type === types.flyMachine && record(r.props).cordoned !== true);
  const regions = new Set(live.map((r) => str(r.props.region)).filter((r): r is string => r !== undefined));
  const findings: Finding[] = [];
  if (live.length < minMachines) {
    findings.push({
      message: `The stack runs ${live.length} live Fly machine(s); at least ${minMachines} are required so one failing machine does not take the app down.`,
      remediation: `raise fly.machinesPerSlot in the stack config to ${minMachines} or more (or lower fly-machine-redundancy.minMachines in policies/config/<stack>.json).`,
    });
  }
  if (regions.size < minRegions) {
    findings.push({
      message: `Live Fly machines span ${regions.size} region(s) (${[...regions].join(", ") || "none"}); at least ${minRegions} are required to survive a regional outage.`,
      remediation: `list ${minRegions} or more regions in fly.regions in the stack config (or lower fly-machine-redundancy.minRegions).`,
    });
  }
  return findings;
}

export const flyMachineRedundancy: StackValidationPolicy = {
  name: "fly-machine-redundancy",
  description: "Checks whether the stack runs at least the configured number of live Fly machines across at least the configured number of regions.",
  configSchema: {
    properties: {
      minMachines: { type: "integer", minimum: 0, default: 2, description: "Fewest live (not cordoned) Fly machines." },
      minRegions: { type: "integer", minimum: 0, default: 1, description: "Fewest distinct regions of those machines." },
    },
  },
  validateStack: (args, report) => {
    const views = args.resources
      .filter((r) => r.type === types.flyMachine)
      // Outputs: `placedRegion` is where Fly actually placed the machine (maybe a fallback region).
      .map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: { region: r.props.placedRegion ?? r.props.region, cordoned: r.props.cordoned } }));
    reportFindings(report, checkRedundancy(views, args.getConfig<RedundancyConfig>()));
  },
};
