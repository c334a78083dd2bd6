import { describe, expect, it } from "vitest";
import { parseStackConfig, StackConfigError } from "../../infra/config/parse";
import { stackFileConfig, withValue } from "../support/stack-files";

const staging = stackFileConfig("staging");
const production = stackFileConfig("production");
const local = stackFileConfig("local");

function problemsFor(stack: string, raw: Record<string, unknown>) {
  try {
    parseStackConfig(stack, raw);
  } catch (err) {
    expect(err).toBeInstanceOf(StackConfigError);
    return err as StackConfigError;
  }
  throw new Error("expected the config to be rejected");
}

describe("committed stack files", () => {
  it("local is valid and needs no cloud settings", () => {
    const cfg = parseStackConfig("local", local);
    expect(cfg.environment).toBe("local");
    expect(cfg).not.toHaveProperty("fly");
  });
  it("staging is valid", () => {
    expect(parseStackConfig("staging", staging).environment).toBe("staging");
  });
  it("production is valid", () => {
    expect(parseStackConfig("production", production).environment).toBe("production");
  });
  it("defaults fill the health gate", () => {
    const cfg = parseStackConfig("local", local);
    expect(cfg.healthGate).toEqual({
      path: "/healthz",
      expectedStatus: 200,
      intervalMs: 500,
      timeoutMs: 2000,
      healthyThreshold: 3,
      unhealthyThreshold: 2,
      deadlineMs: 60000,
    });
  });
});

