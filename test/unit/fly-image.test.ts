import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, ofType, valueOf } from "../support/pulumi-mocks";

const hex = "c".repeat(64);
const registered = installMocks({
  outputsFor: (type, _name, inputs) => (type === "docker:index/image:Image" ? { repoDigest: `${String(inputs.imageName).split(":")[0]}@sha256:${hex}` } : {}),
});
let mod: typeof import("../../components/fly/image");

beforeAll(async () => {
  mod = await import("../../components/fly/image");
});

describe("Image", () => {
  it("builds the Dockerfile for linux/amd64 and pushes to registry.fly.io/<app>, exposing the pinned digest", async () => {
    const img = new mod.Image("rel", { app: "web", context: "/src/app", tag: "abc123", registryToken: "fly-tok" });
    expect(await valueOf(img.repoDigest)).toBe(`registry.fly.io/web@sha256:${hex}`);
    const d = ofType(registered, "docker:index/image:Image").find((r) => r.name === "rel-image")!;
    expect(d.inputs.imageName).toBe("registry.fly.io/web:abc123");
    expect(d.inputs.build).toMatchObject({ context: "/src/app", dockerfile: "/src/app/Dockerfile", platform: "linux/amd64" });
    // The registry block reaches the engine as a secret (the mocks see Pulumi's secret wrapper).
    expect(d.inputs.registry).toEqual({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: { server: "registry.fly.io", username: "x", password: "fly-tok" },
    });
    expect(ofType(registered, "flightdeck:fly:Image").map((r) => r.name)).toContain("rel");
  });

  it("accepts only a pinned digest in the app's own repository", () => {
    expect(mod.checkPushedDigest("rel", "web", `registry.fly.io/web@sha256:${hex}`)).toBe(`registry.fly.io/web@sha256:${hex}`);
    expect(() => mod.checkPushedDigest("rel", "web", "registry.fly.io/web:abc123")).toThrow(/Image rel: .*not pinned by digest/);
    expect(() => mod.checkPushedDigest("rel", "web", `registry.fly.io/other@sha256:${hex}`)).toThrow(/not in registry.fly.io\/web/);
  });
});
