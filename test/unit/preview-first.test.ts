import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { projectDir } from "../../stacks/workspace";
import { readPolicyConfig } from "../../stacks/policy-config";
import { policyPreflight as preflightOf } from "../../stacks/preview-first";
import { readStackFile } from "../../stacks/stack-file";

const committed = (stack: string) => path.join(projectDir, "policies", "config", `${stack}.json`);
const local = readStackFile(projectDir, "local").config;
const policyPreflight = (config: typeof local, file: string | undefined) => preflightOf(config, readPolicyConfig(file));

/** The committed local policy config with some rules changed, as a file. */
function localPolicyWith(changes: Record<string, unknown>): string {
  const config = { ...(JSON.parse(fs.readFileSync(committed("local"), "utf8")) as Record<string, unknown>), ...changes };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fd-preflight-")), "policy.json");
  fs.writeFileSync(file, JSON.stringify(config));
  return file;
}

describe("policyPreflight: what a deploy does about its policies before its update", () => {
  it("the committed local stack needs no preview: each mandatory rule is checked before the update changes anything", () => {
    expect(policyPreflight(local, committed("local"))).toEqual({ refusals: [] });
  });

  it("staging and production are previewed first (rules on Fly machines and GitHub are checked as the update reaches them)", () => {
    for (const stack of ["staging", "production"]) {
      const config = readStackFile(projectDir, stack).config;
      expect(policyPreflight(config, committed(stack)).previewBecause).toMatch(/is mandatory and checks /);
    }
  });

  it("a mandatory rule on a resource the local update reaches after a change brings the preview back (canary-required: the router)", () => {
    const r = policyPreflight(local, localPolicyWith({ "canary-required": { enforcementLevel: "mandatory" } }));
    expect(r.previewBecause).toMatch(/^canary-required is mandatory and checks pulumi-nodejs:dynamic\/flightdeck:LocalRouter/);
  });

  it("a level given as a bare string counts, and a rule without an entry is mandatory (the pack's default)", () => {
    expect(policyPreflight(local, localPolicyWith({ "canary-required": "mandatory" })).previewBecause).toMatch(/^canary-required/);
    const withoutEntry = JSON.parse(fs.readFileSync(committed("local"), "utf8")) as Record<string, unknown>;
    delete withoutEntry["canary-required"];
    const file = localPolicyWith({});
    fs.writeFileSync(file, JSON.stringify(withoutEntry));
    expect(policyPreflight(local, file).previewBecause).toMatch(/^canary-required/);
    expect(policyPreflight(local, localPolicyWith({ "canary-required": "advisory" }))).toEqual({ refusals: [] });
  });

  it("the deploy window is checked on the stack's root, before any change: no preview for it", () => {
    expect(policyPreflight(local, localPolicyWith({ "deploy-window": { enforcementLevel: "mandatory", days: [] } }))).toEqual({ refusals: [] });
  });

  it("secret-inputs-are-secrets guarding a local type in extraInputs brings the preview back", () => {
    const extra = { "pulumi-nodejs:dynamic/flightdeck:LocalProcess": ["env"] };
    const r = policyPreflight(local, localPolicyWith({ "secret-inputs-are-secrets": { enforcementLevel: "mandatory", extraInputs: extra } }));
    expect(r.previewBecause).toMatch(/^secret-inputs-are-secrets .*LocalProcess/);
  });

  it("health-gate thresholds below the policy's minimum are refused from config, with the rule's own message and fix", () => {
    const r = policyPreflight(local, localPolicyWith({ "health-gate-thresholds": { enforcementLevel: "mandatory", minHealthyThreshold: local.healthGate.healthyThreshold + 1 } }));
    expect(r.refusals).toHaveLength(1);
    expect(r.refusals[0]).toMatch(/^\[mandatory\] health-gate-thresholds: The health gate's healthyThreshold is \d+; it must be at least \d+.* Fix: set healthGate.healthyThreshold/);
    expect(r.previewBecause).toBeUndefined();
  });

  it("a policy config that is not a JSON object is one message naming the file, before anything happens", () => {
    const file = localPolicyWith({});
    fs.writeFileSync(file, "{ \"deploy-window\": ");
    expect(() => readPolicyConfig(file)).toThrow(new RegExp(`^${file}: expected the stack's policy config as JSON, found invalid JSON`));
    fs.writeFileSync(file, "[]");
    expect(() => readPolicyConfig(file)).toThrow(/expected a JSON object of policy name → level or settings, found an array/);
  });

  it("a stack without a policy config has nothing to check", () => {
    expect(policyPreflight(local, undefined)).toEqual({ refusals: [] });
  });
});
