/**
 * The stack config reference, generated from the zod schemas (their types, defaults and
 * `.describe()` texts), so that docs/config.md cannot drift from what the program accepts.
 * Pure: schemas in, markdown out. `scripts/config-docs.ts` writes it; a unit test compares.
 */
import { z } from "zod";
import { CONFIG_NAMESPACE } from "./parse";
import { schemaFor, type Environment } from "./schema";

/** One documented key for one environment. */
export interface KeyDoc {
  /** Dotted path without the namespace, e.g. `healthGate.path`. */
  path: string;
  type: string;
  /** The default as JSON, or undefined when the key is required / optional without default. */
  default?: string;
  required: boolean;
  description?: string;
}

/** One row of the reference: a key and what it is in each environment that has it. */
export interface ConfigRow {
  key: string;
  type: string;
  default: string;
  environments: Environment[];
  description: string;
}

const ENVIRONMENTS = Object.keys(schemaFor) as Environment[];

/** The description of a schema or of any wrapper around it (outermost first). */
function describedAs(schema: z.ZodTypeAny): string | undefined {
  let cur: z.ZodTypeAny | undefined = schema;
  while (cur) {
    if (cur.description) return cur.description;
    cur = inner(cur);
  }
  return undefined;
}

/** The schema a wrapper wraps: default, optional, nullable, effects (refine), or none. */
function inner(schema: z.ZodTypeAny): z.ZodTypeAny | undefined {
  if (schema instanceof z.ZodDefault) return schema._def.innerType as z.ZodTypeAny;
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) return schema.unwrap() as z.ZodTypeAny;
  if (schema instanceof z.ZodEffects) return schema.innerType() as z.ZodTypeAny;
  return undefined;
}

/** Strips wrappers, noting the default and whether the key may be left out. */
function unwrap(schema: z.ZodTypeAny): { base: z.ZodTypeAny; default?: unknown; hasDefault: boolean; optional: boolean } {
  let cur = schema;
  let def: unknown;
  let hasDefault = false;
  let optional = false;
  for (;;) {
    if (cur instanceof z.ZodDefault && !hasDefault) {
      hasDefault = true;
      def = (cur._def.defaultValue as () => unknown)();
    }
    if (cur instanceof z.ZodOptional) optional = true;
    const next = inner(cur);
    if (!next) return { base: cur, default: def, hasDefault, optional };
    cur = next;
  }
}

function numberType(schema: z.ZodNumber): string {
  let name = "number";
  let min: number | undefined;
  let max: number | undefined;
  for (const check of schema._def.checks) {
    if (check.kind === "int") name = "integer";
    if (check.kind === "min") min = check.value;
    if (check.kind === "max") max = check.value;
  }
  if (min !== undefined && max !== undefined) return `${name} ${min}–${max}`;
  if (min !== undefined) return `${name} ≥ ${min}`;
  if (max !== undefined) return `${name} ≤ ${max}`;
  return name;
}

/** `string`, with what its format checks ask for (their messages are written for people). */
function stringType(schema: z.ZodString): string {
  const asks: string[] = [];
  for (const check of schema._def.checks) {
    if (check.kind === "regex" && check.message) asks.push(check.message);
    if (check.kind === "startsWith") asks.push(`starting with "${check.value}"`);
  }
  return asks.length > 0 ? `string: ${asks.join(", ")}` : "string";
}

/** A short type name for the table. */
export function typeName(schema: z.ZodTypeAny): string {
  const { base } = unwrap(schema);
  if (base instanceof z.ZodString) return stringType(base);
  if (base instanceof z.ZodNumber) return numberType(base);
  if (base instanceof z.ZodBoolean) return "boolean";
  if (base instanceof z.ZodLiteral) return JSON.stringify(base.value);
  if (base instanceof z.ZodEnum) return (base.options as string[]).map((o) => JSON.stringify(o)).join(" \\| ");
  if (base instanceof z.ZodArray) {
    const element = typeName(base.element as z.ZodTypeAny);
    return element.includes(" ") ? `list of ${element}` : `${element}[]`;
  }
  if (base instanceof z.ZodRecord) return `map of ${typeName(base.keySchema as z.ZodTypeAny)} → ${typeName(base.valueSchema as z.ZodTypeAny)}`;
  if (base instanceof z.ZodObject) return "object";
  return base.constructor.name.replace(/^Zod/, "").toLowerCase();
}

