import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../infra/config/parse";
import type { CloudConfig } from "../../infra/config/schema";
import { cloudLookups, installMocks, ofType, valueOf, type RegisteredResource } from "../support/pulumi-mocks";
import { stackFileConfig } from "../support/stack-files";

// How the engine sees a secret input: the SDK serializes secrets under this signature.
const SECRET_SIG = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
const USER_IDS: Record<string, string> = { "alice-ops": "1001" };
const TEAM_IDS: Record<string, string> = { "release-managers": "2002" };

const lookups = cloudLookups({ users: USER_IDS, teams: TEAM_IDS });
const invokes: { token: string; args: Record<string, unknown> }[] = [];
const registered = installMocks({
  invoke(token, args) {
    invokes.push({ token, args });
    return lookups(token, args);
  },
});

function cloud(stack: string): CloudConfig {
  const cfg = parseStackConfig(stack, stackFileConfig(stack));
  if (cfg.environment === "local") throw new Error(`${stack} should be a cloud stack`);
  return cfg;
}

const stagingSecrets = { DEPLOY_HOOK: "staging-hook-secret" };
const productionSecrets = { DEPLOY_HOOK: "production-hook-secret", SENTRY_DSN: "https://sentry.example/1" };

function one(type: string, name: string): RegisteredResource {
  const found = ofType(registered, type).filter((r) => r.name === name);
  expect(found, `${type} ${name}`).toHaveLength(1);
  return found[0];
}

const ENV = "github:index/repositoryEnvironment:RepositoryEnvironment";
const POLICY = "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy";
const SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret";
const VARIABLE = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable";

let stagingSecretNames: string[];
let productionSecretNames: string[];

beforeAll(async () => {
  const { declareDelivery } = await import("../../infra/delivery");
  const staging = declareDelivery(cloud("staging"), {
    environmentSecrets: pulumi.secret<Record<string, string>>(stagingSecrets),
    environmentVariables: { PUBLIC_URL: "https://staging.flightdeck.dev" },
  });
  const production = declareDelivery(cloud("production"), {
    environmentSecrets: pulumi.secret<Record<string, string>>(productionSecrets),
    environmentVariables: { PUBLIC_URL: "https://app.flightdeck.dev" },
  });
  stagingSecretNames = await valueOf(staging.environmentSecretNames);
  productionSecretNames = await valueOf(production.environmentSecretNames);
  // Environment ids resolve once each environment's policy, secrets and variables are registered.
  await Promise.all([valueOf(staging.githubEnvironmentId), valueOf(production.githubEnvironmentId)]);
});

describe("staging environment (staging stack)", () => {
  it("each stack declares only its own GitHub environment", () => {
    const names = ofType(registered, ENV).map((r) => `${r.name}=${String(r.inputs.environment)}`);
    expect(names.sort()).toEqual(["production-environments-production=production", "staging-environments-staging=staging"]);
  });
  it("staging deploys from a custom branch policy, not any protected branch", () => {
    expect(one(ENV, "staging-environments-staging").inputs.deploymentBranchPolicy).toEqual({
      protectedBranches: false,
      customBranchPolicies: true,
    });
  });
  it("staging is deployable from the default branch", () => {
    expect(one(POLICY, "staging-environments-staging-branch").inputs).toMatchObject({
      repository: "flightdeck-app",
      environment: "staging",
      branchPattern: "main",
    });
  });
  it("staging needs no reviewers", () => {
    expect(one(ENV, "staging-environments-staging").inputs.reviewers).toBeUndefined();
  });
  it("staging secrets come from the stack's environmentSecrets", () => {
    expect(stagingSecretNames).toEqual(["DEPLOY_HOOK"]);
    expect(one(SECRET, "staging-environments-staging-secret-DEPLOY_HOOK").inputs).toMatchObject({
      repository: "flightdeck-app",
      environment: "staging",
      secretName: "DEPLOY_HOOK",
    });
  });
  it("staging non-secrets are environment variables", () => {
    expect(one(VARIABLE, "staging-environments-staging-var-PUBLIC_URL").inputs).toEqual({
      repository: "flightdeck-app",
      environment: "staging",
      variableName: "PUBLIC_URL",
      value: "https://staging.flightdeck.dev",
    });
  });
});

describe("production environment (production stack)", () => {
  const prod = () => one(ENV, "production-environments-production").inputs;

  it("production requires reviewers", () => {
    expect(prod().reviewers).toEqual([{ users: [1001], teams: [2002] }]);
  });
  it("production reviewers are resolved through GitHub's user and team lookups", () => {
    const lookups = invokes.filter((i) => i.token.startsWith("github:")).map((i) => [i.token, i.args]);
    expect(lookups).toEqual(
      expect.arrayContaining([
        ["github:index/getUser:getUser", { username: "alice-ops" }],
        ["github:index/getTeam:getTeam", { slug: "release-managers", summaryOnly: true }],
      ]),
    );
  });
  it("production prevents self-review", () => {
    expect(prod().preventSelfReview).toBe(true);
  });
  it("production waits for the configured timer", () => {
    expect(prod().waitTimer).toBe(5);
  });
  it("production admins cannot bypass reviewers when enforceAdmins is on", () => {
    expect(prod().canAdminsBypass).toBe(false);
  });
  it("production deploys from a custom branch policy, not any protected branch", () => {
    expect(prod().deploymentBranchPolicy).toEqual({ protectedBranches: false, customBranchPolicies: true });
  });
  it("production deploys from the default branch only", () => {
    const policies = ofType(registered, POLICY).filter((r) => r.inputs.environment === "production");
    expect(policies.map((p) => p.inputs)).toEqual([{ repository: "flightdeck-app", environment: "production", branchPattern: "main" }]);
  });
  it("production secrets are Pulumi secrets", () => {
    expect(productionSecretNames).toEqual(["DEPLOY_HOOK", "SENTRY_DSN"]);
    expect(one(SECRET, "production-environments-production-secret-SENTRY_DSN").inputs.value).toEqual({
      ...SECRET_SIG,
      value: "https://sentry.example/1",
    });
  });
  it("every environment secret value is registered as a secret", () => {
    const values = ofType(registered, SECRET).map((s) => s.inputs.value);
    expect(values).toHaveLength(3);
    for (const v of values) expect(v).toMatchObject(SECRET_SIG);
  });
  it("secret values never reach a variable", () => {
    const secretValues = [...Object.values(stagingSecrets), ...Object.values(productionSecrets)];
    const variableValues = ofType(registered, VARIABLE).map((v) => v.inputs.value);
    expect(variableValues.filter((v) => secretValues.includes(String(v)))).toEqual([]);
  });
  it("the GitHub provider targets the configured owner", () => {
    const providers = ofType(registered, "pulumi:providers:github");
    expect(providers.map((p) => p.inputs.owner)).toEqual(["flightdeck-dev", "flightdeck-dev"]);
  });
});
