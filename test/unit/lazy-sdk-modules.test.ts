import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const repo = path.resolve(__dirname, "../..");
const preload = path.join(repo, "scripts", "lazy-sdk-modules.cjs");

/** Runs a script in a fresh node process in the repository (with or without the preload) and returns its JSON answer. */
function inNode(script: string, withPreload: boolean): Record<string, unknown> {
  const out = execFileSync(process.execPath, [...(withPreload ? ["--require", preload] : []), "-e", script], {
    cwd: repo,
    // Only the preload under test: not the one the test command may have put in NODE_OPTIONS.
    env: { ...process.env, NODE_OPTIONS: "" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return JSON.parse(out) as Record<string, unknown>;
}

const loaded = `(name) => Object.keys(require.cache).some((f) => f.includes(name))`;
const ARBORIST = `${path.sep}@npmcli${path.sep}arborist${path.sep}`;
const TYPESCRIPT = `${path.sep}node_modules${path.sep}typescript${path.sep}`;

describe("scripts/lazy-sdk-modules.cjs (loads some of the SDK's modules on first use)", () => {
  it("without it, the SDK loads arborist and TypeScript at once (what the preload is for)", () => {
    const r = inNode(`const loaded = ${loaded}; require("@pulumi/pulumi"); console.log(JSON.stringify({ arborist: loaded(${JSON.stringify(ARBORIST)}), typescript: loaded(${JSON.stringify(TYPESCRIPT)}) }))`, false);
    expect(r).toEqual({ arborist: true, typescript: true });
  });

  it("with it, @pulumi/pulumi loads without them, and each loads when the SDK first uses it", async () => {
    const script = `
      const loaded = ${loaded};
      const pulumi = require("@pulumi/pulumi");
      const before = { arborist: loaded(${JSON.stringify(ARBORIST)}), typescript: loaded(${JSON.stringify(TYPESCRIPT)}) };
      const captured = 41;
      pulumi.runtime.serializeFunction(() => () => captured + 1).then(async (sf) => {
        const afterSerialize = loaded(${JSON.stringify(TYPESCRIPT)});
        // computeCodePaths is what needs arborist: it packages a function's node_modules.
        const paths = await pulumi.runtime.computeCodePaths({ extraIncludePackages: [] }).catch((e) => e.message);
        console.log(JSON.stringify({ before, afterSerialize, text: sf.text, codePaths: paths instanceof Map, arboristAfter: loaded(${JSON.stringify(ARBORIST)}) }));
      });`;
    const r = inNode(script, true);
    expect(r.before).toEqual({ arborist: false, typescript: false });
    expect(r.afterSerialize).toBe(true);
    expect(String(r.text)).toContain("captured + 1");
    expect(r.codePaths).toBe(true);
    expect(r.arboristAfter).toBe(true);
  });

  it("with it, the SDK's index leaves the Automation API unloaded until something reads it", () => {
    const AUTOMATION = `${path.sep}@pulumi${path.sep}pulumi${path.sep}automation${path.sep}`;
    const script = `
      const loaded = ${loaded};
      const pulumi = require("@pulumi/pulumi");
      const before = loaded(${JSON.stringify(AUTOMATION)});
      const kind = typeof pulumi.automation.LocalWorkspace;
      console.log(JSON.stringify({ before, kind, after: loaded(${JSON.stringify(AUTOMATION)}) }));`;
    expect(inNode(script, false)).toEqual({ before: true, kind: "function", after: true });
    expect(inNode(script, true)).toEqual({ before: false, kind: "function", after: true });
  });

  it("scripts/engine.sh puts it in NODE_OPTIONS, so the engine's node processes inherit it", () => {
    const out = execFileSync(path.join(repo, "scripts", "engine.sh"), ["node", "-e", "console.log(process.env.NODE_OPTIONS)"], {
      cwd: repo,
      env: { ...process.env, NODE_OPTIONS: "--max-old-space-size=4096" },
      encoding: "utf8",
    });
    // With the compiled policy pack's preload (test/unit/policy-pack-build.test.ts), and whatever was there before.
    expect(out.trim()).toBe(`--require "${preload}" --require "${path.join(repo, "scripts", "precompiled-pack.cjs")}" --max-old-space-size=4096`);
  });
});
