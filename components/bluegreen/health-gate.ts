import * as pulumi from "@pulumi/pulumi";
import { FLY_INSTANCE_HEADER, type HealthGateInputs } from "../fly/contract";
import { emptyTally, recordProbe, type GateTally } from "./gate-logic";
import { probeHttp } from "./probe";

export type { HealthGateInputs };

export interface HealthGateOutputs extends HealthGateInputs {
  /** When the gate opened (ISO time). */
  openedAt: string;
  probes: number;
}

/**
 * One probe round. With `instances`, every instance is probed (in parallel) and the round passes
 * only when all pass: a slot is healthy when each of its machines is, not when the proxy found one.
 */
async function probeRound(url: string, inputs: HealthGateInputs): Promise<{ ok: boolean; detail: string }> {
  if (!inputs.instances || inputs.instances.length === 0) return probeHttp(url, { expectedStatus: inputs.expectedStatus, timeoutMs: inputs.timeoutMs, headers: inputs.headers });
  const header = inputs.instanceHeader ?? FLY_INSTANCE_HEADER;
  const results = await Promise.all(
    inputs.instances.map(async (instance) => ({
      instance,
      ...(await probeHttp(url, { expectedStatus: inputs.expectedStatus, timeoutMs: inputs.timeoutMs, headers: { ...(inputs.headers ?? {}), [header]: instance } })),
    })),
  );
  const failed = results.filter((r) => !r.ok);
  if (failed.length === 0) return { ok: true, detail: `${results.length} instances passed` };
  return { ok: false, detail: failed.map((r) => `instance ${r.instance}: ${r.detail}`).join(", ") };
}

/** Probes until the gate opens; throws (failing the update, so the router never moves) when it closes. */
async function runGate(inputs: HealthGateInputs): Promise<HealthGateOutputs> {
  const url = `${inputs.target}${inputs.path}`;
  const started = Date.now();
  const rules = inputs.restore ? { ...inputs, healthyThreshold: 1 } : inputs;
  let tally: GateTally = emptyTally;
  for (;;) {
    const probe = await probeRound(url, inputs);
    const step = recordProbe(tally, probe, rules);
    tally = step.tally;
    if (step.verdict === "open") return { ...inputs, openedAt: new Date().toISOString(), probes: tally.probes };
    if (step.verdict === "closed") {
      throw new Error(
        `health gate closed for release ${inputs.release}: ${tally.consecutiveFailures} failed probes in a row of ${url} ` +
          `(expected HTTP ${inputs.expectedStatus}, last: ${tally.lastFailure}); live traffic was not moved`,
      );
    }
    if (Date.now() - started + inputs.intervalMs > inputs.deadlineMs) {
      throw new Error(
        `health gate deadline of ${inputs.deadlineMs} ms passed for release ${inputs.release} on ${url} ` +
          `after ${tally.probes} probes (last: ${probe.detail}); live traffic was not moved`,
      );
    }
    await new Promise((r) => setTimeout(r, inputs.intervalMs));
  }
}

export const healthGateProvider: pulumi.dynamic.ResourceProvider<HealthGateInputs, HealthGateOutputs> = {
  async create(inputs) {
    const outs = await runGate(inputs);
    return { id: `gate-${Date.now()}`, outs };
  },
  async read(id, props) {
    // A gate is a verdict at a point in time: nothing out there can drift.
    return { id, props };
  },
  async diff(_id, olds, news) {
    // Any change (new release, other target, other rules) means the verdict must be earned again.
    // The optional probe settings count when they appear or disappear, too.
    const optional: (keyof HealthGateInputs)[] = ["headers", "instances", "instanceHeader"];
    // `restore` is how a restore's gate runs, not what it checks: a preview after one changes nothing.
    const keys = [...new Set([...(Object.keys(news) as (keyof HealthGateInputs)[]), ...optional])].filter((k) => k !== "restore");
    const changed = keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    return { changes: changed.length > 0 };
  },
  async update(_id, _olds, news) {
    return { outs: await runGate(news) };
  },
};

export type HealthGateArgs = { [K in keyof HealthGateInputs]: pulumi.Input<HealthGateInputs[K]> };

/** Passes an update only when the slot behind `target` is healthy; whatever depends on it waits. */
export class HealthGate extends pulumi.dynamic.Resource {
  declare readonly openedAt: pulumi.Output<string>;
  declare readonly probes: pulumi.Output<number>;

  constructor(name: string, args: HealthGateArgs, opts?: pulumi.CustomResourceOptions) {
    super(healthGateProvider, name, { ...args, openedAt: undefined, probes: undefined }, opts, "flightdeck", "HealthGate");
  }
}
