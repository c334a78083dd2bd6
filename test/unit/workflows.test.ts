/**
 * The GitHub Actions workflows parse, and keep the invariants delivery depends on: deploys never
 * interleave or get cancelled mid-way, production waits for its GitHub environment, nothing fails
 * silently, actions are pinned, the PR gets exactly one sticky comment, secrets come only from the
 * documented names.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import YAML from "yaml";
// GitHub's own workflow parser (the one behind the Actions language service). ESM-only: vitest
// loads it through a static import; tsc resolves its types through the package's typesVersions.
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { stackFileConfig } from "../support/stack-files";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  "continue-on-error"?: unknown;
}
interface Job {
  name?: string;
  "runs-on"?: unknown;
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  concurrency?: { group: string; "cancel-in-progress"?: boolean } | string;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  steps: Step[];
  "continue-on-error"?: unknown;
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: unknown;
  jobs: Record<string, Job>;
}

const dir = path.resolve(__dirname, "../../.github/workflows");
const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));

function load(file: string): Workflow {
  const doc = YAML.parseDocument(fs.readFileSync(path.join(dir, file), "utf8"));
  if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`);
  return doc.toJS() as Workflow;
}
const workflows = Object.fromEntries(files.map((f) => [f, load(f)])) as Record<string, Workflow>;
const wf = (f: string): Workflow => {
  const w = workflows[f];
  if (!w) throw new Error(`.github/workflows/${f} is missing`);
  return w;
};
const allJobs = () => Object.entries(workflows).flatMap(([f, w]) => Object.entries(w.jobs).map(([id, job]) => ({ f, id, job })));
const envName = (job: Job) => (typeof job.environment === "object" ? job.environment.name : job.environment);
const runs = (job: Job) => job.steps.map((s) => s.run ?? "").join("\n");
const group = (job: Job) => (typeof job.concurrency === "object" ? job.concurrency : undefined);

/**
 * What GitHub's parser says about a workflow text: schema errors (unknown keys, wrong types),
 * expression errors (syntax, unknown contexts or functions) and the conversion's own checks (job
 * graph, needs). A plain YAML parse accepts all of those, and GitHub rejects the workflow only
 * once it is pushed.
 */
async function githubParseErrors(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    errors.push(...(template.errors ?? []).map((e) => e.Message));
  }
  return [...new Set(errors)];
}

describe("GitHub's workflow parser (@actions/workflow-parser)", () => {
  it.each(files)("%s parses with no errors, expressions included", async (f) => {
    expect(await githubParseErrors(f, fs.readFileSync(path.join(dir, f), "utf8"))).toEqual([]);
  });

  // The parser must be able to say no, or the test above proves nothing.
  const good = "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.sha }}\n";
  it("accepts a minimal valid workflow (the baseline of the cases below)", async () => {
    expect(await githubParseErrors("good.yml", good)).toEqual([]);
  });
  it.each([
    ["a misspelt key", good.replace("steps:", "stepz:"), /Unexpected value 'stepz'/],
    ["an expression that does not parse", good.replace("github.sha }}", "github.sha == }}"), /Unexpected end of expression/],
    ["an unknown context", good.replace("github.sha", "secretz.TOKEN"), /Unrecognized named-value: 'secretz'/],
    ["an unknown function", good.replace("github.sha", "nosuchfn(github.sha)"), /Unrecognized function: 'nosuchfn'/],
    ["a job that needs a job that does not exist", good.replace("    steps:", "    needs: nope\n    steps:"), /nope|at least one job with no dependencies/],
  ])("reports %s", async (_what, text, message) => {
    const errors = await githubParseErrors("broken.yml", text);
    expect(errors.join("\n")).toMatch(message);
  });
});

