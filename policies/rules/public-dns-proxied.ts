import type { ResourceValidationPolicy } from "@pulumi/policy";
import { type Finding, type Json, reportFindings, str, strings, types } from "./common";

export interface DnsProxiedConfig {
  /** Record names that may stay DNS-only (e.g. a name a third party must reach directly). */
  exemptNames?: string[];
}

/** Record types Cloudflare can proxy; others (TXT, MX, …) cannot be, so they are not checked. */
const proxiable = new Set(["A", "AAAA", "CNAME"]);

/** Public A/AAAA/CNAME records are proxied through Cloudflare, hiding origins behind its edge. */
export function checkDnsProxied(props: Json, config: DnsProxiedConfig): Finding[] {
  const type = (str(props.type) ?? "").toUpperCase();
  const name = str(props.name) ?? "(unnamed)";
  if (!proxiable.has(type) || strings(config.exemptNames).includes(name)) return [];
  if (props.proxied === true) return [];
  return [
    {
      message: `Cloudflare ${type} record ${name} is not proxied, which exposes the origin's address and bypasses Cloudflare's TLS and DDoS protection.`,
      remediation: `set proxied: true on the record (or list ${name} in public-dns-proxied.exemptNames if it must stay DNS-only).`,
    },
  ];
}

export const publicDnsProxied: ResourceValidationPolicy = {
  name: "public-dns-proxied",
  description: "Checks whether every public Cloudflare A, AAAA or CNAME record is proxied.",
  configSchema: {
    properties: {
      exemptNames: { type: "array", items: { type: "string" }, default: [], description: "Record names allowed to stay DNS-only." },
    },
  },
  validateResource: (args, report) => {
    if (args.type !== types.cloudflareDnsRecord) return;
    reportFindings(report, checkDnsProxied(args.props, args.getConfig<DnsProxiedConfig>()));
  },
};
