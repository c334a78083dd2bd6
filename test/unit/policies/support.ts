/**
 * Helpers that make policy inputs the way the engine does: wire-format properties (secrets carry
 * the secret signature) go through @pulumi/policy's own deserializer and unknownCheckingProxy.
 */
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import "../../../policies/secretness";

// unknownCheckingProxy is exported at runtime but marked @internal, so its typings are stripped.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const policySdk = require("@pulumi/policy") as { unknownCheckingProxy<T extends object>(props: T): T };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const deserialize = require("@pulumi/policy/deserialize") as {
  deserializeProperties(struct: Struct, proxySecrets: boolean): Record<string, unknown>;
};

/** A value marked secret on the wire, as the engine sends it to analyzers. */
export function secret(value: unknown): Record<string, unknown> {
  return { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value };
}

/** An unknown string during preview (the engine's sentinel). */
export const unknownString = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Props exactly as a policy's validateResource receives them. */
export function engineProps(wire: Record<string, unknown>): Record<string, unknown> {
  const struct = Struct.fromJavaScript(wire as Parameters<typeof Struct.fromJavaScript>[0]);
  return policySdk.unknownCheckingProxy(deserialize.deserializeProperties(struct, false));
}

/** Deep copy of a fixture with one change applied. */
export function changed<T>(base: T, change: (copy: T) => void): T {
  const copy = structuredClone(base);
  change(copy);
  return copy;
}

export interface Reported {
  message: string;
  enforcementLevel?: string;
}

/** Runs a resource policy like the engine's analyze call, collecting what it reports. */
export async function runResourcePolicy(
  policy: ResourceValidationPolicy,
  type: string,
  wire: Record<string, unknown>,
  config: Record<string, unknown> = {},
): Promise<Reported[]> {
  const out: Reported[] = [];
  const report = ((m: string | { message: string; enforcementLevel?: string }) => {
    out.push(typeof m === "string" ? { message: m } : { message: m.message, enforcementLevel: m.enforcementLevel });
  }) as ReportViolation;
  const props = engineProps(wire);
  const args = {
    type,
    props,
    urn: `urn:pulumi:test::test::${type}::r`,
    name: "r",
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string): never => {
      throw new Error(`not applicable: ${reason ?? ""}`);
    },
  } as unknown as ResourceValidationArgs;
  const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
  for (const v of validations) await v?.(args, report);
  return out;
}
