import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findProjectDir } from "../../stacks/project-dir";

const repo = path.resolve(__dirname, "../..");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-driver-launcher-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A copy of what the driver is built from, so the test can change a source without touching the repository's build. */
function projectCopy(): string {
  const dir = fs.mkdtempSync(path.join(work, "project-"));
  for (const d of ["stacks", "infra", "components", "policies", "scripts"]) fs.cpSync(path.join(repo, d), path.join(dir, d), { recursive: true });
  for (const f of ["Pulumi.yaml", "tsconfig.json", "package.json", "package-lock.json"]) fs.copyFileSync(path.join(repo, f), path.join(dir, f));
  fs.symlinkSync(path.join(repo, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

function driver(dir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(dir, "scripts", "driver.cjs"), ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const driverDir = (dir: string) => path.join(dir, ".pulumi", "driver");
const bundles = (dir: string) => fs.readdirSync(driverDir(dir)).filter((f) => /^cli-[0-9a-f]{16}\.cjs$/.test(f));

describe("scripts/driver.cjs: the driver, compiled once and reused", () => {
  const dir = projectCopy();

  it("builds the driver on first use and runs the command line it is given", () => {
    const r = driver(dir, "--help");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: flightdeck /);
    expect(r.stdout).toMatch(/\brollback\b/);
    expect(bundles(dir)).toHaveLength(1);
    const manifest = JSON.parse(fs.readFileSync(path.join(driverDir(dir), "manifest.json"), "utf8")) as { inputs: { file: string }[] };
    expect(manifest.inputs.map((i) => path.relative(dir, i.file))).toEqual(expect.arrayContaining(["stacks/cli.ts", "stacks/deploy.ts", "tsconfig.json", "package-lock.json"]));
  });

  it("reuses the build while no source changed", () => {
    const [bundle] = bundles(dir);
    const manifest = path.join(driverDir(dir), "manifest.json");
    const before = fs.statSync(manifest).mtimeMs;
    expect(driver(dir, "--help").code).toBe(0);
    expect(bundles(dir)).toEqual([bundle]);
    expect(fs.statSync(manifest).mtimeMs).toBe(before);
  });

  it("builds again when a source changed and runs the new code; a build unused for a minute is removed", () => {
    const [old] = bundles(dir);
    // As if built two minutes ago: another driver can no longer be about to load it.
    const past = new Date(Date.now() - 120_000);
    fs.utimesSync(path.join(driverDir(dir), old!), past, past);
    const cli = path.join(dir, "stacks", "cli.ts");
    fs.writeFileSync(cli, fs.readFileSync(cli, "utf8").replace("Deploy, roll back and inspect Flightdeck stacks", "Changed description"));
    const r = driver(dir, "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Changed description");
    expect(bundles(dir)).toHaveLength(1);
    expect(bundles(dir)).not.toEqual([old]);
    // A build from a moment ago stays (a driver that made it may be loading it); the next build past a minute removes it.
    const [recent] = bundles(dir);
    fs.writeFileSync(cli, fs.readFileSync(cli, "utf8").replace("Changed description", "Changed again"));
    expect(driver(dir, "--help").stdout).toContain("Changed again");
    expect(bundles(dir)).toContain(recent);
    expect(bundles(dir)).toHaveLength(2);
  });

  it("builds again over a corrupted manifest", () => {
    fs.writeFileSync(path.join(driverDir(dir), "manifest.json"), '{"bundle": "cli-0000');
    const r = driver(dir, "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Changed again");
  });

  it("builds again over a truncated build, and never loads it", () => {
    const { bundle } = JSON.parse(fs.readFileSync(path.join(driverDir(dir), "manifest.json"), "utf8")) as { bundle: string };
    const file = path.join(driverDir(dir), bundle);
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").slice(0, 5000));
    const r = driver(dir, "--help");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Changed again");
    expect(fs.readFileSync(file, "utf8").length).toBeGreaterThan(5000);
  });

  it("two drivers starting at once with no build both run, and leave one build", async () => {
    fs.rmSync(driverDir(dir), { recursive: true, force: true });
    const run = () =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, [path.join(dir, "scripts", "driver.cjs"), "--help"], { cwd: dir, stdio: "ignore" });
        child.on("close", resolve);
      });
    expect(await Promise.all([run(), run()])).toEqual([0, 0]);
    expect(bundles(dir)).toHaveLength(1);
    expect(fs.readdirSync(driverDir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("a source that does not compile is one message naming the file, and exit 2", () => {
    const broken = projectCopy();
    fs.appendFileSync(path.join(broken, "stacks", "status.ts"), "\nexport const = ;\n");
    const r = driver(broken, "--help");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^flightdeck: the driver \(stacks\/cli\.ts\) did not compile: .*stacks\/status\.ts/s);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("findProjectDir: where the driver's project is, from its sources or its build", () => {
  it("is the nearest directory with Pulumi.yaml, from stacks/ as from .pulumi/driver/", () => {
    expect(findProjectDir(path.join(repo, "stacks"))).toBe(repo);
    expect(findProjectDir(path.join(repo, ".pulumi", "driver"))).toBe(repo);
  });

  it("is the parent directory where no Pulumi.yaml is above (code bundled elsewhere)", () => {
    const lone = fs.mkdtempSync(path.join(work, "lone-"));
    expect(findProjectDir(path.join(lone, "a", "b"))).toBe(path.join(lone, "a"));
  });
});
