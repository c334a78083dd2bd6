/**
 * Policy pack overhead: median wall time of a preview of test/programs/policy-target with and
 * without the pack (a few runs each). Run: scripts/engine.sh npx tsx bench/policies.ts
 * Writes bench/results/policies.json and bench/results/policies.md.
 */
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { policiesDir, policyConfigFile } from "../policies/config-file";
import { writeResults, type Figure } from "./results";

const runs = Number(process.env.BENCH_RUNS ?? 5);
const root = path.resolve(__dirname, "..");
const programDir = path.join(root, "test/programs/policy-target");
const stackName = `test-policy-bench-${process.pid}`;


function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  // production.json with an always-open window, so the timing does not depend on the clock.
  const config = JSON.parse(fs.readFileSync(policyConfigFile("production"), "utf8")) as Record<string, Record<string, unknown>>;
  config["deploy-window"] = { ...config["deploy-window"], days: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], start: "00:00", end: "24:00" };
  // No staging records behind this program's stack: release-promoted would refuse every preview.
  config["release-promoted"] = { enforcementLevel: "disabled" };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-bench-"));
  const configFile = path.join(tmp, "production-open.json");
  fs.writeFileSync(configFile, JSON.stringify(config));

  const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir: programDir }, { envVars: { PULUMI_CONFIG_PASSPHRASE: "test" } });
  try {
    await stack.setConfig("machines", { value: "2" });
    const time = async (withPack: boolean): Promise<number> => {
      const t0 = performance.now();
      await stack.preview(withPack ? { policyPacks: [policiesDir], policyPackConfigs: [configFile] } : {});
      return (performance.now() - t0) / 1000;
    };
    await time(false); // warm-up: ts-node caches, plugin discovery
    const without: number[] = [];
    const withPack: number[] = [];
    for (let i = 0; i < runs; i++) {
      without.push(await time(false));
      withPack.push(await time(true));
    }
    const base = median(without);
    const packed = median(withPack);
    const overhead = packed - base;
    const figures: Figure[] = [
      { name: "preview without policy pack (median)", value: round(base), unit: "s", target: "reference", met: true },
      { name: "preview with policy pack (median)", value: round(packed), unit: "s", target: "reference", met: true },
      { name: "policy pack overhead per preview", value: round(overhead), unit: "s", target: "<= 3", met: overhead <= 3 },
    ];
    for (const f of figures) console.log(`${f.name}: ${f.value} ${f.unit}  (target ${f.target}${f.target === "reference" ? "" : f.met ? ", met" : ", NOT met"})`);
    console.log(`runs: ${runs} each; without: ${without.map(round).join(", ")}; with: ${withPack.map(round).join(", ")}`);

    writeResults("policies", "Policy pack overhead", `Preview of test/programs/policy-target (5 resources), ${runs} runs each, median`, figures);
  } finally {
    await stack.workspace.removeStack(stackName, { force: true }).catch(() => undefined);
    fs.rmSync(path.join(programDir, `Pulumi.${stackName}.yaml`), { force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
