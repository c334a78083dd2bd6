/**
 * Preview a stack the way CI shows it on a pull request: the engine's preview with the policy pack,
 * the changes it would make and the policy violations it found, as data for stacks/pr-comment.ts.
 */
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import type { ResourceChange, StackPreviewResult } from "./pr-comment";
import { liveSpec, planDeploy } from "./plan";
import { isProviderConfigUpdate } from "./drift";
import { formatPolicyEvent } from "./policy-event";
import { readStackFile, writeUpdateConfig, type StackFile } from "./stack-file";
import { deployedState, desiredSpec } from "./update";
import { engineOptions, projectDir } from "./workspace";
import { compilePackFor } from "./warm-up";

export interface PreviewStackOptions {
  workDir?: string;
  /** The engine's output as it comes (already with secrets shown as `[secret]`). */
  onOutput?: (s: string) => void;
  /**
   * Preview deploying this release (as `deploy --release` would plan it) instead of the stack as it
   * runs: what merging a given image would do, and the only preview a never-deployed stack without
   * `release` in its config has.
   */
  release?: string;
}


/** Collects changes and policy violations from the engine's events. */
export function previewCollector() {
  const changes = new Map<string, ResourceChange>();
  const violations: string[] = [];
  const providerUpdates = new Set<string>();
  return {
    onEvent(e: EngineEvent): void {
      const meta = e.resourcePreEvent?.metadata;
      // A read changes nothing; a default provider's config update changes no resource (see drift.ts).
      if (meta && isProviderConfigUpdate(meta)) providerUpdates.add(meta.urn);
      if (meta && meta.op !== "same" && meta.op !== "read" && !isProviderConfigUpdate(meta)) changes.set(`${meta.op} ${meta.urn}`, { urn: meta.urn, type: meta.type, op: meta.op });
      if (e.policyEvent) violations.push(formatPolicyEvent(e.policyEvent));
    },
    get changes(): ResourceChange[] {
      return [...changes.values()];
    },
    /** Default providers whose config alone changed: left out of the changes and of the summary's updates. */
    get providerConfigUpdates(): number {
      return providerUpdates.size;
    },
    get policyViolations(): string[] {
      return [...new Set(violations)];
    },
  };
}

/**
 * Previews a stack with the project's policy pack. A failed preview (a mandatory policy, a config
 * or program error) is a result with `ok: false` and the reason, not an exception: the comment
 * shows it, and the CLI exits non-zero after writing the comment.
 */
export async function previewStack(stack: Stack, opts: PreviewStackOptions = {}): Promise<StackPreviewResult> {
  const collector = previewCollector();
  let output = "";
  const onOutput = (s: string) => {
    output += s;
    opts.onOutput?.(s);
  };
  const workDir = opts.workDir ?? projectDir;
  await compilePackFor(workDir, stack.name);
  const engine = engineOptions(stack.name, workDir, onOutput);
  let file: StackFile;
  try {
    // Bad config: the same one message the driver gives, before the engine runs.
    file = readStackFile(workDir, stack.name);
  } catch (err) {
    return { stack: stack.name, ok: false, error: (err as Error).message, summary: {}, changes: [], policyViolations: [], stdout: "" };
  }
  let cfg: { path: string; remove(): void } | undefined;
  try {
    // What merging will do: a changed slot spec (flags, command…) ships to the idle slot through
    // the gate, exactly as `deploy` would plan it; otherwise the stack as it runs.
    const current = await deployedState(stack);
    const release = opts.release ?? (current ? liveSpec(current).release : file.config.release);
    if ((current || opts.release !== undefined) && release !== undefined) {
      const plan = planDeploy(current, await desiredSpec(stack, file, release, current));
      cfg = writeUpdateConfig(workDir, file, stack.name, plan.next);
    }
    const r = await stack.preview({
      ...engine,
      ...(cfg ? { configFile: cfg.path } : {}),
      diff: false,
      color: "never",
      message: "preview",
      onEvent: (e) => collector.onEvent(e),
    });
    return {
      stack: stack.name,
      ok: true,
      summary: withoutProviderUpdates(r.changeSummary, collector.providerConfigUpdates),
      changes: collector.changes,
      policyViolations: collector.policyViolations,
      stdout: r.stdout || output,
    };
  } catch (err) {
    return {
      stack: stack.name,
      ok: false,
      error: failureReason(err),
      summary: {},
      changes: collector.changes,
      policyViolations: collector.policyViolations,
      stdout: output,
    };
  } finally {
    cfg?.remove();
  }
}

function withoutProviderUpdates(summary: StackPreviewResult["summary"], n: number): StackPreviewResult["summary"] {
  if (n === 0 || !summary.update) return summary;
  const update = summary.update - n;
  const { update: _dropped, ...rest } = summary;
  return update > 0 ? { ...rest, update } : rest;
}

/** The useful part of an engine failure: its error lines, not the command line it ran. */
export function failureReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const errors = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^error:/i.test(l) || /\[mandatory\]/.test(l));
  return errors.length > 0 ? [...new Set(errors)].join("\n") : text.split("\n").slice(-5).join("\n").trim();
}

/**
 * The decrypted values of the stack's secret config (entries marked `secret: true`), for the
 * renderer's redact list. They stay in memory: never printed, never written.
 */
export async function secretConfigValues(stack: Stack): Promise<string[]> {
  const all = await stack.getAllConfig();
  return Object.values(all)
    .filter((v) => v.secret)
    .map((v) => v.value);
}
