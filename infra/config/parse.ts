import { RunError } from "@pulumi/pulumi/errors";
import { z } from "zod";
import { environmentSchema, schemaFor, type StackConfig } from "./schema";

/** The config namespace of this project: keys are `flightdeck:<key>` in Pulumi.<stack>.yaml. */
export const CONFIG_NAMESPACE = "flightdeck";

/** One problem in a stack's config, as a person fixing the YAML needs it. */
export interface ConfigProblem {
  /** Key path as written in the stack file, e.g. `flightdeck:fly.regions[0]`. */
  key: string;
  expected: string;
  found: string;
}

/**
 * A config error: the person fixing it needs the file, the key, what was expected and what was
 * found, not a stack trace. A RunError, so the engine prints only the message when the program
 * throws it.
 */
export class StackConfigError extends RunError {
  constructor(
    readonly stackFile: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `${stackFile}: invalid stack config (nothing was changed):\n` +
        problems.map((p) => `  - ${p.key}: expected ${p.expected}, found ${p.found}`).join("\n"),
    );
    this.name = "StackConfigError";
  }
}

export function stackFileName(stack: string): string {
  return `Pulumi.${stack}.yaml`;
}

function keyPath(path: (string | number)[]): string {
  const [head, ...rest] = path;
  let out = `${CONFIG_NAMESPACE}:${String(head ?? "")}`;
  for (const part of rest) out += typeof part === "number" ? `[${part}]` : `.${part}`;
  return out;
}

function describeFound(value: unknown): string {
  if (value === undefined) return "nothing (the key is missing)";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
  let cur: unknown = root;
  for (const part of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[part];
  }
  return cur;
}

function expectedOf(issue: z.ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.expected;
    case "invalid_literal":
      return JSON.stringify(issue.expected);
    case "invalid_enum_value":
      return `one of ${issue.options.map((o) => JSON.stringify(o)).join(", ")}`;
    case "unrecognized_keys":
      return "no such key (check the spelling)";
    case "too_small":
      return issue.type === "array" ? `at least ${issue.minimum} item(s)` : `at least ${issue.minimum}`;
    case "too_big":
      return issue.type === "array" ? `at most ${issue.maximum} item(s)` : `at most ${issue.maximum}`;
    default:
      return issue.message;
  }
}

function problemsOf(error: z.ZodError, raw: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        problems.push({ key: keyPath(path), expected: expectedOf(issue), found: describeFound(valueAt(raw, path)) });
      }
      continue;
    }
    problems.push({ key: keyPath(issue.path), expected: expectedOf(issue), found: describeFound(valueAt(raw, issue.path)) });
  }
  return problems;
}

/** Namespaces a stack file may hold: ours, the engine's, and the providers' the program uses. */
export const KNOWN_NAMESPACES = ["flightdeck", "pulumi", "github", "cloudflare"] as const;

/** Keys in an unknown namespace (a typo such as `flightdek:` would otherwise be ignored silently). */
export function unknownNamespaceProblems(keys: readonly string[]): ConfigProblem[] {
  return keys
    .filter((k) => !(KNOWN_NAMESPACES as readonly string[]).includes(k.includes(":") ? k.slice(0, k.indexOf(":")) : ""))
    .map((k) => ({
      key: k,
      expected: `a key in one of the namespaces ${KNOWN_NAMESPACES.map((n) => `${n}:`).join(", ")}`,
      found: k.includes(":") ? `the namespace "${k.slice(0, k.indexOf(":"))}:"` : "a key without a namespace",
    }));
}

/**
 * Validates a stack's raw `flightdeck:*` config (keys without the namespace) and returns it typed,
 * with defaults filled in. Pure: throws StackConfigError naming the stack file and every bad key.
 */
export function parseStackConfig(stack: string, raw: Record<string, unknown>): StackConfig {
  const file = stackFileName(stack);
  const env = environmentSchema.safeParse(raw.environment);
  if (!env.success) {
    throw new StackConfigError(file, [
      { key: keyPath(["environment"]), expected: `one of "local", "staging", "production"`, found: describeFound(raw.environment) },
    ]);
  }
  const result = schemaFor[env.data].safeParse(raw);
  if (!result.success) throw new StackConfigError(file, problemsOf(result.error, raw));
  return result.data;
}
