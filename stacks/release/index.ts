/**
 * `flightdeck release`: after a production deploy that succeeded, the next semantic version from
 * the conventional commits since the last `v*` tag, its notes, the tag and the GitHub release.
 * Run by the pipeline (deploy.yml), never by hand; run twice, it creates nothing the second time.
 */
import semver from "semver";
import { backendStore, type BackendStore } from "../backend-store";
import { readRecords, type DeploymentRecord } from "../records";
import { UsageError } from "../usage-error";
import { projectDir } from "../workspace";
import { commitsBetween, hasCommit, releaseTagsBefore } from "./git";
import { renderNotes } from "./notes";
import { githubTargetFrom, ReleasePublisher } from "./publish";
import { classifyAll, nextVersion, versionOfTag } from "./version";

export interface ReleaseOptions {
  stack: string;
  /** Compute the version and notes, create nothing (GitHub is not called). */
  dryRun?: boolean;
  /** The git checkout (the commits and tags). */
  workDir?: string;
  env?: Record<string, string | undefined>;
  /** Where the deployment records are; default: the backend's store (PULUMI_BACKEND_URL). */
  store?: BackendStore;
}

export interface ReleaseResult {
  /** The commit released: the one the production deploy ran from. */
  sha: string;
  record: DeploymentRecord;
  /** Absent when there is nothing to release. */
  tag?: string;
  notes?: string;
  url?: string;
  created?: boolean;
  tagCreated?: boolean;
  /** Why nothing was released. */
  nothing?: string;
}

async function latestRecord(store: BackendStore, stack: string): Promise<DeploymentRecord> {
  const { records } = await readRecords(store, stack);
  // An unchanged deploy changed nothing: what runs is what the record before it put live. (A re-run
  // of the deploy job is one; it must still be able to finish the release its first run began.)
  const r = records.find((x) => x.outcome !== "unchanged");
  if (!r) throw new UsageError(`${stack} has no deployment record in ${store.where}: nothing to release`);
  if (r.kind !== "deploy" || r.outcome !== "succeeded") {
    throw new UsageError(
      `${stack}'s latest deployment record is a ${r.kind} that ${r.outcome === "rolled back" ? "rolled back" : r.outcome} (${r.release ?? "no release"}, started ${r.startedAt}): ` +
        `a release follows only a succeeded deploy; nothing was created`,
    );
  }
  return r;
}

export async function release(opts: ReleaseOptions): Promise<ReleaseResult> {
  const workDir = opts.workDir ?? projectDir;
  const env = opts.env ?? process.env;
  // Bad credentials stop here, before anything is read.
  const target = opts.dryRun ? undefined : githubTargetFrom(env);
  const store = opts.store ?? backendStore(workDir, env.PULUMI_BACKEND_URL);
  let record: DeploymentRecord;
  try {
    if (!store.besideState) throw new UsageError(`PULUMI_BACKEND_URL: the deployment records live beside the state (a file or Postgres backend); ${store.where} holds none`);
    record = await latestRecord(store, opts.stack);
  } finally {
    if (!opts.store) await store.close();
  }
  const commit = record.commit;
  if (!commit) throw new UsageError(`${opts.stack}'s latest deploy (${record.startedAt}) names no commit: nothing to tag`);
  if (commit.dirty) throw new UsageError(`${opts.stack}'s latest deploy ran from ${commit.sha.slice(0, 12)} with uncommitted changes: no commit is what ran, so nothing is tagged`);
  const sha = commit.sha;
  if (!hasCommit(workDir, sha)) throw new UsageError(`commit ${sha} (what ${opts.stack} runs) is not in the checkout ${workDir}: check out with fetch-depth: 0`);

  const tags = releaseTagsBefore(workDir, sha);
  // A re-run: the newest tag is on this very commit already, and only the release may be missing.
  const current = tags[0]?.sha === sha ? tags[0] : undefined;
  const previous = current ? tags[1] : tags[0];
  const changes = await classifyAll(commitsBetween(workDir, previous?.tag, sha));
  const version = current?.version ?? nextVersion(previous?.version, changes);
  if (!version) return { sha, record, nothing: `no commits since ${previous?.tag ?? "the beginning"}: nothing to release` };
  const tag = `v${version}`;
  const notes = renderNotes({ tag, previousTag: previous?.tag, changes, record });
  if (!target) return { sha, record, tag, notes };

  const publisher = new ReleasePublisher(target);
  const latest = await publisher.latestReleaseTag();
  const latestVersion = latest ? versionOfTag(latest) : undefined;
  if (latestVersion && semver.gt(latestVersion, version)) {
    throw new UsageError(`GitHub's latest release is ${latest}, later than ${tag}: this checkout's tags are stale, or ${opts.stack} runs an older commit; nothing was created`);
  }
  const published = await publisher.publish(tag, sha, notes);
  return { sha, record, tag, notes, url: published.url, created: published.created, tagCreated: published.tagCreated };
}