describe("every workflow", () => {
  it("the five workflows exist and parse", () => {
    expect(files.sort()).toEqual(expect.arrayContaining(["auto-merge.yml", "deploy.yml", "drift.yml", "preview.yml", "rollback.yml"]));
    for (const f of files) expect(() => load(f), f).not.toThrow();
  });

  it("every job runs on an Ubuntu runner", () => {
    for (const { f, id, job } of allJobs()) expect(String(job["runs-on"]), `${f} ${id}`).toMatch(/^ubuntu-/);
  });

  it("every action is pinned to a major version tag or a commit SHA", () => {
    for (const { f, id, job } of allJobs()) {
      for (const s of job.steps.filter((s) => s.uses)) {
        expect(s.uses, `${f} ${id}`).toMatch(/^[\w.-]+\/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/);
      }
    }
  });

  it("no job or step has continue-on-error", () => {
    for (const { f, id, job } of allJobs()) {
      expect(job["continue-on-error"], `${f} ${id}`).toBeUndefined();
      for (const s of job.steps) expect(s["continue-on-error"], `${f} ${id} ${s.name ?? s.uses}`).toBeUndefined();
    }
  });

  it("no shell step swallows a failure (|| true, set +e)", () => {
    for (const { f, id, job } of allJobs()) expect(runs(job), `${f} ${id}`).not.toMatch(/\|\|\s*true|set \+e|; *true\s*$/m);
  });

  it("runs its shell steps with pipefail (shell: bash)", () => {
    for (const [f, w] of Object.entries(workflows)) {
      expect((w as Workflow & { defaults?: { run?: { shell?: string } } }).defaults?.run?.shell, f).toBe("bash");
    }
  });

  it("grants the token read-only contents by default", () => {
    for (const [f, w] of Object.entries(workflows)) expect(w.permissions, f).toEqual({ contents: "read" });
  });

  it("never runs pull request code with secrets through pull_request_target", () => {
    for (const [f, w] of Object.entries(workflows)) expect(Object.keys(w.on), f).not.toContain("pull_request_target");
  });

  it("reads only the documented secrets, and the engine's GITHUB_TOKEN is the FLIGHTDECK_GITHUB_TOKEN PAT", () => {
    const allowed = ["FLY_API_TOKEN", "FLIGHTDECK_GITHUB_TOKEN", "CLOUDFLARE_API_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_BACKEND_URL", "FLIGHTDECK_NOTIFY_WEBHOOK_URL"];
    // auto-merge.yml runs no engine: its one secret is the token that enables auto-merge (see auto-merge.test.ts).
    const own: Record<string, { allowed: string[]; token: string }> = {
      "auto-merge.yml": { allowed: ["FLIGHTDECK_AUTOMERGE_TOKEN"], token: "${{ secrets.FLIGHTDECK_AUTOMERGE_TOKEN }}" },
    };
    for (const f of files) {
      const text = fs.readFileSync(path.join(dir, f), "utf8");
      for (const m of text.matchAll(/secrets\.([A-Z_]+)/g)) expect(own[f]?.allowed ?? allowed, `${f}: secrets.${m[1]}`).toContain(m[1]);
      for (const m of text.matchAll(/GITHUB_TOKEN:\s*(.+)/g)) expect(m[1].trim(), f).toBe(own[f]?.token ?? "${{ secrets.FLIGHTDECK_GITHUB_TOKEN }}");
    }
  });

  it("every job that runs the engine refuses a missing or file:// backend first", () => {
    for (const { f, id, job } of allJobs()) {
      if (!/npm run (deploy|rollback|flightdeck)/.test(runs(job))) continue;
      expect(job.env?.PULUMI_BACKEND_URL, `${f} ${id}`).toBe("${{ secrets.PULUMI_BACKEND_URL }}");
      expect(runs(job), `${f} ${id}`).toMatch(/file:\/\/\*\).*exit 1/);
    }
  });

  it("every job that runs the engine installs the Pulumi CLI pinned to package-lock.json's SDK", () => {
    for (const { f, id, job } of allJobs()) {
      if (!/scripts\/engine\.sh|npm (run|test)/.test(runs(job))) continue;
      expect(runs(job), `${f} ${id}`).toMatch(/node_modules\/@pulumi\/pulumi'\]\.version/);
      expect(runs(job), `${f} ${id}`).toMatch(/get\.pulumi\.com \| sh -s -- --version "\$version"/);
    }
  });
});

describe("deploy.yml", () => {
  const w = () => wf("deploy.yml");

  it("runs on pushes to main", () => {
    expect(w().on).toEqual({ push: { branches: ["main"] } });
  });

  it("builds and pushes the image with flyctl's docker login and outputs its digest", () => {
    const image = w().jobs.image;
    expect(runs(image)).toContain("flyctl auth docker");
    expect(runs(image)).toMatch(/docker build/);
    expect(runs(image)).toMatch(/docker push/);
    expect(image.outputs?.digest).toBe("${{ steps.push.outputs.digest }}");
  });

  it("deploys each stack in its own concurrency group, never cancelling one in progress", () => {
    for (const stack of ["staging", "production"]) {
      const job = w().jobs[stack];
      expect(group(job), stack).toEqual({ group: `flightdeck-deploy-${stack}`, "cancel-in-progress": false });
      expect(runs(job)).toMatch(new RegExp(`npm run deploy -- --stack ${stack} --release "\\$RELEASE"`));
      expect(job.env?.RELEASE).toMatch(/^registry\.fly\.io\/\$\{\{ needs\.image\.outputs\.\w+ \}\}@\$\{\{ needs\.image\.outputs\.digest \}\}$/);
    }
  });

  it("production waits for its GitHub environment (reviewers, branch policy) and for staging", () => {
    const prod = w().jobs.production;
    expect(envName(prod)).toBe("production");
    expect(prod.needs).toEqual(expect.arrayContaining(["staging", "image"]));
  });

  it("staging deploys in the staging environment", () => {
    expect(envName(w().jobs.staging)).toBe("staging");
  });
});

