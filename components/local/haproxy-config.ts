import * as path from "node:path";
import type { SlotName } from "../bluegreen/slots";

export interface HaproxySpec {
  proxyPort: number;
  adminPort: number;
  socketPath: string;
  servers: Record<SlotName, number>;
  live: SlotName;
  /** The health gate's path and status, which HAProxy checks on each slot every second. */
  healthCheck: { path: string; expectedStatus: number };
}

/**
 * The live map sits beside the admin socket, so what knows the socket (the stack's traffic switch
 * output, states written before the map existed included) finds the map too.
 */
export function liveMapPath(socketPath: string): string {
  return path.join(path.dirname(socketPath), "live.map");
}

/**
 * The configuration's shape: 2 = one backend per live slot chosen by the live map, with failover;
 * 3 = and a canary backend with both slots weighted, whose requests alone are logged.
 */
export const HAPROXY_CONFIG_FORMAT = 3;

/** The backend a canary step routes live traffic to: both slots, weighted by the step. */
export const CANARY_BACKEND = "canary";

/** Each line HAProxy logs for a request of the canary backend starts with this word. */
export const CANARY_LOG_TAG = "fdcanary";

/** The key of the one entry in the live map. */
export const LIVE_KEY = "live";

/**
 * Consecutive failed live answers (5xx but 501/505, or a connection error) after which HAProxy
 * takes a slot's server out on its own. Small, because each one is a user's failed request; not
 * one, so that a single bad request does not move all traffic.
 */
export const ERROR_LIMIT = 3;

/**
 * How HAProxy checks each slot: every second while it is up; every 250 ms while it is down or
 * changing state, so a slot restarted (a repair, a new release) is back in about half a second.
 */
const CHECK = "check inter 1s downinter 250ms fastinter 250ms fall 2 rise 2";

/** The backend that serves traffic while `slot` is live: `slot` first, the other slot as its fallback. */
export function backendFor(slot: SlotName): string {
  return `via_${slot}`;
}

const otherSlot = (slot: SlotName): SlotName => (slot === "blue" ? "green" : "blue");

/**
 * HAProxy's configuration for the local router.
 *
 * Each slot has a backend of its own in which it is the server and the other slot is the backup.
 * Which backend takes live traffic is one entry in a map file, so a switch is one runtime-API
 * command and never drops a connection (HTTP mode routes each request; in-flight requests finish
 * where they started).
 *
 * The live server is watched on its live answers (`observe layer7`): after ERROR_LIMIT failed
 * answers in a row HAProxy marks it down and sends the next request to the backup — the other
 * slot, which still runs the release that was live before the switch. Users are back on the
 * last good release one failed answer after the limit, before any probe of ours; the driver reads
 * the server's state (`show stat`) and reverts the stack. Both servers are health-checked on the
 * health gate's path: a slot taken out stays out while it fails it (without its driver, too), and a
 * slot that is stopped, restarting or unhealthy is never a fallback.
 */
export function renderHaproxyConfig(spec: HaproxySpec): string {
  const backend = (slot: SlotName) => [
    `backend ${backendFor(slot)}`,
    `  option httpchk GET ${spec.healthCheck.path}`,
    `  http-check expect status ${spec.healthCheck.expectedStatus}`,
    `  server ${slot} 127.0.0.1:${spec.servers[slot]} ${CHECK} observe layer7 error-limit ${ERROR_LIMIT} on-error mark-down`,
    `  server ${otherSlot(slot)} 127.0.0.1:${spec.servers[otherSlot(slot)]} ${CHECK} backup`,
  ];
  const mapPath = liveMapPath(spec.socketPath);
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
    // The map's default is the live slot as this file was written, should the map file be unreadable.
    `  use_backend %[str(${LIVE_KEY}),map(${mapPath},${backendFor(spec.live)})]`,
    `  default_backend ${backendFor(spec.live)}`,
    // A canary step's analysis needs each request's server, status and time; other requests are not
    // logged, so a steady load never fills the log.
    "  log stdout format raw local0",
    `  log-format "${CANARY_LOG_TAG} %s %ST %Ta"`,
    `  http-request set-log-level silent unless { str(${LIVE_KEY}),map(${mapPath},none) -m str ${CANARY_BACKEND} }`,
    "frontend stats",
    `  bind 127.0.0.1:${spec.adminPort}`,
    "  stats enable",
    "  stats uri /",
    ...backend("blue"),
    ...backend("green"),
    // Both slots take a share by weight (set at run time, step by step). Each is watched on its
    // answers like a live slot: a canary that fails ERROR_LIMIT answers in a row is out at once.
    `backend ${CANARY_BACKEND}`,
    `  option httpchk GET ${spec.healthCheck.path}`,
    `  http-check expect status ${spec.healthCheck.expectedStatus}`,
    ...(["blue", "green"] as const).map(
      (slot) => `  server ${slot} 127.0.0.1:${spec.servers[slot]} ${CHECK} weight ${slot === spec.live ? 256 : 0} observe layer7 error-limit ${ERROR_LIMIT} on-error mark-down`,
    ),
    "",
  ].join("\n");
}

/** The map file's text: which backend is live. */
export function renderLiveMap(live: SlotName): string {
  return `${LIVE_KEY} ${backendFor(live)}\n`;
}

/** The runtime-API command that sends live traffic to `backend`: one map entry, applied atomically. */
export function routeCommand(mapPath: string, backend: string): string {
  return `set map ${mapPath} ${LIVE_KEY} ${backend}`;
}

