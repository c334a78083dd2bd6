import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { CONFIG_NAMESPACE, parseStackConfig, StackConfigError, stackFileName, unknownNamespaceProblems, type ConfigProblem } from "./parse";
import type { StackConfig } from "./schema";

/** Config values arrive as strings; objects and numbers are JSON. */
function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Keys that hold secrets: never validated or echoed here; read with requireSecretObject by their user. */
export const SECRET_KEYS = ["appSecrets", "environmentSecrets"] as const;

/**
 * The `flightdeck:*` keys to validate (namespace stripped, secrets-only keys left out), decoded as
 * the program reads them: scalars arrive as strings and are JSON-decoded; objects are kept (the
 * engine hands them to the program as JSON strings, a parsed stack file as objects).
 */
export function flightdeckConfig(entries: Record<string, unknown>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [key, value] of Object.entries(entries)) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    if ((SECRET_KEYS as readonly string[]).includes(name)) continue;
    raw[name] = value !== null && typeof value === "object" ? value : decode(String(value));
  }
  return raw;
}

/** A secret map's decrypted JSON (`{"NAME": "value"}`) as name → value; {} when absent or not a map. */
export function secretValues(json: string | undefined): Record<string, string> {
  if (json === undefined) return {};
  const parsed = decode(json);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return {};
  return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

/**
 * Whether the engine handed a key to the program as a secret. The SDK's own check is internal (not
 * in its types), so it is looked up and typed here; without it, the engine's environment variable
 * is read directly, which is what the SDK reads too.
 */
function isSecretKey(key: string): boolean {
  const check: unknown = Reflect.get(runtimeConfig, "isConfigSecret");
  if (typeof check === "function") return Reflect.apply(check, undefined, [key]) === true;
  try {
    const keys: unknown = JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS ?? "[]");
    return Array.isArray(keys) && keys.includes(key);
  } catch {
    return false;
  }
}

/** Secrets-only keys holding plaintext: they would sit unencrypted in the committed file. */
export function plaintextSecretProblems(keys: readonly string[], secret: readonly string[]): ConfigProblem[] {
  return SECRET_KEYS.map((k) => `${CONFIG_NAMESPACE}:${k}`)
    .filter((k) => keys.includes(k) && !secret.includes(k))
    .map((k) => ({ key: k, expected: `secret values only (pulumi config set --secret --path '${k}.NAME' VALUE)`, found: "plaintext" }));
}

/** Reads and validates this stack's config before any resource is declared. */
export function loadStackConfig(): StackConfig {
  const all = pulumi.runtime.allConfig();
  const keys = Object.keys(all);
  const problems = [...unknownNamespaceProblems(keys), ...plaintextSecretProblems(keys, keys.filter(isSecretKey))];
  if (problems.length > 0) throw new StackConfigError(stackFileName(pulumi.getStack()), problems);
  return parseStackConfig(pulumi.getStack(), flightdeckConfig(all));
}

/**
 * The app secrets' decrypted values, only to digest them into a slot spec (never exported, logged
 * or passed on as plain values; resources get them through Config.getSecretObject).
 */
export function appSecretValues(): Record<string, string> {
  return secretValues(pulumi.runtime.allConfig()[`${CONFIG_NAMESPACE}:appSecrets`]);
}
