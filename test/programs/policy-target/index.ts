/**
 * A throwaway program that declares resources with the real type tokens of Flightdeck's dynamic
 * resources (pulumi-nodejs:dynamic/flightdeck:<Name>), so the policy pack sees exactly what it
 * sees in a real stack. Providers only echo their inputs: nothing leaves this machine.
 *
 * Config (all optional; defaults are compliant with policies/config/production.json):
 *   machines        number of live machines            (2)
 *   regions         JSON list of regions, round robin  (["ams","iad"])
 *   image           machine image                      (a registry.fly.io digest)
 *   cpus            guest CPUs                         (1)
 *   healthCheck     "http" | "none"                    ("http")
 *   secretValues    "secret" | "plaintext"             ("secret")
 *   gateDeadlineMs  health gate deadline               (60000)
 */
import * as pulumi from "@pulumi/pulumi";

const echo: pulumi.dynamic.ResourceProvider = {
  async create(inputs: Record<string, unknown>) {
    return { id: `id-${Date.now()}-${Math.random().toString(16).slice(2)}`, outs: inputs };
  },
  async update(_id: string, _olds: Record<string, unknown>, news: Record<string, unknown>) {
    return { outs: news };
  },
};

class Echo extends pulumi.dynamic.Resource {
  constructor(type: string, name: string, props: Record<string, pulumi.Input<unknown>>, opts?: pulumi.CustomResourceOptions) {
    super(echo, name, props, opts, "flightdeck", type);
  }
}

const config = new pulumi.Config();
const app = "policy-target";
const machines = config.getNumber("machines") ?? 2;
const regions = config.getObject<string[]>("regions") ?? ["ams", "iad"];
const image = config.get("image") ?? `registry.fly.io/${app}@sha256:${"ab".repeat(32)}`;
const cpus = config.getNumber("cpus") ?? 1;
const healthCheck = config.get("healthCheck") ?? "http";
const secretValues = config.get("secretValues") ?? "secret";
const gateDeadlineMs = config.getNumber("gateDeadlineMs") ?? 60_000;

const checks = healthCheck === "http" ? [{ type: "http", path: "/healthz", interval: "10s", timeout: "2s" }] : [];

for (let i = 0; i < machines; i++) {
  new Echo("FlyMachine", `${app}-blue-${i}`, {
    app,
    name: `${app}-blue-${i}`,
    region: regions[i % regions.length],
    fallbackRegions: [],
    config: {
      image,
      guest: { cpu_kind: "shared", cpus, memory_mb: 256 },
      services: [{ protocol: "tcp", internal_port: 8080, ports: [{ port: 443, handlers: ["tls", "http"] }], checks }],
      metadata: { flightdeck_slot: "blue", flightdeck_release: image },
    },
    updateDeadlineMs: 60_000,
    cordoned: false,
  });
}

const values = { DATABASE_URL: "postgres://user:pass@db/app" };
new Echo("FlyAppSecrets", `${app}-secrets`, {
  app,
  values: secretValues === "secret" ? pulumi.secret(values) : values,
});

new Echo("HealthGate", `${app}-gate`, {
  target: "http://127.0.0.1:1",
  path: "/healthz",
  expectedStatus: 200,
  intervalMs: 500,
  timeoutMs: 2000,
  healthyThreshold: 3,
  unhealthyThreshold: 2,
  deadlineMs: gateDeadlineMs,
  release: image,
});
