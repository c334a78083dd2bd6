import { describe, expect, it } from "vitest";
import { renderNotes } from "../../stacks/release/notes";
import { bumpOf, classify, classifyAll, nextVersion, versionOfTag, type RawCommit } from "../../stacks/release/version";
import { buildRecord } from "../../stacks/records";

let n = 0;
const c = (message: string): RawCommit => ({ sha: (++n).toString(16).padStart(40, "a"), message });

describe("release version from conventional commits", () => {
  it("fix → patch, feat → minor, a ! header or a BREAKING CHANGE footer → major", async () => {
    expect(nextVersion("1.2.3", await classifyAll([c("fix: handle empty cart")]))).toBe("1.2.4");
    expect(nextVersion("1.2.3", await classifyAll([c("fix: a"), c("feat(checkout): one-click pay")]))).toBe("1.3.0");
    expect(nextVersion("1.2.3", await classifyAll([c("feat(api)!: drop v1 endpoints")]))).toBe("2.0.0");
    expect(nextVersion("1.2.3", await classifyAll([c("refactor: rename\n\nBREAKING CHANGE: the config key moved")]))).toBe("2.0.0");
    expect(nextVersion("1.2.3", await classifyAll([c("fix: x\n\nBREAKING-CHANGE: y")]))).toBe("2.0.0");
  });

  it("no commits: no release; only chores or non-conventional commits: a patch, listed under other", async () => {
    expect(bumpOf([])).toBeUndefined();
    expect(nextVersion("1.2.3", [])).toBeUndefined();
    const other = await classifyAll([c("chore: bump deps"), c("Update README"), c("WIP")]);
    expect(other.map((x) => x.kind)).toEqual(["other", "other", "other"]);
    expect(other.map((x) => x.summary)).toEqual(["bump deps", "Update README", "WIP"]);
    expect(nextVersion("1.2.3", other)).toBe("1.2.4");
  });

  it("the first release counts from 0.0.0, and 0.x follows the same rules", async () => {
    expect(nextVersion(undefined, await classifyAll([c("feat: first")]))).toBe("0.1.0");
    expect(nextVersion(undefined, await classifyAll([c("fix: first")]))).toBe("0.0.1");
    expect(nextVersion("0.4.1", await classifyAll([c("feat!: big")]))).toBe("1.0.0");
  });

  it("reads scopes and breaking notes, and only v-prefixed release versions are tags", async () => {
    expect(await classify(c("feat(ui)!: new layout"))).toMatchObject({ kind: "breaking", summary: "ui: new layout", breaking: "new layout" });
    expect(await classify(c("fix(db): retry\n\nBREAKING CHANGE: pool size is now required"))).toMatchObject({ kind: "breaking", breaking: "pool size is now required" });
    expect(versionOfTag("v1.2.3")).toBe("1.2.3");
    expect(versionOfTag("1.2.3")).toBeUndefined();
    expect(versionOfTag("v1.2.3-rc.1")).toBeUndefined();
    expect(versionOfTag("vnext")).toBeUndefined();
  });

  it("notes group the changes and name the image digest and the deployment record", async () => {
    const changes = await classifyAll([c("feat: pay"), c("fix: cart"), c("feat!: v2 api"), c("Merge stuff")]);
    const digest = `sha256:${"ab".repeat(32)}`;
    const at = Date.parse("2026-12-01T14:00:00Z");
    const record = buildRecord(
      { stack: "production", kind: "deploy", outcome: "succeeded", release: `registry.fly.io/flightdeck-production@${digest}`, startedAt: at, endedAt: at + 90_000, steps: [] },
      { deployer: "alice", commit: { sha: "c".repeat(40) }, runUrl: "https://github.com/o/r/actions/runs/9" },
    );
    const notes = renderNotes({ tag: "v2.0.0", previousTag: "v1.4.0", changes, record });
    expect(notes).toContain(`image digest: \`${digest}\``);
    expect(notes).toContain("deployment record: production deploy succeeded at 2026-12-01T14:01:30.000Z");
    expect(notes).toContain(`commit ${"c".repeat(40)}, run https://github.com/o/r/actions/runs/9`);
    const order = ["### Breaking changes", "- v2 api", "### Features", "- pay", "### Fixes", "- cart", "### Other", "- Merge stuff"].map((s) => notes.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});
