import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface EngineUpOptions {
  message: string;
  configFile: string;
  policyPacks?: string[];
  policyPackConfigs?: string[];
  onOutput?: (s: string) => void;
  /** Every engine event of the update, in order, once it has ended (or failed). */
  onEvent?: (e: EngineEvent) => void;
  /** A program host's address (stacks/program-host): the engine runs the program there instead of starting it. */
  client?: string;
}

/** The stack's outputs as the update left them: secret values read "[secret]" (the engine's event stream masks them). */
export type UpOutputs = Record<string, { value: unknown }>;

/**
 * `pulumi up` without a preview, as the Automation API runs it, minus the three CLI runs it makes
 * afterwards (the stack's outputs twice, then its history) which cost about 1.3 s per update:
 * the outputs come from the update's own event log instead, where the engine reports the root
 * resource's outputs when the update ends.
 */
export async function engineUp(stack: Stack, opts: EngineUpOptions): Promise<UpOutputs> {
  const events = await engineRun(stack, ["up", "--yes", "--skip-preview"], opts);
  return stackOutputsOf(events);
}

/**
 * `pulumi preview` as the Automation API runs it, with the same event log, but able to run the
 * program in a program host: a deploy that previews first then updates runs its program in one
 * process instead of two (about 2 s of CPU and of wall time per Fly deploy). Throws the CLI's
 * error, in the Automation API's words, when the preview fails or a policy refuses it.
 */
export async function enginePreview(stack: Stack, opts: EngineUpOptions): Promise<void> {
  await engineRun(stack, ["preview"], opts);
}

/** One engine operation with its event log: its events, in order (also given to onEvent), or the CLI's error. */
async function engineRun(stack: Stack, command: string[], opts: EngineUpOptions): Promise<EngineEvent[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-engine-"));
  const eventLog = path.join(dir, "events.jsonl");
  const args = [...command, "--non-interactive", "--message", opts.message, "--config-file", opts.configFile];
  for (const p of opts.policyPacks ?? []) args.push("--policy-pack", p);
  for (const c of opts.policyPackConfigs ?? []) args.push("--policy-pack-config", c);
  if (opts.client) args.push(`--client=${opts.client}`);
  args.push("--exec-kind", "auto.local", "--event-log", eventLog, "--stack", stack.name);
  try {
    const run = await runPulumi(stack, args, opts.onOutput);
    const events = readEvents(eventLog);
    for (const e of events) opts.onEvent?.(e);
    if (run.exitCode !== 0) throw commandError(run);
    return events;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The stack's outputs, each with whether it is a secret, from one CLI run where the Automation API
 * makes two (masked, then in plaintext): the outputs the driver reads are never secrets, so the
 * plaintext run happens only when one is.
 */
export async function readStackOutputs(stack: Stack): Promise<Record<string, { value: unknown; secret: boolean }>> {
  const read = async (showSecrets: boolean) => {
    const run = await runPulumi(stack, ["stack", "output", "--json", ...(showSecrets ? ["--show-secrets"] : []), "--stack", stack.name]);
    if (run.exitCode !== 0) throw commandError(run);
    return JSON.parse(run.stdout) as Record<string, unknown>;
  };
  const masked = await read(false);
  const secretKeys = Object.keys(masked).filter((k) => masked[k] === "[secret]");
  const plain = secretKeys.length > 0 ? await read(true) : masked;
  return Object.fromEntries(Object.keys(masked).map((k) => [k, { value: plain[k], secret: secretKeys.includes(k) }]));
}

interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * One run of the engine's CLI in the stack's project, as the Automation API runs it: with the
 * workspace's environment (stacks/workspace.ts openStack sets it) and its PULUMI_HOME, if any.
 */
async function runPulumi(stack: Stack, args: string[], onOutput?: (s: string) => void): Promise<CliRun> {
  const ws = stack.workspace;
  // node:child_process rather than execa: execa is ESM-only and the driver runs as CommonJS.
  const child = spawn("pulumi", args, {
    cwd: ws.workDir,
    env: { ...process.env, PULUMI_DEBUG_COMMANDS: "true", ...(ws.pulumiHome ? { PULUMI_HOME: ws.pulumiHome } : {}), ...ws.envVars },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    onOutput?.(chunk.toString());
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve(code ?? (signal ? -1 : 0)));
  });
  return { exitCode, stdout, stderr };
}

/** The Automation API's CommandError text, which firstLine() and the callers read. */
function commandError(run: CliRun): Error {
  return new Error(`code: ${run.exitCode}\n stdout: ${run.stdout}\n stderr: ${run.stderr}`);
}

/** The event log's lines as engine events; a line cut short by a killed engine is skipped. */
export function readEvents(file: string): EngineEvent[] {
  if (!fs.existsSync(file)) return [];
  const events: EngineEvent[] = [];
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    try {
      events.push(JSON.parse(line) as EngineEvent);
    } catch {
      // the last line of a log whose writer died mid-write
    }
  }
  return events;
}

/** The root stack resource's outputs from the update's last outputs event for it. */
export function stackOutputsOf(events: readonly EngineEvent[]): UpOutputs {
  let outputs: Record<string, unknown> | undefined;
  for (const e of events) {
    const m = e.resOutputsEvent?.metadata;
    if (m?.type === "pulumi:pulumi:Stack" && m.new?.outputs) outputs = m.new.outputs;
  }
  if (outputs === undefined) throw new Error("the update ended without reporting the stack's outputs (no outputs event for its root resource)");
  return Object.fromEntries(Object.entries(outputs).map(([k, value]) => [k, { value }]));
}
