/** The local test stack every local benchmark measures on, so their figures are comparable. */
import { deploy } from "../stacks/deploy";
import { localTestStack } from "../test/support/local-stack";

/** The gate and bake every local benchmark deploys with: a gate of 3 probes 500 ms apart, a 5 s bake. */
export const BENCH_DELIVERY = {
  healthGate: { path: "/healthz", intervalMs: 500, healthyThreshold: 3, unhealthyThreshold: 2, timeoutMs: 1000, deadlineMs: 30000 },
  bakeSeconds: 5,
  bakeProbeIntervalMs: 1000,
  bakeUnhealthyThreshold: 2,
} as const;

/** A local test stack with those settings and v1 deployed on it: what each benchmark's scenarios start from. */
export async function benchStack(name: string, basePort: number): Promise<Awaited<ReturnType<typeof localTestStack>>> {
  const env = await localTestStack(name, basePort, BENCH_DELIVERY);
  try {
    const first = await deploy({ stack: name, release: "v1" });
    if (first.outcome !== "succeeded") throw new Error(`setup deploy failed: ${first.reason}`);
    return env;
  } catch (err) {
    await env.cleanup();
    throw err;
  }
}
