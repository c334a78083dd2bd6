import * as pulumi from "@pulumi/pulumi";
import { probeHttp, servesRelease, VERSION_PATH } from "../bluegreen/probe";
import { localProcessType } from "../fly/contract";
import { isAlive, listensOn, removePidFile, spawnDetached, stopProcess, tailOf } from "./os-process";

/** What a local process is: everything here is an input the engine diffs. */
export interface LocalProcessInputs {
  /** Absolute working directory. */
  cwd: string;
  /** Program and arguments. */
  command: string[];
  /** Extra environment (PATH and HOME are inherited). */
  env: Record<string, string>;
  /**
   * Secret environment (app secrets), a Pulumi secret so the state holds it encrypted. A change of
   * its values alone never restarts the process: `secretsDigest` says when the slot takes new ones.
   */
  secretEnv?: Record<string, string>;
  /** Which secrets the process runs with (the slot spec's digest): a change replaces the process. */
  secretsDigest?: string;
  /** Loopback port the process listens on (passed as PORT). */
  port: number;
  /** Path that answers HTTP (any status) once the process is listening. Health is the gate's job. */
  readyPath: string;
  /**
   * The release the process must report on `/version` before it counts as started: an answer from
   * another server on the port (a stale process, EADDRINUSE) is not this process being ready.
   */
  expectVersion?: string;
  /** How long create waits for the process to listen before it fails and stops it. */
  readyTimeoutMs: number;
  /** File that receives the process's stdout and stderr. */
  logFile: string;
  /**
   * File that records the pid. A process an interrupted deploy started but never recorded in
   * state is found through it and stopped before a new one takes its port.
   */
  pidFile: string;
}

export interface LocalProcessOutputs extends LocalProcessInputs {
  pid: number;
  url: string;
}

async function waitListening(base: string, port: number, readyPath: string, expectVersion: string | undefined, pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const url = expectVersion === undefined ? `${base}${readyPath}` : `${base}${VERSION_PATH}`;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new Error(`process ${pid} exited before ${url} answered (last: ${last})`);
    const probe = expectVersion === undefined ? await probeHttp(url, { expectedStatus: 0, timeoutMs: 1000 }) : await servesRelease(base, expectVersion, 1000);
    // Without an expected version any HTTP answer will do; with one, only that release.
    const ready = expectVersion === undefined ? probe.status !== undefined : probe.ok;
    // The answer must come from this process: one whose port another server holds is not started.
    const own = ready && listensOn(pid, port);
    if (own && isAlive(pid)) return;
    last = ready && !own ? `${probe.detail}, but from a server that is not process ${pid} (port ${port} taken?)` : probe.detail;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not answer${expectVersion ? ` with release ${expectVersion}` : " HTTP"} within ${timeoutMs} ms (last: ${last})`);
}

async function start(inputs: LocalProcessInputs): Promise<LocalProcessOutputs> {
  const pid = await spawnDetached({ ...inputs, env: { ...inputs.env, ...(inputs.secretEnv ?? {}), PORT: String(inputs.port) } });
  const url = `http://127.0.0.1:${inputs.port}`;
  try {
    await waitListening(url, inputs.port, inputs.readyPath, inputs.expectVersion, pid, inputs.readyTimeoutMs);
  } catch (err) {
    await stopProcess(pid);
    removePidFile(inputs.pidFile, pid);
    throw new Error(`${(err as Error).message}; process stopped. Log ${inputs.logFile}:\n${tailOf(inputs.logFile)}`);
  }
  return { ...inputs, pid, url };
}

/** Every field but the timeout means a new process: a running process cannot change in place.
 * (expectVersion follows APP_VERSION in env, which already replaces.) */
const replaceKeys: (keyof LocalProcessInputs)[] = ["cwd", "command", "env", "port", "readyPath", "logFile", "pidFile"];

export const localProcessProvider: pulumi.dynamic.ResourceProvider<LocalProcessInputs, LocalProcessOutputs> = {
  async create(inputs) {
    const outs = await start(inputs);
    return { id: `pid-${outs.pid}`, outs };
  },
  async read(id, props) {
    // A process that is gone was deleted out of band: refresh drops it, up recreates it.
    if (!props || !isAlive(props.pid)) return {};
    return { id, props };
  },
  async diff(_id, olds, news) {
    const replaces = replaceKeys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    // Absent and empty are the same (states written before secrets reached local slots).
    if ((olds.secretsDigest ?? "") !== (news.secretsDigest ?? "")) replaces.push("secretsDigest");
    const changes = replaces.length > 0 || olds.readyTimeoutMs !== news.readyTimeoutMs;
    // Same port: the old process must go before the new one can listen.
    return { changes, replaces, deleteBeforeReplace: olds.port === news.port };
  },
  async update(_id, olds, news) {
    return { outs: { ...olds, readyTimeoutMs: news.readyTimeoutMs } };
  },
  async delete(_id, props) {
    await stopProcess(props.pid);
    removePidFile(props.pidFile, props.pid);
  },
};

export type LocalProcessArgs = { [K in keyof LocalProcessInputs]: pulumi.Input<LocalProcessInputs[K]> };

/** A real OS process, started by create, replaced on change, stopped by delete. */
export class LocalProcess extends pulumi.dynamic.Resource {
  declare readonly pid: pulumi.Output<number>;
  declare readonly url: pulumi.Output<string>;
  declare readonly port: pulumi.Output<number>;

  constructor(name: string, args: LocalProcessArgs, opts?: pulumi.CustomResourceOptions) {
    super(localProcessProvider, name, { ...args, pid: undefined, url: undefined }, opts, "flightdeck", localProcessType);
  }
}
