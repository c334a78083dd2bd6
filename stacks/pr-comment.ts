/**
 * The pull request comment a preview produces: pure functions from preview results to markdown.
 *
 * Secrets: the engine already prints secret values as `[secret]`; on top of that every string in
 * `redact` (the decrypted values of the stack's secret config, passed by the driver) is replaced with
 * `[secret]` in every piece of text that reaches the comment, before and after rendering.
 */
import type { OpMap, OpType } from "@pulumi/pulumi/automation";

/** First line of every comment Flightdeck posts: how CI finds its own comment to update it. */
export const COMMENT_MARKER = "<!-- flightdeck-preview -->";

export const REDACTED = "[secret]";

/** One resource the preview would change. */
export interface ResourceChange {
  urn: string;
  type: string;
  op: OpType;
}

/** What a preview of one stack found. */
export interface StackPreviewResult {
  stack: string;
  /** False when the preview itself failed (a mandatory policy, a config error, a program error). */
  ok: boolean;
  /** Why the preview failed, when it did. */
  error?: string;
  summary: OpMap;
  changes: ResourceChange[];
  policyViolations: string[];
  stdout: string;
}

export interface RenderOptions {
  /** Values to replace with `[secret]` wherever they appear. */
  redact?: readonly string[];
  /** Heading of the comment. */
  title?: string;
  /** Longest engine output kept per stack (GitHub caps a comment at 65,536 characters). */
  maxOutputChars?: number;
}

/**
 * The forms a secret value can take in text: as is, JSON-escaped (inside a JSON string), and, for a
 * JSON object or array, every string and number inside it. Empty strings are dropped.
 */
export function redactionForms(values: readonly string[]): string[] {
  const forms = new Set<string>();
  const add = (v: string) => {
    if (v.length === 0) return;
    forms.add(v);
    const escaped = JSON.stringify(v).slice(1, -1);
    if (escaped !== v) forms.add(escaped);
  };
  const walk = (node: unknown): void => {
    if (typeof node === "string") add(node);
    else if (typeof node === "number") add(String(node));
    else if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === "object") Object.values(node).forEach(walk);
  };
  for (const v of values) {
    add(v);
    try {
      const parsed: unknown = JSON.parse(v);
      if (parsed !== null && typeof parsed === "object") walk(parsed);
    } catch {
      // Not JSON: the value as is is enough.
    }
  }
  // Longest first, so a value containing a shorter one is replaced whole.
  return [...forms].sort((a, b) => b.length - a.length);
}

/** Replaces every form of every value in `redact` with `[secret]`. */
export function scrub(text: string, redact: readonly string[]): string {
  let out = text;
  for (const form of redactionForms(redact)) out = out.split(form).join(REDACTED);
  return out;
}

const COLUMNS: { label: string; ops: OpType[] }[] = [
  { label: "create", ops: ["create"] },
  { label: "update", ops: ["update"] },
  { label: "replace", ops: ["replace", "create-replacement", "delete-replaced"] },
  { label: "delete", ops: ["delete"] },
  { label: "unchanged", ops: ["same"] },
];

/** Counts per column. `replace` counts the summary's replace entries only (its halves are the same resources). */
export function countChanges(summary: OpMap): Record<string, number> {
  return {
    create: summary.create ?? 0,
    update: summary.update ?? 0,
    replace: summary.replace ?? 0,
    delete: summary.delete ?? 0,
    unchanged: summary.same ?? 0,
  };
}

const OP_SYMBOL: Partial<Record<OpType, string>> = {
  create: "+",
  update: "~",
  replace: "+-",
  "create-replacement": "++",
  "delete-replaced": "--",
  delete: "-",
  read: ">",
  import: "=",
};

/** Markdown table cells: no pipes or newlines, backticks kept out of code spans. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

/** The resource's name: the last segment of its URN. */
export function resourceName(urn: string): string {
  const i = urn.lastIndexOf("::");
  return i >= 0 ? urn.slice(i + 2) : urn;
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n… (${text.length - max} more characters cut; the full output is in the workflow log)`;
}

/** No ANSI colour codes in a comment. */
function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

function renderStack(r: StackPreviewResult, redact: readonly string[], maxOutputChars: number): string[] {
  const s = (t: string) => scrub(t, redact);
  const lines: string[] = [];
  const verdict = !r.ok ? "❌ preview failed" : r.policyViolations.length > 0 ? "⚠️ policy warnings" : "✅ preview passed";
  lines.push(`### ${code(s(r.stack))}: ${verdict}`, "");
  if (r.error) lines.push(`> ${cell(s(plain(r.error)).trim())}`, "");
  const counts = countChanges(r.summary);
  lines.push(`| ${COLUMNS.map((c) => c.label).join(" | ")} |`, `| ${COLUMNS.map(() => "---:").join(" | ")} |`);
  lines.push(`| ${COLUMNS.map((c) => String(counts[c.label])).join(" | ")} |`, "");
  const changed = r.changes.filter((c) => c.op !== "same");
  if (changed.length > 0) {
    lines.push("<details><summary>Changed resources (" + String(changed.length) + ")</summary>", "");
    lines.push("| op | type | name |", "| --- | --- | --- |");
    for (const c of changed) {
      lines.push(`| ${OP_SYMBOL[c.op] ?? ""} ${c.op} | ${code(cell(s(c.type)))} | ${code(cell(s(resourceName(c.urn))))} |`);
    }
    lines.push("", "</details>", "");
  } else {
    lines.push("No resource changes.", "");
  }
  if (r.policyViolations.length > 0) {
    lines.push(`**Policy violations (${r.policyViolations.length})**`, "");
    for (const v of r.policyViolations) lines.push(`- ${cell(s(plain(v)))}`);
    lines.push("");
  } else {
    lines.push("No policy violations.", "");
  }
  const output = s(plain(r.stdout)).trim();
  if (output.length > 0) {
    // A fence longer than any backtick run in the output, so the output cannot close it.
    const longest = Math.max(2, ...(output.match(/`+/g) ?? []).map((m) => m.length));
    const fence = "`".repeat(longest + 1);
    lines.push("<details><summary>Engine output</summary>", "", fence, truncate(output, maxOutputChars), fence, "", "</details>", "");
  }
  return lines;
}

/**
 * Markdown for one sticky PR comment: per stack a table of creates/updates/replaces/deletes, the
 * changed resources and the policy violations. Pure; never contains a value listed in `redact`.
 */
export function renderPreviewComment(results: readonly StackPreviewResult[], opts: RenderOptions = {}): string {
  const redact = opts.redact ?? [];
  const maxOutputChars = opts.maxOutputChars ?? Math.floor(50_000 / Math.max(1, results.length));
  const failed = results.filter((r) => !r.ok).map((r) => r.stack);
  const lines: string[] = [COMMENT_MARKER, `## ${opts.title ?? "Flightdeck preview"}`, ""];
  if (results.length === 0) lines.push("No stacks were previewed.", "");
  else if (failed.length > 0) lines.push(`Preview failed for ${failed.map(code).join(", ")}: merging this would not deploy.`, "");
  else lines.push("What merging this pull request would change, stack by stack.", "");
  for (const r of results) lines.push(...renderStack(r, redact, maxOutputChars));
  // Scrub once more over the whole text: nothing rendered above may reassemble a secret.
  return scrub(lines.join("\n").trimEnd() + "\n", redact);
}
