import type { ResourceValidationPolicy } from "@pulumi/policy";
import * as path from "node:path";
import { backendStore } from "../../stacks/backend-store";
import { checkPromotion, readPromotionEvidence, type PromotionEvidence } from "../../stacks/promotion";
import { type Finding, isRecord, type Json, record, reportFindings, restoreMarkerProperty, str, types } from "./common";
import type { RestoreMarker } from "./deploy-window";

export interface ReleasePromotedConfig {
  /** The stack whose succeeded deploys this one may run. */
  from?: string;
  /** Set by the driver (never by hand) on the updates of a revert, rollback or recovery. */
  restore?: RestoreMarker | null;
}

/** What the evidence could be read as: the records, or why they could not be read. */
export type EvidenceResult = { evidence: PromotionEvidence } | { problem: string };

/**
 * A machine runs only a release the source stack deployed successfully (or one this stack already
 * ran). Fails closed: without readable records there is no evidence, and the machine is refused.
 */
export function checkReleasePromoted(props: Json, urn: string | undefined, evidence: EvidenceResult, config: ReleasePromotedConfig): Finding[] {
  const image = str(record(props.config).image);
  if (image === undefined) return []; // no image to judge: fly-image-pinned-by-digest owns that
  const restore = isRecord(config.restore) ? (str(config.restore.kind) ?? "restore") : undefined;
  if (restore) return [];
  const from = str(config.from) ?? "staging";
  if ("problem" in evidence) {
    return [
      {
        message: `Cannot tell whether ${image} was promoted from ${from}: ${evidence.problem}.`,
        remediation: `deploy through the driver with the backend that holds the deployment records (PULUMI_BACKEND_URL: a file or Postgres backend).`,
        urn,
      },
    ];
  }
  const verdict = checkPromotion(image, evidence.evidence);
  if (!("message" in verdict)) return [];
  return [{ message: `Promotion, not rebuild: ${verdict.message}.`, remediation: `deploy the release to ${from} first (the pipeline's staging job); rollbacks and reverts are never blocked.`, urn }];
}

/** The stack's name from a resource URN: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOfUrn(urn: string): string | undefined {
  return /^urn:pulumi:([^:]+)::/.exec(urn)?.[1];
}

/**
 * The records beside the state, read once per policy run (every machine asks). The engine starts
 * the pack with its own environment, so PULUMI_BACKEND_URL is the stack's backend.
 */
export function backendEvidence(env: NodeJS.ProcessEnv = process.env): (stack: string, from: string) => Promise<EvidenceResult> {
  const cache = new Map<string, Promise<EvidenceResult>>();
  return (stack, from) => {
    const key = `${stack}\n${from}`;
    let hit = cache.get(key);
    if (!hit) {
      hit = (async (): Promise<EvidenceResult> => {
        const url = env.PULUMI_BACKEND_URL;
        // Never the checkout's stand-in store (backendStore's fallback): only the state's own holds records.
        if (!url) return { problem: "the backend (unset) is not one the deployment records live in" };
        const store = backendStore(path.resolve(__dirname, "..", ".."), url);
        try {
          if (!store.besideState) return { problem: `the backend (${url.replace(/\/\/[^@/]*@/, "//")}) is not one the deployment records live in` };
          return { evidence: await readPromotionEvidence(store, stack, from) };
        } catch (err) {
          return { problem: `the deployment records could not be read (${(err as Error).message.split("\n")[0]})` };
        } finally {
          await store.close().catch(() => undefined);
        }
      })();
      cache.set(key, hit);
    }
    return hit;
  };
}

export function makeReleasePromotedPolicy(evidenceFor: (stack: string, from: string) => Promise<EvidenceResult>): ResourceValidationPolicy {
  return {
    name: "release-promoted",
    description: "Checks whether every Fly machine runs a release the source stack (staging) recorded as a succeeded deploy, compared by image digest; restores are never blocked.",
    configSchema: {
      properties: {
        from: { type: "string", default: "staging", description: "The stack whose succeeded deploys may be promoted (its deployment records, beside the state)." },
        restore: restoreMarkerProperty("Set by the deploy driver on a revert, rollback or recovery (never by hand): restores are never blocked."),
      },
    },
    validateResource: async (args, report) => {
      if (args.type !== types.flyMachine) return;
      const config = args.getConfig<ReleasePromotedConfig>();
      if (isRecord(config.restore)) return; // restores never read the records at all
      const stack = stackOfUrn(args.urn) ?? "";
      const evidence = await evidenceFor(stack, str(config.from) ?? "staging");
      reportFindings(report, checkReleasePromoted(args.props, args.urn, evidence, config));
    },
  };
}

export const releasePromoted = makeReleasePromotedPolicy(backendEvidence());
