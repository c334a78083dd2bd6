/**
 * kamal-proxy, the peer Flightdeck is measured against: its binary (built from Go modules by this
 * setup, once per machine) and a running proxy in a directory of its own.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const KAMAL_PROXY_VERSION = "v0.9.2";
const MODULE = "github.com/basecamp/kamal-proxy";

/**
 * The kamal-proxy binary: KAMAL_PROXY_BIN when set, else the per-machine cache, else a build of
 * the pinned version from Go modules into that cache. A string says why there is none (Go missing, or the Go
 * module proxy refusing the module), for the benchmark to print as its reason for skipping.
 */
export function kamalProxyBinary(): { bin: string } | string {
  const given = process.env.KAMAL_PROXY_BIN;
  if (given) return fs.existsSync(given) ? { bin: given } : `KAMAL_PROXY_BIN=${given} does not exist`;
  const cache = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "flightdeck", `kamal-proxy-${KAMAL_PROXY_VERSION}`);
  const bin = path.join(cache, "kamal-proxy");
  if (fs.existsSync(bin)) return { bin };
  if (spawnSync("go", ["version"]).error) return "Go is not installed: kamal-proxy is built from Go modules (https://go.dev/dl)";
  console.log(`building kamal-proxy ${KAMAL_PROXY_VERSION} from Go modules into ${cache} (once per machine)…`);
  // A throwaway module that requires the pinned version, as scripts/engine.sh builds the engine:
  // `go install module@version` also asks the proxy for the module's version list (to warn of a
  // deprecation), which some Go module proxies refuse while serving the version itself.
  const src = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-kamal-build-"));
  fs.writeFileSync(path.join(src, "go.mod"), `module flightdeck.local/kamal-proxy-build\n\ngo 1.25\n\nrequire ${MODULE} ${KAMAL_PROXY_VERSION}\n`);
  fs.writeFileSync(path.join(src, "tools.go"), `//go:build tools\n\npackage tools\n\nimport _ "${MODULE}/cmd/kamal-proxy"\n`);
  const go = (...args: string[]) =>
    spawnSync("go", args, { cwd: src, env: { ...process.env, GOFLAGS: "-mod=mod", GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? "local" }, encoding: "utf8" });
  fs.mkdirSync(cache, { recursive: true });
  let step = go("mod", "tidy");
  if (step.status === 0) step = go("build", "-o", bin, `${MODULE}/cmd/kamal-proxy`);
  fs.rmSync(src, { recursive: true, force: true });
  if (step.status !== 0 || !fs.existsSync(bin)) {
    const why = (step.stderr ?? "").trim().split("\n").filter(Boolean).slice(-2).join(" ");
    return `building ${MODULE}@${KAMAL_PROXY_VERSION} from Go modules failed (${why}); set KAMAL_PROXY_BIN to a kamal-proxy ${KAMAL_PROXY_VERSION} binary`;
  }
  return { bin };
}

/** One running kamal-proxy with its socket and state in a temporary directory. */
export interface KamalProxy {
  url: string;
  /** `kamal-proxy deploy <service> --target <target>` with the given health check; true when it switched. */
  deploy(service: string, target: string, healthPath: string, intervalMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startKamalProxy(bin: string, httpPort: number): Promise<KamalProxy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-kamal-"));
  // Its control socket lives in XDG_RUNTIME_DIR and its state under HOME: both in `dir`.
  const env = { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir };
  const proxy: ChildProcess = spawn(bin, ["run", "--http-port", String(httpPort), "--https-port", String(httpPort + 1)], { env, stdio: "ignore" });
  const socket = path.join(dir, "kamal-proxy.sock");
  for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  if (!fs.existsSync(socket)) throw new Error(`kamal-proxy did not start (no ${socket})`);
  return {
    url: `http://127.0.0.1:${httpPort}`,
    async deploy(service, target, healthPath, intervalMs) {
      const child = spawn(bin, ["deploy", service, "--target", target, "--health-check-path", healthPath, "--health-check-interval", `${intervalMs}ms`], { env, stdio: "ignore" });
      return new Promise<boolean>((resolve) => child.once("exit", (code) => resolve(code === 0)));
    },
    async stop() {
      if (proxy.exitCode === null && proxy.signalCode === null) {
        const exited = new Promise((r) => proxy.once("exit", r));
        proxy.kill("SIGTERM");
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
