import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** One measured figure, printed and stored beside its target. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  target: string;
  met: boolean;
}

const root = path.resolve(__dirname, "..");

/** A figure, rounded to two decimals, printed beside its target as it is measured. */
export function figure(name: string, value: number, unit: string, target: string, met: boolean): Figure {
  const f = { name, value: Math.round(value * 100) / 100, unit, target, met };
  console.log(`${met ? "✓" : "✗"} ${name.padEnd(56)} ${String(f.value).padStart(9)} ${unit.padEnd(4)} target ${target}`);
  return f;
}

/**
 * Writes bench/results/<name>.json (`{figures, …extra, commit}`) and <name>.md (a table) — the
 * shape every benchmark of the project reports in.
 */
export function writeResults(name: string, title: string, intro: string, figures: Figure[], extra: Record<string, unknown> = {}): void {
  const commit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
  const out = path.join(root, "bench", "results");
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, `${name}.json`), `${JSON.stringify({ figures, ...extra, commit }, null, 2)}\n`);
  const table = [
    `# ${title}`,
    "",
    `${intro}; commit ${commit}.`,
    "",
    "| figure | value | target | met |",
    "| --- | --- | --- | --- |",
    ...figures.map((f) => `| ${f.name} | ${f.value} ${f.unit} | ${f.target} | ${f.met ? "yes" : "**no**"} |`),
    "",
  ].join("\n");
  fs.writeFileSync(path.join(out, `${name}.md`), table);
  console.log(`\nwrote bench/results/${name}.json and bench/results/${name}.md`);
}
