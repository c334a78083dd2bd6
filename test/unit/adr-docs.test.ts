/**
 * The Architecture Decision Records in docs/adr/ keep their shape and stay true to the tree: one
 * file per decision, numbered from 0001 without gaps, each with its title, status and the four
 * sections in order; the index lists every record; README.md points at it; and every repository
 * path a record names in backticks exists, so a record cannot go on citing code that moved.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "..", "..");
const adrDir = path.join(root, "docs", "adr");
const indexFile = path.join(adrDir, "README.md");

const ADR_NAME = /^(\d{4})-[a-z0-9]+(?:-[a-z0-9]+)*\.md$/;
const SECTIONS = ["Context", "Decision", "Consequences", "Alternatives considered"];
const STATUS = /^Status: (?:proposed|accepted|rejected|deprecated|superseded by \d{4})$/m;

/** Top-level entries that are made at run time (gitignored), never cited as repository paths. */
const RUNTIME_ROOTS = new Set([".git", "node_modules", ".pulumi", ".tools", "dist"]);
const repoRoots = new Set(fs.readdirSync(root).filter((n) => !RUNTIME_ROOTS.has(n)));

/** Every file in docs/adr/ that starts with a digit: each must be a record named NNNN-kebab-title.md. */
function adrFiles(): string[] {
  return fs
    .readdirSync(adrDir)
    .filter((f) => /^\d/.test(f))
    .sort();
}

function read(file: string): string {
  return fs.readFileSync(path.join(adrDir, file), "utf8");
}

