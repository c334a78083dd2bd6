/**
 * The policy pack on the real engine: previews of test/programs/policy-target through the
 * Automation API with `--policy-pack policies/`. A compliant program passes; a violating one fails
 * with the policy's message and leaves no resources in state; advisory violations only warn.
 */
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policiesDir, policyConfigFile } from "../../policies/config-file";

const programDir = path.resolve(__dirname, "../programs/policy-target");
const stackName = `test-policy-${process.pid}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-policy-"));

/** production.json with an always-open deploy window (the clock is not the subject here) plus overrides. */
function policyConfig(name: string, overrides: Record<string, Record<string, unknown>> = {}): string {
  const base = JSON.parse(fs.readFileSync(policyConfigFile("production"), "utf8")) as Record<string, Record<string, unknown>>;
  base["deploy-window"] = { ...base["deploy-window"], days: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], start: "00:00", end: "24:00" };
  // Promotion's evidence is staging's deployment records in the backend, which this program's stack
  // has none of: the production rehearsal proves release-promoted on the real engine.
  base["release-promoted"] = { enforcementLevel: "disabled" };
  for (const [k, v] of Object.entries(overrides)) base[k] = { ...base[k], ...v };
  const file = path.join(tmp, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(base));
  return file;
}

let stack: Stack;

async function preview(config: Record<string, string>, policyFile: string): Promise<{ ok: boolean; output: string }> {
  // Reset the program config to defaults (compliant), then apply this case's changes.
  const all = await stack.getAllConfig();
  const keys = Object.keys(all).filter((k) => k.startsWith("policy-target:"));
  if (keys.length > 0) await stack.removeAllConfig(keys.map((k) => k.slice("policy-target:".length)));
  // At least one key: the language host sends PULUMI_CONFIG=null to a stack without config.
  await stack.setAllConfig(Object.fromEntries(Object.entries({ machines: "2", ...config }).map(([k, v]) => [k, { value: v }])));
  let output = "";
  const collect = (s: string) => (output += s);
  try {
    const r = await stack.preview({ policyPacks: [policiesDir], policyPackConfigs: [policyFile], onOutput: collect, color: "never" });
    return { ok: true, output: output + r.stdout };
  } catch (e) {
    return { ok: false, output: output + String((e as Error).message) };
  }
}

async function resourcesInState(): Promise<number> {
  const state = await stack.exportStack();
  const deployment = state.deployment as { resources?: unknown[] } | undefined;
  return deployment?.resources?.length ?? 0;
}

describe("policy pack on the real engine", () => {
  beforeAll(async () => {
    stack = await LocalWorkspace.createOrSelectStack(
      { stackName, workDir: programDir },
      { envVars: { PULUMI_CONFIG_PASSPHRASE: "test" } },
    );
  });
  afterAll(async () => {
    await stack?.workspace.removeStack(stackName, { force: true }).catch(() => undefined);
    fs.rmSync(path.join(programDir, `Pulumi.${stackName}.yaml`), { force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("a compliant program passes every mandatory policy", async () => {
    const r = await preview({}, policyConfig("open"));
    expect(r.output).not.toMatch(/\[mandatory\]/);
    expect(r.ok).toBe(true);
  });

  it("mandatory blocks: one machine in one region fails with the policy's message and changes nothing", async () => {
    const r = await preview({ machines: "1" }, policyConfig("open"));
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/\[mandatory\]\s+fly-machine-redundancy/);
    expect(r.output).toMatch(/Slot blue runs 1 Fly machine\(s\); at least 2 are required/);
    expect(await resourcesInState()).toBe(0);
  });

  it("mandatory blocks: a plaintext Fly secret is caught through the engine's secret markers", async () => {
    const r = await preview({ secretValues: "plaintext" }, policyConfig("open"));
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/secret-inputs-are-secrets/);
    expect(r.output).toMatch(/values\.DATABASE_URL is plaintext/);
  });

  it("mandatory blocks: tag images, missing HTTP checks and a short gate deadline", async () => {
    const r = await preview({ image: "nginx:latest", healthCheck: "none", gateDeadlineMs: "100" }, policyConfig("open"));
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/"nginx:latest" is not pinned by digest/);
    expect(r.output).toMatch(/has no HTTP health check/);
    expect(r.output).toMatch(/deadlineMs \(100\) is not longer than its intervalMs \(500\)/);
  });

  it("advisory warns: the same violation at advisory level lets the preview succeed and shows the message", async () => {
    const r = await preview({ machines: "1" }, policyConfig("advisory", { "fly-machine-redundancy": { enforcementLevel: "advisory" } }));
    expect(r.ok).toBe(true);
    expect(r.output).toMatch(/\[advisory\]\s+fly-machine-redundancy/);
    expect(r.output).toMatch(/at least 2 are required/);
  });

  it("deploy window: outside it the preview is refused; an audited override passes and is recorded", async () => {
    const closed = policyConfig("closed", { "deploy-window": { days: [] } });
    const refused = await preview({}, closed);
    expect(refused.ok).toBe(false);
    expect(refused.output).toMatch(/Deploys are allowed only inside the deploy window/);

    const expires = new Date(Date.now() + 3600_000).toISOString();
    const overridden = policyConfig("override", {
      "deploy-window": { days: [], emergencyOverride: { reason: "checkout outage hotfix", approvedBy: "alice-ops", expires } },
    });
    const passed = await preview({}, overridden);
    expect(passed.ok).toBe(true);
    expect(passed.output).toMatch(/\[advisory\]\s+deploy-window/);
    expect(passed.output).toMatch(/approved by alice-ops, reason: "checkout outage hotfix"/);
  });
});
