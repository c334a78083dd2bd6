/**
 * The GitHub and Cloudflare provider doubles (test/provider-doubles/) on the real engine: installed
 * into a PULUMI_HOME of this test's own at the versions package-lock.json pins, found by the engine
 * as it finds real plugins, and driving test/programs/provider-doubles (Flightdeck's GitHub and
 * Cloudflare components plus a ruleset from stack config) through up, a no-op up, an update, a
 * Check failure, destroy. Also, without the engine: the checker and the state file's locking.
 */
import { LocalWorkspace, type ConfigMap, type Stack } from "@pulumi/pulumi/automation";
import { execa } from "execa";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkValues } from "../provider-doubles/check";
import { installProviderDoubles, lockedVersion, readDoubleState, zoneIdOf, type DoubleResource } from "../provider-doubles/install";
import { shapesFor } from "../provider-doubles/shapes";

const programDir = path.resolve(__dirname, "../programs/provider-doubles");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flightdeck-doubles-"));
const SECRET = "sk_live_doubles-Qx7-never-in-plaintext";
const GITHUB_TOKEN = "ghp_doubles0000000000000000000000000000";
const T = {
  ruleset: "github:index/repositoryRuleset:RepositoryRuleset",
  secret: "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
  dns: "cloudflare:index/dnsRecord:DnsRecord",
};

const baseConfig: ConfigMap = {
  owner: { value: "flightdeck-dev" },
  repository: { value: "flightdeck-app" },
  stagingSecrets: { value: JSON.stringify({ DEPLOY_KEY: SECRET }), secret: true },
  zone: { value: "example.com" },
  hostname: { value: "doubles.example.com" },
  flyApp: { value: "fd-doubles" },
};

interface Engine {
  stack: Stack;
  home: string;
  backend: string;
  stateFile: string;
}

/** A stack with its own PULUMI_HOME and file backend (never the repository's), doubles installed by `install`. */
async function engine(name: string, install: (home: string, stateFile: string) => void): Promise<Engine> {
  const dir = path.join(tmp, name);
  const home = path.join(dir, "home");
  const backend = path.join(dir, "state");
  const stateFile = path.join(dir, "providers.json");
  fs.mkdirSync(backend, { recursive: true });
  install(home, stateFile);
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: `test-doubles-${name}-${process.pid}`, workDir: programDir },
    {
      pulumiHome: home,
      envVars: {
        PULUMI_BACKEND_URL: `file://${backend}`,
        PULUMI_CONFIG_PASSPHRASE: "test",
        GITHUB_TOKEN,
        CLOUDFLARE_API_TOKEN: "doubles-cloudflare-token",
      },
    },
  );
  await stack.setAllConfig(baseConfig);
  return { stack, home, backend, stateFile };
}

async function removeEngine(e: Engine | undefined): Promise<void> {
  if (!e) return;
  await e.stack.workspace.removeStack(e.stack.name, { force: true }).catch(() => undefined);
  fs.rmSync(path.join(programDir, `Pulumi.${e.stack.name}.yaml`), { force: true });
}

/** Every file the backend stores for the stack (checkpoints, history, backups), decompressed. */
function storedStateText(e: Engine): string {
  const texts: string[] = [];
  const walk = (dir: string) => {
    for (const f of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, f.name);
      if (f.isDirectory()) walk(p);
      else texts.push(p.endsWith(".gz") ? zlib.gunzipSync(fs.readFileSync(p)).toString("utf8") : fs.readFileSync(p, "utf8"));
    }
  };
  walk(e.backend);
  return texts.join("\n");
}

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const byType = (resources: DoubleResource[], type: string) => resources.filter((r) => r.type === type);

describe("provider doubles: the checker and the state file, without the engine", () => {
  it("judges nested objects and arrays against the package's declarations; unknowns pass, secrets are never quoted", () => {
    const shapes = shapesFor("github", T.ruleset)!;
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const secret = (value: string) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });
    const failures = checkValues(shapes, {
      repository: "app",
      target: "branch",
      conditions: unknown,
      rules: {
        pullRequest: { requiredApprovingReviewCount: secret("two") },
        requiredStatusChecks: { requiredChecks: [{ contxt: "tests" }, { context: unknown }] },
      },
    });
    expect(failures.map((f) => f.property).sort()).toEqual([
      "enforcement",
      "rules.pullRequest.requiredApprovingReviewCount",
      "rules.requiredStatusChecks.requiredChecks[0].context",
      "rules.requiredStatusChecks.requiredChecks[0].contxt",
    ]);
    expect(failures.find((f) => f.property.endsWith("contxt"))?.reason).toMatch(/did you mean "context"/);
    expect(failures.find((f) => f.property.endsWith("Count"))?.reason).toBe("expected a number, got a secret value");
  });

  it("keeps every change of two processes writing the state file at once", async () => {
    const file = path.join(tmp, "concurrent", "providers.json");
    const script = path.join(tmp, "writer.ts");
    fs.writeFileSync(
      script,
      `import { changeState } from ${JSON.stringify(path.resolve(__dirname, "../provider-doubles/state"))};\n` +
        `(async () => { for (let i = 0; i < 40; i++) await changeState(process.argv[2], (s) => { s.resources.push({ package: "p", type: "t", urn: process.argv[3] + i, id: String(i), inputs: {}, createdAt: "", updatedAt: "", updates: 0 }); }); })();\n`,
    );
    await Promise.all(["a", "b"].map((w) => execa(process.execPath, ["--import", "tsx", script, file, `urn:${w}:`], { cwd: path.resolve(__dirname, "../..") })));
    expect(readDoubleState(file).resources).toHaveLength(80);
    expect(fs.readdirSync(path.dirname(file))).toEqual(["providers.json"]); // no lock, no temp file left
  });
});

