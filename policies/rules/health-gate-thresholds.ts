import type { ResourceValidationPolicy } from "@pulumi/policy";
import { type Finding, type Json, num, numberOr, reportFindings, types } from "./common";

export interface HealthGateThresholdsConfig {
  /** Fewest consecutive passes that may open the gate. */
  minHealthyThreshold?: number;
  /** Fewest consecutive failures that may fail the gate. */
  minUnhealthyThreshold?: number;
}

/** The blue/green gate has thresholds and a deadline: present, ≥ 1, deadline longer than the interval. */
export function checkHealthGate(props: Json, config: HealthGateThresholdsConfig): Finding[] {
  const findings: Finding[] = [];
  const need: Array<[keyof typeof props & string, number]> = [
    ["healthyThreshold", numberOr(config.minHealthyThreshold, 1)],
    ["unhealthyThreshold", numberOr(config.minUnhealthyThreshold, 1)],
    ["intervalMs", 1],
    ["deadlineMs", 1],
  ];
  for (const [key, min] of need) {
    const v = num(props[key]);
    if (v === undefined || v < min) {
      findings.push({
        message: `The health gate's ${key} is ${v === undefined ? "missing" : v}; it must be at least ${min}, or the gate cannot tell a healthy release from a broken one.`,
        remediation: `set healthGate.${key} to ${min} or more in the stack config.`,
      });
    }
  }
  const interval = num(props.intervalMs);
  const deadline = num(props.deadlineMs);
  if (interval !== undefined && deadline !== undefined && deadline <= interval) {
    findings.push({
      message: `The health gate's deadlineMs (${deadline}) is not longer than its intervalMs (${interval}), so it gives up before a second probe.`,
      remediation: `set healthGate.deadlineMs above intervalMs × healthyThreshold in the stack config.`,
    });
  }
  return findings;
}

export const healthGateThresholds: ResourceValidationPolicy = {
  name: "health-gate-thresholds",
  description: "Checks whether the blue/green health gate has healthy/unhealthy thresholds of at least 1 and a deadline longer than its probe interval.",
  configSchema: {
    properties: {
      minHealthyThreshold: { type: "integer", minimum: 1, default: 1, description: "Fewest consecutive passes that may open the gate." },
      minUnhealthyThreshold: { type: "integer", minimum: 1, default: 1, description: "Fewest consecutive failures that may fail the gate." },
    },
  },
  validateResource: (args, report) => {
    if (args.type !== types.healthGate) return;
    reportFindings(report, checkHealthGate(args.props, args.getConfig<HealthGateThresholdsConfig>()));
  },
};
