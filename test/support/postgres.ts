/**
 * A real PostgreSQL for the shared-backend tests: Debian's postgresql package (installed by
 * scripts/engine.sh for `npm test`), a throwaway cluster in a temp directory on its own port, trust
 * authentication on loopback only. Run as the `postgres` user when the tests run as root (initdb
 * refuses root).
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/flightdeck?sslmode=disable` */
  url: string;
  stop(): void;
}

function binDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!fs.existsSync(root)) return undefined;
  const versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], "bin") : undefined;
}

/** Why PostgreSQL cannot be started here, or undefined when it can. */
export function postgresMissing(): string | undefined {
  return binDir() ? undefined : "PostgreSQL server binaries not found under /usr/lib/postgresql (Debian: apt-get install postgresql)";
}

export function startPostgres(port: number): TestPostgres {
  const bin = binDir();
  if (!bin) throw new Error(postgresMissing());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-pg-"));
  const data = path.join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync("chown", ["-R", "postgres:postgres", dir]);
  const run = (cmd: string, args: string[]) => {
    const r = asRoot ? spawnSync("runuser", ["-u", "postgres", "--", path.join(bin, cmd), ...args], { encoding: "utf8" }) : spawnSync(path.join(bin, cmd), args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  run("pg_ctl", ["-D", data, "-l", path.join(dir, "log"), "-w", "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "start"]);
  run("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "flightdeck"]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/flightdeck?sslmode=disable`,
    stop() {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "stop"]);
      } catch {
        /* already stopped */
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
