import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enginePreview, engineUp, stackOutputsOf } from "../../stacks/engine-cli";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { programHostServes, stopProgramHosts, withProgramHost } from "../../stacks/program-host";
import { openStack } from "../../stacks/workspace";

const repo = path.resolve(__dirname, "../..");
const hostScript = path.join(repo, "stacks", "program-host", "host.cjs");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-program-host-"));
const savedBackend = process.env.PULUMI_BACKEND_URL;

/**
 * A project laid out as this one is (Pulumi.yaml's main infra/, TypeScript with the tsconfig one
 * level up, infra/program.ts exporting program()), whose program says which process ran it.
 */
function project(programBody = `return { runner: process.argv[1] ?? "", pid: process.pid };`): string {
  const dir = fs.mkdtempSync(path.join(work, "project-"));
  fs.writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    "name: hosted\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n    tsconfig: ../tsconfig.json\nmain: infra/\n",
  );
  fs.copyFileSync(path.join(repo, "tsconfig.json"), path.join(dir, "tsconfig.json"));
  fs.mkdirSync(path.join(dir, "infra"));
  fs.writeFileSync(path.join(dir, "infra", "program.ts"), `export async function program(): Promise<Record<string, unknown>> {\n  ${programBody}\n}\n`);
  fs.writeFileSync(path.join(dir, "infra", "index.ts"), `import { program } from "./program";\nexport = program();\n`);
  fs.symlinkSync(path.join(repo, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

beforeAll(() => {
  process.env.PULUMI_BACKEND_URL = `file://${path.join(work, "state")}`;
  fs.mkdirSync(path.join(work, "state"));
});
afterAll(() => {
  stopProgramHosts();
  if (savedBackend === undefined) delete process.env.PULUMI_BACKEND_URL;
  else process.env.PULUMI_BACKEND_URL = savedBackend;
  fs.rmSync(work, { recursive: true, force: true });
});

describe("the program host (stacks/program-host)", () => {
  it("serves once it has loaded the program, and stops when its driver closes its stdin", async () => {
    const child = spawn(process.execPath, [hostScript, project()], { stdio: ["pipe", "pipe", "pipe"] });
    const ready = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (b: Buffer) => {
        out += b.toString();
        if (/^ready \d+$/m.test(out)) resolve(out);
      });
      child.on("exit", (code) => reject(new Error(`exited ${code}`)));
    });
    expect(ready).toMatch(/^ready \d+$/m);
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    child.stdin.end();
    expect(await exited).toBe(0);
  });

  it("says why and exits when the project's program is not a program() function", async () => {
    const dir = project();
    fs.writeFileSync(path.join(dir, "infra", "program.ts"), "export const program = 42;\n");
    const child = spawn(process.execPath, [hostScript, dir], { stdio: ["pipe", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(1);
    expect(err).toContain("exports no program() function");
  });

  it("serves only projects with infra/program.ts, and not when FLIGHTDECK_PROGRAM_HOST=off", () => {
    const dir = project();
    expect(programHostServes(dir)).toBe(true);
    expect(programHostServes(work)).toBe(false);
    process.env.FLIGHTDECK_PROGRAM_HOST = "off";
    try {
      expect(programHostServes(dir)).toBe(false);
    } finally {
      delete process.env.FLIGHTDECK_PROGRAM_HOST;
    }
  });

  it("is reused one update at a time, and replaced when a program source changes", async () => {
    const dir = project();
    const first = await withProgramHost(dir, "test-hosted", async (c) => c);
    expect(first).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await withProgramHost(dir, "test-hosted", async (c) => c)).toBe(first);
    // Two updates at once: the second gets a host of its own.
    const both = await withProgramHost(dir, "test-hosted", async (a) => [a, await withProgramHost(dir, "test-hosted", async (b) => b)]);
    expect(both[0]).toBe(first);
    expect(both[1]).not.toBe(first);
    const later = new Date(Date.now() + 2000);
    fs.utimesSync(path.join(dir, "infra", "program.ts"), later, later);
    const changed = await withProgramHost(dir, "test-hosted", async (c) => c);
    expect(changed).not.toBe(first);
    expect(changed).not.toBe(both[1]);
  });

  it("keeps a driver alive while its update waits for the host (nothing else pending)", () => {
    // Found by the runbook tests: a deploy's driver exited 0 in the middle of its up step, waiting
    // for a host whose process and pipes did not count as anything to wait for.
    const dir = project();
    const script = `require(${JSON.stringify(path.join(repo, "stacks", "program-host"))}).withProgramHost(${JSON.stringify(dir)}, "test-hosted", async (c) => { console.log("served by " + c); })`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script], { cwd: repo, encoding: "utf8", timeout: 60_000 });
    expect(r.stdout).toMatch(/^served by 127\.0\.0\.1:\d+$/m);
    expect(r.status).toBe(0);
  });

  it("runs the program for the real engine's update, in the host's own process", async () => {
    const dir = project();
    const stack = await openStack("test-hosted", dir);
    const outputs = await withProgramHost(dir, "test-hosted", (client) => {
      expect(client).toBeDefined();
      return engineUp(stack, { message: "hosted", configFile: path.join(dir, "Pulumi.test-hosted.yaml"), client });
    });
    expect(outputs.runner?.value).toBe(hostScript);
    // Without a host, the engine's language host starts the program itself.
    const plain = await engineUp(stack, { message: "plain", configFile: path.join(dir, "Pulumi.test-hosted.yaml") });
    expect(String(plain.runner?.value)).toMatch(/[\\/]cmd[\\/]run[\\/]index\.js$/);
    expect(plain.pid?.value).not.toBe(outputs.pid?.value);
  });

  it("runs a deploy's preview in the host, and the update after it in the same process", async () => {
    const dir = project();
    const stack = await openStack("test-previewed", dir);
    const configFile = path.join(dir, "Pulumi.test-previewed.yaml");
    const events: EngineEvent[] = [];
    await withProgramHost(dir, "test-previewed", (client) => {
      expect(client).toBeDefined();
      return enginePreview(stack, { message: "preview", configFile, client, onEvent: (e) => events.push(e) });
    });
    // The preview's own events report the root's outputs: the program ran in the host.
    const previewed = stackOutputsOf(events);
    expect(previewed.runner?.value).toBe(hostScript);
    const updated = await withProgramHost(dir, "test-previewed", (client) => engineUp(stack, { message: "update", configFile, client }));
    expect(updated.pid?.value).toBe(previewed.pid?.value);
    // A preview changes nothing: the update was the stack's first.
    expect((await stack.history()).map((h) => h.kind)).toEqual(["update"]);
  });
});
