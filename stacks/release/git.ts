/**
 * The commits of a release, from the local checkout. Why local git and not GitHub's compare API:
 * the workflow checks out with `fetch-depth: 0` (every commit and tag is here already), `git log`
 * gives whole messages (a `BREAKING CHANGE:` footer is in the body), and the compare API stops at
 * 250 commits. GitHub is still asked whether a tag exists (publish.ts): a checkout can be stale.
 */
import { execFileSync } from "node:child_process";
import semver from "semver";
import { UsageError } from "../usage-error";
import type { RawCommit } from "./version";
import { versionOfTag } from "./version";

function git(dir: string, ...args: string[]): string {
  try {
    return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024, timeout: 30_000 });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? "").trim().split("\n")[0];
    throw new UsageError(`git ${args[0]} in ${dir} failed: ${stderr || (err as Error).message.split("\n")[0]}`);
  }
}

/** Whether `sha` is a commit this checkout has (a shallow clone may not: fetch-depth: 0). */
export function hasCommit(dir: string, sha: string): boolean {
  try {
    execFileSync("git", ["-C", dir, "cat-file", "-e", `${sha}^{commit}`], { stdio: "ignore", timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export interface ReleaseTag {
  tag: string;
  version: string;
  sha: string;
}

/** The `v*` release tags reachable from `sha`, highest version first, with the commit each names. */
export function releaseTagsBefore(dir: string, sha: string): ReleaseTag[] {
  const out = git(dir, "tag", "--merged", sha, "--list", "v*", "--format=%(refname:short)%09%(objectname)%09%(*objectname)");
  const tags: ReleaseTag[] = [];
  for (const line of out.split("\n").filter(Boolean)) {
    const [tag = "", object = "", peeled = ""] = line.split("\t");
    const version = versionOfTag(tag);
    // An annotated tag names its tag object; the commit is the peeled one.
    if (version) tags.push({ tag, version, sha: peeled || object });
  }
  return tags.sort((a, b) => semver.rcompare(a.version, b.version));
}

const FIELD = "\x1f";
const RECORD = "\x1e";

/** The commits after `from` (exclusive) up to `to`, oldest first; every commit up to `to` without `from`. */
export function commitsBetween(dir: string, from: string | undefined, to: string): RawCommit[] {
  const range = from ? `${from}..${to}` : to;
  const out = git(dir, "log", "--reverse", `--format=%H${FIELD}%B${RECORD}`, range);
  return out
    .split(RECORD)
    .map((s) => s.replace(/^\n/, ""))
    .filter((s) => s.includes(FIELD))
    .map((s) => {
      const [sha = "", message = ""] = s.split(FIELD);
      return { sha: sha.trim(), message: message.trim() };
    });
}
