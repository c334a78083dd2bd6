/** One step of a deploy, rollback or revert, as the runbook-like output shows it. */
export interface StepRecord {
  name: string;
  status: "ok" | "failed" | "skipped" | "note";
  ms: number;
  detail?: string;
}

/** Runs steps and records their timings; `onStep` sees each one as it ends. */
export class StepLog {
  readonly steps: StepRecord[] = [];
  constructor(private readonly onStep: (s: StepRecord) => void = () => {}) {}

  async run<T>(name: string, fn: () => Promise<T>, detail?: (v: T) => string | undefined): Promise<T> {
    const started = performance.now();
    try {
      const value = await fn();
      this.add({ name, status: "ok", ms: performance.now() - started, detail: detail?.(value) });
      return value;
    } catch (err) {
      this.add({ name, status: "failed", ms: performance.now() - started, detail: firstLine(err) });
      throw err;
    }
  }

  note(name: string, detail: string): void {
    this.add({ name, status: "note", ms: 0, detail });
  }

  /** A step timed by its caller (one whose outcome is not an exception, such as a skip). */
  record(s: StepRecord): void {
    this.add(s);
  }

  private add(s: StepRecord): void {
    this.steps.push(s);
    this.onStep(s);
  }
}

/**
 * The line of an error worth showing. Engine errors (the Automation API's CommandError) carry the
 * whole CLI output; the cause is its first specific "error:" line, not "update failed".
 */
export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const engineErrors = lines
    .map((l) => /error: (.*)$/.exec(l)?.[1]?.trim())
    .filter((l): l is string => !!l && !/^(update|preview|refresh|destroy) failed$/.test(l) && !l.startsWith("Command failed"));
  // A mandatory policy refusal: "- [mandatory]  name  (resource)", its description, then its message.
  const refusals = lines.flatMap((l, i) => {
    const m = /^- \[mandatory\]\s+(\S+)/.exec(l);
    return m ? [`policy ${m[1]}: ${lines[i + 2] ?? ""}`] : [];
  });
  const specific = engineErrors.find((l) => /health gate|policy|violat/i.test(l)) ?? engineErrors[0];
  if (specific === undefined) {
    if (refusals.length > 0) return [...new Set(refusals)].join("; ");
    // Never the Automation API's wrapper ("code: -2", "stdout:"): the first line that says something.
    return lines.map((l) => l.replace(/^(stdout|stderr):\s*/, "")).find((l) => l !== "" && !/^code: -?\d+$/.test(l)) ?? text;
  }
  // A config error lists its problems on the lines after it ("  - key: expected …, found …").
  if (specific.endsWith(":")) {
    const at = lines.findIndex((l) => l.endsWith(specific));
    const problems: string[] = [];
    for (const l of lines.slice(at + 1)) {
      if (!l.startsWith("- ")) break;
      problems.push(`  ${l}`);
    }
    if (problems.length > 0) return [specific, ...problems].join("\n");
  }
  return specific;
}

const marks: Record<StepRecord["status"], string> = { ok: "✓", failed: "✗", skipped: "-", note: "•" };

/** `✓ up              8.2s  v2 live on green` */
export function formatStep(s: StepRecord): string {
  const time = s.status === "note" ? "" : `${(s.ms / 1000).toFixed(1)}s`;
  return `${marks[s.status]} ${s.name.padEnd(18)} ${time.padStart(6)}  ${s.detail ?? ""}`.trimEnd();
}
