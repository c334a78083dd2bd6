import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { COMPILED_MARK, compilePolicyPack, freshBuild } from "../../stacks/policy-pack-build";

const repo = path.resolve(__dirname, "../..");
const runner = path.join(path.dirname(require.resolve("@pulumi/pulumi/package.json")), "cmd", "run-policy-pack", "index.js");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-pack-build-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A copy of the project's pack and what it imports, so the test can change a source file. */
function projectCopy(): string {
  const dir = fs.mkdtempSync(path.join(work, "project-"));
  for (const d of ["policies", "stacks", "infra", "components", "scripts"]) fs.cpSync(path.join(repo, d), path.join(dir, d), { recursive: true });
  fs.copyFileSync(path.join(repo, "tsconfig.json"), path.join(dir, "tsconfig.json"));
  fs.symlinkSync(path.join(repo, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

/**
 * Starts the SDK's policy-pack runner on a pack as the engine does (from the pack's directory,
 * with scripts/engine.sh's preloads) and reports, once the pack serves, whether TypeScript and
 * ts-node were loaded into it.
 */
function runPack(packDir: string): { typescript: boolean; tsNode: boolean } {
  const probe = path.join(work, "probe.cjs");
  fs.writeFileSync(
    probe,
    `const write = process.stdout.write.bind(process.stdout);
     const loaded = (re) => Object.keys(require.cache).some((f) => re.test(f));
     process.stdout.write = (chunk, ...rest) => {
       // The runner prints its port once the pack is loaded and serving.
       if (/^\\d+\\s*$/.test(String(chunk))) {
         process.stderr.write("LOADED " + JSON.stringify({ typescript: loaded(/[\\\\/]typescript[\\\\/]lib[\\\\/]typescript\\.js$/), tsNode: loaded(/[\\\\/]ts-node(@[^\\\\/]+)?[\\\\/]/) }) + "\\n");
         process.exit(0);
       }
       return write(chunk, ...rest);
     };`,
  );
  const preloads = ["lazy-sdk-modules.cjs", "precompiled-pack.cjs"].flatMap((f) => ["--require", path.join(repo, "scripts", f)]);
  const r = spawnSync(process.execPath, [...preloads, "--require", probe, runner, "127.0.0.1:1", packDir], {
    cwd: packDir,
    env: { ...process.env, NODE_OPTIONS: "" },
    encoding: "utf8",
    timeout: 60_000,
  });
  const line = /^LOADED (.*)$/m.exec(r.stderr);
  if (!line) throw new Error(`the pack did not start: ${r.stderr.slice(-2000)}`);
  return JSON.parse(line[1]!) as { typescript: boolean; tsNode: boolean };
}

describe("the compiled policy pack (stacks/policy-pack-build.ts, scripts/precompiled-pack.cjs)", () => {
  const project = projectCopy();
  const packDir = path.join(project, "policies");

  it("is one JavaScript file under .pulumi/, with the pack's own name and version, marked as compiled", async () => {
    const dir = await compilePolicyPack(packDir, project);
    expect(dir.startsWith(path.join(project, ".pulumi", "policy-pack") + path.sep)).toBe(true);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as Record<string, unknown>;
    const source = JSON.parse(fs.readFileSync(path.join(packDir, "package.json"), "utf8")) as Record<string, unknown>;
    expect(pkg).toMatchObject({ name: source.name, version: source.version, main: "index.js", [COMPILED_MARK]: true });
    expect(fs.readFileSync(path.join(dir, "PulumiPolicy.yaml"), "utf8")).toBe(fs.readFileSync(path.join(packDir, "PulumiPolicy.yaml"), "utf8"));
    // Packages stay in node_modules: one @pulumi/pulumi for the pack and its runner.
    const js = fs.readFileSync(path.join(dir, "index.js"), "utf8");
    expect(js).toContain('require("@pulumi/policy")');
    expect(js).not.toMatch(/^\s*class PolicyPack\b/m);
  });

  it("is reused while its sources are unchanged, and built again when one of them changes", async () => {
    const first = await compilePolicyPack(packDir, project);
    expect(freshBuild(packDir)).toBe(first);
    expect(await compilePolicyPack(packDir, project)).toBe(first);
    // A file the pack imports from outside policies/ counts too.
    const imported = path.join(project, "stacks", "promotion.ts");
    fs.appendFileSync(imported, "\nReflect.set(globalThis, \"changedForTheTest\", 1);\n");
    expect(freshBuild(packDir)).toBeUndefined();
    const second = await compilePolicyPack(packDir, project);
    expect(second).not.toBe(first);
    expect(fs.readFileSync(path.join(second, "index.js"), "utf8")).toContain("changedForTheTest");
  });

  it("runs in the SDK's runner without TypeScript or ts-node; the pack's sources still load both", async () => {
    const compiled = await compilePolicyPack(packDir, project);
    expect(runPack(compiled)).toEqual({ typescript: false, tsNode: false });
    expect(runPack(packDir)).toEqual({ typescript: true, tsNode: true });
  });
});
