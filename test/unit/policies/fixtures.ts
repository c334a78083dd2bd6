/** Happy-path fixtures: each is compliant with policies/config/production.json. */
import type { FlyMachineInputs, HealthGateInputs } from "../../../components/fly/contract";
import type { ResourceView } from "../../../policies/rules/common";
import { types } from "../../../policies/rules/common";

export const digestImage = `registry.fly.io/flightdeck-production@sha256:${"0123456789abcdef".repeat(4)}`;

export function machine(overrides: Partial<FlyMachineInputs> = {}): FlyMachineInputs {
  return {
    app: "flightdeck-production",
    name: "flightdeck-production-blue-0",
    region: "ams",
    fallbackRegions: ["fra"],
    config: {
      image: digestImage,
      guest: { cpu_kind: "shared", cpus: 1, memory_mb: 256 },
      services: [
        {
          protocol: "tcp",
          internal_port: 8080,
          ports: [{ port: 443, handlers: ["tls", "http"] }],
          checks: [{ type: "http", path: "/healthz", interval: "10s", timeout: "2s" }],
        },
      ],
    },
    updateDeadlineMs: 60_000,
    cordoned: false,
    ...overrides,
  };
}

export const gate: HealthGateInputs = {
  target: "http://idle.internal:8080",
  path: "/healthz",
  expectedStatus: 200,
  intervalMs: 1000,
  timeoutMs: 2000,
  healthyThreshold: 5,
  unhealthyThreshold: 2,
  deadlineMs: 120_000,
  release: digestImage,
};

export function view(type: string, name: string, props: object): ResourceView {
  return { type, name, urn: `urn:pulumi:production::flightdeck::${type}::${name}`, props: props as Record<string, unknown> };
}

/** A compliant GitHub setup: production environment with reviewers, main-only, protected main. */
export function githubResources(): ResourceView[] {
  return [
    view(types.githubEnvironment, "production", {
      repository: "flightdeck-app",
      environment: "production",
      reviewers: [{ users: [101], teams: [202] }],
      deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
    }),
    view(types.githubDeploymentPolicy, "production-main", { repository: "flightdeck-app", environment: "production", branchPattern: "main" }),
    view(types.githubRuleset, "main", {
      repository: "flightdeck-app",
      name: "main",
      target: "branch",
      enforcement: "active",
      conditions: { refName: { includes: ["~DEFAULT_BRANCH"], excludes: [] } },
      rules: {
        requiredStatusChecks: { requiredChecks: [{ context: "ci" }, { context: "preview" }] },
        requiredLinearHistory: true,
        nonFastForward: true,
        deletion: true,
      },
    }),
  ];
}
