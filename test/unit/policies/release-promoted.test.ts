import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { types } from "../../../policies/rules/common";
import { backendEvidence, makeReleasePromotedPolicy, stackOfUrn, type EvidenceResult } from "../../../policies/rules/release-promoted";
import { fileStore } from "../../../stacks/backend-store";
import { buildRecord, writeRecord } from "../../../stacks/records";
import { changed, runResourcePolicy } from "./support";
import { digestImage, machine } from "./fixtures";

type M = ReturnType<typeof machine>;
const happy = machine() as unknown as Record<string, unknown>;
const withImage = (image: string) => changed(happy, (m) => ((m as unknown as M).config.image = image));
const digestOf = (image: string) => image.slice(image.indexOf("@") + 1);
const stagingRef = `registry.fly.io/flightdeck-staging@${digestOf(digestImage)}`;
const other = `registry.fly.io/flightdeck-production@sha256:${"f".repeat(64)}`;

const promoted: EvidenceResult = { evidence: { from: "staging", promoted: [{ release: stagingRef, at: "2026-12-01T10:00:00.000Z" }], ranHere: [] } };
const asked: Array<[string, string]> = [];
const policy = (e: EvidenceResult) =>
  makeReleasePromotedPolicy(async (stack, from) => {
    asked.push([stack, from]);
    return e;
  });
const run = (e: EvidenceResult, props: Record<string, unknown>, config: Record<string, unknown> = { from: "staging" }) => runResourcePolicy(policy(e), types.flyMachine, props, config);

describe("release-promoted", () => {
  it("passes a machine whose image digest staging deployed successfully (under staging's app name)", async () => {
    expect(await run(promoted, happy)).toEqual([]);
    expect(asked.at(-1)).toEqual(["test", "staging"]);
  });
  it("refuses an unpromoted image, naming it and what staging has succeeded with", async () => {
    const out = await run(promoted, withImage(other));
    expect(out).toHaveLength(1);
    expect(out[0]!.message).toContain(`Promotion, not rebuild: release ${other} was never deployed successfully to staging`);
    expect(out[0]!.message).toContain(stagingRef);
    expect(out[0]!.message).toMatch(/Fix: deploy the release to staging first/);
  });
  it("a revert or rollback is never blocked, and does not even read the records", async () => {
    const before = asked.length;
    expect(await run({ problem: "unreadable" }, withImage(other), { from: "staging", restore: { kind: "rollback", reason: "r" } })).toEqual([]);
    expect(asked.length).toBe(before);
  });
  it("fails closed when the records cannot be read", async () => {
    const out = await run({ problem: "the backend (unset) is not one the deployment records live in" }, happy);
    expect(out[0]!.message).toMatch(/Cannot tell whether .* was promoted from staging: the backend \(unset\)/);
  });
  it("reads the stack from the URN", () => {
    expect(stackOfUrn("urn:pulumi:production::flightdeck::pulumi-nodejs:dynamic/flightdeck:FlyMachine::m")).toBe("production");
  });
  it("reads the records from PULUMI_BACKEND_URL's store, once per stack", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "release-promoted-"));
    try {
      const now = Date.now();
      await writeRecord(fileStore(dir, true), buildRecord({ stack: "staging", kind: "deploy", outcome: "succeeded", release: stagingRef, startedAt: now, endedAt: now, steps: [] }, { deployer: "ci" }));
      const read = backendEvidence({ PULUMI_BACKEND_URL: `file://${dir}` });
      const first = read("production", "staging");
      expect(read("production", "staging")).toBe(first);
      const r = await first;
      expect("evidence" in r && r.evidence.promoted.map((p) => p.release)).toEqual([stagingRef]);
      const none = await backendEvidence({})("production", "staging");
      expect(none).toMatchObject({ problem: expect.stringMatching(/not one the deployment records live in/) });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it("production's policy config and stack file name the same source", () => {
    const root = path.resolve(__dirname, "../../..");
    const config = JSON.parse(fs.readFileSync(path.join(root, "policies/config/production.json"), "utf8")) as Record<string, { enforcementLevel: string; from?: string }>;
    const file = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.production.yaml"), "utf8")) as { config: Record<string, { from?: string }> };
    expect(config["release-promoted"]).toMatchObject({ enforcementLevel: "mandatory", from: file.config["flightdeck:promotion"]!.from });
  });
});
