/**
 * Cost growth: `up` wall time of one stack running 1 app, then 10 apps, on the local platform
 * (bench/multi-app: each app its own slots, health gate and HAProxy, composed as the local stack
 * composes its one app). Target (issue 12): 10 apps take at most 3× the time of 1. Two updates
 * each: the first `up` (everything created), then a blue/green switch of every app to a new release
 * (the new slot started, gated, switched; the old one kept warm).
 */
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import * as path from "node:path";
import { versionAt } from "../test/support/local-stack";
import { figure, writeResults, type Figure } from "./results";

const BASE_PORT = 19700; // 10 apps × 4 ports: 19700–19739
const TARGET_RATIO = 3;
const workDir = path.join(__dirname, "multi-app");

async function measure(apps: number): Promise<{ firstUp: number; switchUp: number }> {
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: `apps-${apps}`, workDir },
    { envVars: { PULUMI_CONFIG_PASSPHRASE: "bench", PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" } },
  );
  try {
    const set = (values: Record<string, string>) => stack.setAllConfig(Object.fromEntries(Object.entries(values).map(([k, value]) => [k, { value }])));
    await set({ apps: String(apps), basePort: String(BASE_PORT), release: "v1", liveSlot: "blue" });
    let t = performance.now();
    await stack.up({ message: `first up of ${apps} app(s)` });
    const firstUp = (performance.now() - t) / 1000;
    await set({ release: "v2", liveSlot: "green", previousRelease: "v1" });
    t = performance.now();
    await stack.up({ message: `switch ${apps} app(s) to v2` });
    const switchUp = (performance.now() - t) / 1000;
    // Every app answers with the new release through its own router, or the figures mean nothing.
    for (let i = 0; i < apps; i++) {
      const version = await versionAt(`http://127.0.0.1:${BASE_PORT + i * 4}`);
      if (version !== "v2") throw new Error(`app ${i} does not serve v2 after the switch (it answers ${String(version)})`);
    }
    return { firstUp, switchUp };
  } finally {
    await stack.destroy().catch((err: Error) => console.error(`destroy apps-${apps}: ${err.message.split("\n")[0]}`));
    await stack.workspace.removeStack(`apps-${apps}`).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const one = await measure(1);
  console.log(`1 app: first up ${one.firstUp.toFixed(1)} s, switch ${one.switchUp.toFixed(1)} s`);
  const ten = await measure(10);
  console.log(`10 apps: first up ${ten.firstUp.toFixed(1)} s, switch ${ten.switchUp.toFixed(1)} s`);
  const figures: Figure[] = [];
  figures.push(figure("first up, 1 app", one.firstUp, "s", "report", true));
  figures.push(figure("first up, 10 apps", ten.firstUp, "s", "report", true));
  figures.push(figure("first up: 10 apps ÷ 1 app", ten.firstUp / one.firstUp, "×", `≤ ${TARGET_RATIO}`, ten.firstUp / one.firstUp <= TARGET_RATIO));
  figures.push(figure("blue/green switch up, 1 app", one.switchUp, "s", "report", true));
  figures.push(figure("blue/green switch up, 10 apps", ten.switchUp, "s", "report", true));
  figures.push(figure("blue/green switch up: 10 apps ÷ 1 app", ten.switchUp / one.switchUp, "×", `≤ ${TARGET_RATIO}`, ten.switchUp / one.switchUp <= TARGET_RATIO));
  writeResults("cost-growth", "Cost growth: 1 → 10 apps in one local stack", "`up` wall time through the Automation API, each app with its own slots, gate and HAProxy (bench/multi-app)", figures);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