/** Every key of a schema, depth first: an object's own row, then its fields'. */
export function keysOf(schema: z.ZodTypeAny, prefix = ""): KeyDoc[] {
  const { base } = unwrap(schema);
  if (!(base instanceof z.ZodObject)) return [];
  const docs: KeyDoc[] = [];
  for (const [name, field] of Object.entries(base.shape as Record<string, z.ZodTypeAny>)) {
    const path = prefix ? `${prefix}.${name}` : name;
    const u = unwrap(field);
    docs.push({
      path,
      type: typeName(field),
      default: u.hasDefault ? JSON.stringify(u.default) : undefined,
      required: !u.hasDefault && !u.optional,
      description: describedAs(field),
    });
    docs.push(...keysOf(field, path));
  }
  return docs;
}

function defaultCell(d: KeyDoc): string {
  if (d.default !== undefined) return `\`${d.default}\``;
  return d.required ? "required" : "—";
}

/** Same cell text for every environment, or each environment's own, as `local: …; staging: …`. */
function merged(perEnv: Map<Environment, string>): string {
  const values = new Set(perEnv.values());
  if (values.size <= 1) return [...values][0] ?? "";
  const byValue = new Map<string, Environment[]>();
  for (const [env, value] of perEnv) byValue.set(value, [...(byValue.get(value) ?? []), env]);
  return [...byValue].map(([value, envs]) => `${envs.join(", ")}: ${value}`).join("; ");
}

/** The rows of the reference: one per key, in schema order, merged across environments. */
export function configRows(schemas: Record<Environment, z.ZodTypeAny> = schemaFor): ConfigRow[] {
  const byKey = new Map<string, Map<Environment, KeyDoc>>();
  for (const env of ENVIRONMENTS) {
    for (const doc of keysOf(schemas[env])) {
      const m = byKey.get(doc.path) ?? new Map<Environment, KeyDoc>();
      m.set(env, doc);
      byKey.set(doc.path, m);
    }
  }
  return [...byKey].map(([path, perEnv]) => {
    const pick = (f: (d: KeyDoc) => string) => merged(new Map([...perEnv].map(([env, d]) => [env, f(d)])));
    // A literal per environment (the `environment` key) reads best as their union.
    const types = [...new Set([...perEnv.values()].map((d) => d.type))];
    const literals = types.length > 1 && types.every((t) => /^"[^"]*"$/.test(t));
    return {
      key: `${CONFIG_NAMESPACE}:${path}`,
      type: literals ? types.join(" \\| ") : pick((d) => d.type),
      default: pick(defaultCell),
      environments: [...perEnv.keys()],
      description: pick((d) => d.description ?? ""),
    };
  });
}

const cell = (text: string) => text.replace(/\r?\n/g, " ").replace(/(?<!\\)\|/g, "\\|");

/** docs/config.md: the generated reference. */
export function renderConfigDocs(rows: readonly ConfigRow[], secretKeys: readonly string[]): string {
  const lines = [
    "# Stack configuration reference",
    "",
    "<!-- Generated from infra/config/schema.ts by `npx tsx scripts/config-docs.ts`: do not edit by hand. -->",
    "",
    "Every `flightdeck:*` key a stack file (`Pulumi.<stack>.yaml`) may set, validated before any resource is declared.",
    "Nested keys are written as YAML maps under their parent (`flightdeck:healthGate:` then `path: /healthz`).",
    "Unknown keys are refused. A default of `{}` means each field below takes its own default.",
    "",
    "| key | type | default | environments | description |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map(
      (r) => `| \`${r.key}\` | ${cell(r.type)} | ${cell(r.default)} | ${r.environments.join(", ")} | ${cell(r.description)} |`,
    ),
    "",
    "## Secret keys",
    "",
    "Set with `pulumi config set --secret` (ciphertext in the stack file, `[secret]` in every output); never validated",
    "or echoed by the config loader, read only by the components that need them:",
    "",
    ...secretKeys.map((k) => `- \`${CONFIG_NAMESPACE}:${k}\``),
    "",
  ];
  return lines.join("\n");
}