/** The runtime-API command that makes `live` the live slot. */
export function switchCommand(mapPath: string, live: SlotName): string {
  return routeCommand(mapPath, backendFor(live));
}

/** The values of the live map's entries in a `show map` answer ("0x55d… live via_green" per line). */
function liveMapValues(answer: string): string[] {
  return answer.split("\n").flatMap((line) => {
    const [, key, value] = line.trim().split(/\s+/);
    return key === LIVE_KEY && value !== undefined ? [value] : [];
  });
}

/** Whether `show map` says live traffic is in the canary backend: a canary's steps are under way. */
export function mapRoutesCanary(answer: string): boolean {
  return liveMapValues(answer).includes(CANARY_BACKEND);
}

/** Reads `show map` into the live slot, or undefined when unclear. */
export function liveFromMap(answer: string): SlotName | undefined {
  for (const value of liveMapValues(answer)) {
    if (value === backendFor("blue")) return "blue";
    if (value === backendFor("green")) return "green";
  }
  return undefined;
}

/**
 * From `show stat` (CSV with a "# pxname,svname,…" header): the row of `server` in `backend`, by
 * column name (a short row's missing fields are ""), or undefined when the answer has no such row.
 */
function statRow(showStat: string, backend: string, server: string): Record<string, string> | undefined {
  const lines = showStat.split("\n").filter((l) => l.trim() !== "");
  const header = lines[0]?.replace(/^#\s*/, "").split(",") ?? [];
  const [px, sv] = [header.indexOf("pxname"), header.indexOf("svname")];
  if (px < 0 || sv < 0) return undefined;
  for (const line of lines.slice(1)) {
    const f = line.split(",");
    if (f[px] === backend && f[sv] === server) return Object.fromEntries(header.map((name, i) => [name, f[i] ?? ""]));
  }
  return undefined;
}

/** The status of `server` in `backend` ("UP", "DOWN 1/2", …) and its last check, from `show stat`. */
export function serverStatus(showStat: string, backend: string, server: string): { status: string; lastCheck: string } | undefined {
  const row = statRow(showStat, backend, server);
  if (row?.status === undefined) return undefined;
  return { status: row.status, lastCheck: row.last_chk ?? "" };
}

/**
 * The live slot's own server in its backend, when HAProxy took it out (DOWN: failed live answers
 * or checks) — the status text, or undefined while it serves.
 */
export function liveServerDown(showStat: string, live: SlotName): string | undefined {
  return serverDownIn(showStat, backendFor(live), live);
}

/** `slot`'s server in `backend` when HAProxy took it out: the status and last check, else undefined. */
export function serverDownIn(showStat: string, backend: string, slot: SlotName): string | undefined {
  const server = serverStatus(showStat, backend, slot);
  if (!server?.status.startsWith("DOWN")) return undefined;
  // last_chk may be a quoted text with commas, which this reader cuts at the first: keep its words.
  const check = server.lastCheck.replace(/"/g, "").trim();
  return `${server.status}${check ? ` (${check})` : ""}`;
}

/** Whether HAProxy takes `slot` as a server of `backend` (its own by default) now: UP, or UP and going down. */
export function slotServerUp(showStat: string, slot: SlotName, backend = backendFor(slot)): boolean {
  return serverStatus(showStat, backend, slot)?.status.startsWith("UP") ?? false;
}

/**
 * The runtime-API commands that give `canary` `percent` of the canary backend's requests and
 * `stable` the rest (HAProxy weights run 0–256; a percentage of 256 keeps the ratio exact enough).
 */
export function canaryWeightCommands(stable: SlotName, canary: SlotName, percent: number): string {
  const canaryWeight = Math.round((256 * percent) / 100);
  return `set weight ${CANARY_BACKEND}/${canary} ${canaryWeight};set weight ${CANARY_BACKEND}/${stable} ${256 - canaryWeight}`;
}

/** A server's answers so far, from `show stat`'s cumulative counters. */
export interface ServerCounters {
  /** Answers the server gave (every HTTP status class), plus requests that failed before any answer. */
  requests: number;
  /** 5xx answers, plus connections and answers that failed before any status. */
  errors: number;
}

/** `server`'s counters in `backend` from `show stat`, or undefined when the answer has no such row. */
export function serverCounters(showStat: string, backend: string, server: string): ServerCounters | undefined {
  const row = statRow(showStat, backend, server);
  if (!row) return undefined;
  const num = (name: string) => {
    const n = Number(row[name] ?? 0);
    return Number.isFinite(n) ? n : 0;
  };
  const responses = ["hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other"].reduce((sum, c) => sum + num(c), 0);
  const noAnswer = num("econ") + num("eresp");
  return { requests: responses + noAnswer, errors: num("hrsp_5xx") + noAnswer };
}

/**
 * The canary backend's request times by server, from HAProxy's log lines ("fdcanary green 200 3").
 * Lines of anything else, and requests that got no answer (time -1), are left out.
 */
export function canaryTimes(log: string): Partial<Record<SlotName, number[]>> {
  const times: Partial<Record<SlotName, number[]>> = {};
  for (const line of log.split("\n")) {
    const [tag, server, , time] = line.trim().split(/\s+/);
    if (tag !== CANARY_LOG_TAG || (server !== "blue" && server !== "green")) continue;
    const ms = Number(time);
    if (!Number.isFinite(ms) || ms < 0) continue;
    (times[server] ??= []).push(ms);
  }
  return times;
}
