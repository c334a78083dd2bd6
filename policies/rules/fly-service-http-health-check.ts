import type { ResourceValidationPolicy } from "@pulumi/policy";
import { type Finding, type Json, list, num, record, types } from "./common";
import { reportFindings } from "./common";

export interface HttpHealthCheckConfig {
  /** Require a path on the check (Fly probes "/" when none is set, which rarely tells health). */
  requirePath?: boolean;
}

/** Every service of a Fly machine has at least one `type: "http"` check. */
export function checkServiceHealthChecks(props: Json, config: HttpHealthCheckConfig): Finding[] {
  const findings: Finding[] = [];
  const services = list(record(props.config).services);
  services.forEach((s, i) => {
    const svc = record(s);
    const http = list(svc.checks).map(record).filter((c) => c.type === "http");
    const port = num(svc.internal_port);
    const label = `service ${i}${port !== undefined ? ` (internal port ${port})` : ""}`;
    if (http.length === 0) {
      findings.push({
        message: `Fly machine ${label} has no HTTP health check, so Fly routes traffic to instances that are up but broken.`,
        remediation: `add { type: "http", path: "/healthz", interval: "10s", timeout: "2s" } to config.services[${i}].checks.`,
      });
    } else if (config.requirePath === true && !http.some((c) => typeof c.path === "string" && c.path.length > 1)) {
      findings.push({
        message: `Fly machine ${label} has an HTTP health check without a health path.`,
        remediation: `set path (e.g. "/healthz") on config.services[${i}].checks.`,
      });
    }
  });
  return findings;
}

export const flyServiceHttpHealthCheck: ResourceValidationPolicy = {
  name: "fly-service-http-health-check",
  description: "Checks whether every service of a Fly machine declares an HTTP health check.",
  configSchema: {
    properties: {
      requirePath: { type: "boolean", default: false, description: "Also require a non-root path on the HTTP check." },
    },
  },
  validateResource: (args, report) => {
    if (args.type !== types.flyMachine) return;
    reportFindings(report, checkServiceHealthChecks(args.props, args.getConfig<HttpHealthCheckConfig>()));
  },
};
