import * as pulumi from "@pulumi/pulumi";
import * as childProcess from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** What a local process is: everything here is an input the engine diffs. */
export interface LocalProcessInputs {
  /** Absolute working directory. */
  cwd: string;
  /** Program and arguments. */
  command: string[];
  /** Extra environment (PATH and HOME are inherited). */
  env: Record<string, string>;
  /** Loopback port the process listens on. */
  port: number;
  /** Path that answers 200 once the process is ready. */
  readyPath: string;
  /** How long create waits for readiness before it fails and stops the process. */
  readyTimeoutMs: number;
  /** File that receives the process's stdout and stderr. */
  logFile: string;
}

export interface LocalProcessOutputs extends LocalProcessInputs {
  pid: number;
  url: string;
}

function isAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie or a recycled pid is not our process.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) Z /.test(stat);
  } catch {
    return true;
  }
}

async function waitReady(url: string, pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new Error(`process ${pid} exited before ${url} answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
}

async function stop(pid: number): Promise<void> {
  if (!isAlive(pid)) return;
  // The process leads its own group (detached), so this stops anything it started too.
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal("SIGTERM");
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  signal("SIGKILL");
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}

async function start(inputs: LocalProcessInputs): Promise<LocalProcessOutputs> {
  if (!fs.existsSync(inputs.cwd)) throw new Error(`cannot start ${inputs.command.join(" ")}: directory ${inputs.cwd} does not exist`);
  fs.mkdirSync(path.dirname(inputs.logFile), { recursive: true });
  const log = fs.openSync(inputs.logFile, "a");
  const [cmd, ...args] = inputs.command;
  const child = childProcess.spawn(cmd, args, {
    cwd: inputs.cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...inputs.env, PORT: String(inputs.port) },
    detached: true,
    stdio: ["ignore", log, log],
  });
  fs.closeSync(log);
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (err) => reject(new Error(`could not start ${inputs.command.join(" ")} in ${inputs.cwd}: ${err.message}`)));
  });
  const pid = child.pid;
  if (!pid) throw new Error(`could not start ${inputs.command.join(" ")} in ${inputs.cwd}`);
  child.unref();
  const url = `http://127.0.0.1:${inputs.port}`;
  try {
    await waitReady(`${url}${inputs.readyPath}`, pid, inputs.readyTimeoutMs);
  } catch (err) {
    await stop(pid);
    throw new Error(`${(err as Error).message}; process stopped. Log ${inputs.logFile}:\n${tail(inputs.logFile)}`);
  }
  return { ...inputs, pid, url };
}

/** Fields whose change means a new process (all of them: a process cannot change in place). */
const replaceKeys: (keyof LocalProcessInputs)[] = ["cwd", "command", "env", "port", "readyPath", "logFile"];

export const localProcessProvider: pulumi.dynamic.ResourceProvider<LocalProcessInputs, LocalProcessOutputs> = {
  async create(inputs) {
    const outs = await start(inputs);
    return { id: `pid-${outs.pid}`, outs };
  },
  async read(id, props) {
    // A process that is gone has been deleted out of band: refresh drops it, up recreates it.
    if (!props || !isAlive(props.pid)) return {};
    return { id, props };
  },
  async diff(_id, olds, news) {
    const replaces = replaceKeys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    const changes = replaces.length > 0 || olds.readyTimeoutMs !== news.readyTimeoutMs;
    return { changes, replaces, deleteBeforeReplace: olds.port === news.port };
  },
  async update(_id, olds, news) {
    // Only readyTimeoutMs can reach here (everything else replaces): keep the running process.
    return { outs: { ...olds, readyTimeoutMs: news.readyTimeoutMs } };
  },
  async delete(_id, props) {
    await stop(props.pid);
  },
};

export type LocalProcessArgs = { [K in keyof LocalProcessInputs]: pulumi.Input<LocalProcessInputs[K]> };

/** A real OS process, started by create, replaced on change, stopped by delete. */
export class LocalProcess extends pulumi.dynamic.Resource {
  declare readonly pid: pulumi.Output<number>;
  declare readonly url: pulumi.Output<string>;
  declare readonly port: pulumi.Output<number>;

  constructor(name: string, args: LocalProcessArgs, opts?: pulumi.CustomResourceOptions) {
    super(localProcessProvider, name, { ...args, pid: undefined, url: undefined }, opts, "flightdeck", "LocalProcess");
  }
}
