/**
 * Fly's published Machines API spec (Swagger 2.0, March 2024) plus the newer endpoints Flightdeck
 * uses (app secrets, IP assignments, certificates), which are not in that file: their shapes
 * follow Fly's Machines API documentation (fly.io/docs/machines/api/…) and are written here in
 * the same Swagger 2.0 form, so one validator checks both sides of every request.
 *
 * The validator is deliberately strict: a property a definition does not declare is an error
 * (unless the definition has `additionalProperties`), so a typo in a request fails the test.
 *
 * One deliberate exception: `fly.Duration` is generated in the spec as an object
 * `{"time.Duration": <int>}`, but Fly's API and docs take Go duration strings ("10s", "500ms")
 * for check intervals, timeouts and stop timeouts (flyctl sends strings). We accept a Go
 * duration string there, and only that or the spec's object form.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  enum?: unknown[];
  allOf?: Schema[];
  required?: string[];
  description?: string;
}

interface Operation {
  parameters?: { in: string; name: string; schema?: Schema; required?: boolean }[];
  responses: Record<string, { description?: string; schema?: Schema }>;
}

interface Spec {
  basePath: string;
  paths: Record<string, Record<string, Operation>>;
  definitions: Record<string, Schema>;
}

// Fly's published spec (March 2024, Apache-2.0), vendored so a clone tests on its own.
const specFile = path.resolve(__dirname, "fly-machines-api.swagger.json");
const fallbackSpecFile = specFile;

const errorResponse = { $ref: "#/definitions/ErrorResponse" };

/** Newer endpoints, from Fly's docs (not in the March 2024 swagger). */
const newerPaths: Spec["paths"] = {
  "/apps/{app_name}/secrets": {
    get: { responses: { "200": { schema: { $ref: "#/definitions/AppSecrets" } } } },
    post: {
      parameters: [{ in: "body", name: "request", required: true, schema: { $ref: "#/definitions/AppSecretsUpdateRequest" } }],
      responses: { "200": { schema: { $ref: "#/definitions/AppSecretsUpdateResp" } }, "400": { schema: errorResponse } },
    },
  },
  "/apps/{app_name}/secrets/{secret_name}": {
    delete: { responses: { "200": { schema: { $ref: "#/definitions/DeleteAppSecretResponse" } } } },
  },
  "/apps/{app_name}/ip_assignments": {
    get: { responses: { "200": { schema: { $ref: "#/definitions/ListIPAssignmentsResponse" } } } },
    post: {
      parameters: [{ in: "body", name: "request", required: true, schema: { $ref: "#/definitions/AssignIPRequest" } }],
      responses: { "200": { schema: { $ref: "#/definitions/IPAssignment" } }, "400": { schema: errorResponse } },
    },
  },
  "/apps/{app_name}/ip_assignments/{ip}": { delete: { responses: { "204": { description: "No Content" } } } },
  "/apps/{app_name}/certificates/acme": {
    post: {
      parameters: [{ in: "body", name: "request", required: true, schema: { $ref: "#/definitions/CreateAcmeCertificateRequest" } }],
      responses: { "201": { schema: { $ref: "#/definitions/CertificateDetail" } }, "422": { schema: errorResponse } },
    },
  },
  "/apps/{app_name}/certificates/{hostname}": {
    get: { responses: { "200": { schema: { $ref: "#/definitions/CertificateDetail" } } } },
    delete: { responses: { "204": { description: "No Content" } } },
  },
};

const newerDefinitions: Spec["definitions"] = {
  AppSecret: {
    type: "object",
    properties: { name: { type: "string" }, digest: { type: "string" }, created_at: { type: "string" }, updated_at: { type: "string" } },
  },
  AppSecrets: { type: "object", properties: { secrets: { type: "array", items: { $ref: "#/definitions/AppSecret" } } } },
  AppSecretsUpdateRequest: {
    type: "object",
    required: ["values"],
    properties: { values: { type: "object", additionalProperties: { type: "string" } } },
  },
  AppSecretsUpdateResp: {
    type: "object",
    properties: { secrets: { type: "array", items: { $ref: "#/definitions/AppSecret" } }, version: { type: "integer" } },
  },
  DeleteAppSecretResponse: { type: "object", properties: { version: { type: "integer" } } },
  AssignIPRequest: {
    type: "object",
    required: ["type"],
    properties: {
      type: { type: "string", enum: ["v4", "shared_v4", "v6", "private_v6"] },
      region: { type: "string" },
      network: { type: "string" },
      org_slug: { type: "string" },
      service_name: { type: "string" },
    },
  },
  IPAssignment: {
    type: "object",
    properties: {
      ip: { type: "string" },
      region: { type: "string" },
      shared: { type: "boolean" },
      service_name: { type: "string" },
      created_at: { type: "string" },
    },
  },
  ListIPAssignmentsResponse: { type: "object", properties: { ips: { type: "array", items: { $ref: "#/definitions/IPAssignment" } } } },
  CreateAcmeCertificateRequest: { type: "object", required: ["hostname"], properties: { hostname: { type: "string" } } },
  CertificateDetail: {
    type: "object",
    properties: {
      hostname: { type: "string" },
      configured: { type: "boolean" },
      status: { type: "string" },
      acme_requested: { type: "boolean" },
      dns_requirements: { type: "object", additionalProperties: true },
    },
  },
};

