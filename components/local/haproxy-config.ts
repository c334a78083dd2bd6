import type { SlotName } from "../bluegreen/slots";

export const HAPROXY_BACKEND = "app";

export interface HaproxySpec {
  proxyPort: number;
  adminPort: number;
  socketPath: string;
  servers: Record<SlotName, number>;
  live: SlotName;
}

/** Weight of a slot's server: the live one takes every request, the warm one none. */
export function weightOf(slot: SlotName, live: SlotName): number {
  return slot === live ? 100 : 0;
}

/**
 * HAProxy's configuration for the local router. Both slots are always servers of one backend;
 * which one is live is only a weight, so a switch is two runtime-API commands and never drops
 * a connection (HTTP mode routes each request, in-flight requests finish where they started).
 */
export function renderHaproxyConfig(spec: HaproxySpec): string {
  const server = (slot: SlotName) =>
    `  server ${slot} 127.0.0.1:${spec.servers[slot]} weight ${weightOf(slot, spec.live)}`;
  return [
    "# Written by Flightdeck's local router. Live slot: " + spec.live,
    "global",
    `  stats socket ${spec.socketPath} mode 600 level admin`,
    "  maxconn 4096",
    "defaults",
    "  mode http",
    "  timeout connect 2s",
    "  timeout client 60s",
    "  timeout server 60s",
    "  timeout http-keep-alive 60s",
    "  retries 2",
    "  retry-on conn-failure empty-response",
    "  option redispatch",
    "frontend live",
    `  bind 127.0.0.1:${spec.proxyPort}`,
    `  default_backend ${HAPROXY_BACKEND}`,
    "frontend stats",
    `  bind 127.0.0.1:${spec.adminPort}`,
    "  stats enable",
    "  stats uri /",
    `backend ${HAPROXY_BACKEND}`,
    "  balance roundrobin",
    server("blue"),
    server("green"),
    "",
  ].join("\n");
}

/**
 * Runtime-API commands that make `live` the live slot. The new slot is weighted up before the
 * old one is weighted down, so there is never a moment without a server.
 */
export function switchCommands(live: SlotName): string[] {
  const other: SlotName = live === "blue" ? "green" : "blue";
  return [`set weight ${HAPROXY_BACKEND}/${live} 100`, `set weight ${HAPROXY_BACKEND}/${other} 0`];
}

/** Reads `get weight` answers ("100 (initial 0)") into the live slot, or undefined when unclear. */
export function liveFromWeights(blue: string, green: string): SlotName | undefined {
  const w = (s: string) => Number(s.trim().split(/\s+/)[0]);
  const [b, g] = [w(blue), w(green)];
  if (b > 0 && g === 0) return "blue";
  if (g > 0 && b === 0) return "green";
  return undefined;
}
