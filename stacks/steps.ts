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
  const specific = engineErrors.find((l) => /health gate|policy|violat/i.test(l)) ?? engineErrors[0];
  return specific ?? lines[0] ?? text;
}

const marks: Record<StepRecord["status"], string> = { ok: "✓", failed: "✗", skipped: "-", note: "•" };

/** `✓ up              8.2s  v2 live on green` */
export function formatStep(s: StepRecord): string {
  const time = s.status === "note" ? "" : `${(s.ms / 1000).toFixed(1)}s`;
  return `${marks[s.status]} ${s.name.padEnd(18)} ${time.padStart(6)}  ${s.detail ?? ""}`.trimEnd();
}