let cached: Spec | undefined;

export function loadSpec(): Spec {
  if (cached) return cached;
  const file = fs.existsSync(specFile) ? specFile : fallbackSpecFile;
  const published = JSON.parse(fs.readFileSync(file, "utf8")) as Spec;
  cached = {
    basePath: published.basePath,
    paths: { ...published.paths, ...newerPaths },
    definitions: { ...published.definitions, ...newerDefinitions },
  };
  return cached;
}

const goDuration = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;

/** Errors of `value` against `schema`; empty when it conforms. */
export function validate(schema: Schema, value: unknown, at = "$"): string[] {
  const spec = loadSpec();
  if (schema.$ref) {
    const name = schema.$ref.replace("#/definitions/", "");
    const def = spec.definitions[name];
    if (!def) return [`${at}: unknown definition ${name}`];
    if (name === "fly.Duration" && typeof value === "string") {
      return goDuration.test(value) ? [] : [`${at}: "${value}" is not a Go duration`];
    }
    return validate(def, value, at);
  }
  if (schema.allOf) return schema.allOf.flatMap((s) => validate(s, value, at));
  const errors: string[] = [];
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  switch (schema.type) {
    case undefined:
      if (!schema.properties) return errors; // `{}`: anything
      break;
    case "string":
      if (typeof value !== "string") errors.push(`${at}: expected string, got ${JSON.stringify(value)}`);
      return errors;
    case "integer":
      if (!Number.isInteger(value)) errors.push(`${at}: expected integer, got ${JSON.stringify(value)}`);
      return errors;
    case "number":
      if (typeof value !== "number") errors.push(`${at}: expected number, got ${JSON.stringify(value)}`);
      return errors;
    case "boolean":
      if (typeof value !== "boolean") errors.push(`${at}: expected boolean, got ${JSON.stringify(value)}`);
      return errors;
    case "array":
      if (!Array.isArray(value)) return [...errors, `${at}: expected array, got ${JSON.stringify(value)}`];
      return [...errors, ...value.flatMap((v, i) => (schema.items ? validate(schema.items, v, `${at}[${i}]`) : []))];
    case "object":
      break;
    default:
      return [...errors, `${at}: unsupported schema type ${schema.type}`];
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [...errors, `${at}: expected object, got ${JSON.stringify(value)}`];
  const obj = value as Record<string, unknown>;
  for (const r of schema.required ?? []) if (!(r in obj)) errors.push(`${at}: missing required ${r}`);
  for (const [k, v] of Object.entries(obj)) {
    const prop = schema.properties?.[k];
    if (prop) errors.push(...validate(prop, v, `${at}.${k}`));
    else if (schema.additionalProperties === true) continue;
    else if (schema.additionalProperties) errors.push(...validate(schema.additionalProperties, v, `${at}.${k}`));
    else errors.push(`${at}: property "${k}" is not in the spec`);
  }
  return errors;
}

export interface MatchedOperation {
  template: string;
  params: Record<string, string>;
  op: Operation;
}

/** The spec operation for a method and a path below /v1. */
export function findOperation(method: string, pathname: string): MatchedOperation | undefined {
  const spec = loadSpec();
  const parts = pathname.split("/").filter(Boolean);
  const matches: (MatchedOperation & { paramCount: number })[] = [];
  for (const [template, ops] of Object.entries(spec.paths)) {
    const op = ops[method.toLowerCase()];
    const tparts = template.split("/").filter(Boolean);
    if (!op || tparts.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = tparts.every((t, i) => {
      if (t.startsWith("{")) {
        params[t.slice(1, -1)] = decodeURIComponent(parts[i]);
        return true;
      }
      return t === parts[i];
    });
    if (ok) matches.push({ template, params, op, paramCount: Object.keys(params).length });
  }
  // A literal segment beats a parameter (".../certificates/acme" vs ".../certificates/{hostname}").
  matches.sort((a, b) => a.paramCount - b.paramCount);
  return matches[0];
}

/** True when the spec lists this status for the operation (or it is an error status). */
export function statusDeclared(op: Operation, status: number): boolean {
  return String(status) in op.responses || status >= 400;
}

export function requestSchema(op: Operation): Schema | undefined {
  return op.parameters?.find((p) => p.in === "body")?.schema;
}

/** The schema of a response; errors the spec does not list use ErrorResponse, as Fly's do. */
export function responseSchema(op: Operation, status: number): Schema | undefined {
  const r = op.responses[String(status)];
  if (r) return r.schema;
  if (status >= 400) return errorResponse;
  return undefined;
}
