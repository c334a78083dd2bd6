import { beforeAll, describe, expect, it } from "vitest";
import { importProgram, installMocks, valueOf, type RegisteredResource } from "../support/pulumi-mocks";
import { deliveryOf } from "../support/stack-files";
import { stubDynamicProviderSerialization } from "../support/stub-closures";

// The whole program on a local stack, under mocks: set before the program is imported.
stubDynamicProviderSerialization();
const registered: RegisteredResource[] = installMocks({
  stack: "local",
  config: {
    "flightdeck:environment": "local",
    "flightdeck:features": JSON.stringify({ dark_mode: true }),
    // What the driver passes for an update: v2 live on green, v1 warm on blue, both with the flag.
    "flightdeck:delivery": JSON.stringify(deliveryOf("v2", "green", "v1", { dark_mode: true })),
  },
  outputsFor: (type, _name, inputs) =>
    type.endsWith("flightdeck:LocalProcess")
      ? { url: `http://127.0.0.1:${String(inputs.port)}`, pid: 1 }
      : type.endsWith("flightdeck:LocalRouter")
        ? { url: `http://127.0.0.1:${String(inputs.proxyPort)}`, socketPath: "/tmp/admin.sock" }
        : {},
});

let url: string;
beforeAll(async () => {
  const program = await importProgram();
  url = await valueOf(program.url as import("@pulumi/pulumi").Output<string>);
});

const processes = () => registered.filter((r) => r.type.endsWith("flightdeck:LocalProcess"));
const envOf = (slot: string) => processes().find((p) => p.name === `slot-${slot}-process`)?.inputs.env as Record<string, string>;

describe("the program on the local stack (mocks)", () => {
  it("serves through the router's port", () => {
    expect(url).toBe("http://127.0.0.1:18000");
  });

  it("declares both slots, one gate and one router", () => {
    const count = (suffix: string) => registered.filter((r) => r.type.endsWith(suffix)).length;
    expect([count(":LocalProcess"), count(":HealthGate"), count(":LocalRouter")]).toEqual([2, 1, 1]);
  });

  it("the live slot runs the release", () => {
    expect(envOf("green").APP_VERSION).toBe("v2");
  });

  it("the other slot keeps the previous release warm", () => {
    expect(envOf("blue").APP_VERSION).toBe("v1");
  });

  it("the gate probes the live slot directly, for its release, with the default thresholds", () => {
    const gate = registered.find((r) => r.type.endsWith("flightdeck:HealthGate"));
    expect(gate?.inputs).toMatchObject({ target: "http://127.0.0.1:18002", release: "v2", path: "/healthz", healthyThreshold: 3, unhealthyThreshold: 2 });
  });

  it("the router sends live traffic to the configured slot", () => {
    expect(registered.find((r) => r.type.endsWith("flightdeck:LocalRouter"))?.inputs).toMatchObject({ live: "green", servers: { blue: 18001, green: 18002 } });
  });

  it("feature flags reach every slot as FLAG_ variables", () => {
    expect([envOf("blue").FLAG_DARK_MODE, envOf("green").FLAG_DARK_MODE]).toEqual(["true", "true"]);
  });
});
