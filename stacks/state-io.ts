import type { Deployment, Stack } from "@pulumi/pulumi/automation";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * A stack's state in and out of the backend with its secrets encrypted. The Automation API's
 * `exportStack` runs `pulumi stack export --show-secrets` (every secret in plain text), and its
 * `importStack` writes what it is given to a world-readable file in the system temp directory; a
 * state that goes to a backup file, or only round-trips through the driver, needs neither.
 */
async function pulumi(stack: Stack, args: string[]): Promise<string> {
  const ws = stack.workspace;
  const env: Record<string, string> = { ...ws.envVars, ...(ws.pulumiHome ? { PULUMI_HOME: ws.pulumiHome } : {}) };
  return new Promise((resolve, reject) => {
    const argv = [...args, "--stack", stack.name, "--non-interactive"];
    execFile("pulumi", argv, { cwd: ws.workDir, env: { ...process.env, ...env }, maxBuffer: 512 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`pulumi ${args.join(" ")} --stack ${stack.name} failed: ${stderr.trim() || stdout.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** The stack's state as `pulumi stack export` writes it: secrets as ciphertext. */
export async function exportEncrypted(stack: Stack): Promise<Deployment> {
  const text = await pulumi(stack, ["stack", "export"]);
  return JSON.parse(text) as Deployment;
}

/** Replaces the stack's state, through a file only this user can read, removed whatever happens. */
export async function importState(stack: Stack, state: Deployment): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-state-"));
  try {
    const file = path.join(dir, "state.json");
    fs.writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
    await pulumi(stack, ["stack", "import", "--file", file]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
