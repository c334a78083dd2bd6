import { describe, expect, it } from "vitest";
import { flyImagePinnedByDigest } from "../../../policies/rules/fly-image-pinned-by-digest";
import { types } from "../../../policies/rules/common";
import { changed, runResourcePolicy } from "./support";
import { machine } from "./fixtures";

type M = ReturnType<typeof machine>;
const happy = machine() as unknown as Record<string, unknown>;
const withImage = (image: string) => changed(happy, (m) => ((m as unknown as M).config.image = image));
const run = (props: Record<string, unknown>, config = {}) => runResourcePolicy(flyImagePinnedByDigest, types.flyMachine, props, config);

describe("fly-image-pinned-by-digest", () => {
  it("passes an image pinned by digest", async () => {
    expect(await run(happy)).toEqual([]);
  });
  it("machines never run latest", async () => {
    const out = await run(withImage("registry.fly.io/app:latest"));
    expect(out[0].message).toMatch(/"registry.fly.io\/app:latest" is not pinned by digest.*Fix: set release/);
  });
  it("machines never run a bare tag", async () => {
    expect(await run(withImage("registry.fly.io/app:v1.2.3"))).toHaveLength(1);
  });
  it("a short digest is not a digest", async () => {
    expect(await run(withImage("registry.fly.io/app@sha256:abc123"))).toHaveLength(1);
  });
  it("a tag plus digest is pinned", async () => {
    expect(await run(withImage(`registry.fly.io/app:v1@sha256:${"a".repeat(64)}`))).toEqual([]);
  });
  it("allowedRegistries rejects another registry", async () => {
    const out = await run(withImage(`docker.io/library/nginx@sha256:${"a".repeat(64)}`), { allowedRegistries: ["registry.fly.io/"] });
    expect(out[0].message).toMatch(/outside registry.fly.io\//);
  });
});
