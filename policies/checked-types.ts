/**
 * The resource types each rule of the pack reads, by rule name. Why it exists: the deploy driver
 * runs an update without a preview first when no mandatory rule of the stack could refuse after
 * the update has already changed something (stacks/preview-first.ts). A rule that reads only the
 * stack's root resource refuses before any change: the engine registers the root first, and the
 * program registers nothing else until the root is accepted.
 *
 * An entry lists type tokens, or patterns: `github:*` (every type of that package), `*` (the stack
 * as a whole: the rule can refuse whatever the stack holds). test/unit/policies/checked-types.test.ts
 * holds every rule to its entry: given only types outside it, a rule reports nothing.
 */
import { routerTypes } from "./rules/canary-required";
import { types } from "./rules/common";
import { secretInputs } from "./rules/secret-inputs-are-secrets";

export const checkedTypes: Readonly<Record<string, readonly string[]>> = {
  "deploy-window": [types.stack],
  // A stack without enough machines fails it, whatever else it holds.
  "fly-machine-redundancy": ["*"],
  "fly-service-http-health-check": [types.flyMachine],
  "health-gate-thresholds": [types.healthGate],
  "fly-image-pinned-by-digest": [types.flyMachine],
  "release-promoted": [types.flyMachine],
  // Plus the types a stack's policy config adds in its `extraInputs` (read by the driver).
  "secret-inputs-are-secrets": Object.keys(secretInputs),
  "protected-deploy-environment": [types.githubEnvironment, types.githubDeploymentPolicy],
  // Any GitHub resource makes the stack one that manages GitHub, which must then protect its branch.
  "default-branch-protected": ["github:*"],
  "trunk-merge-settings": ["github:*"],
  "public-dns-proxied": [types.cloudflareDnsRecord],
  "machine-size-ceiling": [types.flyMachine],
  "canary-required": Object.values(routerTypes),
};

/** Whether a type token falls under an entry's token or pattern. */
export function typeMatches(pattern: string, type: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(":*")) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}
