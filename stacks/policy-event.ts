import type { EngineEvent } from "@pulumi/pulumi/automation";

/**
 * One line per policy violation: `[mandatory] policy-name: message (resource)`. The engine's own
 * error output names only the policy and the resource; the message (what is wrong, and the fix)
 * comes only with the event.
 */
export function formatPolicyEvent(e: NonNullable<EngineEvent["policyEvent"]>): string {
  const where = e.resourceUrn ? ` (${e.resourceUrn.slice(e.resourceUrn.lastIndexOf("::") + 2)})` : "";
  return `[${e.enforcementLevel}] ${e.policyName}: ${e.message.trim()}${where}`;
}

/**
 * An advisory finding as one line for a deploy's steps: `[advisory] policy-name: finding`. The
 * engine's message starts with the policy's description; the finding (and its fix) is the last line.
 */
export function formatPolicyAdvice(e: NonNullable<EngineEvent["policyEvent"]>): string {
  const lines = e.message.trim().split("\n");
  return `[advisory] ${e.policyName}: ${lines[lines.length - 1]!.trim()}`;
}

/**
 * Whether an engine policy event is an advisory finding. The SDK's type names the level "warning";
 * the engine sends "advisory" (seen from the engine this project builds): either is accepted.
 */
export function isAdvisory(e: EngineEvent["policyEvent"]): e is NonNullable<EngineEvent["policyEvent"]> {
  const level: string | undefined = e?.enforcementLevel;
  return level === "advisory" || level === "warning";
}
