/**
 * The next version from conventional commits: breaking → major, feat → minor, anything else → patch.
 * Pure, apart from loading the parser. No 0.x special case: the first release after no tag is
 * counted from 0.0.0 (a feature makes it 0.1.0, a breaking change 1.0.0), and from then on the
 * rules are the same whatever the major, so a reader never has to remember which era a tag is from.
 */
import semver from "semver";
// conventional-commits-parser is ESM-only, and its types do not resolve under this project's
// `moduleResolution: node` (which the Pulumi program's ts-node needs, so it stays). The types come
// from the file itself; the module is loaded with import() through a variable, so TypeScript does
// not compile it to require() (which cannot load ESM on Node 20).
import type * as Ccp from "../../node_modules/conventional-commits-parser/dist/index";

export interface RawCommit {
  sha: string;
  /** The whole message: subject, body and footers. */
  message: string;
}

export type ChangeKind = "breaking" | "feature" | "fix" | "other";

export interface Change {
  sha: string;
  kind: ChangeKind;
  /** `scope: subject` for a conventional commit; the first line for any other. */
  summary: string;
  /** What a `BREAKING CHANGE:` footer (or a `!` header) says breaks. */
  breaking?: string;
}

// `type(scope)!: subject`: the `!` is optional in the header and marks a breaking change.
const HEADER = /^(\w*)(?:\(([\w$@.\-*/ ]*)\))?!?: (.*)$/;
const BREAKING_HEADER = /^(\w*)(?:\(([\w$@.\-*/ ]*)\))?!: (.*)$/;

let parser: Promise<Ccp.CommitParser> | undefined;
async function commitParser(): Promise<Ccp.CommitParser> {
  // A variable specifier: with a literal, TypeScript (module: commonjs) would turn import() into require().
  const specifier: string = "conventional-commits-parser";
  parser ??= (import(specifier) as Promise<typeof Ccp>).then(({ CommitParser }) => new CommitParser({ headerPattern: HEADER, breakingHeaderPattern: BREAKING_HEADER }));
  return parser;
}

/** One commit as a change: its kind decides the bump and the notes' group. */
export async function classify(commit: RawCommit): Promise<Change> {
  const firstLine = commit.message.trim().split("\n")[0] ?? "";
  const parsed = (await commitParser()).parse(commit.message.trim() || "(no message)");
  const type = (parsed.type ?? "").toLowerCase();
  const subject = parsed.subject ?? "";
  const note = parsed.notes.find((n) => /^BREAKING[ -]CHANGE$/i.test(n.title));
  if (!type || !subject) return { sha: commit.sha, kind: "other", summary: firstLine };
  const summary = parsed.scope ? `${parsed.scope}: ${subject}` : subject;
  if (note) return { sha: commit.sha, kind: "breaking", summary, breaking: note.text.trim() || subject };
  const kind: ChangeKind = type === "feat" ? "feature" : type === "fix" ? "fix" : "other";
  return { sha: commit.sha, kind, summary };
}

export async function classifyAll(commits: readonly RawCommit[]): Promise<Change[]> {
  const out: Change[] = [];
  for (const c of commits) out.push(await classify(c));
  return out;
}

export type Bump = "major" | "minor" | "patch";

/** The largest bump the changes ask for; none without changes (no commits: no release). */
export function bumpOf(changes: readonly Change[]): Bump | undefined {
  if (changes.length === 0) return undefined;
  if (changes.some((c) => c.kind === "breaking")) return "major";
  if (changes.some((c) => c.kind === "feature")) return "minor";
  // Chores, docs and commits that follow no convention still changed what production runs.
  return "patch";
}

/** `v1.2.3` → `1.2.3`; undefined for a tag that is not a release version. */
export function versionOfTag(tag: string): string | undefined {
  if (!tag.startsWith("v")) return undefined;
  const v = semver.valid(tag.slice(1));
  return v && semver.prerelease(v) === null ? v : undefined;
}

/** The next version after `last` (a version, not a tag; undefined: nothing released yet). */
export function nextVersion(last: string | undefined, changes: readonly Change[]): string | undefined {
  const bump = bumpOf(changes);
  if (!bump) return undefined;
  const next = semver.inc(last ?? "0.0.0", bump);
  if (!next) throw new Error(`cannot bump ${last ?? "0.0.0"} by ${bump}`);
  return next;
}
