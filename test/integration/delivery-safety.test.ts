/**
 * Delivery state and safety on the real engine and the local platform: each test is one finding a
 * new user made (issue "delivery state that lives with the stack…"), shown fixed.
 */
import { execa } from "execa";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploy } from "../../stacks/deploy";
import { lockKey } from "../../stacks/deploy-lock";
import { driftOf } from "../../stacks/drift-run";
import { readStackFile } from "../../stacks/stack-file";
import { rollback } from "../../stacks/rollback";
import { status } from "../../stacks/status";
import { upAsIs } from "../../stacks/up";
import { projectDir } from "../../stacks/workspace";
import { FAST_DELIVERY, fileBackendDir, get, localTestStack, versionAt, watchLive } from "../support/local-stack";
import { driverArgs } from "../support/driver";

const STACK = "test-safe";
const BASE = 18400;
const stackFile = path.join(projectDir, `Pulumi.${STACK}.yaml`);
const policyFile = path.join(projectDir, "policies", "config", `${STACK}.json`);
let env: Awaited<ReturnType<typeof localTestStack>>;

const fast = FAST_DELIVERY;

/** Edits the test stack's file: `edit` gets and returns the `config` map. */
function editStackFile(edit: (config: Record<string, unknown>) => void): void {
  const doc = YAML.parse(fs.readFileSync(stackFile, "utf8")) as { config: Record<string, unknown> };
  edit(doc.config);
  fs.writeFileSync(stackFile, YAML.stringify(doc));
}

/** The slot processes as the state records them: a replaced slot gets a new pid. */
async function slotPids(): Promise<Record<string, number | undefined>> {
  const state = await env.stack.exportStack();
  const resources = (state.deployment as { resources: { type: string; urn: string; outputs?: { pid?: number } }[] }).resources;
  return Object.fromEntries(resources.filter((r) => r.type.endsWith("flightdeck:LocalProcess")).map((r) => [r.urn.split("::").pop()!, r.outputs?.pid]));
}

async function git(...args: string[]): Promise<string> {
  return (await execa("git", args, { cwd: projectDir })).stdout;
}

async function cli(...args: string[]) {
  return execa("node", driverArgs(projectDir, ...args), { cwd: projectDir, reject: false, all: true });
}

/** Everything a refused command must leave as it was: state, history, files, what users get. */
async function snapshot(on: Awaited<ReturnType<typeof localTestStack>>, file: string) {
  const exported = await on.stack.exportStack();
  const resources = (exported.deployment as { resources?: unknown[] }).resources ?? [];
  return {
    resources: JSON.stringify(resources),
    history: (await on.stack.history()).length,
    file: fs.readFileSync(file, "utf8"),
    git: await git("status", "--porcelain"),
    live: await versionAt(on.url),
  };
}

function closeDeployWindow(): void {
  // The local stack's policies, with a window that has no day: every forward deploy is outside it.
  const local = JSON.parse(fs.readFileSync(path.join(projectDir, "policies", "config", "local.json"), "utf8")) as Record<string, unknown>;
  local["deploy-window"] = { enforcementLevel: "mandatory", days: [], start: "09:00", end: "17:00", timeZone: "UTC" };
  fs.writeFileSync(policyFile, JSON.stringify(local));
}

