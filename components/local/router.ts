import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { otherSlot, type SlotName } from "../bluegreen/slots";
import type { CanarySettings } from "../bluegreen/canary-analysis";
import { localRouterType } from "../fly/contract";
import { runLocalCanary, settleCanaryBackend } from "./canary";
import { readLiveSlot, readRouting, setLiveSlot, waitSlotServerUp } from "./haproxy-admin";
import { HAPROXY_CONFIG_FORMAT, liveMapPath, renderHaproxyConfig, renderLiveMap } from "./haproxy-config";
import { isAlive, removePidFile, spawnDetached, stopProcess, tailOf } from "./os-process";

export interface LocalRouterInputs {
  /** Directory for HAProxy's config, socket, log and pid files. */
  stateDir: string;
  proxyPort: number;
  adminPort: number;
  servers: Record<SlotName, number>;
  live: SlotName;
  /**
   * The live slot's process. When it is started again (a repair of a process killed out of band),
   * the router waits for HAProxy's own check to take it back before the update ends.
   */
  livePid: number;
  /** The HAProxy binary. @default "haproxy" */
  haproxy: string;
  /**
   * The shape of the configuration this router runs. A router started with another shape (before
   * the live map and failover) is replaced: a running HAProxy cannot take a new shape at run time.
   */
  configFormat: number;
  /** What HAProxy checks on each slot: a slot it took out stays out while its health check fails. */
  healthCheck: { path: string; expectedStatus: number };
  /**
   * Switch in canary steps instead of at once (config `strategy: canary`). Absent for a first
   * deploy's router and for the driver's restores (revert, rollback), which switch at once.
   */
  canary?: CanarySettings;
}

export interface LocalRouterOutputs extends LocalRouterInputs {
  pid: number;
  url: string;
  socketPath: string;
  /** What the last switch's canary did, a line per step (or why it was skipped); empty without one. */
  canaryReport?: string[];
  /**
   * Found by a refresh: live traffic is in the canary backend, split between the slots, because the
   * update that ran the steps died (kill -9). The next update points it at its live slot, at once.
   */
  canaryInProgress?: boolean;
}

function files(stateDir: string) {
  return {
    config: path.join(stateDir, "haproxy.cfg"),
    socket: path.join(stateDir, "admin.sock"),
    log: path.join(stateDir, "haproxy.log"),
    pid: path.join(stateDir, "haproxy.pid"),
  };
}

function writeConfig(inputs: LocalRouterInputs): void {
  const f = files(inputs.stateDir);
  fs.mkdirSync(inputs.stateDir, { recursive: true });
  const spec = { ...inputs, socketPath: f.socket };
  // Written atomically: a restart of HAProxy must find the live slot, not half a file.
  fs.writeFileSync(`${f.config}.tmp`, renderHaproxyConfig(spec));
  fs.renameSync(`${f.config}.tmp`, f.config);
  const map = liveMapPath(f.socket);
  fs.writeFileSync(`${map}.tmp`, renderLiveMap(inputs.live));
  fs.renameSync(`${map}.tmp`, map);
}

async function waitSocket(socket: string, pid: number, log: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new Error(`HAProxy exited at start. Log ${log}:\n${tailOf(log)}`);
    try {
      if ((await readLiveSlot(socket)) !== undefined) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`HAProxy's admin socket ${socket} did not answer within 10 s. Log ${log}:\n${tailOf(log)}`);
}

async function start(inputs: LocalRouterInputs): Promise<LocalRouterOutputs> {
  const f = files(inputs.stateDir);
  writeConfig(inputs);
  fs.rmSync(f.socket, { force: true });
  const pid = await spawnDetached({
    cwd: inputs.stateDir,
    command: [inputs.haproxy, "-db", "-f", f.config],
    env: {},
    logFile: f.log,
    pidFile: f.pid,
  });
  try {
    await waitSocket(f.socket, pid, f.log);
  } catch (err) {
    await stopProcess(pid);
    removePidFile(f.pid, pid);
    throw err;
  }
  return { ...inputs, pid, url: `http://127.0.0.1:${inputs.proxyPort}`, socketPath: f.socket };
}

