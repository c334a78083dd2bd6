/**
 * Drift: differences between a stack's state and the world (changed or deleted out of band, found by
 * a refresh preview) and between its state and its program (pending changes, found by a preview).
 * Neither engine run writes anything: the refresh is preview-only, the preview is a preview.
 */
import type { EngineEvent, OpType, Stack } from "@pulumi/pulumi/automation";
import { resourceName } from "./pr-comment";

/** One resource that is not what the stack's state says, or that an `up` would change. */
export interface DriftedResource {
  urn: string;
  type: string;
  /** `update`/`delete` from a refresh (out of band); any change op from the preview (pending). */
  op: OpType;
  /** Where the difference comes from. */
  source: "refresh" | "preview";
  /** Names of the properties that differ (names only: values may be secrets). */
  properties: string[];
}

export interface DriftReport {
  stack: string;
  drifted: DriftedResource[];
  durationMs: number;
}

export interface DetectDriftOptions {
  /** Also preview the program against the state: pending changes count as drift. Default true. */
  includePending?: boolean;
  onOutput?: (s: string) => void;
  /**
   * The config file to run with: the committed file plus what the stack runs (the driver's own
   * file), so the preview compares like with like, as every deploy runs. @default the committed file
   */
  configFile?: string;
}

/**
 * A default provider's config update: the engine hands dynamic providers the whole stack config, so
 * theirs changes with any config value (the driver's delivery state included) while no resource
 * does. Not drift, and not a change worth a line in a PR comment.
 */
export function isProviderConfigUpdate(meta: { op: OpType; type: string }): boolean {
  return meta.op === "update" && meta.type.startsWith("pulumi:providers:");
}

/** Property names from a step's diff metadata. */
function propertiesOf(meta: { diffs?: string[]; detailedDiff?: Record<string, unknown> }): string[] {
  const names = new Set<string>(meta.diffs ?? []);
  for (const k of Object.keys(meta.detailedDiff ?? {})) names.add(k);
  return [...names].sort();
}

/**
 * The drifted resources in a refresh preview's events. A refresh step's outcome (same, update,
 * delete) is on its outputs event: the pre-event's op is always `refresh`.
 */
export function driftFromRefreshEvents(events: readonly EngineEvent[]): DriftedResource[] {
  const out = new Map<string, DriftedResource>();
  for (const e of events) {
    const meta = e.resOutputsEvent?.metadata;
    if (!meta || meta.op === "same" || meta.op === "refresh" || meta.op === "read" || isProviderConfigUpdate(meta)) continue;
    out.set(meta.urn, { urn: meta.urn, type: meta.type, op: meta.op, source: "refresh", properties: propertiesOf(meta) });
  }
  return [...out.values()];
}

/** The resources a preview would change (its pre-events with an op other than `same`). */
export function pendingFromPreviewEvents(events: readonly EngineEvent[]): DriftedResource[] {
  const out = new Map<string, DriftedResource>();
  for (const e of events) {
    const meta = e.resourcePreEvent?.metadata;
    if (!meta || meta.op === "same" || meta.op === "read" || isProviderConfigUpdate(meta)) continue;
    out.set(`${meta.op} ${meta.urn}`, { urn: meta.urn, type: meta.type, op: meta.op, source: "preview", properties: propertiesOf(meta) });
  }
  return [...out.values()];
}

/** Refresh preview, then (by default) a preview: what differs, without changing anything. */
export async function detectDrift(stack: Stack, opts: DetectDriftOptions = {}): Promise<DriftReport> {
  const started = Date.now();
  const refreshEvents: EngineEvent[] = [];
  const cfg = opts.configFile ? { configFile: opts.configFile } : {};
  await stack.refresh({ ...cfg, previewOnly: true, color: "never", onOutput: opts.onOutput, onEvent: (e) => refreshEvents.push(e) });
  const drifted = driftFromRefreshEvents(refreshEvents);
  if (opts.includePending ?? true) {
    const previewEvents: EngineEvent[] = [];
    await stack.preview({ ...cfg, color: "never", diff: false, onOutput: opts.onOutput, onEvent: (e) => previewEvents.push(e) });
    drifted.push(...pendingFromPreviewEvents(previewEvents));
  }
  return { stack: stack.name, drifted, durationMs: Date.now() - started };
}

const WHY: Record<"refresh" | "preview", string> = {
  refresh: "changed out of band (refresh)",
  preview: "state differs from the program and config (preview)",
};

/** The drift report as text: one line per resource, then a verdict. Pure. */
export function formatDrift(report: DriftReport): string {
  const lines: string[] = [];
  if (report.drifted.length === 0) {
    lines.push(`NO DRIFT: ${report.stack} matches its state and its program (${(report.durationMs / 1000).toFixed(1)}s)`);
    return lines.join("\n");
  }
  for (const source of ["refresh", "preview"] as const) {
    const found = report.drifted.filter((d) => d.source === source);
    if (found.length === 0) continue;
    lines.push(`${WHY[source]}:`);
    for (const d of found) {
      const props = d.properties.length > 0 ? ` [${d.properties.join(", ")}]` : "";
      lines.push(`  ${d.op.padEnd(8)} ${d.type} ${resourceName(d.urn)}${props}`);
    }
  }
  lines.push(
    `DRIFT: ${report.drifted.length} resource(s) of ${report.stack} differ; ` +
      `\`npm run flightdeck -- up --stack ${report.stack} --refresh\` puts the program's state back; \`pulumi refresh\` accepts the world's instead`,
  );
  return lines.join("\n");
}
