/**
 * Rehearsal of production's guards: the program we ship with the committed Pulumi.production.yaml
 * and policies/config/production.json, driven by the CLI as the workflows run it, on the real
 * engine (Fly the emulator, GitHub and Cloudflare provider doubles), before anything is deployed.
 * The previews are given the release as CI's merge job would: the committed config passes every
 * mandatory policy, and each way of getting production wrong is refused with the message of the
 * guard that owns it; a deploy outside the window or of a release staging never deployed is refused
 * before anything changes. The deploys themselves are in rehearsal-production.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type YAML from "yaml";
import { committedSettings, outsideDeployWindow, recordStagingSuccesses, releaseRef, startRehearsal, type Rehearsal } from "../support/rehearsal";
import { POLICY_NOW_ENV } from "../../policies/rules/deploy-window";

let r: Rehearsal;
const releases: Record<string, string> = {};
const STACK = "production";

/** `[mandatory] <policy>:` lines of a preview's output. */
function mandatoryViolations(out: string): string[] {
  return [...out.matchAll(/\[mandatory\] ([a-z-]+):/g)].map((m) => m[1]!);
}

const previewWith = (edit: ((doc: YAML.Document) => void) | undefined, release: string) =>
  r.cliWith(edit ? { editStackFile: edit } : {}, "preview", "--stack", STACK, "--release", release);

describe("rehearsal: production's guards, the shipped program on the real engine", () => {
  beforeAll(async () => {
    r = await startRehearsal(STACK);
    releases.r1 = r.image("r1");
    // Never deployed to staging: production must refuse it.
    releases.unpromoted = r.image("unpromoted");
    await recordStagingSuccesses(r, ["r1"]);
  });
  afterAll(async () => {
    await r?.cleanup();
  });

  it("a preview of the committed production config passes every mandatory policy", async () => {
    const p = await previewWith(undefined, releases.r1!);
    expect(p.exitCode, p.all).toBe(0);
    expect(p.all).toMatch(/PREVIEWED production: create: \d+; 0 policy violation\(s\)/);
  });

  it("one machine per slot in one region: refused by fly-machine-redundancy", async () => {
    const p = await previewWith((doc) => {
      doc.setIn(["config", "flightdeck:fly", "machinesPerSlot"], 1);
      doc.setIn(["config", "flightdeck:fly", "regions"], doc.createNode(["ams"]));
    }, releases.r1!);
    expect(p.exitCode, p.all).not.toBe(0);
    expect(mandatoryViolations(p.all), p.all).toContain("fly-machine-redundancy");
    expect(p.all).toMatch(/machine/i);
  });

  it("a :latest image: refused by fly-image-pinned-by-digest", async () => {
    const p = await previewWith(undefined, "registry.fly.io/flightdeck-production:latest");
    expect(p.exitCode, p.all).not.toBe(0);
    expect(mandatoryViolations(p.all), p.all).toContain("fly-image-pinned-by-digest");
  });

  it("a release staging never deployed: refused by the driver naming staging's successes, and by release-promoted in preview", async () => {
    const d = await r.cli("deploy", "--stack", STACK, "--release", releases.unpromoted!);
    expect(d.exitCode, d.all).not.toBe(0);
    expect(d.all).toContain(`release ${releases.unpromoted} was never deployed successfully to staging`);
    expect(d.all).toContain(releaseRef(committedSettings("staging").app, "r1"));
    expect(d.all).toMatch(/refused before anything changed/);
    expect(r.fly.apps.size).toBe(0);
    const p = await previewWith(undefined, releases.unpromoted!);
    expect(p.exitCode, p.all).not.toBe(0);
    expect(mandatoryViolations(p.all), p.all).toContain("release-promoted");
    expect(p.all).toMatch(/Promotion, not rebuild/);
  });

  it("a plaintext app secret in the stack file: refused before the engine changes anything, naming file and key", async () => {
    const p = await previewWith((doc) => {
      doc.setIn(["config", "flightdeck:appSecrets"], doc.createNode({ API_KEY: "sk_live_rehearsal_plaintext" }));
    }, releases.r1!);
    expect(p.exitCode, p.all).not.toBe(0);
    expect(p.all).toMatch(/Pulumi\.production\.yaml/);
    expect(p.all).toMatch(/flightdeck:appSecrets/);
    expect(p.all).toMatch(/plaintext/);
    expect(p.all).not.toMatch(/sk_live_rehearsal_plaintext/);
  });

  it("no reviewers, merge declared the release: refused by protected-deploy-environment", async () => {
    const p = await previewWith((doc) => {
      doc.setIn(["config", "flightdeck:github", "reviewers"], doc.createNode({ users: [], teams: [] }));
      doc.setIn(["config", "flightdeck:github", "mergeIsRelease"], true);
    }, releases.r1!);
    expect(p.exitCode, p.all).not.toBe(0);
    expect(mandatoryViolations(p.all), p.all).toContain("protected-deploy-environment");
  });

  it("no reviewers at all: refused by the config check, naming the key", async () => {
    const p = await previewWith((doc) => {
      doc.setIn(["config", "flightdeck:github", "reviewers"], doc.createNode({ users: [], teams: [] }));
    }, releases.r1!);
    expect(p.exitCode, p.all).not.toBe(0);
    expect(p.all).toMatch(/Pulumi\.production\.yaml/);
    expect(p.all).toMatch(/reviewers/);
  });

  it("outside the deploy window a deploy is refused before anything changes", async () => {
    const d = await r.cliWith({ env: { [POLICY_NOW_ENV]: outsideDeployWindow() } }, "deploy", "--stack", STACK, "--release", releases.r1!);
    expect(d.exitCode, d.all).not.toBe(0);
    expect(d.all).toMatch(/deploy-window/);
    expect(r.fly.apps.size).toBe(0);
  });

});
