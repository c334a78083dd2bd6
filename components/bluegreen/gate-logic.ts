/** The gate's thresholds (config `healthGate`). */
export interface GateRules {
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface GateTally {
  probes: number;
  consecutivePasses: number;
  consecutiveFailures: number;
  /** What the last failed probe saw (status or error). */
  lastFailure?: string;
}

export type GateVerdict = "open" | "closed" | "probing";

export const emptyTally: GateTally = { probes: 0, consecutivePasses: 0, consecutiveFailures: 0 };

/**
 * Counts one probe. The gate opens after `healthyThreshold` passes in a row and closes for good
 * after `unhealthyThreshold` failures in a row; anything else keeps probing.
 */
export function recordProbe(
  tally: GateTally,
  probe: { ok: boolean; detail: string },
  rules: GateRules,
): { tally: GateTally; verdict: GateVerdict } {
  const next: GateTally = probe.ok
    ? { ...tally, probes: tally.probes + 1, consecutivePasses: tally.consecutivePasses + 1, consecutiveFailures: 0 }
    : {
        probes: tally.probes + 1,
        consecutivePasses: 0,
        consecutiveFailures: tally.consecutiveFailures + 1,
        lastFailure: probe.detail,
      };
  if (next.consecutivePasses >= rules.healthyThreshold) return { tally: next, verdict: "open" };
  if (next.consecutiveFailures >= rules.unhealthyThreshold) return { tally: next, verdict: "closed" };
  return { tally: next, verdict: "probing" };
}
