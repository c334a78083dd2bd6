import { build } from "esbuild";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { nodeBundleOptions, stampFiles, stampsHold, type FileStamp } from "../scripts/node-bundle.cjs";

/**
 * The policy pack, compiled to one JavaScript file before the engine runs it, so the pack's process
 * loads no TypeScript. Why: the SDK's policy-pack runner registers ts-node, and so loads the
 * TypeScript compiler (0.5 s), then compiles every file of the pack, every update, while the
 * engine waits for the pack before it starts the program. A compiled pack (its package.json says
 * so) lets scripts/precompiled-pack.cjs skip that registration.
 *
 * What runs is the same code: policies/index.ts and what it imports, bundled by esbuild (the
 * compiler tsx already runs the driver with; pinned in package.json); packages stay in
 * node_modules, found from the project (the build lives under the project's .pulumi/). A build is
 * kept per content (its directory is named by the output's digest) and reused while none of its
 * input files changed.
 */

/** Marks a compiled pack in its package.json; scripts/precompiled-pack.cjs reads it. */
export const COMPILED_MARK = "flightdeckCompiledPolicyPack";

interface Built {
  dir: string;
  /** Each input with its mtime and size when it was built. */
  inputs: FileStamp[];
}

const builds = new Map<string, Built>();
const building = new Map<string, Promise<string>>();

/** The compiled pack for this pack directory, built if it is missing or stale. */
export async function compilePolicyPack(packDir: string, workDir: string): Promise<string> {
  const key = path.resolve(packDir);
  const fresh = freshBuild(key);
  if (fresh) return fresh;
  const inFlight = building.get(key);
  if (inFlight) return inFlight;
  const run = buildPack(key, workDir).finally(() => building.delete(key));
  building.set(key, run);
  return run;
}

/** The compiled pack, if one was built by this process and none of its inputs changed since. */
export function freshBuild(packDir: string): string | undefined {
  const built = builds.get(path.resolve(packDir));
  if (!built || !fs.existsSync(path.join(built.dir, "index.js"))) return undefined;
  if (!stampsHold(built.inputs)) return undefined;
  touch(built.dir);
  return built.dir;
}

async function buildPack(packDir: string, workDir: string): Promise<string> {
  const pkgText = fs.readFileSync(path.join(packDir, "package.json"), "utf8");
  const pkg: unknown = JSON.parse(pkgText);
  if (pkg === null || typeof pkg !== "object") throw new Error(`${packDir}/package.json: expected an object`);
  const main: unknown = Reflect.get(pkg, "main");
  const entry = path.join(packDir, typeof main === "string" ? main : "index.ts");
  const root = path.join(workDir, ".pulumi", "policy-pack");
  // Where the build will sit (one level below root, as <digest>/index.js), so the source map's
  // paths lead back to the sources from there.
  const result = await build(nodeBundleOptions({ entry, outfile: path.join(root, "build", "index.js"), absWorkingDir: workDir }));
  const js = result.outputFiles[0]?.text;
  if (js === undefined) throw new Error(`${entry}: the policy pack compiled to nothing`);
  const inputs = stampFiles([
    path.join(packDir, "PulumiPolicy.yaml"),
    path.join(packDir, "package.json"),
    ...Object.keys(result.metafile.inputs).map((f) => path.resolve(workDir, f)),
  ]);
  const policyYaml = fs.readFileSync(path.join(packDir, "PulumiPolicy.yaml"), "utf8");
  const digest = createHash("sha256").update(js).update(policyYaml).update(pkgText).digest("hex").slice(0, 16);
  const dir = path.join(root, digest);
  if (!fs.existsSync(path.join(dir, "index.js"))) {
    // Written beside, then renamed: a second driver building the same pack sees all of it or none.
    const tmp = `${dir}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    fs.writeFileSync(path.join(tmp, "PulumiPolicy.yaml"), policyYaml);
    fs.writeFileSync(
      path.join(tmp, "package.json"),
      // The pack's own package.json (its name and version identify the pack), pointing at the build.
      JSON.stringify({ ...pkg, main: "index.js", [COMPILED_MARK]: true }, null, 2),
    );
    fs.writeFileSync(path.join(tmp, "index.js"), js);
    try {
      fs.renameSync(tmp, dir);
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true }); // another driver renamed the same build first
    }
  }
  touch(dir);
  pruneOldBuilds(root, digest);
  builds.set(packDir, { dir, inputs });
  return dir;
}

/** A build in use is kept (pruneOldBuilds goes by the last use). */
function touch(dir: string): void {
  const now = new Date();
  try {
    fs.utimesSync(dir, now, now);
  } catch {
    /* pruned meanwhile: the next call builds it again */
  }
}

/** Builds nobody used for a day go; a running update's build is never that old. */
function pruneOldBuilds(root: string, keep: string): void {
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const name of fs.readdirSync(root)) {
    if (name === keep) continue;
    const p = path.join(root, name);
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (st && st.mtimeMs < dayAgo) fs.rmSync(p, { recursive: true, force: true });
  }
}
