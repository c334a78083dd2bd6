import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { Stack } from "@pulumi/pulumi/automation";
import YAML from "yaml";
import { recordsPrefix } from "../../stacks/records";
import { openStack, projectDir } from "../../stacks/workspace";

/** Gate and bake settings that keep a test deploy to seconds (config keys without the namespace). */
export const FAST_DELIVERY = {
  healthGate: { intervalMs: 200, healthyThreshold: 2, unhealthyThreshold: 2, timeoutMs: 1000, deadlineMs: 15000 },
  bakeSeconds: 3,
  bakeProbeIntervalMs: 250,
  bakeUnhealthyThreshold: 2,
};

/** Writes Pulumi.<name>.yaml for a local-environment test stack on its own ports, and opens it. */
export async function localTestStack(name: string, basePort: number, extra: Record<string, unknown> = {}) {
  const file = path.join(projectDir, `Pulumi.${name}.yaml`);
  const config: Record<string, unknown> = {
    "flightdeck:environment": "local",
    "flightdeck:local": { proxyPort: basePort, bluePort: basePort + 1, greenPort: basePort + 2, adminPort: basePort + 3 },
  };
  for (const [k, v] of Object.entries(extra)) config[`flightdeck:${k}`] = v;
  fs.writeFileSync(file, YAML.stringify({ config }));
  const stack = await openStack(name);
  return {
    stack,
    url: `http://127.0.0.1:${basePort}`,
    slotUrl: (slot: "blue" | "green") => `http://127.0.0.1:${basePort + (slot === "blue" ? 1 : 2)}`,
    async cleanup() {
      await stack.destroy().catch(() => undefined);
      await stack.workspace.removeStack(name).catch(() => undefined);
      fs.rmSync(file, { force: true });
    },
  };
}

/** The file backend's directory (scripts/engine.sh runs the tests on a file:// backend). */
export function fileBackendDir(): string {
  return fileURLToPath(process.env.PULUMI_BACKEND_URL!);
}

/** Where a stack's deployment records are in the file backend's directory. */
export function recordsDirOf(stack: string): string {
  return path.join(fileBackendDir(), ...recordsPrefix(stack).split("/"));
}

/**
 * Removes what `stack rm` leaves of a test stack in the file backend (its deployment records, its
 * update history, its last checkpoint's .bak), so the next run of the test starts from nothing.
 */
export function removeStackLeftovers(stack: string): void {
  fs.rmSync(recordsDirOf(stack), { recursive: true, force: true });
  fs.rmSync(path.join(fileBackendDir(), ".pulumi", "history", "flightdeck", stack), { recursive: true, force: true });
  for (const f of [`${stack}.json.bak`, `${stack}.json.bak.attrs`]) fs.rmSync(path.join(fileBackendDir(), ".pulumi", "stacks", "flightdeck", f), { force: true });
}

/** GET a URL; the status and JSON body, or the error's message. */
export async function get(url: string): Promise<{ status: number; body: Record<string, unknown> } | { error: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { text };
    }
    return { status: res.status, body };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export async function versionAt(url: string): Promise<string | undefined> {
  const r = await get(`${url}/version`);
  return "status" in r ? (r.body.version as string | undefined) : undefined;
}

/** Polls the live URL until stopped, recording every version it served and every failure. */
export function watchLive(url: string, everyMs = 50) {
  const served = new Set<string>();
  let failures = 0;
  let requests = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      requests++;
      const r = await get(`${url}/version`);
      if ("status" in r && r.status === 200) served.add(String(r.body.version));
      else failures++;
      await new Promise((res) => setTimeout(res, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { served, failures, requests };
    },
  };
}

/** Kills a slot's process out of band (kill -9, its pid from the stack's state), then waits `settleMs` for it to be gone. */
export async function killSlotProcess(stack: Stack, slot: "blue" | "green", settleMs = 200): Promise<void> {
  const state = await stack.exportStack();
  const resources = (state.deployment as { resources: { type: string; urn: string; outputs?: { pid?: number } }[] }).resources;
  const proc = resources.find((r) => r.type.endsWith("flightdeck:LocalProcess") && r.urn.includes(`slot-${slot}`));
  const pid = proc?.outputs?.pid;
  // A thrown error, not vitest's expect: the benchmarks import this module outside vitest.
  if (pid === undefined || pid <= 0) throw new Error(`slot ${slot} has no process in the stack's state`);
  process.kill(pid, "SIGKILL");
  await new Promise((r) => setTimeout(r, settleMs));
}
