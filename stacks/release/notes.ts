/**
 * Release notes: what changed since the last release, grouped (breaking, features, fixes, other),
 * and what production runs: the image digest and the deployment record that put it live. Pure.
 */
import type { DeploymentRecord } from "../records";
import { releaseIdentity } from "../promotion";
import type { Change, ChangeKind } from "./version";

const GROUPS: Array<[ChangeKind, string]> = [
  ["breaking", "Breaking changes"],
  ["feature", "Features"],
  ["fix", "Fixes"],
  ["other", "Other"],
];

export interface NotesInput {
  tag: string;
  previousTag?: string;
  changes: readonly Change[];
  /** The production deploy this release is (a succeeded deploy record). */
  record: DeploymentRecord;
}

export function renderNotes(n: NotesInput): string {
  const r = n.record;
  const release = r.release ?? "(unknown)";
  const lines = [
    `Deployed to ${r.stack}: \`${release}\``,
    "",
    `- image digest: \`${releaseIdentity(release)}\``,
    `- deployment record: ${r.stack} ${r.kind} ${r.outcome} at ${r.endedAt} (started ${r.startedAt}) by ${r.deployer}, commit ${r.commit?.sha ?? "unknown"}${r.runUrl ? `, run ${r.runUrl}` : ""}`,
    `- changes since ${n.previousTag ?? "the beginning"}: ${n.changes.length} commit${n.changes.length === 1 ? "" : "s"}`,
  ];
  for (const [kind, title] of GROUPS) {
    const group = n.changes.filter((c) => c.kind === kind);
    if (group.length === 0) continue;
    lines.push("", `### ${title}`, "");
    for (const c of group) lines.push(`- ${c.summary} (${c.sha.slice(0, 7)})${c.breaking && c.breaking !== c.summary ? `: ${c.breaking}` : ""}`);
  }
  return `${lines.join("\n")}\n`;
}
