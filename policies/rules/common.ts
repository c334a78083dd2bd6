/**
 * Shared vocabulary of the policy pack: the type tokens the policies look at, the shape of a finding
 * (what is wrong + how to fix it), and small readers that turn engine-provided values into typed data
 * without trusting their shape.
 */
import type { EnforcementLevel, PolicyConfigSchema, ReportViolation } from "@pulumi/policy";
import { dynamicTypeToken, flyResourceTypes, healthGateType } from "../../components/fly/contract";

/** The engine's type tokens of every resource a policy in this pack inspects. */
export const types = {
  flyMachine: dynamicTypeToken(flyResourceTypes.machine),
  flyAppSecrets: dynamicTypeToken(flyResourceTypes.secrets),
  healthGate: dynamicTypeToken(healthGateType),
  stack: "pulumi:pulumi:Stack",
  githubEnvironment: "github:index/repositoryEnvironment:RepositoryEnvironment",
  githubDeploymentPolicy: "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
  githubEnvironmentSecret: "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
  githubRuleset: "github:index/repositoryRuleset:RepositoryRuleset",
  githubBranchProtection: "github:index/branchProtection:BranchProtection",
  cloudflareDnsRecord: "cloudflare:index/dnsRecord:DnsRecord",
} as const;

/**
 * One thing a rule found wrong. `remediation` is mandatory: every violation tells the reader what to
 * change. `level` overrides the policy's enforcement level for this finding only (used to record an
 * audited emergency override as advisory while the policy itself stays mandatory).
 */
export interface Finding {
  message: string;
  remediation: string;
  urn?: string;
  level?: Extract<EnforcementLevel, "advisory">;
}

/** The text the engine shows: the problem, then the fix. */
export function formatFinding(f: Finding): string {
  return `${f.message} Fix: ${f.remediation}`;
}

/** The object form of reportViolation that @pulumi/policy accepts (server.js), absent from its typings. */
interface ViolationInfo {
  message: string;
  urn?: string;
  enforcementLevel?: EnforcementLevel;
}

/** Reports findings through the engine's callback, honouring a per-finding level. */
export function reportFindings(report: ReportViolation, findings: readonly Finding[]): void {
  for (const f of findings) {
    if (f.level) {
      (report as unknown as (info: ViolationInfo) => void)({ message: formatFinding(f), urn: f.urn, enforcementLevel: f.level });
    } else {
      report(formatFinding(f), f.urn);
    }
  }
}

// ---- readers: engine values are untyped JSON; these never throw on a wrong shape ----

export type Json = Record<string, unknown>;

export function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
export function record(v: unknown): Json {
  return isRecord(v) ? v : {};
}
export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}
export function strings(v: unknown): string[] {
  return list(v).filter((x): x is string => typeof x === "string");
}

/** A config number, else its default (the engine validates against configSchema; this guards direct calls). */
export function numberOr(v: unknown, fallback: number): number {
  return num(v) ?? fallback;
}

/** A resource as a stack policy sees it, reduced to what rules need (plain data, easy to build in tests). */
export interface ResourceView {
  type: string;
  name: string;
  urn: string;
  props: Json;
}

/**
 * The `restore` entry of a guardrail's config schema: the deploy driver sets it (never by hand) on
 * the updates of a revert, rollback or recovery, saying which and why (workspace.ts, engineOptions).
 */
export function restoreMarkerProperty(description: string): PolicyConfigSchema["properties"][string] {
  return {
    type: ["object", "null"],
    properties: { kind: { type: "string" }, reason: { type: "string" } },
    description,
  };
}