/** Changing these means a new HAProxy process; the live slot alone is switched at run time. */
const replaceKeys: (keyof LocalRouterInputs)[] = ["stateDir", "proxyPort", "adminPort", "servers", "haproxy", "configFormat", "healthCheck"];

export const localRouterProvider: pulumi.dynamic.ResourceProvider<LocalRouterInputs, LocalRouterOutputs> = {
  async create(inputs) {
    const outs = await start(inputs);
    return { id: `haproxy-${outs.proxyPort}`, outs };
  },
  async read(id, props) {
    if (!props || !isAlive(props.pid)) return {};
    // Report where traffic really goes: a switch made outside the engine (a fast revert) shows as drift.
    const routing = await readRouting(props.socketPath).catch(() => undefined);
    return { id, props: { ...props, live: routing?.live ?? props.live, canaryInProgress: routing?.canary ?? false } };
  },
  async diff(_id, olds, news) {
    const replaces = replaceKeys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    // The canary settings alone change nothing that runs: they are read at the next switch.
    const moved = olds.live !== news.live || olds.livePid !== news.livePid || olds.canaryInProgress === true;
    return { changes: replaces.length > 0 || moved, replaces, deleteBeforeReplace: true };
  },
  async update(_id, olds, news) {
    // Live traffic goes to a slot HAProxy itself sees up, so "switched" is true when the update ends:
    // a switch to a slot its check has not taken yet would serve from the fallback meanwhile.
    await waitSlotServerUp(olds.socketPath, news.live, 10_000);
    let canaryReport: string[] = [];
    // Steps left half done by a dead driver are not resumed: traffic goes to the live slot at once.
    if (news.canary && olds.live !== news.live && !olds.canaryInProgress) {
      // A failed step throws with traffic back on olds.live: the update fails, the router's state
      // keeps the old live slot, and the driver reverts the rest.
      const outcome = await runLocalCanary({ socketPath: olds.socketPath, logFile: files(olds.stateDir).log, stable: olds.live, canary: news.live, settings: news.canary });
      canaryReport = outcome.ran ? outcome.steps.map((s) => `passed ${s.detail}`) : [`skipped: ${outcome.why}`];
    }
    // The switch itself: one map entry, one runtime-API call. The config file follows so a restart agrees.
    await setLiveSlot(olds.socketPath, news.live);
    await settleCanaryBackend(olds.socketPath, news.live, otherSlot(news.live));
    writeConfig(news);
    // Only the live slot, its process and the canary settings change in place; the rest would be a new router.
    // (A key set to undefined cannot be serialized: an absent canary is left out.)
    const { canary: _previous, canaryInProgress: _found, ...kept } = olds;
    return { outs: { ...kept, live: news.live, livePid: news.livePid, ...(news.canary ? { canary: news.canary } : {}), canaryReport } };
  },
  async delete(_id, props) {
    await stopProcess(props.pid);
    removePidFile(files(props.stateDir).pid, props.pid);
  },
};

type SettableInputs = Omit<LocalRouterInputs, "configFormat">;
export type LocalRouterArgs = { [K in keyof SettableInputs]: pulumi.Input<SettableInputs[K]> };

/** HAProxy in front of both slots; `live` decides which one takes traffic. */
export class LocalRouter extends pulumi.dynamic.Resource {
  declare readonly url: pulumi.Output<string>;
  declare readonly socketPath: pulumi.Output<string>;
  declare readonly live: pulumi.Output<SlotName>;
  declare readonly canaryReport: pulumi.Output<string[] | undefined>;

  constructor(name: string, args: LocalRouterArgs, opts?: pulumi.CustomResourceOptions) {
    super(localRouterProvider, name, { ...args, configFormat: HAPROXY_CONFIG_FORMAT, pid: undefined, url: undefined, socketPath: undefined, canaryReport: undefined }, opts, "flightdeck", localRouterType);
  }
}
