import { describe, expect, it } from "vitest";
import { machineSizeCeiling } from "../../../policies/rules/machine-size-ceiling";
import { types } from "../../../policies/rules/common";
import { changed, runResourcePolicy } from "./support";
import { machine } from "./fixtures";

type M = ReturnType<typeof machine>;
const happy = machine() as unknown as Record<string, unknown>;
const staging = { maxCpus: 2, maxMemoryMb: 1024 };
const run = (props: Record<string, unknown>, config: Record<string, unknown> = staging) => runResourcePolicy(machineSizeCeiling, types.flyMachine, props, config);

describe("machine-size-ceiling", () => {
  it("passes a machine under the ceiling", async () => {
    expect(await run(happy)).toEqual([]);
  });
  it("staging machines stay under the CPU ceiling", async () => {
    const out = await run(changed(happy, (m) => ((m as unknown as M).config.guest.cpus = 4)));
    expect(out[0].message).toMatch(/4 CPUs, above this stack's ceiling of 2.*Fix: set fly.size.cpus/);
  });
  it("staging machines stay under the memory ceiling", async () => {
    const out = await run(changed(happy, (m) => ((m as unknown as M).config.guest.memory_mb = 2048)));
    expect(out[0].message).toMatch(/2048 MB of memory, above this stack's ceiling of 1024 MB/);
  });
  it("the ceiling comes from config", async () => {
    expect(await run(happy, { maxCpus: 1, maxMemoryMb: 256 })).toEqual([]);
    expect(await run(happy, { maxCpus: 1, maxMemoryMb: 255 })).toHaveLength(1);
  });
});