describe("delivery state lives with the stack, and failures never take the site down", () => {
  beforeAll(async () => {
    fs.rmSync(policyFile, { force: true });
    env = await localTestStack(STACK, BASE, fast);
  });
  afterAll(async () => {
    fs.rmSync(policyFile, { force: true });
    await env?.cleanup();
  });

  it("deploy and rollback write nothing into committed files: git status is as clean after as before", async () => {
    const before = await git("status", "--porcelain");
    const fileBefore = fs.readFileSync(stackFile, "utf8");
    // The README's flow: npm start, a deploy, a rollback to what npm start ran.
    await upAsIs({ stack: STACK });
    expect(await versionAt(env.url)).toBe("v1");
    expect((await deploy({ stack: STACK, release: "v2" })).outcome).toBe("succeeded");
    await rollback({ stack: STACK });
    expect(await versionAt(env.url)).toBe("v1");
    expect((await deploy({ stack: STACK, release: "v2" })).outcome).toBe("succeeded");
    expect(await git("status", "--porcelain")).toBe(before);
    expect(fs.readFileSync(stackFile, "utf8")).toBe(fileBefore);
  });

  it("a plain `pulumi up` and `drift` read the live release from the stack, not a placeholder", async () => {
    const drift = await driftOf(env.stack, readStackFile(projectDir, STACK));
    expect(drift.drifted).toEqual([]);
    const pids = await slotPids();
    const up = await env.stack.up({ message: "plain up" });
    expect(up.outputs.release.value).toBe("v2");
    expect(Object.keys(up.summary.resourceChanges ?? {}).filter((k) => !["same", "update"].includes(k))).toEqual([]);
    expect(await slotPids()).toEqual(pids);
  });

  it("a flag change is not applied in place by a plain up; deploy without --release ships it through the idle slot", async () => {
    editStackFile((c) => (c["flightdeck:features"] = { dark_mode: true }));
    const pids = await slotPids();
    await env.stack.up({ message: "plain up after a flag change" });
    expect(await slotPids()).toEqual(pids);
    expect(await get(`${env.url}/version`)).toMatchObject({ body: { version: "v2", flags: {} } });

    const watch = watchLive(env.url);
    const r = await deploy({ stack: STACK });
    const seen = await watch.stop();
    expect(r.outcome).toBe("succeeded");
    expect(seen.failures).toBe(0);
    expect(await get(`${env.url}/version`)).toMatchObject({ body: { version: "v2", flags: { dark_mode: true } } });
    // The slot rolled away from keeps what it ran: a revert is still a switch.
    const s = await status(STACK);
    expect(await get(`${env.slotUrl(s.liveSlot === "blue" ? "green" : "blue")}/version`)).toMatchObject({ body: { version: "v2", flags: {} } });
    expect((await deploy({ stack: STACK })).outcome).toBe("unchanged");
  });

  it("a rotated app secret is not applied in place by a plain up; deploy ships it through the idle slot", async () => {
    const environOf = async (slot: "blue" | "green") => {
      const pid = (await slotPids())[`slot-${slot}-process`];
      return fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    };
    await env.stack.setConfig("flightdeck:appSecrets", { value: JSON.stringify({ API_KEY: "first" }), secret: true });
    expect((await deploy({ stack: STACK })).outcome).toBe("succeeded");
    const first = (await status(STACK)).liveSlot as "blue" | "green";
    expect(await environOf(first)).toContain("API_KEY=first");

    await env.stack.setConfig("flightdeck:appSecrets", { value: JSON.stringify({ API_KEY: "second" }), secret: true });
    const pids = await slotPids();
    await env.stack.up({ message: "plain up after a rotation" });
    expect(await slotPids()).toEqual(pids);

    const r = await deploy({ stack: STACK });
    expect(r.outcome).toBe("succeeded");
    const second = (await status(STACK)).liveSlot as "blue" | "green";
    expect(second).not.toBe(first);
    expect(await environOf(second)).toContain("API_KEY=second");
    expect(await environOf(first)).toContain("API_KEY=first");
    expect((await deploy({ stack: STACK })).outcome).toBe("unchanged");
  });

  it("a broken local.command reaches only the idle slot: the live one keeps serving, and a retry is not 'unchanged'", async () => {
    editStackFile((c) => (c["flightdeck:local"] = { ...(c["flightdeck:local"] as object), command: ["node", "no-such-server.js"] }));
    const watch = watchLive(env.url);
    const first = await deploy({ stack: STACK });
    const again = await deploy({ stack: STACK });
    const seen = await watch.stop();
    editStackFile((c) => {
      const local = { ...(c["flightdeck:local"] as Record<string, unknown>) };
      delete local.command;
      c["flightdeck:local"] = local;
    });
    expect(first.outcome).toBe("failed");
    expect(again.outcome).toBe("failed");
    expect(seen.failures).toBe(0);
    expect(seen.served).toEqual(new Set(["v2"]));
  });

  it("a slot whose process cannot bind its port is not ready, even when another server answers there", async () => {
    const s = await status(STACK);
    const idle = s.liveSlot === "blue" ? "green" : "blue";
    const port = BASE + (idle === "blue" ? 1 : 2);
    // Stop the idle slot's process first, then hold its port with an impostor answering as v3.
    const intruder = http.createServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(req.url === "/version" ? { version: "v3" } : { status: "ok" }));
    });
    const state = await env.stack.exportStack();
    const procs = (state.deployment as { resources: { type: string; urn: string; outputs?: { pid?: number } }[] }).resources;
    const idlePid = procs.find((r) => r.type.endsWith("flightdeck:LocalProcess") && r.urn.includes(`slot-${idle}`))?.outputs?.pid;
    if (idlePid) process.kill(idlePid, "SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    await new Promise<void>((resolve) => intruder.listen(port, "127.0.0.1", resolve));
    try {
      const r = await deploy({ stack: STACK, release: "v3" });
      expect(r.outcome).toBe("failed");
      expect(r.reason).toMatch(/not process \d+ \(port \d+ taken\?\)/);
      // The warm slot cannot start again while the port is held: said so, and left for the next command.
      expect(r.reason).toMatch(/the revert could not finish/);
      expect(await versionAt(env.url)).toBe("v2");
    } finally {
      await new Promise((r) => intruder.close(r));
    }
    const next = await deploy({ stack: STACK });
    expect(next.steps.find((s) => s.name === "lock")?.detail).toMatch(/taken over .*revert did not finish/);
    expect(next.steps.find((s) => s.name === "restore")?.status).toBe("ok");
    expect(await status(STACK)).toMatchObject({ release: "v2", consistent: true, healthy: true });
  });

  it("an unreadable history file is an error for rollback, and never turns a failed deploy into a destroy", async () => {
    const historyDir = path.join(projectDir, ".pulumi", "state", ".pulumi", "history", "flightdeck", STACK);
    const newest = fs.readdirSync(historyDir).filter((f) => f.endsWith(".history.json")).sort().pop()!;
    const saved = fs.readFileSync(path.join(historyDir, newest));
    fs.writeFileSync(path.join(historyDir, newest), "{ this is not json");
    try {
      const before = (await env.stack.exportStack()).deployment as { resources: unknown[] };
      const r = await deploy({ stack: STACK, release: "v4-unhealthy" });
      expect(r.outcome).toBe("failed");
      const after = (await env.stack.exportStack()).deployment as { resources: unknown[] };
      expect(after.resources.length).toBe(before.resources.length);
      expect(await versionAt(env.url)).toBe("v2");
      await expect(rollback({ stack: STACK })).rejects.toThrow();
    } finally {
      fs.writeFileSync(path.join(historyDir, newest), saved);
    }
  });

  it("with the deploy window closed a forward deploy is refused and changes nothing, and rollback still runs", async () => {
    closeDeployWindow();
    try {
      const before = await snapshot(env, stackFile);
      const r = await deploy({ stack: STACK, release: "v5" });
      expect(r.outcome).toBe("failed");
      expect(r.reason).toMatch(/refused before anything changed.*deploy window/i);
      const after = await snapshot(env, stackFile);
      expect(after).toEqual(before);

      const rb = await rollback({ stack: STACK });
      expect(rb.steps.find((s) => s.name === "up")?.status).toBe("ok");
      const s = await status(STACK);
      expect(s).toMatchObject({ consistent: true, healthy: true });
    } finally {
      fs.rmSync(policyFile, { force: true });
    }
  });

  it("an advisory policy's finding is printed with the deploy's steps, and the deploy goes ahead", async () => {
    // The same closed window, at advisory level: a team that wants to hear of it, not be stopped.
    const local = JSON.parse(fs.readFileSync(path.join(projectDir, "policies", "config", "local.json"), "utf8")) as Record<string, unknown>;
    local["deploy-window"] = { enforcementLevel: "advisory", days: [], start: "09:00", end: "17:00", timeZone: "UTC" };
    fs.writeFileSync(policyFile, JSON.stringify(local));
    try {
      const r = await deploy({ stack: STACK, release: "v5-advised" });
      expect(r.outcome).toBe("succeeded");
      const advice = r.steps.filter((s) => s.name === "policy");
      expect(advice).toHaveLength(1);
      expect(advice[0]).toMatchObject({ status: "note", detail: expect.stringMatching(/^\[advisory\] deploy-window: Deploys are allowed only inside the deploy window .*Fix: /) });
    } finally {
      fs.rmSync(policyFile, { force: true });
    }
  });

  it("a driver killed during the bake: the next command puts the last good release back, even with the window closed, and rollback never picks the killed release", async () => {
    const good = await versionAt(env.url);
    // node itself (not npx, which would leave the driver running): the pid is the driver's.
    const child = execa("node", [...driverArgs(projectDir), "deploy", "--stack", STACK, "--release", "v6-fails-after-2500ms"], {
      cwd: projectDir,
      reject: false,
      all: true,
    });
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the deploy never reached its bake:\n${output}`)), 90_000);
      child.all!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (/✓ up \(slot, gate, switch\)/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    // Only the driver: what it started is for the next command to find.
    process.kill(child.pid!, "SIGKILL");
    await child;
    // status tells the truth before anyone acts: the killed deploy, where it died, and what comes back.
    const interrupted = await status(STACK);
    expect(interrupted.command).toMatchObject({ command: "deploy v6-fails-after-2500ms", running: false, phase: expect.stringMatching(/^(up|bake)$/) });
    expect(interrupted.command?.putsBack).toMatch(new RegExp(`^${good} on `));
    closeDeployWindow();
    try {
      const r = await deploy({ stack: STACK });
      expect(r.steps.find((s) => s.name === "lock")?.detail).toMatch(/taken over from pid \d+ .*in (up|bake)\)/);
      expect(r.steps.find((s) => s.name === "restore")?.status).toBe("ok");
      expect(await versionAt(env.url)).toBe(good);
      const s = await status(STACK);
      expect(s).toMatchObject({ consistent: true, healthy: true });
      expect(s.command).toBeUndefined();
      expect(s.previousRelease).not.toBe("v6-fails-after-2500ms");
    } finally {
      fs.rmSync(policyFile, { force: true });
    }
  });

  it("a rollback killed after it chose its version is run again by the next rollback, to that version: the release rolled back from never serves again", async () => {
    expect((await deploy({ stack: STACK, release: "v7" })).outcome).toBe("succeeded");
    expect((await deploy({ stack: STACK, release: "v8" })).outcome).toBe("succeeded");
    const child = execa("node", [...driverArgs(projectDir), "rollback", "--stack", STACK], { cwd: projectDir, reject: false, all: true });
    let output = "";
    let chosen = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the rollback never chose its version:\n${output}`)), 60_000);
      child.all!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const m = /✓ choose state .*version (\d+):/.exec(output);
        if (m) {
          chosen = m[1]!;
          clearTimeout(timer);
          resolve();
        }
      });
    });
    // Killed once its lock records the version it chose (the step's line is printed just before).
    const lockFile = path.join(fileBackendDir(), lockKey(STACK));
    for (let i = 0; i < 200 && !/"rollbackTo"/.test(fs.existsSync(lockFile) ? fs.readFileSync(lockFile, "utf8") : ""); i++) await new Promise((r) => setTimeout(r, 10));
    process.kill(child.pid!, "SIGKILL");
    await child;
    const interrupted = await status(STACK);
    expect(interrupted.command).toMatchObject({ command: "rollback", running: false, phase: "rollback" });
    expect(interrupted.command?.summary).toMatch(new RegExp(`the next rollback runs it again \\(to version ${chosen}\\)`));

    // What users get from here on: v7, whatever moment the kill hit (traffic may or may not have moved).
    const watch = watchLive(env.url, 20);
    const again = await rollback({ stack: STACK });
    const seenAfter = await watch.stop();
    expect(again.steps.find((s) => s.name === "restore")?.detail).toMatch(new RegExp(`run again, not undone: to version ${chosen}, as it chose`));
    expect(again.version).toBe(Number(chosen));
    expect(again.to.slots[again.to.liveSlot]?.release).toBe("v7");
    expect(await versionAt(env.url)).toBe("v7");
    expect(seenAfter.failures).toBe(0);
    // The killed rollback had moved traffic to v7 first (from the last record): from then on users got
    // v7 alone. Before, the next rollback put the state back first, then rolled back once more, past v7.
    expect(output).toMatch(/✓ traffic first .*v7 on/);
    expect([...seenAfter.served]).toEqual(["v7"]);
    expect((await status(STACK)).command).toBeUndefined();
  });
});

