/**
 * GitHub's published REST description (@octokit/openapi, api.github.com.json, pinned in
 * package.json): finds the operation a request names and checks the request against it — the path
 * and method exist, path parameters have their declared types, the JSON body has the required
 * properties of the operation's requestBody schema with the declared types and enums, and no
 * property the schema does not know (GitHub ignores those; here they are a mistake).
 */
import * as fs from "node:fs";

type Schema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  operationId: string;
  parameters?: (Parameter | { $ref: string })[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
}

let loaded: Spec | undefined;
function spec(): Spec {
  loaded ??= JSON.parse(fs.readFileSync(require.resolve("@octokit/openapi/generated/api.github.com.json"), "utf8")) as Spec;
  return loaded;
}

/** Follows a local `$ref` ("#/components/schemas/x") until a value that is not a reference. */
function deref<T>(value: T | { $ref: string }): T {
  let v: unknown = value;
  for (let i = 0; i < 20 && v && typeof v === "object" && "$ref" in (v as object); i++) {
    const ref = (v as { $ref: string }).$ref;
    if (!ref.startsWith("#/")) throw new Error(`non-local $ref ${ref}`);
    v = ref
      .slice(2)
      .split("/")
      .reduce<unknown>((cur, key) => (cur as Record<string, unknown>)[key.replace(/~1/g, "/").replace(/~0/g, "~")], spec());
  }
  return v as T;
}

export interface MatchedOperation {
  /** The path template as the spec writes it, e.g. /repos/{owner}/{repo}/pulls/{pull_number}. */
  template: string;
  method: string;
  operationId: string;
  params: Record<string, string>;
  operation: Operation;
}

interface Route {
  template: string;
  regex: RegExp;
  names: string[];
  literal: number;
}
let routes: Route[] | undefined;
function allRoutes(): Route[] {
  routes ??= Object.keys(spec().paths)
    .map((template) => {
      const names: string[] = [];
      // A parameter is one path segment, except where the spec documents a slash-containing ref.
      const source = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{([^}]+)\}/g, (_m, name: string) => {
        names.push(name);
        return name === "ref" || name === "path" ? "(.+)" : "([^/]+)";
      });
      return { template, regex: new RegExp(`^${source}$`), names, literal: template.replace(/\{[^}]+\}/g, "").length };
    })
    // The most literal template wins: /pulls/{pull_number}/merge before /pulls/{pull_number}.
    .sort((a, b) => b.literal - a.literal);
  return routes;
}

/** The operation for a method and path, or why there is none ("no such path", "no such method"). */
export function findOperation(method: string, pathname: string): MatchedOperation | string {
  const m = method.toLowerCase();
  let pathFound = false;
  for (const route of allRoutes()) {
    const hit = route.regex.exec(pathname);
    if (!hit) continue;
    pathFound = true;
    const operation = spec().paths[route.template][m];
    if (!operation) continue;
    const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(hit[i + 1])]));
    return { template: route.template, method: m, operationId: operation.operationId, params, operation };
  }
  return pathFound ? `${method} is not an operation of ${pathname} in GitHub's REST description` : `${pathname} is not a path in GitHub's REST description`;
}

/** Problems of one value against a schema (types, required properties, enums, unknown properties). */
export function schemaProblems(value: unknown, schemaOrRef: Schema, at: string): string[] {
  const schema = deref(schemaOrRef);
  if (value === null) return schema.nullable === true || schema.type === "null" ? [] : [`${at}: null where the schema does not allow it`];
  for (const key of ["oneOf", "anyOf"] as const) {
    const options = schema[key] as Schema[] | undefined;
    if (options) {
      const results = options.map((o) => schemaProblems(value, o, at));
      return results.some((r) => r.length === 0) ? [] : [`${at}: matches none of the ${key} alternatives (${results.map((r) => r[0]).join("; ")})`];
    }
  }
  if (Array.isArray(schema.allOf)) return (schema.allOf as Schema[]).flatMap((s) => schemaProblems(value, s, at));
  const problems: string[] = [];
  const type = schema.type as string | string[] | undefined;
  const types = type === undefined ? [] : Array.isArray(type) ? type : [type];
  const actual = Array.isArray(value) ? "array" : Number.isInteger(value) ? "integer" : typeof value;
  if (types.length > 0 && !types.some((t) => t === actual || (t === "number" && actual === "integer"))) {
    return [`${at}: expected ${types.join(" or ")}, found ${actual} ${JSON.stringify(value)}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (actual === "object" && value && typeof value === "object") {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const req of (schema.required as string[] | undefined) ?? []) {
      if (!(req in (value as object))) problems.push(`${at}: the required property "${req}" is missing`);
    }
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (props[k]) problems.push(...schemaProblems(v, props[k], `${at}.${k}`));
      else if (schema.additionalProperties === undefined || schema.additionalProperties === false) {
        if (Object.keys(props).length > 0) problems.push(`${at}: "${k}" is not a property of this request body`);
      }
    }
  }
  if (actual === "array" && schema.items) (value as unknown[]).forEach((v, i) => problems.push(...schemaProblems(v, schema.items as Schema, `${at}[${i}]`)));
  return problems;
}

/** Problems of a request against its operation: path parameters and the JSON body. */
export function requestProblems(op: MatchedOperation, body: unknown): string[] {
  const problems: string[] = [];
  for (const p of (op.operation.parameters ?? []).map((x) => deref<Parameter>(x))) {
    if (p.in !== "path") continue;
    const raw = op.params[p.name];
    if (raw === undefined || raw === "") {
      problems.push(`path parameter ${p.name} is missing`);
      continue;
    }
    const t = p.schema ? deref(p.schema).type : undefined;
    if (t === "integer" && !/^\d+$/.test(raw)) problems.push(`path parameter ${p.name}: expected an integer, found "${raw}"`);
  }
  const rb = op.operation.requestBody;
  if (body === undefined) {
    if (rb?.required) problems.push(`${op.operationId} requires a JSON body`);
    return problems;
  }
  const schema = rb?.content?.["application/json"]?.schema;
  if (!schema) return [...problems, `${op.operationId} takes no JSON body`];
  return [...problems, ...schemaProblems(body, schema, "body")];
}