describe("provider doubles on the real engine", () => {
  let e: Engine;
  const output: string[] = [];
  const onOutput = (s: string) => output.push(s);
  const state = () => readDoubleState(e.stateFile).resources;

  beforeAll(async () => {
    e = await engine("main", (home, stateFile) => installProviderDoubles(home, { stateFile }));
  });
  afterAll(async () => {
    await removeEngine(e);
  });

  it("the engine lists the doubles as its installed plugins, at the locked versions", async () => {
    const ls = await execa("pulumi", ["plugin", "ls", "--json"], { env: { PULUMI_HOME: e.home } });
    const plugins = (JSON.parse(ls.stdout) as { name: string; kind: string; version: string }[]).map((p) => `${p.kind}/${p.name}@${p.version}`);
    expect(plugins.sort()).toEqual([`resource/cloudflare@${lockedVersion("cloudflare")}`, `resource/github@${lockedVersion("github")}`]);
  });

  it("up creates the environments, rulesets and DNS record; the doubles hold them with their inputs", async () => {
    const res = await e.stack.up({ onOutput, color: "never", diff: true });
    expect(res.summary.result).toBe("succeeded");
    const held = state();
    expect(new Set(held.map((r) => r.type.split(":").pop()))).toEqual(
      new Set(["RepositoryEnvironment", "RepositoryEnvironmentDeploymentPolicy", "ActionsEnvironmentVariable", "ActionsEnvironmentSecret", "RepositoryRuleset", "DnsRecord"]),
    );
    const trunk = byType(held, T.ruleset).find((r) => r.urn.endsWith("::trunk-ruleset"))!;
    expect(trunk.inputs).toMatchObject({
      target: "branch",
      rules: {
        pullRequest: { requiredApprovingReviewCount: 1 },
        requiredStatusChecks: { requiredChecks: [{ context: "tests" }, { context: "preview" }] },
      },
    });
    const [record] = byType(held, T.dns);
    expect(record.inputs).toMatchObject({ zoneId: zoneIdOf("example.com"), name: "doubles.example.com", content: "fd-doubles.fly.dev", type: "CNAME" });
    expect(res.outputs.zoneId.value).toBe(zoneIdOf("example.com"));
    expect(res.outputs.recordId.value).toBe(record.id);
    expect(res.outputs.environmentIds.value).toEqual({ staging: "flightdeck-app:staging", production: "flightdeck-app:production" });
    expect(res.outputs.productionReviewers.value).toMatchObject({ users: [expect.any(Number)], teams: [expect.any(Number)] });
    expect(byType(held, T.secret).map((r) => r.inputs)).toEqual([expect.objectContaining({ secretName: "DEPLOY_KEY", value: "[secret]" })]);
  });

  it("a second up with nothing changed changes nothing", async () => {
    const res = await e.stack.up({ onOutput, color: "never", diff: true });
    expect(Object.keys(res.summary.resourceChanges ?? {})).toEqual(["same"]);
    expect(state().every((r) => r.updates === 0)).toBe(true);
  });

  it("a changed input updates the ruleset in place", async () => {
    const before = byType(state(), T.ruleset).find((r) => r.urn.endsWith("::trunk-ruleset"))!;
    await e.stack.setConfig("requiredApprovals", { value: "2" });
    const res = await e.stack.up({ onOutput, color: "never", diff: true });
    expect(res.summary.resourceChanges).toMatchObject({ update: 1 });
    expect(res.summary.resourceChanges?.create ?? 0).toBe(0);
    const after = byType(state(), T.ruleset).find((r) => r.urn.endsWith("::trunk-ruleset"))!;
    expect(after).toMatchObject({ id: before.id, updates: 1, inputs: { rules: { pullRequest: { requiredApprovingReviewCount: 2 } } } });
  });

  it("a misspelt nested property fails the provider's Check, naming the property, and changes nothing", async () => {
    const before = byType(state(), T.ruleset).find((r) => r.urn.endsWith("::tags"))!;
    const tagRules = { deletion: true, pullRequest: { requiredApprovingReviewCount: 1, requiredReviewThreadResolutoin: true } };
    await e.stack.setConfig("tagRules", { value: JSON.stringify(tagRules) });
    let message = "";
    try {
      await e.stack.up({ onOutput, color: "never", diff: true });
    } catch (err) {
      message = String((err as Error).message);
    }
    await e.stack.removeConfig("tagRules");
    expect(message).toMatch(/RepositoryRuleset resource 'tags': property rules\.pullRequest\.requiredReviewThreadResolutoin/);
    expect(message).toMatch(/unknown property "requiredReviewThreadResolutoin": RepositoryRulesetRulesPullRequest has no such property \(did you mean "requiredReviewThreadResolution"\?\)/);
    expect(byType(state(), T.ruleset).find((r) => r.urn.endsWith("::tags"))).toEqual(before);
  });

  it("secrets are never in plaintext: not in the doubles' state file, the engine's output (diffs shown) or the stored state", () => {
    const doubles = fs.readFileSync(e.stateFile, "utf8");
    expect(doubles).toContain("[secret]");
    expect(doubles).not.toContain(SECRET);
    expect(output.join("").length).toBeGreaterThan(0);
    expect(output.join("")).not.toContain(SECRET);
    // The provider's token is sensitive in its schema: the double's CheckConfig returns it as a secret.
    expect(output.join("")).toMatch(/token\s*:\s*\[secret\]/);
    expect(output.join("")).not.toContain(GITHUB_TOKEN);
    const stored = storedStateText(e);
    expect(stored).toContain("ciphertext");
    expect(stored).not.toContain(SECRET);
  });

  it("a zone the Cloudflare account does not hold fails getZone as the real provider does", async () => {
    await e.stack.setAllConfig({ zone: { value: "not-ours.dev" }, hostname: { value: "doubles.not-ours.dev" } });
    const message = await e.stack.preview({ color: "never" }).then(
      () => "",
      (err: Error) => err.message,
    );
    await e.stack.setAllConfig({ zone: baseConfig.zone, hostname: baseConfig.hostname });
    expect(message).toMatch(/cloudflare:index\/getZone:getZone/);
    expect(message).toMatch(/failed to find exactly one result: 0 found/);
  });

  it("a misspelt provider setting in stack config fails the provider's CheckConfig", async () => {
    await e.stack.setConfig("cloudflare:apiTokn", { value: "x" });
    const message = await e.stack.preview({ color: "never" }).then(
      () => "",
      (err: Error) => err.message,
    );
    await e.stack.removeConfig("cloudflare:apiTokn");
    expect(message).toMatch(/unknown property "apiTokn": ProviderArgs has no such property \(did you mean "apiToken"\?\)/);
  });

  it("refresh sees what changed behind the program's back (edited, deleted); up puts it back", async () => {
    const [record] = byType(state(), T.dns);
    const tags = byType(state(), T.ruleset).find((r) => r.urn.endsWith("::tags"))!;
    const edited = readDoubleState(e.stateFile);
    edited.resources = edited.resources
      .filter((r) => r.id !== tags.id)
      .map((r) => (r.id === record.id ? { ...r, inputs: { ...r.inputs, content: "elsewhere.fly.dev" } } : r));
    fs.writeFileSync(e.stateFile, JSON.stringify(edited));

    const refreshed = await e.stack.refresh({ onOutput, color: "never" });
    expect(refreshed.summary.resourceChanges).toMatchObject({ update: 1, delete: 1 });
    const res = await e.stack.up({ onOutput, color: "never", diff: true });
    expect(res.summary.resourceChanges).toMatchObject({ update: 1, create: 1 });
    expect(byType(state(), T.dns)[0]).toMatchObject({ id: record.id, inputs: { content: "fd-doubles.fly.dev" } });
    expect(byType(state(), T.ruleset).some((r) => r.urn.endsWith("::tags"))).toBe(true);
  });

  it("destroy deletes everything the doubles hold", async () => {
    const res = await e.stack.destroy({ onOutput, color: "never" });
    expect(res.summary.result).toBe("succeeded");
    expect(state()).toEqual([]);
  });
});

describe("the engine finds a double only by name and locked version", () => {
  const engines: Engine[] = [];
  afterAll(async () => {
    for (const e of engines) await removeEngine(e);
  });

  async function previewError(e: Engine): Promise<string> {
    engines.push(e);
    try {
      await e.stack.preview({ color: "never" });
      return "";
    } catch (err) {
      return String((err as Error).message);
    }
  }

  const missing = `no resource plugin 'pulumi-resource-github' found in the workspace at version v${lockedVersion("github")}`;

  it("without a GitHub double the engine has no pulumi-resource-github", async () => {
    const e = await engine("no-github", (home, stateFile) => installProviderDoubles(home, { stateFile, packages: ["cloudflare"] }));
    expect(await previewError(e)).toContain(missing);
  });

  it("a GitHub double under another version is not the one the engine asks for", async () => {
    const e = await engine("other-version", (home, stateFile) => {
      const [gh] = installProviderDoubles(home, { stateFile, packages: ["github", "cloudflare"] }).plugins;
      fs.renameSync(gh.dir, gh.dir.replace(/-v[^/]+$/, "-v6.0.0"));
    });
    expect(await previewError(e)).toContain(missing);
  });
});
