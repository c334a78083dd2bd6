import type { EngineEvent, OpType, StepEventMetadata } from "@pulumi/pulumi/automation";
import { describe, expect, it } from "vitest";
import { driftFromRefreshEvents, formatDrift, pendingFromPreviewEvents, type DriftReport } from "../../stacks/drift";

const URN = (type: string, name: string) => `urn:pulumi:staging::flightdeck::${type}::${name}`;
let seq = 0;

function meta(op: OpType, type: string, name: string, extra: Pick<StepEventMetadata, "diffs" | "detailedDiff"> = {}): StepEventMetadata {
  return { op, urn: URN(type, name), type, provider: "", ...extra };
}
const pre = (op: OpType, type: string, name: string, extra = {}): EngineEvent => ({
  sequence: seq++,
  timestamp: 0,
  resourcePreEvent: { metadata: meta(op, type, name, extra) },
});
const out = (op: OpType, type: string, name: string, extra = {}): EngineEvent => ({
  sequence: seq++,
  timestamp: 0,
  resOutputsEvent: { metadata: meta(op, type, name, extra) },
});

// The events a refresh preview of the local stack emits after a slot's process was killed
// (recorded from the real engine): pre-events are all `refresh`, the outcome is on the outputs event.
const refreshEvents: EngineEvent[] = [
  pre("refresh", "pulumi:pulumi:Stack", "flightdeck-staging"),
  out("same", "pulumi:pulumi:Stack", "flightdeck-staging"),
  pre("refresh", "pulumi-nodejs:dynamic/flightdeck:LocalProcess", "slot-blue-process"),
  pre("refresh", "pulumi-nodejs:dynamic/flightdeck:LocalRouter", "router"),
  out("delete", "pulumi-nodejs:dynamic/flightdeck:LocalProcess", "slot-blue-process"),
  out("same", "pulumi-nodejs:dynamic/flightdeck:LocalRouter", "router"),
];

describe("drift from a refresh preview", () => {
  it("no drift when every outcome is same", () => {
    expect(driftFromRefreshEvents(refreshEvents.filter((e) => e.resOutputsEvent?.metadata.op !== "delete"))).toEqual([]);
  });

  it("a resource deleted out of band is drift, with its outcome op", () => {
    expect(driftFromRefreshEvents(refreshEvents)).toEqual([
      {
        urn: URN("pulumi-nodejs:dynamic/flightdeck:LocalProcess", "slot-blue-process"),
        type: "pulumi-nodejs:dynamic/flightdeck:LocalProcess",
        op: "delete",
        source: "refresh",
        properties: [],
      },
    ]);
  });

  it("a resource changed out of band lists the property names that differ", () => {
    const events = [out("update", "flightdeck:fly:Machine", "slot-blue-0", { diffs: ["image"], detailedDiff: { "config.env": { diffKind: "update", inputDiff: true } } })];
    expect(driftFromRefreshEvents(events)[0]).toMatchObject({ op: "update", properties: ["config.env", "image"] });
  });

  it("pre-events of a refresh (op refresh) are not drift", () => {
    expect(driftFromRefreshEvents([pre("refresh", "t", "a")])).toEqual([]);
  });
});

describe("pending changes from a preview", () => {
  it("same and read are not pending; anything else is", () => {
    const events = [pre("same", "t", "a"), pre("read", "t", "b"), pre("update", "t", "c", { diffs: ["release"] }), pre("create", "t", "d")];
    expect(pendingFromPreviewEvents(events).map((d) => [d.op, d.source, d.properties])).toEqual([
      ["update", "preview", ["release"]],
      ["create", "preview", []],
    ]);
  });
});

describe("formatDrift", () => {
  const report = (drifted: DriftReport["drifted"]): DriftReport => ({ stack: "staging", drifted, durationMs: 1500 });

  it("says NO DRIFT when there is none", () => {
    expect(formatDrift(report([]))).toBe("NO DRIFT: staging matches its state and its program (1.5s)");
  });

  it("lists each drifted resource under its cause, then the verdict", () => {
    const text = formatDrift(
      report([
        { urn: URN("t:M", "slot-blue-0"), type: "t:M", op: "update", source: "refresh", properties: ["image"] },
        { urn: URN("t:R", "router"), type: "t:R", op: "update", source: "preview", properties: [] },
      ]),
    );
    expect(text.split("\n")).toEqual([
      "changed out of band (refresh):",
      "  update   t:M slot-blue-0 [image]",
      "state differs from the program and config (preview):",
      "  update   t:R router",
      expect.stringMatching(/^DRIFT: 2 resource\(s\) of staging differ/),
    ]);
  });
});
