import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { policies } from "../../../policies/registry";
import { policyConfigFile } from "../../../policies/config-file";

const levels = ["mandatory", "advisory", "disabled"];

describe("policy registry", () => {
  it("names every policy once, in kebab-case, with a Checks whether description and a config schema", () => {
    const names = policies.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const p of policies) {
      expect(p.name).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(p.description).toMatch(/^Checks whether /);
      expect(p.configSchema).toBeDefined();
    }
  });
  for (const stack of ["local", "staging", "production"]) {
    it(`${stack}.json sets a level for every policy and only schema keys`, () => {
      const file = policyConfigFile(stack);
      const config = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, Record<string, unknown>>;
      expect(Object.keys(config).sort()).toEqual(policies.map((p) => p.name).sort());
      for (const p of policies) {
        const { enforcementLevel, ...props } = config[p.name];
        expect(levels).toContain(enforcementLevel);
        for (const k of Object.keys(props)) expect(Object.keys(p.configSchema?.properties ?? {})).toContain(k);
      }
    });
  }
  it("an unknown stack has no policy config", () => {
    expect(() => policyConfigFile("nope")).toThrow(/create policies\/config\/nope.json/);
  });
});
