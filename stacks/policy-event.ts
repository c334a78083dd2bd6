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
