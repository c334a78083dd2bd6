import type { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { dynamicTypeToken, flyResourceTypes, localPlatformTypes } from "../../../components/fly/contract";
import { checkedTypes, typeMatches } from "../../../policies/checked-types";
import { policies } from "../../../policies/registry";
import { routerTypes } from "../../../policies/rules/canary-required";
import { types } from "../../../policies/rules/common";
import { githubRepositoryType } from "../../../policies/rules/trunk-merge-settings";
import { runResourcePolicy } from "./support";

// Every type any platform registers or any rule reads: each rule must say nothing of the ones outside its entry.
const allTypes = [
  ...new Set([
    ...Object.values(types),
    ...Object.values(routerTypes),
    ...localPlatformTypes,
    ...Object.values(flyResourceTypes).map(dynamicTypeToken),
    githubRepositoryType,
  ]),
];
// A window that is never open: deploy-window refuses whatever it checks.
const strictest: Record<string, Record<string, unknown>> = {
  "deploy-window": { days: [], start: "00:00", end: "00:01", timeZone: "UTC" },
  "fly-machine-redundancy": { minMachines: 2, minRegions: 2 },
};

async function stackFindings(policy: StackValidationPolicy, resourceTypes: string[], config: Record<string, unknown>): Promise<string[]> {
  const reported: string[] = [];
  const args = {
    resources: resourceTypes.map((type, i) => ({ type, name: `r${i}`, urn: `urn:pulumi:s::p::${type}::r${i}`, props: {}, isDefaultProvider: false, opts: {}, dependencies: [], propertyDependencies: {} })),
    getConfig: () => config,
    notApplicable: () => {
      throw Object.assign(new Error("not applicable"), { notApplicable: true });
    },
  } as unknown as StackValidationArgs;
  try {
    await policy.validateStack(args, ((m: string) => reported.push(m)) as ReportViolation);
  } catch (err) {
    if (!(err as { notApplicable?: boolean }).notApplicable) throw err;
  }
  return reported;
}

describe("checked-types: the resource types each rule reads", () => {
  it("has one entry per rule of the registry, and none besides", () => {
    expect(Object.keys(checkedTypes).sort()).toEqual(policies.map((p) => p.name).sort());
  });

  for (const policy of policies) {
    const own = checkedTypes[policy.name] ?? [];
    const others = allTypes.filter((t) => !own.some((p) => typeMatches(p, t)));
    if (others.length === 0) continue; // "*": nothing is outside it
    it(`${policy.name} says nothing of any type outside its entry`, async () => {
      const config = strictest[policy.name] ?? {};
      if ("validateResource" in policy) {
        for (const type of others) expect({ type, found: await runResourcePolicy(policy, type, {}, config) }).toEqual({ type, found: [] });
      } else {
        expect(await stackFindings(policy as StackValidationPolicy, others, config)).toEqual([]);
      }
    });
  }

  // The test above could pass on rules that never report: these report on their own types.
  it("reports on its own types where the props break it (deploy-window, health-gate-thresholds, canary-required)", async () => {
    const byName = (n: string) => policies.find((p) => p.name === n)! as Parameters<typeof runResourcePolicy>[0];
    expect(await runResourcePolicy(byName("deploy-window"), types.stack, {}, strictest["deploy-window"])).not.toEqual([]);
    expect(await runResourcePolicy(byName("health-gate-thresholds"), types.healthGate, {})).not.toEqual([]);
    expect(await runResourcePolicy(byName("canary-required"), routerTypes.local, {})).not.toEqual([]);
  });
});