/** The text outside fenced code blocks, line by line. */
function proseLines(text: string): string[] {
  let fenced = false;
  return text.split("\n").filter((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** The `## ` sections of a record, in order, with the text under each. */
function sections(text: string): { heading: string; body: string }[] {
  const out: { heading: string; body: string }[] = [];
  for (const line of proseLines(text)) {
    const h = /^## (.+?)\s*$/.exec(line);
    if (h) out.push({ heading: h[1], body: "" });
    else if (out.length > 0) out[out.length - 1].body += `${line}\n`;
  }
  return out;
}

/** Inline code spans outside fenced blocks. */
function codeSpans(text: string): string[] {
  return proseLines(text).flatMap((line) => [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1].trim()));
}

/**
 * The repository path a code span names, or undefined when it is something else (a URL, a Go
 * module, an API route, a command, a placeholder such as `<stack>`). A path is plain characters
 * with a `/`; it is the repository's when its first segment is a top-level entry of the tree
 * (a file or a directory, e.g. `components/fly/` or `.github/workflows/deploy.yml`), or when it
 * ends in a file extension and does not start with a host name (a misspelled `compnents/x.ts`).
 */
function repoPathOf(span: string): string | undefined {
  if (!/^[A-Za-z0-9_.*-]+(?:\/[A-Za-z0-9_.*-]+)*\/?$/.test(span) || !span.includes("/")) return undefined;
  const first = span.split("/")[0];
  if (RUNTIME_ROOTS.has(first)) return undefined;
  if (repoRoots.has(first)) return span;
  const last = span.replace(/\/$/, "").split("/").pop() ?? "";
  const hasExtension = /\.[A-Za-z][A-Za-z0-9]*$/.test(last);
  return hasExtension && !first.includes(".") ? span : undefined;
}

/** Whether a repository path exists; `*` in its last segment matches any characters. */
function existsInRepo(rel: string): boolean {
  const clean = rel.replace(/\/$/, "");
  if (!clean.includes("*")) {
    const abs = path.join(root, clean);
    return rel.endsWith("/") ? fs.existsSync(abs) && fs.statSync(abs).isDirectory() : fs.existsSync(abs);
  }
  const dir = path.join(root, path.dirname(clean));
  const pattern = new RegExp(`^${path.basename(clean).replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
  return fs.existsSync(dir) && fs.readdirSync(dir).some((f) => pattern.test(f));
}

/** Relative markdown link targets (no scheme, no pure anchor), without their `#anchor`. */
function relativeLinks(text: string): string[] {
  return proseLines(text)
    .flatMap((line) => [...line.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]))
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith("#"))
    .map((t) => t.replace(/#.*$/, ""));
}

describe("docs/adr: one record per decision", () => {
  const files = adrFiles();

  it("there are records, each named NNNN-kebab-title.md", () => {
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => !ADR_NAME.test(f))).toEqual([]);
  });

  it("numbers run from 0001 with no gap or repeat", () => {
    const numbers = files.map((f) => Number(f.slice(0, 4)));
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
  });

  describe.each(files)("%s", (file) => {
    const text = read(file);
    const number = file.slice(0, 4);

    it("opens with its title line `# NNNN. Title`, its own number", () => {
      expect(text.split("\n")[0]).toMatch(new RegExp(`^# ${number}\\. \\S.*$`));
    });

    it("has a Status line before its first section", () => {
      const head = text.slice(0, text.search(/^## /m) >= 0 ? text.search(/^## /m) : text.length);
      expect(head).toMatch(STATUS);
    });

    it("has exactly the four sections, in order, none empty", () => {
      const found = sections(text);
      expect(found.map((s) => s.heading)).toEqual(SECTIONS);
      expect(found.filter((s) => s.body.trim() === "").map((s) => s.heading)).toEqual([]);
    });

    it("cites repository paths, and every one it names in backticks exists", () => {
      const paths = [...new Set(codeSpans(text).map(repoPathOf).filter((p): p is string => p !== undefined))];
      expect(paths.length).toBeGreaterThan(0);
      expect(paths.filter((p) => !existsInRepo(p))).toEqual([]);
    });

    it("every relative link resolves", () => {
      expect(relativeLinks(text).filter((l) => !fs.existsSync(path.join(adrDir, l)))).toEqual([]);
    });
  });
});

describe("docs/adr/README.md and README.md", () => {
  it("the index links every record", () => {
    const index = fs.readFileSync(indexFile, "utf8");
    const linked = new Set(relativeLinks(index));
    expect(adrFiles().filter((f) => !linked.has(f))).toEqual([]);
  });

  it("every link of the index resolves", () => {
    const index = fs.readFileSync(indexFile, "utf8");
    expect(relativeLinks(index).filter((l) => !fs.existsSync(path.join(adrDir, l)))).toEqual([]);
  });

  it("README.md links docs/adr", () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    expect(relativeLinks(readme).some((l) => /^docs\/adr\/(?:README\.md)?$/.test(l))).toBe(true);
  });
});

describe("what counts as a repository path in a record", () => {
  it("names under the tree's top-level entries, and file names with an extension", () => {
    expect(repoPathOf("components/fly/")).toBe("components/fly/");
    expect(repoPathOf("stacks/deploy.ts")).toBe("stacks/deploy.ts");
    expect(repoPathOf(".github/workflows/deploy.yml")).toBe(".github/workflows/deploy.yml");
    expect(repoPathOf("test/integration/rehearsal-*.test.ts")).toBe("test/integration/rehearsal-*.test.ts");
    expect(repoPathOf("compnents/fly/app.ts")).toBe("compnents/fly/app.ts");
  });

  it("not URLs, Go modules, routes, placeholders, commands or run-time directories", () => {
    for (const span of [
      "https://api.machines.dev/v1",
      "github.com/pulumi/pulumi/sdk/v3",
      "registry.fly.io/",
      "registry.fly.io/<app>",
      "cmd/run",
      "sdk/v3",
      "POST …/cordon",
      "policies/config/<stack>.json",
      ".pulumi/run/",
      "~/.cache/flightdeck/",
      "set weight app/green 100",
      "README.md",
    ]) {
      expect(repoPathOf(span), span).toBeUndefined();
    }
  });

  it("a glob exists when some file matches it", () => {
    expect(existsInRepo("test/unit/adr-*.test.ts")).toBe(true);
    expect(existsInRepo("test/unit/no-such-*.test.ts")).toBe(false);
  });
});