describe("bad input: one message naming the file and key, and nothing changes", () => {
  const TARGET = "test-badinput";
  let bad: Awaited<ReturnType<typeof localTestStack>>;
  const badFile = path.join(projectDir, `Pulumi.${TARGET}.yaml`);
  let original = "";
  beforeAll(async () => {
    bad = await localTestStack(TARGET, 18600, fast);
    expect((await deploy({ stack: TARGET, release: "v1" })).outcome).toBe("succeeded");
    original = fs.readFileSync(badFile, "utf8");
  });
  afterAll(async () => {
    fs.writeFileSync(badFile, original);
    await bad?.cleanup();
  });

  const set = (key: string, value: unknown) => (text: string) => {
    const doc = YAML.parse(text) as { config: Record<string, unknown> };
    doc.config[key] = value;
    return YAML.stringify(doc);
  };
  const local = (patch: Record<string, unknown>) => (text: string) => {
    const doc = YAML.parse(text) as { config: Record<string, unknown> };
    doc.config["flightdeck:local"] = { ...(doc.config["flightdeck:local"] as object), ...patch };
    return YAML.stringify(doc);
  };
  // [what is wrong, how to make it so, the key the message must name]
  const mutations: [string, (text: string) => string, RegExp][] = [
    ["YAML syntax error", (t) => `${t}\n  flightdeck:bakeSeconds: [1, 2\n`, /line \d+, column \d+: expected valid YAML/],
    ["tab indentation", (t) => t.replace("config:\n", "config:\n\t"), /expected valid YAML/],
    ["config is a list", () => "config:\n  - a\n", /config: expected a map/],
    ["namespace typo", set("flightdek:bakeSeconds", 3), /flightdek:bakeSeconds: expected a key in one of the namespaces/],
    ["key without namespace", set("bakeSeconds", 3), /bakeSeconds: expected a key in one of the namespaces/],
    ["plaintext appSecrets", set("flightdeck:appSecrets", { DB_PASSWORD: "hunter2" }), /flightdeck:appSecrets\.DB_PASSWORD: expected a secret/],
    ["plaintext environmentSecrets", set("flightdeck:environmentSecrets", { TOKEN: "t" }), /flightdeck:environmentSecrets\.TOKEN: expected a secret/],
    ["plaintext secret as a scalar", set("flightdeck:appSecrets", "hunter2"), /flightdeck:appSecrets: expected a secret/],
    ["delivery state in the committed file", set("flightdeck:delivery", { liveSlot: "blue", slots: { blue: { release: "v9" } } }), /flightdeck:delivery: expected no such key in a committed file/],
    ["old liveSlot key", set("flightdeck:liveSlot", "green"), /flightdeck:liveSlot: expected no such key/],
    ["old previousRelease key", set("flightdeck:previousRelease", "v0"), /flightdeck:previousRelease: expected no such key/],
    ["unknown environment", set("flightdeck:environment", "prod"), /flightdeck:environment: expected one of/],
    ["empty release", set("flightdeck:release", ""), /flightdeck:release: expected at least 1/],
    ["negative bake", set("flightdeck:bakeSeconds", -1), /flightdeck:bakeSeconds: expected at least 0/],
    ["bake too long", set("flightdeck:bakeSeconds", 99999), /flightdeck:bakeSeconds: expected at most 3600/],
    ["bake not a number", set("flightdeck:bakeSeconds", "soon"), /flightdeck:bakeSeconds: expected number/],
    ["probe interval too short", set("flightdeck:bakeProbeIntervalMs", 5), /flightdeck:bakeProbeIntervalMs: expected at least 100/],
    ["unhealthy threshold zero", set("flightdeck:bakeUnhealthyThreshold", 0), /flightdeck:bakeUnhealthyThreshold: expected at least 1/],
    ["gate path without slash", set("flightdeck:healthGate", { path: "healthz" }), /flightdeck:healthGate\.path/],
    ["gate timeout past deadline", set("flightdeck:healthGate", { timeoutMs: 90000, deadlineMs: 60000 }), /flightdeck:healthGate\.timeoutMs: expected a timeout no longer than deadlineMs/],
    ["gate status out of range", set("flightdeck:healthGate", { expectedStatus: 700 }), /flightdeck:healthGate\.expectedStatus: expected at most 599/],
    ["gate unknown key", set("flightdeck:healthGate", { intervall: 5 }), /flightdeck:healthGate\.intervall: expected no such key/],
    ["flag not snake_case", set("flightdeck:features", { DarkMode: true }), /flightdeck:features\.DarkMode/],
    ["flag not boolean", set("flightdeck:features", { dark_mode: "yes" }), /flightdeck:features\.dark_mode: expected boolean/],
    ["privileged port", local({ proxyPort: 80 }), /flightdeck:local\.proxyPort: expected at least 1024/],
    ["port out of range", local({ bluePort: 70000 }), /flightdeck:local\.bluePort: expected at most 65535/],
    ["ports collide", local({ greenPort: 18600 }), /flightdeck:local: expected four different ports/],
    ["empty command", local({ command: [] }), /flightdeck:local\.command: expected at least 1 item/],
    ["unknown local key", local({ appdir: "x" }), /flightdeck:local\.appdir: expected no such key/],
    ["fly section on local", set("flightdeck:fly", { org: "x" }), /flightdeck:fly: expected no such key/],
    ["unknown top-level key", set("flightdeck:bakeSecs", 3), /flightdeck:bakeSecs: expected no such key/],
  ];

  it(`refuses ${mutations.length} broken stack files before touching anything`, async () => {
    expect(mutations.length).toBeGreaterThanOrEqual(30);
    const before = await snapshot(bad, badFile);
    for (const [what, mutate, key] of mutations) {
      fs.writeFileSync(badFile, mutate(original));
      const refused = await deploy({ stack: TARGET, release: "v2" }).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(refused, what).toBeInstanceOf(Error);
      expect(refused!.name, what).toBe("StackConfigError");
      expect(refused!.message, what).toMatch(new RegExp(`^Pulumi\\.${TARGET}\\.yaml: `));
      expect(refused!.message, what).toMatch(key);
      fs.writeFileSync(badFile, original);
    }
    const after = await snapshot(bad, badFile);
    expect(after).toEqual(before);
  });

  it("the CLI prints the message once, without a stack trace or escape codes, and exits non-zero", async () => {
    fs.writeFileSync(badFile, set("flightdek:bakeSeconds", 3)(original));
    try {
      for (const args of [["deploy", "--stack", TARGET, "--release", "v2"], ["rollback", "--stack", TARGET], ["preview", "--stack", TARGET], ["up", "--stack", TARGET]]) {
        const r = await cli(...args);
        expect(r.exitCode, args.join(" ")).not.toBe(0);
        expect(r.all, args.join(" ")).toMatch(/Pulumi\.test-badinput\.yaml: invalid stack config \(nothing was changed\):\n {2}- flightdek:bakeSeconds: expected a key in one of the namespaces/);
        expect(r.all!.match(/flightdek:bakeSeconds/g)?.length, args.join(" ")).toBe(1);
        expect(r.all, args.join(" ")).not.toMatch(/\n\s+at |\u001b\[|code: -2/);
      }
    } finally {
      fs.writeFileSync(badFile, original);
    }
  });

  it("an empty --release is refused with the reason", async () => {
    const r = await cli("deploy", "--stack", TARGET, "--release", "");
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/--release: expected a release .*found an empty string/);
  });
});
