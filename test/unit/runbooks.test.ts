/**
 * The runbooks in docs/runbooks/ name only commands that exist: every `npm run <script>` is a script in
 * package.json, every flightdeck command and option is in the CLI's commander tree (imported, not
 * copied), every `gh workflow run` names a workflow input that exists, every variable a block reads is
 * documented under "Before you start", and every page has its sections. Running the blocks for real
 * is test/integration/runbooks.test.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { program } from "../../stacks/cli";
import { projectDir } from "../../stacks/workspace";
import {
  REQUIRED_RUNBOOKS,
  SECTIONS,
  checkNpmCommands,
  checkWorkflowRuns,
  documentedVariables,
  headings,
  runbookDir,
  runbookFiles,
  shBlocks,
  usedVariables,
  type Problem,
} from "../support/runbooks";

const scripts = (JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
const files = runbookFiles();
const rel = (f: string) => path.relative(projectDir, f);
const show = (ps: Problem[]) => ps.map((p) => `${p.file}:${p.line}: ${p.command}\n  ${p.problem}`);

describe("runbooks", () => {
  it("every required runbook exists", () => {
    expect(REQUIRED_RUNBOOKS.filter((f) => !fs.existsSync(path.join(runbookDir, f)))).toEqual([]);
  });

  it.each(files.map((f) => [rel(f), f]))("%s has its sections in order", (_, file) => {
    expect(headings(file)).toEqual([...SECTIONS]);
  });

  it.each(files.map((f) => [rel(f), f]))("%s starts with its variables, STACK among them, and has runnable steps", (_, file) => {
    const blocks = shBlocks(file);
    expect(blocks[0]?.runnable, "the first block is the `sh no-run` block of `export` lines").toBe(false);
    expect([...documentedVariables(file)]).toContain("STACK");
    expect(blocks.filter((b) => b.runnable).length).toBeGreaterThan(0);
  });

  it.each(files.map((f) => [rel(f), f]))("%s: every npm script, flightdeck command and option exists", (_, file) => {
    expect(show(shBlocks(file).flatMap((b) => checkNpmCommands(b, scripts, program)))).toEqual([]);
  });

  it.each(files.map((f) => [rel(f), f]))("%s: every `gh workflow run` names a workflow and inputs that exist", (_, file) => {
    expect(show(shBlocks(file).flatMap(checkWorkflowRuns))).toEqual([]);
  });

  it.each(files.map((f) => [rel(f), f]))("%s: every variable a block reads is documented under Before you start", (_, file) => {
    const documented = documentedVariables(file);
    const undocumented = shBlocks(file)
      .slice(1)
      .flatMap((b) => usedVariables(b.code).filter((v) => !documented.has(v)).map((v) => `${rel(file)}:${b.line}: $${v}`));
    expect(undocumented).toEqual([]);
  });

  it("the index links every runbook, and every link between runbooks resolves", () => {
    const index = fs.readFileSync(path.join(runbookDir, "README.md"), "utf8");
    expect(files.map((f) => path.basename(f)).filter((f) => !index.includes(`](${f})`))).toEqual([]);
    const broken = [path.join(runbookDir, "README.md"), ...files].flatMap((f) =>
      [...fs.readFileSync(f, "utf8").matchAll(/\]\(([^)#:]+\.md)\)/g)]
        .map((m) => m[1]!)
        .filter((target) => !fs.existsSync(path.join(path.dirname(f), target)))
        .map((target) => `${rel(f)} → ${target}`),
    );
    expect(broken).toEqual([]);
  });

  it("README.md links the runbooks' index", () => {
    expect(fs.readFileSync(path.join(projectDir, "README.md"), "utf8")).toContain("](docs/runbooks/README.md)");
  });
});

describe("the runbook checker", () => {
  const block = (code: string) => ({ file: path.join(runbookDir, "x.md"), line: 10, info: "sh", code, runnable: true, exit: 0 });
  const problems = (code: string) => checkNpmCommands(block(code), scripts, program).map((p) => p.problem);

  it.each([
    ["npm run deploy -- --stack \"$STACK\" --release \"$RELEASE\""],
    ["npm run -s flightdeck -- rollback --stack x --to 3"],
    ["npm run preview -- --stack staging production --release r"],
    ["npm run drift -- --stack x --no-pending"],
    ["npm run flightdeck -- status --json"],
    ["if npm run -s pulumi -- stack export | grep -q x; then exit 1; fi"],
  ])("accepts %s", (code) => {
    expect(problems(code)).toEqual([]);
  });

  it.each([
    ["npm run deploi -- --stack x", /npm script "deploi"/],
    ["npm run flightdeck -- deplo --stack x", /"deplo" is not a flightdeck command/],
    ["npm run deploy -- --stak x", /deploy has no option --stak/],
    ["npm run rollback -- --stack x --to", /--to needs a value/],
    ["npm run status -- production", /takes no argument "production"/],
    ["echo start && npm run history -- --json=yes", /--json takes no value/],
  ])("refuses %s", (code, message) => {
    expect(problems(code).join("\n")).toMatch(message);
  });

  it("names the file and line of a refused command", () => {
    const [p] = checkNpmCommands(block("npm run status\n\nnpm run deploy -- --bad"), scripts, program);
    expect(p).toMatchObject({ file: "docs/runbooks/x.md", line: 12, command: "npm run deploy -- --bad" });
  });

  it("refuses a workflow input that does not exist", () => {
    expect(checkWorkflowRuns(block('gh workflow run rollback.yml -f stack="$STACK" -f versoin=3')).map((p) => p.problem)).toEqual([
      expect.stringMatching(/rollback.yml has no input "versoin"/),
    ]);
  });
});