describe("preview.yml", () => {
  const w = () => wf("preview.yml");
  const commentSteps = (job: Job) =>
    job.steps.filter((s) => s.uses?.startsWith("actions/github-script@") || /gh pr comment/.test(s.run ?? ""));

  it("runs on pull requests", () => {
    expect(Object.keys(w().on)).toEqual(["pull_request"]);
  });

  it("runs the tests before the preview", () => {
    expect(runs(w().jobs.test)).toMatch(/^npm test$/m);
    expect(w().jobs.preview.needs).toBe("test");
  });

  it("previews staging and production with the comment file", () => {
    expect(runs(w().jobs.preview)).toContain("npm run flightdeck -- preview --stack staging --stack production --comment-file preview.md");
  });

  it("posts exactly one comment step, which updates the sticky comment found by its marker", () => {
    const all = Object.values(w().jobs).flatMap(commentSteps);
    expect(all).toHaveLength(1);
    const script = String(all[0].with?.script);
    expect(script).toContain("<!-- flightdeck-preview -->");
    expect(script).toContain("updateComment");
    expect(all[0].if).toMatch(/always\(\)/);
  });

  it("only the preview job may write to pull requests", () => {
    expect(w().jobs.preview.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    for (const [id, job] of Object.entries(w().jobs)) if (id !== "preview") expect(job.permissions, id).toBeUndefined();
  });

  // Each check is its own job, so each is its own status check the default branch can require.
  const checkJobs = ["typecheck", "test", "secret-scan", "dependency-audit"];
  const checkJob = (id: string) => {
    const job = w().jobs[id];
    if (!job) throw new Error(`preview.yml has no job "${id}"`);
    return job;
  };

  it("runs typecheck, tests, secret scan and dependency audit as separate jobs, none of them given secrets", () => {
    expect(checkJobs.map((id) => checkJob(id).name ?? id)).toEqual(["typecheck", "tests", "secret-scan", "dependency-audit"]);
    const text = fs.readFileSync(path.join(dir, "preview.yml"), "utf8");
    const jobText = (id: string) => text.slice(text.indexOf(`\n  ${id}:\n`)).split(/\n  [\w-]+:\n/)[1] ?? "";
    for (const id of checkJobs) {
      expect(checkJob(id).env, id).toBeUndefined();
      expect(jobText(id), id).not.toMatch(/secrets\./);
    }
  });

  it("typecheck runs tsc over the whole project without the engine", () => {
    expect(runs(checkJob("typecheck"))).toMatch(/^node_modules\/\.bin\/tsc --noEmit -p \.$/m);
    expect(runs(checkJob("typecheck"))).not.toMatch(/engine\.sh/);
  });

  it("secret-scan runs the pinned gitleaks over the whole git history with the repository's config", () => {
    const job = checkJob("secret-scan");
    const checkout = job.steps.find((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkout?.with?.["fetch-depth"]).toBe(0); // a shallow clone would hide old commits
    expect(runs(job)).toMatch(/^scripts\/gitleaks\.sh git .*--config \.gitleaks\.toml \.$/m);
    expect(runs(job)).not.toMatch(/latest/);
  });

  it("scripts/gitleaks.sh pins one gitleaks version, never latest", () => {
    const script = fs.readFileSync(path.resolve(__dirname, "../../scripts/gitleaks.sh"), "utf8");
    expect(script).toMatch(/^version="v8\.\d+\.\d+"$/m);
    expect(script).toContain('go install "github.com/zricethezav/gitleaks/v8@$version"');
    expect(script).not.toMatch(/@latest/);
  });

  it("dependency-audit fails on high and critical advisories in every dependency", () => {
    expect(runs(checkJob("dependency-audit"))).toMatch(/^npm audit --audit-level=high$/m);
  });
});

describe("rollback.yml", () => {
  const w = () => wf("rollback.yml");

  it("is dispatched by hand with a stack and an optional version", () => {
    const inputs = (w().on.workflow_dispatch as { inputs: Record<string, { required?: boolean; options?: string[] }> }).inputs;
    expect(inputs.stack.required).toBe(true);
    expect(inputs.stack.options).toEqual(["staging", "production"]);
    expect(inputs.version.required).toBe(false);
  });

  it("shares deploy's concurrency group for the stack and runs in its environment", () => {
    const job = w().jobs.rollback;
    expect(group(job)).toEqual({ group: "flightdeck-deploy-${{ inputs.stack }}", "cancel-in-progress": false });
    expect(envName(job)).toBe("${{ inputs.stack }}");
  });

  it("runs npm run rollback with --to only when a version was given, inputs through env", () => {
    const job = w().jobs.rollback;
    expect(runs(job)).toContain('npm run rollback -- --stack "$STACK" --to "$VERSION"');
    expect(runs(job)).toContain('npm run rollback -- --stack "$STACK"\n');
    expect(runs(job)).not.toContain("${{ inputs.");
  });
});

describe("drift.yml", () => {
  const w = () => wf("drift.yml");

  it("runs daily and on demand", () => {
    expect(Object.keys(w().on).sort()).toEqual(["schedule", "workflow_dispatch"]);
  });

  it("checks each stack with the drift command, failing the job on drift", () => {
    const job = w().jobs.drift;
    expect((job as Job & { strategy: { matrix: { stack: string[] } } }).strategy.matrix.stack).toEqual(["staging", "production"]);
    expect(runs(job)).toMatch(/npm run --silent flightdeck -- drift --stack "\$STACK" \| tee drift\.txt/);
  });

  it("is not in a GitHub environment (production's reviewers would hold it) nor in deploy's group", () => {
    const job = w().jobs.drift;
    expect(job.environment).toBeUndefined();
    expect(group(job)?.group).not.toMatch(/deploy/);
  });
});

describe("required status checks and provider plugins", () => {
  // A check's context is the job's name as GitHub reports it; checks run on pull requests.
  const prCheckNames = () =>
    Object.values(workflows)
      .filter((w) => w.on && "pull_request" in w.on)
      .flatMap((w) => Object.entries(w.jobs).map(([id, job]) => job.name ?? id));

  it.each(["staging", "production"])("every check %s's default branch requires is a job the pull-request workflows report", (stack) => {
    const required = ((stackFileConfig(stack).github as { requiredChecks?: string[] }).requiredChecks ?? []);
    expect(required.length).toBeGreaterThan(0);
    for (const check of required) expect(prCheckNames(), `${stack}: required check "${check}"`).toContain(check);
  });

  it.each(["staging", "production"])("trunk-merge-settings in policies/config/%s.json lists exactly the checks the pull-request workflows report", (stack) => {
    const config = JSON.parse(fs.readFileSync(path.resolve(__dirname, `../../policies/config/${stack}.json`), "utf8")) as Record<string, { reportedChecks?: string[] }>;
    const listed = config["trunk-merge-settings"]?.reportedChecks;
    expect(listed, `${stack}.json: trunk-merge-settings.reportedChecks`).toBeDefined();
    expect([...listed!].sort()).toEqual([...new Set(prCheckNames())].sort());
  });

  it("every job that runs the engine on a cloud stack installs the provider plugins first", () => {
    for (const { f, id, job } of allJobs()) {
      const steps = job.steps.map((s) => s.run ?? "");
      const engine = steps.findIndex((r) => /npm run (deploy|rollback|flightdeck|drift|preview)\b/.test(r));
      if (engine < 0) continue;
      const plugins = steps.findIndex((r) => r.trim() === "scripts/install-plugins.sh");
      expect(plugins, `${f} ${id}: scripts/install-plugins.sh`).toBeGreaterThanOrEqual(0);
      expect(plugins, `${f} ${id}: plugins before the engine runs`).toBeLessThan(engine);
    }
  });

  it("scripts/install-plugins.sh installs each @pulumi provider package.json depends on, at its locked version", () => {
    const root = path.resolve(__dirname, "../..");
    const fake = fs.mkdtempSync(path.join(os.tmpdir(), "fd-fake-pulumi-"));
    const calls = path.join(fake, "calls");
    fs.writeFileSync(path.join(fake, "pulumi"), `#!/bin/sh\necho "$@" >> ${calls}\necho "$PULUMI_HOME" > ${calls}.home\n`, { mode: 0o755 });
    const { PULUMI_HOME: _home, ...env } = process.env;
    execFileSync(path.join(root, "scripts/install-plugins.sh"), { env: { ...env, PATH: `${fake}:${process.env.PATH}` }, stdio: "pipe" });
    // Where scripts/engine.sh's engine looks for plugins (a bare `pulumi plugin install` would use ~/.pulumi).
    expect(fs.readFileSync(`${calls}.home`, "utf8").trim()).toBe(path.join(root, ".pulumi/home"));
    const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    const expected = Object.keys(pkg.dependencies)
      .filter((d) => d.startsWith("@pulumi/") && !["@pulumi/pulumi", "@pulumi/policy"].includes(d))
      .map((d) => `plugin install resource ${d.slice("@pulumi/".length)} ${lock.packages[`node_modules/${d}`]!.version}`);
    expect(expected).toEqual(expect.arrayContaining(["plugin install resource github 6.15.0"]));
    expect(fs.readFileSync(calls, "utf8").trim().split("\n").sort()).toEqual(expected.sort());
    fs.rmSync(fake, { recursive: true, force: true });
  });
});