// Each bad config: [stack, base, dotted key to change, new value, key named in the error, text in "expected"]
const bad: [string, Record<string, unknown>, string, unknown, string, RegExp][] = [
  ["staging", staging, "environment", "prod", "flightdeck:environment", /"local", "staging", "production"/],
  ["staging", staging, "environment", undefined, "flightdeck:environment", /one of/],
  ["staging", staging, "fly.regions", [], "flightdeck:fly.regions", /at least 1/],
  ["staging", staging, "fly.regions", ["Amsterdam"], "flightdeck:fly.regions[0]", /region code/],
  ["staging", staging, "fly.regions", ["ams", "ams"], "flightdeck:fly.regions", /each region once/],
  ["staging", staging, "fly.app", "Flightdeck_Staging", "flightdeck:fly.app", /Fly app name/],
  ["staging", staging, "fly.org", undefined, "flightdeck:fly.org", /string/],
  ["staging", staging, "fly.size.cpus", 3, "flightdeck:fly.size.cpus", /1, 2, 4, 8 or 16/],
  ["staging", staging, "fly.size.memoryMb", 300, "flightdeck:fly.size.memoryMb", /multiple of 256/],
  ["staging", staging, "fly.machinesPerSlot", 0, "flightdeck:fly.machinesPerSlot", /at least 1/],
  ["staging", staging, "fly.router", "dns", "flightdeck:fly.router", /"cordon", "cloudflare"/],
  ["staging", staging, "fly.regoins", ["ams"], "flightdeck:fly.regoins", /no such key/],
  ["staging", staging, "cloudflare.hostname", "app.example.org", "flightdeck:cloudflare.hostname", /inside the zone flightdeck.dev/],
  ["staging", staging, "cloudflare.zone", "Flightdeck.DEV", "flightdeck:cloudflare.zone", /DNS name/],
  ["staging", staging, "liveSlot", "green", "flightdeck:liveSlot", /no such key/],
  ["staging", staging, "delivery", { liveSlot: "purple", slots: {} }, "flightdeck:delivery.liveSlot", /"blue", "green"/],
  ["staging", staging, "healthGate.path", "healthz", "flightdeck:healthGate.path", /\//],
  ["staging", staging, "healthGate.timeoutMs", 120000, "flightdeck:healthGate.timeoutMs", /no longer than deadlineMs/],
  ["staging", staging, "healthGate.healthyThreshold", 0, "flightdeck:healthGate.healthyThreshold", /at least 1/],
  ["staging", staging, "features.NewCheckout", true, "flightdeck:features.NewCheckout", /snake_case/],
  ["staging", staging, "features.dark_mode", "yes", "flightdeck:features.dark_mode", /boolean/],
  ["staging", staging, "github.reviewers.users", ["not a login!"], "flightdeck:github.reviewers.users[0]", /GitHub user login/],
  ["staging", staging, "github.reviewers.teams", ["release-managers"], "flightdeck:github.reviewers.teams[0]", /org\/team-slug/],
  ["production", production, "github.requiredChecks", [], "flightdeck:github.requiredChecks", /at least one required status check/],
  ["production", production, "github.reviewers", { users: [], teams: [] }, "flightdeck:github.reviewers", /mergeIsRelease/],
  ["staging", staging, "release", "", "flightdeck:release", /at least 1/],
  ["staging", staging, "bakeSeconds", -1, "flightdeck:bakeSeconds", /at least 0/],
  ["local", local, "local.proxyPort", 80, "flightdeck:local.proxyPort", /at least 1024/],
  ["local", local, "local.bluePort", 18000, "flightdeck:local", /four different ports/],
  ["local", local, "fly", { org: "x" }, "flightdeck:fly", /no such key/],
];

describe("bad stack config is refused with the file, the key, what was expected and what was found", () => {
  it.each(bad)("%s: %s = %j", (stack, base, key, value, namedKey, expected) => {
    const err = problemsFor(stack, withValue(base, key, value));
    expect(err.stackFile).toBe(`Pulumi.${stack}.yaml`);
    const problem = err.problems.find((p) => p.key === namedKey);
    expect(problem, `problems were: ${JSON.stringify(err.problems)}`).toBeDefined();
    expect(problem!.expected).toMatch(expected);
    expect(err.message).toContain(`Pulumi.${stack}.yaml`);
    expect(err.message).toContain(namedKey);
    expect(err.message).toContain("nothing was changed");
  });

  it("says what was found", () => {
    const err = problemsFor("staging", withValue(staging, "fly.regions", ["Amsterdam"]));
    expect(err.problems[0].found).toBe('"Amsterdam"');
  });

  it("says when a key is missing", () => {
    const err = problemsFor("staging", withValue(staging, "fly.org", undefined));
    expect(err.problems[0].found).toMatch(/missing/);
  });
});

describe("strategy: canary", () => {
  it("defaults to blue/green, with canary settings ready for when it is chosen", () => {
    const cfg = parseStackConfig("local", local);
    expect(cfg.strategy).toBe("bluegreen");
    expect(cfg.canary).toEqual({ steps: [5, 25], pauseSeconds: 10, maxErrorRate: 0.01, maxP99Ratio: 2, p99SlackMs: 20, minRequests: 0 });
  });
  it("local accepts it", () => {
    expect(parseStackConfig("local", withValue(local, "strategy", "canary")).strategy).toBe("canary");
  });
  it("steps must rise", () => {
    const err = problemsFor("local", withValue(withValue(local, "strategy", "canary"), "canary", { steps: [25, 5] }));
    expect(err.problems[0]).toMatchObject({ key: "flightdeck:canary.steps" });
    expect(err.message).toMatch(/flightdeck:canary.steps: expected rising percentages, found \[25,5\]$/m);
  });
  it("Fly stacks accept it with one app's machines (fly.router: cordon)", () => {
    for (const [stack, base] of [["staging", staging], ["production", production]] as const) {
      expect(parseStackConfig(stack, withValue(base, "strategy", "canary")).strategy).toBe("canary");
    }
  });
  it("two Fly apps behind the Cloudflare record refuse it, saying why and what to use", () => {
    const err = problemsFor("production", withValue(withValue(production, "strategy", "canary"), "fly.router", "cloudflare"));
    expect(err.problems[0]).toMatchObject({ key: "flightdeck:strategy" });
    expect(err.message).toMatch(/bluegreen with fly.router: cloudflare \(a canary on Fly is a share of one app's machines in rotation: fly.router: cordon/);
  });
});

