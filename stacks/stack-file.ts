import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { DELIVERY_KEY, SWITCH_AT_ONCE_KEY, type DeliveryState } from "../infra/config/delivery";
import { flightdeckConfig, SECRET_KEYS } from "../infra/config/load";
import { CONFIG_NAMESPACE, parseStackConfig, StackConfigError, stackFileName, unknownNamespaceProblems, type ConfigProblem } from "../infra/config/parse";
import type { StackConfig } from "../infra/config/schema";

/** A committed stack file, read and checked the way the program will read it. */
export interface StackFile {
  path: string;
  /** The file as written (comments, encryption salt and secure values kept). */
  text: string;
  config: StackConfig;
  /** Whether it sets `flightdeck:appSecrets` (then the driver decrypts them to digest them). */
  hasAppSecrets: boolean;
}

function isSecure(v: unknown): boolean {
  return v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { secure?: unknown }).secure === "string";
}

/** Paths under a secrets-only key whose value is not `secure:` (plaintext in a committed file). */
function plaintextLeaves(value: unknown, at: string): string[] {
  if (isSecure(value)) return [];
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => plaintextLeaves(v, `${at}.${k}`));
  }
  return [at];
}

/** Keys only the deploy driver sets, in its own update config file: never in a committed one. */
const DRIVER_ONLY_KEYS: { key: string; why: string; found: (value: unknown) => string }[] = [
  { key: DELIVERY_KEY, why: "the deploy driver records what runs with the stack", found: () => "a delivery state" },
  { key: SWITCH_AT_ONCE_KEY, why: "the deploy driver sets it for a revert or rollback", found: (value) => String(value) },
];

/**
 * Reads and checks `Pulumi.<stack>.yaml` before the driver changes anything: YAML syntax, known
 * namespaces, secrets-only keys holding only secrets, no delivery state (it lives with the
 * stack), and the schema. Throws one StackConfigError naming the file and every bad key.
 */
export function readStackFile(workDir: string, stack: string): StackFile {
  const name = stackFileName(stack);
  const file = path.join(workDir, name);
  if (!fs.existsSync(file)) {
    throw new StackConfigError(name, [{ key: "(the file)", expected: `a stack file ${name} in ${workDir}`, found: "no such file" }]);
  }
  const text = fs.readFileSync(file, "utf8");
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const where = e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "the file";
    throw new StackConfigError(name, [{ key: where, expected: "valid YAML", found: e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "") }]);
  }
  const body: unknown = doc.toJS();
  const config = (body as { config?: unknown } | null)?.config ?? {};
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new StackConfigError(name, [{ key: "config", expected: "a map of keys to values", found: JSON.stringify(config) }]);
  }
  const entries = config as Record<string, unknown>;
  const problems: ConfigProblem[] = [...unknownNamespaceProblems(Object.keys(entries))];
  for (const k of SECRET_KEYS) {
    const key = `${CONFIG_NAMESPACE}:${k}`;
    if (!(key in entries)) continue;
    for (const leaf of plaintextLeaves(entries[key], key)) {
      problems.push({ key: leaf, expected: `a secret (pulumi config set --secret --path '${leaf}' VALUE)`, found: "plaintext" });
    }
  }
  for (const d of DRIVER_ONLY_KEYS) {
    const key = `${CONFIG_NAMESPACE}:${d.key}`;
    if (key in entries) problems.push({ key, expected: `no such key in a committed file (${d.why})`, found: d.found(entries[key]) });
  }
  if (problems.length > 0) throw new StackConfigError(name, problems);
  return { path: file, text, config: parseStackConfig(stack, flightdeckConfig(entries)), hasAppSecrets: `${CONFIG_NAMESPACE}:appSecrets` in entries };
}

/**
 * Writes the config file one update of the driver runs with: the committed file as it is, plus
 * the delivery state. It lives under `.pulumi/run/` (never committed) and is removed afterwards;
 * the engine records its config with the update, which is where rollback finds it.
 */
export function writeUpdateConfig(
  workDir: string,
  file: StackFile,
  stack: string,
  delivery: DeliveryState,
  opts: { switchAtOnce?: boolean } = {},
): { path: string; remove(): void } {
  const doc = YAML.parseDocument(file.text);
  if (!YAML.isMap(doc.get("config"))) doc.set("config", doc.createNode({}));
  const config = doc.get("config") as YAML.YAMLMap;
  config.set(`${CONFIG_NAMESPACE}:${DELIVERY_KEY}`, doc.createNode(delivery));
  // A restore puts traffic back at once: a canary's steps are for releases not yet proven.
  if (opts.switchAtOnce) config.set(`${CONFIG_NAMESPACE}:${SWITCH_AT_ONCE_KEY}`, true);
  const dir = path.join(workDir, ".pulumi", "run");
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `Pulumi.${stack}.${process.pid}.${Date.now()}.yaml`);
  fs.writeFileSync(out, doc.toString());
  return { path: out, remove: () => fs.rmSync(out, { force: true }) };
}
