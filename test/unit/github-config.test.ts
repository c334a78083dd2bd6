import { describe, expect, it } from "vitest";
import { parseStackConfig, StackConfigError } from "../../infra/config/parse";
import { installMocks } from "../support/pulumi-mocks";
import { stackFileConfig, withValue } from "../support/stack-files";

const registered = installMocks();
const staging = stackFileConfig("staging");
const production = stackFileConfig("production");

function refusal(stack: string, raw: Record<string, unknown>): string {
  try {
    parseStackConfig(stack, raw);
  } catch (err) {
    expect(err).toBeInstanceOf(StackConfigError);
    return (err as Error).message;
  }
  throw new Error("expected the config to be refused");
}

describe("bad GitHub and Cloudflare config is refused before anything is declared", () => {
  it("a reviewer team not written org/team-slug is refused", () => {
    expect(refusal("production", withValue(production, "github.reviewers.teams", ["release-managers"]))).toMatch(
      /Pulumi\.production\.yaml[\s\S]*flightdeck:github\.reviewers\.teams\[0\]: expected a team as "org\/team-slug"/,
    );
  });
  it("a reviewer user that is not a login is refused", () => {
    expect(refusal("production", withValue(production, "github.reviewers.users", ["@alice ops"]))).toMatch(
      /flightdeck:github\.reviewers\.users\[0\]: expected a GitHub user login/,
    );
  });
  it("an unknown kind of reviewer is refused", () => {
    expect(refusal("production", withValue(production, "github.reviewers.bots", ["deploy-bot"]))).toMatch(
      /flightdeck:github\.reviewers\.bots: expected no such key/,
    );
  });
  it("production without required checks is refused", () => {
    expect(refusal("production", withValue(production, "github.requiredChecks", []))).toMatch(
      /flightdeck:github\.requiredChecks: expected at least one required status check on production/,
    );
  });
  it("production without reviewers is refused unless merge is release", () => {
    expect(refusal("production", withValue(production, "github.reviewers", { users: [], teams: [] }))).toMatch(
      /flightdeck:github\.reviewers: expected at least one reviewer on production, or github\.mergeIsRelease/,
    );
  });
  it("production without reviewers is accepted when merge is release", () => {
    const raw = withValue(withValue(production, "github.reviewers", { users: [], teams: [] }), "github.mergeIsRelease", true);
    expect(() => parseStackConfig("production", raw)).not.toThrow();
  });
  it("an unknown protection mode is refused", () => {
    expect(refusal("staging", withValue(staging, "github.protection", "classic"))).toMatch(
      /flightdeck:github\.protection: expected one of "ruleset", "branch-protection"/,
    );
  });
  it("a hostname outside the zone is refused", () => {
    expect(refusal("production", withValue(production, "cloudflare.hostname", "app.flightdeck.io"))).toMatch(
      /flightdeck:cloudflare\.hostname: expected a hostname inside the zone flightdeck\.dev[\s\S]*found "app\.flightdeck\.io"/,
    );
  });
  it("a zone's look-alike suffix is not inside the zone", () => {
    expect(refusal("staging", withValue(staging, "cloudflare.hostname", "app.notflightdeck.dev"))).toMatch(
      /inside the zone flightdeck\.dev/,
    );
  });
});

describe("DeliveryEnvironments refuses contradictory args at construction", () => {
  const base = { owner: "flightdeck-dev", repository: "flightdeck-app" };

  it("production without reviewers is refused unless merge is release", async () => {
    const { DeliveryEnvironments } = await import("../../components/github/delivery-environments");
    expect(() => new DeliveryEnvironments("x1", { ...base, production: { reviewers: { users: [], teams: [] } } })).toThrow(
      /production has no reviewers; list reviewers, or set mergeIsRelease/,
    );
  });
  it("a reviewer team of another organization is refused", async () => {
    const { DeliveryEnvironments } = await import("../../components/github/delivery-environments");
    expect(
      () => new DeliveryEnvironments("x2", { ...base, production: { reviewers: { users: [], teams: ["other-org/release"] } } }),
    ).toThrow(/team other-org\/release belongs to other-org, but the repository's owner is flightdeck-dev/);
  });
  it("more than six reviewer users are refused", async () => {
    const { DeliveryEnvironments } = await import("../../components/github/delivery-environments");
    const users = ["a1", "a2", "a3", "a4", "a5", "a6", "a7"];
    expect(() => new DeliveryEnvironments("x3", { ...base, production: { reviewers: { users, teams: [] } } })).toThrow(
      /7 reviewer users; GitHub allows at most 6/,
    );
  });
  it("declaring no environment is refused", async () => {
    const { DeliveryEnvironments } = await import("../../components/github/delivery-environments");
    expect(() => new DeliveryEnvironments("x4", base)).toThrow(/declares no environment/);
  });
  it("a refused component declares no child", async () => {
    await new Promise((r) => setTimeout(r, 50));
    expect(registered.filter((r) => /^x\d-/.test(r.name))).toEqual([]);
  });
});
