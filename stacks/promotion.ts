/**
 * Promotion, not rebuild: production runs only a release another stack (staging) recorded as a
 * succeeded deploy. One image is pushed to both apps (deploy.yml), so the refs differ by app name
 * and agree on the digest: the digest is what is compared. Used by the driver (before a deploy
 * touches anything) and by the `release-promoted` policy (so a `pulumi up` run by hand is held to
 * the same rule); both read the evidence from the deployment records beside the state.
 */
import type { StackConfig } from "../infra/config/schema";
import type { BackendStore } from "./backend-store";
// ./record-format, not ./records: the policy pack loads this module, and ./records loads the engine.
import { readRecords, type DeploymentRecord } from "./record-format";
import type { StepLog } from "./steps";

/** `sha256:<hex>` of a pinned image ref; any other release (a local version label) is its own identity. */
export function releaseIdentity(release: string): string {
  const m = /@(sha256:[0-9a-f]{64})$/.exec(release.trim());
  return m ? m[1]! : release.trim();
}

export interface Promoted {
  release: string;
  at: string;
}

export interface PromotionEvidence {
  /** The stack promotions come from. */
  from: string;
  /** Its succeeded deploys, newest first. */
  promoted: Promoted[];
  /** Releases this stack has already run (live before a command, or put live by one): not promotions. */
  ranHere: string[];
}

/** Only a deploy the driver saw through to a passed bake counts: failed, reverted and unchanged do not. */
export function promotedReleases(records: readonly DeploymentRecord[]): Promoted[] {
  return records
    .filter((r) => r.kind === "deploy" && r.outcome === "succeeded" && r.release !== undefined)
    .map((r) => ({ release: r.release!, at: r.startedAt }));
}

/** What the stack itself ran: a release already live here is a redeploy, never a promotion. */
export function releasesRunHere(records: readonly DeploymentRecord[]): string[] {
  const ran = new Set<string>();
  for (const r of records) {
    if (r.previousRelease) ran.add(r.previousRelease);
    if (r.release && (r.outcome === "succeeded" || r.outcome === "rolled back")) ran.add(r.release);
  }
  return [...ran];
}

export async function readPromotionEvidence(store: BackendStore, stack: string, from: string): Promise<PromotionEvidence> {
  const [source, own] = await Promise.all([readRecords(store, from), readRecords(store, stack)]);
  return { from, promoted: promotedReleases(source.records), ranHere: releasesRunHere(own.records) };
}

export type PromotionVerdict = { ok: true; why: string } | { ok: false; message: string };

/** How many of the source's recent successes a refusal names. */
const RECENT = 5;

/**
 * Whether `release` may go live here. A restore (revert, rollback, recovery) is never blocked: it
 * puts back what already ran, and blocking it would keep a broken release live.
 */
export function checkPromotion(release: string, evidence: PromotionEvidence, opts: { restore?: string } = {}): PromotionVerdict {
  if (opts.restore) return { ok: true, why: `a ${opts.restore} is never blocked` };
  const id = releaseIdentity(release);
  const hit = evidence.promoted.find((p) => releaseIdentity(p.release) === id);
  if (hit) return { ok: true, why: `${evidence.from} deployed ${hit.release} successfully at ${hit.at}` };
  if (evidence.ranHere.some((r) => releaseIdentity(r) === id)) return { ok: true, why: "it already ran here: not a promotion" };
  const seen = new Set<string>();
  const recent = evidence.promoted.filter((p) => !seen.has(releaseIdentity(p.release)) && seen.add(releaseIdentity(p.release))).slice(0, RECENT);
  const listed = recent.length > 0 ? `${evidence.from}'s recent succeeded deploys: ${recent.map((p) => `${p.release} (${p.at})`).join(", ")}` : `${evidence.from} has no succeeded deploy on record`;
  return {
    ok: false,
    message: `release ${release} was never deployed successfully to ${evidence.from} (${id}); ${listed}. Deploy it to ${evidence.from} first, or deploy one of those`,
  };
}

/**
 * The driver's check, once a deploy holds the lock and before it touches anything: why `release`
 * is refused, or undefined. Only a stack whose file names a source (`flightdeck:promotion`) is
 * checked; a deploy without `--release` redeploys what is live, which is no promotion.
 */
export async function promotionRefusal(
  store: BackendStore,
  log: StepLog,
  opts: { stack: string; release?: string; config: StackConfig },
): Promise<string | undefined> {
  const from = "promotion" in opts.config ? opts.config.promotion?.from : undefined;
  if (!from || opts.release === undefined) return undefined;
  const release = opts.release;
  const verdict = await log.run(
    "promotion",
    () => readPromotionEvidence(store, opts.stack, from).then((e) => checkPromotion(release, e)),
    (v) => (v.ok ? v.why : `refused: not promoted from ${from}`),
  );
  return "message" in verdict ? verdict.message : undefined;
}
