import type { ResourceValidationPolicy } from "@pulumi/policy";
import { type Finding, type Json, num, numberOr, record, reportFindings, types } from "./common";

export interface SizeCeilingConfig {
  maxCpus?: number;
  maxMemoryMb?: number;
}

/** A machine's guest stays at or under the configured CPU and memory ceiling (a cost guardrail). */
export function checkSizeCeiling(props: Json, config: SizeCeilingConfig): Finding[] {
  const guest = record(record(props.config).guest);
  const maxCpus = numberOr(config.maxCpus, 2);
  const maxMemoryMb = numberOr(config.maxMemoryMb, 1024);
  const findings: Finding[] = [];
  const cpus = num(guest.cpus);
  const memory = num(guest.memory_mb);
  if (cpus === undefined || cpus > maxCpus) {
    findings.push({
      message: `Fly machine guest has ${cpus ?? "unknown"} CPUs, above this stack's ceiling of ${maxCpus}.`,
      remediation: `set fly.size.cpus to ${maxCpus} or fewer in the stack config (or raise machine-size-ceiling.maxCpus after agreeing the cost).`,
    });
  }
  if (memory === undefined || memory > maxMemoryMb) {
    findings.push({
      message: `Fly machine guest has ${memory ?? "unknown"} MB of memory, above this stack's ceiling of ${maxMemoryMb} MB.`,
      remediation: `set fly.size.memoryMb to ${maxMemoryMb} or less in the stack config (or raise machine-size-ceiling.maxMemoryMb after agreeing the cost).`,
    });
  }
  return findings;
}

export const machineSizeCeiling: ResourceValidationPolicy = {
  name: "machine-size-ceiling",
  description: "Checks whether every Fly machine's guest size stays at or under the configured CPU and memory ceiling.",
  configSchema: {
    properties: {
      maxCpus: { type: "integer", minimum: 1, default: 2, description: "Most CPUs one machine may have." },
      maxMemoryMb: { type: "integer", minimum: 256, default: 1024, description: "Most memory (MB) one machine may have." },
    },
  },
  validateResource: (args, report) => {
    if (args.type !== types.flyMachine) return;
    reportFindings(report, checkSizeCeiling(args.props, args.getConfig<SizeCeilingConfig>()));
  },
};
