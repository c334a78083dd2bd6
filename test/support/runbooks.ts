/**
 * Reads the runbooks in docs/runbooks/ as a test sees them: their fenced `sh` blocks (runnable or
 * not, and the exit status each is expected to end with), the variables they read, and the project
 * commands they name, checked against package.json and the CLI's commander tree.
 */
import type { Command, Option } from "commander";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { projectDir } from "../../stacks/workspace";

export const runbookDir = path.join(projectDir, "docs", "runbooks");

/** The runbooks every checkout must have (lost-backend.md is checked too once it exists). */
export const REQUIRED_RUNBOOKS = ["failed-deploy.md", "stuck-deploy.md", "leaked-secret.md", "deploy-window-emergency.md"] as const;

/** The sections every runbook has, in this order. */
export const SECTIONS = ["Before you start", "Symptoms", "Diagnosis", "Steps", "Verification", "Escalation"] as const;

/** Every runbook page (docs/runbooks/*.md but the index), sorted. */
export function runbookFiles(dir = runbookDir): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".md") && f !== "README.md")
    .sort()
    .map((f) => path.join(dir, f));
}

export interface Block {
  file: string;
  /** 1-based line of the block's first command line. */
  line: number;
  /** The fence's info string, e.g. `sh`, `sh exit=1`, `sh no-run`. */
  info: string;
  code: string;
  /** Runs in the integration test (not marked `no-run`). */
  runnable: boolean;
  /** The exit status the runbook says the block ends with (`exit=N`, default 0). */
  exit: number;
}

/** The fenced `sh` blocks of a markdown file, in order (indented fences in list items included). */
export function shBlocks(file: string): Block[] {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[j]!); j++) body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!);
    const words = info.trim().split(/\s+/);
    if (words[0] === "sh" || words[0] === "bash") {
      const exit = words.find((w) => w.startsWith("exit="));
      blocks.push({ file, line: i + 2, info: info.trim(), code: body.join("\n"), runnable: !words.includes("no-run"), exit: exit ? Number(exit.slice(5)) : 0 });
    }
    i = j;
  }
  return blocks;
}

/** The `## ` headings of a markdown file, in order. */
export function headings(file: string): string[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("## "))
    .map((l) => l.slice(3).trim());
}

