/**
 * Installs the provider doubles where the engine looks for real plugins: the plugin cache of a
 * PULUMI_HOME, `plugins/resource-<name>-v<version>/pulumi-resource-<name>`, at the versions
 * package-lock.json pins (the engine asks for exactly the version the npm package declares, and
 * selects only an equal one). Each "binary" is a small sh launcher that runs provider.ts, bundled.
 *
 * Nothing goes on PATH: a `pulumi-resource-<name>` on PATH would win over the plugin cache, and
 * the point is that the engine finds these by name and version, as it finds the real ones.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { ZONES_ENV } from "./behaviour";
import { STATE_ENV } from "./state";

export { readDoubleState, STATE_ENV, type DoubleResource, type DoubleState } from "./state";
export { DEFAULT_ZONES, zoneIdOf } from "./behaviour";

const projectDir = path.resolve(__dirname, "../..");

/** The packages that get a double unless the caller names others. */
export const DOUBLED_PACKAGES: readonly string[] = ["github", "cloudflare"];

export interface InstallOptions {
  /** The JSON file the doubles keep what they create in (baked into each launcher). */
  stateFile: string;
  /** Provider packages to install doubles for, by npm name under @pulumi/. @default DOUBLED_PACKAGES */
  packages?: readonly string[];
  /** The zones the emulated Cloudflare account holds. @default DEFAULT_ZONES */
  zones?: readonly string[];
}

export interface InstalledPlugin {
  name: string;
  version: string;
  /** The plugin directory inside PULUMI_HOME. */
  dir: string;
}

/** The version of `@pulumi/<pkg>` package-lock.json pins: the plugin version the engine will ask for. */
export function lockedVersion(pkg: string): string {
  const lock = JSON.parse(fs.readFileSync(path.join(projectDir, "package-lock.json"), "utf8")) as {
    packages?: Record<string, { version?: string }>;
  };
  const version = lock.packages?.[`node_modules/@pulumi/${pkg}`]?.version;
  if (!version) throw new Error(`package-lock.json pins no version of @pulumi/${pkg}`);
  return version;
}

export function installProviderDoubles(pulumiHome: string, opts: InstallOptions): { plugins: InstalledPlugin[] } {
  const entry = bundleProvider(); // one bundle serves every package's launcher
  const plugins = (opts.packages ?? DOUBLED_PACKAGES).map((name) => {
    const version = lockedVersion(name);
    const dir = path.join(pulumiHome, "plugins", `resource-${name}-v${version}`);
    fs.mkdirSync(dir, { recursive: true });
    // A `.partial` beside the directory means "install unfinished": the engine would skip the plugin.
    fs.rmSync(`${dir}.partial`, { force: true });
    const bin = path.join(dir, `pulumi-resource-${name}`);
    const tmp = `${bin}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, launcher(name, version, entry, opts), { mode: 0o755 });
    fs.renameSync(tmp, bin); // an engine starting meanwhile never runs half a script
    return { name, version, dir };
  });
  return { plugins };
}

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * provider.ts and the modules it imports, bundled with esbuild (packages stay in node_modules), so
 * the launcher runs plain node. Why: the engine starts both doubles for every preview, update and
 * refresh of a rehearsal; under tsx's loader each start took about 0.8 CPU-seconds before it printed
 * its port, bundled about 0.2 (measured), and `npm test` is CPU-bound. The bundle lives under the
 * project's .pulumi/, named by its content, so its packages resolve from the project's node_modules
 * and installs running at once write the same file.
 */
function bundleProvider(): string {
  const built = buildSync({ entryPoints: [path.join(__dirname, "provider.ts")], write: false, bundle: true, packages: "external", platform: "node", format: "cjs", target: "node20", logLevel: "warning" });
  const text = built.outputFiles[0]!.contents;
  const out = path.join(projectDir, ".pulumi", "provider-doubles", `provider-${crypto.createHash("sha256").update(text).digest("hex").slice(0, 16)}.cjs`);
  if (!fs.existsSync(out)) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, out);
  }
  return out;
}

function launcher(name: string, version: string, entry: string, opts: InstallOptions): string {
  return [
    "#!/bin/sh",
    `# Provider double for pulumi-resource-${name} v${version}, written by test/provider-doubles/install.ts.`,
    "# The engine starts it as the real plugin; it runs provider.ts (bundled) with the engine's arguments.",
    // Baked, not inherited: this PULUMI_HOME belongs to one test, and so does its state file.
    `${STATE_ENV}=${sh(path.resolve(opts.stateFile))}`,
    `export ${STATE_ENV}`,
    ...(opts.zones ? [`${ZONES_ENV}=${sh(opts.zones.join(","))}`, `export ${ZONES_ENV}`] : []),
    `exec ${sh(process.execPath)} ${sh(entry)} ${sh(name)} ${sh(version)} "$@"`,
    "",
  ].join("\n");
}
