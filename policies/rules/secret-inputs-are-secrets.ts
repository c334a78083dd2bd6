import type { ResourceValidationPolicy } from "@pulumi/policy";
import { type Finding, isRecord, record, reportFindings, strings, types } from "./common";
import { isSecretPath, rawProps, secretPathsOf } from "../secretness";

export interface SecretInputsConfig {
  /** More secret-bearing inputs to guard: type token → input names (each value of a map input counts). */
  extraInputs?: Record<string, string[]>;
}

/** Inputs that carry secret values, by resource type. A map input means each of its values. */
export const secretInputs: Readonly<Record<string, readonly string[]>> = {
  [types.flyAppSecrets]: ["values"],
  [types.githubEnvironmentSecret]: ["plaintextValue", "value"],
};

/**
 * Every present secret-bearing input is a Pulumi secret. `props` are the resource's inputs as the
 * engine sent them; `secretPaths` the dot paths that arrived marked secret (undefined: unknown).
 */
export function checkSecretInputs(
  type: string,
  props: Record<string, unknown>,
  secretPaths: ReadonlySet<string> | undefined,
  config: SecretInputsConfig,
): Finding[] {
  const guarded = [...(secretInputs[type] ?? []), ...strings(record(config.extraInputs)[type])];
  const findings: Finding[] = [];
  for (const input of guarded) {
    const value = props[input];
    if (value === undefined || value === null) continue;
    if (secretPaths === undefined) {
      findings.push({
        message: `Cannot tell whether ${input} is a Pulumi secret: this @pulumi/policy version did not pass through Flightdeck's secret recorder (policies/secretness.ts).`,
        remediation: `check policies/secretness.ts against the installed @pulumi/policy and re-run test/integration/policies.test.ts.`,
      });
      continue;
    }
    const paths = isRecord(value) && !isSecretPath(secretPaths, input) ? Object.keys(value).map((k) => `${input}.${k}`) : [input];
    const plain = paths.filter((p) => !isSecretPath(secretPaths, p));
    if (plain.length > 0) {
      findings.push({
        message: `${plain.join(", ")} ${plain.length === 1 ? "is" : "are"} plaintext: the value would be stored unencrypted in the stack's state and shown in previews.`,
        remediation: `pass it as a secret: read it with config.requireSecret(...) or wrap it in pulumi.secret(...); set it with \`pulumi config set --secret\`.`,
      });
    }
  }
  return findings;
}

export const secretInputsAreSecrets: ResourceValidationPolicy = {
  name: "secret-inputs-are-secrets",
  description: "Checks whether secret-bearing inputs (Fly app secrets, GitHub environment secrets) are Pulumi secrets rather than plaintext.",
  configSchema: {
    properties: {
      extraInputs: {
        type: "object",
        additionalProperties: { type: "array", items: { type: "string" } },
        default: {},
        description: "More inputs to guard: resource type token → input names.",
      },
    },
  },
  validateResource: (args, report) => {
    const config = args.getConfig<SecretInputsConfig>();
    if (!(args.type in secretInputs) && !(args.type in record(config.extraInputs))) return;
    // Read the plain object behind the proxy: only presence and keys matter here, and a secret whose
    // value is unknown during preview is still a secret.
    reportFindings(report, checkSecretInputs(args.type, rawProps(args.props), secretPathsOf(args.props), config));
  },
};