/** Variables a runbook documents: the `export NAME=` lines of its *Before you start* block. */
export function documentedVariables(file: string): Set<string> {
  const first = shBlocks(file)[0];
  if (!first || first.runnable) return new Set();
  return new Set([...first.code.matchAll(/^\s*export\s+([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
}

/** Variables a block reads (`$NAME`, `${NAME}`), without those it sets itself or the shell's own. */
export function usedVariables(code: string): string[] {
  // Inside single quotes the shell expands nothing: `node -e '… process.env.X …'` reads X itself.
  const unquoted = code.replace(/'[^']*'/g, "''");
  const used = new Set([...unquoted.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!));
  const envRead = [...code.matchAll(/process\.env\.([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!);
  const destructured = [...code.matchAll(/\{([^}]*)\}\s*=\s*process\.env/g)].flatMap((m) => [...m[1]!.matchAll(/([A-Z_][A-Z0-9_]*)\s*(?::|,|$)/g)].map((x) => x[1]!));
  const own = new Set([...code.matchAll(/(?:^|\s)(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]!));
  return [...new Set([...used, ...envRead, ...destructured])].filter((v) => !own.has(v) && !["PWD", "HOME", "PATH"].includes(v));
}

/** Shell words of one block, with line numbers, split into simple commands at `&&`, `||`, `;`, `|`, newlines. */
export function simpleCommands(block: Block): { line: number; words: string[]; text: string }[] {
  const out: { line: number; words: string[]; text: string }[] = [];
  const src = block.code.replace(/\\\n/g, "  ");
  let line = block.line;
  let words: string[] = [];
  let word: string | undefined;
  let text = "";
  let startLine = line;
  const endWord = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) out.push({ line: startLine, words, text: text.trim() });
    words = [];
    text = "";
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (words.length === 0 && word === undefined) startLine = line;
    if (c === "'" || c === '"') {
      const close = src.indexOf(c, i + 1);
      const end = close === -1 ? src.length : close;
      const quoted = src.slice(i + 1, end);
      line += (quoted.match(/\n/g) ?? []).length;
      word = (word ?? "") + quoted;
      text += src.slice(i, end + 1);
      i = end;
      continue;
    }
    if (c === "#" && word === undefined) {
      while (i + 1 < src.length && src[i + 1] !== "\n") i++;
      continue;
    }
    if (c === "\n" || c === ";" || c === "|" || c === "&") {
      endCommand();
      if (c === "\n") line++;
      continue;
    }
    text += c;
    if (/\s/.test(c)) endWord();
    else word = (word ?? "") + c;
  }
  endCommand();
  return out;
}

/** The npm scripts that run one CLI command: `npm run deploy -- …` is `flightdeck deploy …`. */
const SCRIPT_COMMANDS: Record<string, string> = { deploy: "deploy", rollback: "rollback", status: "status", history: "history", preview: "preview", drift: "drift" };

export interface Problem {
  file: string;
  line: number;
  command: string;
  problem: string;
}

/** Checks every `npm run …` in a block: the script exists; a CLI command and its options exist. */
export function checkNpmCommands(block: Block, scripts: Record<string, string>, program: Command): Problem[] {
  const problems: Problem[] = [];
  for (const cmd of simpleCommands(block)) {
    const at = cmd.words.findIndex((w, i) => w === "npm" && ["run", "run-script"].includes(cmd.words[i + 1] ?? ""));
    if (at === -1) continue;
    const say = (problem: string) => problems.push({ file: path.relative(projectDir, block.file), line: cmd.line, command: cmd.text, problem });
    const rest = cmd.words.slice(at + 2);
    while (rest[0]?.startsWith("-") && rest[0] !== "--") rest.shift(); // npm's own flags (-s)
    const script = rest.shift();
    if (!script || !(script in scripts)) {
      say(`npm script "${script ?? ""}" is not in package.json (scripts: ${Object.keys(scripts).join(", ")})`);
      continue;
    }
    const args = rest[0] === "--" ? rest.slice(1) : rest;
    let commandName: string | undefined = SCRIPT_COMMANDS[script];
    if (script === "flightdeck") commandName = args.shift();
    else if (commandName === undefined) continue; // pulumi, test, bench…: the script is the contract
    const command = program.commands.find((c) => c.name() === commandName || c.aliases().includes(commandName ?? ""));
    if (!command) {
      say(`"${commandName ?? ""}" is not a flightdeck command (commands: ${program.commands.map((c) => c.name()).join(", ")})`);
      continue;
    }
    problems.push(...checkOptions(command, args).map((problem) => ({ file: path.relative(projectDir, block.file), line: cmd.line, command: cmd.text, problem })));
  }
  return problems;
}

function checkOptions(command: Command, args: string[]): string[] {
  const problems: string[] = [];
  const options = command.options as readonly Option[];
  const known = options.flatMap((o) => [o.short, o.long]).filter(Boolean).join(", ");
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--help" || arg === "-h") continue;
    if (!arg.startsWith("-")) {
      problems.push(`${command.name()} takes no argument "${arg}" (options: ${known})`);
      continue;
    }
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const option = options.find((o) => o.long === flag || o.short === flag);
    if (!option) {
      problems.push(`${command.name()} has no option ${flag} (options: ${known})`);
      continue;
    }
    const takesValue = option.required || option.optional;
    if (!takesValue && inline !== undefined) problems.push(`${command.name()} ${flag} takes no value`);
    if (!takesValue || inline !== undefined) continue;
    if (option.required && (args[i + 1] === undefined || args[i + 1]!.startsWith("-"))) problems.push(`${command.name()} ${flag} needs a value`);
    if (option.required || (args[i + 1] !== undefined && !args[i + 1]!.startsWith("-"))) i++;
    while (option.variadic && args[i + 1] !== undefined && !args[i + 1]!.startsWith("-")) i++;
  }
  return problems;
}

/** Checks every `gh workflow run <file> -f name=value` against the workflow's dispatch inputs. */
export function checkWorkflowRuns(block: Block): Problem[] {
  const problems: Problem[] = [];
  for (const cmd of simpleCommands(block)) {
    const at = cmd.words.findIndex((w, i) => w === "gh" && cmd.words[i + 1] === "workflow" && cmd.words[i + 2] === "run");
    if (at === -1) continue;
    const say = (problem: string) => problems.push({ file: path.relative(projectDir, block.file), line: cmd.line, command: cmd.text, problem });
    const name = cmd.words[at + 3] ?? "";
    const file = path.join(projectDir, ".github", "workflows", name);
    if (!fs.existsSync(file)) {
      say(`no workflow .github/workflows/${name}`);
      continue;
    }
    const on = (YAML.parse(fs.readFileSync(file, "utf8")) as { on?: Record<string, { inputs?: Record<string, unknown> } | null> }).on ?? {};
    if (!("workflow_dispatch" in on)) {
      say(`${name} cannot be run by hand (no workflow_dispatch)`);
      continue;
    }
    const inputs = Object.keys(on.workflow_dispatch?.inputs ?? {});
    const words = cmd.words.slice(at + 4);
    for (let i = 0; i < words.length; i++) {
      if (words[i] !== "-f" && words[i] !== "-F" && words[i] !== "--field" && words[i] !== "--raw-field") continue;
      const input = (words[i + 1] ?? "").split("=")[0]!;
      if (!inputs.includes(input)) say(`${name} has no input "${input}" (inputs: ${inputs.join(", ") || "none"})`);
      i++;
    }
  }
  return problems;
}
