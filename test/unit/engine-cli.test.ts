import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { describe, expect, it } from "vitest";
import { readEvents, stackOutputsOf } from "../../stacks/engine-cli";

const outputsEvent = (type: string, outputs: Record<string, unknown>, op = "update") =>
  ({ sequence: 1, timestamp: 0, resOutputsEvent: { metadata: { op, urn: `urn:pulumi:s::p::${type}::x`, type, provider: "", new: { outputs } } } }) as unknown as EngineEvent;

describe("engine-cli: the update's outputs from its own event log", () => {
  it("takes the root resource's last outputs event, not another resource's", () => {
    const events = [
      outputsEvent("pulumi-nodejs:dynamic/flightdeck:LocalRouter", { live: "blue" }),
      outputsEvent("pulumi:pulumi:Stack", { url: "http://a" }, "same"),
      outputsEvent("pulumi:pulumi:Stack", { url: "http://b", release: "v2" }),
    ];
    expect(stackOutputsOf(events)).toEqual({ url: { value: "http://b" }, release: { value: "v2" } });
  });

  it("an update that reported no outputs for its root is an error, never empty outputs", () => {
    expect(() => stackOutputsOf([outputsEvent("flightdeck:local:App", {})])).toThrow(/without reporting the stack's outputs/);
  });

  it("reads a log whose last line a killed engine cut short, and a missing log as no events", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fd-events-"));
    const file = path.join(dir, "events.jsonl");
    fs.writeFileSync(file, `${JSON.stringify(outputsEvent("pulumi:pulumi:Stack", { url: "u" }))}\n{"sequence": 2, "resOut`);
    expect(readEvents(file)).toHaveLength(1);
    expect(readEvents(path.join(dir, "none.jsonl"))).toEqual([]);
  });
});
