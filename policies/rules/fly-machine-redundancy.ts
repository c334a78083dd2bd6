import type { StackValidationPolicy } from "@pulumi/policy";
import { type Finding, type ResourceView, numberOr, record, reportFindings, str, types } from "./common";

export interface RedundancyConfig {
  /** Fewest Fly machines each blue/green slot may run. */
  minMachines?: number;
  /** Fewest distinct regions each slot's machines may span. */
  minRegions?: number;
}

/** The slot a machine belongs to (its `flightdeck_slot` metadata); one group for machines without. */
function slotOf(r: ResourceView): string {
  return str(record(record(r.props.config).metadata).flightdeck_slot) ?? "(no slot)";
}

/**
 * Each slot must reach both minimums, whether it is in rotation or not: every machine starts
 * cordoned and the router puts a slot in rotation only after its gate, and the idle slot is the
 * one that takes all traffic at the next switch or revert. Counting only uncordoned machines would
 * refuse every deploy (nothing is in rotation before the router runs) and miss a thin warm slot.
 */
export function checkRedundancy(resources: readonly ResourceView[], config: RedundancyConfig): Finding[] {
  const minMachines = numberOr(config.minMachines, 2);
  const minRegions = numberOr(config.minRegions, 1);
  const machines = resources.filter((r) => r.type === types.flyMachine);
  const slots = new Map<string, ResourceView[]>();
  for (const m of machines) slots.set(slotOf(m), [...(slots.get(slotOf(m)) ?? []), m]);
  if (slots.size === 0) slots.set("(none)", []);
  const findings: Finding[] = [];
  for (const [slot, group] of [...slots.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const regions = new Set(group.map((r) => str(r.props.region)).filter((r): r is string => r !== undefined));
    if (group.length < minMachines) {
      findings.push({
        message: `Slot ${slot} runs ${group.length} Fly machine(s); at least ${minMachines} are required so one failing machine does not take the app down.`,
        remediation: `raise fly.machinesPerSlot in the stack config to ${minMachines} or more (or lower fly-machine-redundancy.minMachines in policies/config/<stack>.json).`,
      });
    }
    if (regions.size < minRegions) {
      findings.push({
        message: `Slot ${slot}'s Fly machines span ${regions.size} region(s) (${[...regions].join(", ") || "none"}); at least ${minRegions} are required to survive a regional outage.`,
        remediation: `list ${minRegions} or more regions in fly.regions in the stack config (or lower fly-machine-redundancy.minRegions).`,
      });
    }
  }
  return findings;
}

export const flyMachineRedundancy: StackValidationPolicy = {
  name: "fly-machine-redundancy",
  description: "Checks whether each blue/green slot runs at least the configured number of Fly machines across at least the configured number of regions.",
  configSchema: {
    properties: {
      minMachines: { type: "integer", minimum: 0, default: 2, description: "Fewest Fly machines per slot." },
      minRegions: { type: "integer", minimum: 0, default: 1, description: "Fewest distinct regions of each slot's machines." },
    },
  },
  validateStack: (args, report) => {
    const views = args.resources
      .filter((r) => r.type === types.flyMachine)
      // Outputs: `placedRegion` is where Fly actually placed the machine (maybe a fallback region).
      .map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: { region: r.props.placedRegion ?? r.props.region, config: r.props.config } }));
    reportFindings(report, checkRedundancy(views, args.getConfig<RedundancyConfig>()));
  },
};
