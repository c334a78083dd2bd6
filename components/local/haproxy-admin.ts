import * as net from "node:net";
import type { SlotName } from "../bluegreen/slots";
import { CANARY_BACKEND, backendFor, liveFromMap, liveMapPath, liveServerDown, mapRoutesCanary, routeCommand, serverStatus, slotServerUp, switchCommand } from "./haproxy-config";

/**
 * Sends one line to HAProxy's runtime API (its admin socket) and returns the whole answer.
 * Commands joined with ";" run in order within one connection.
 */
export function runtimeApi(socketPath: string, line: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = "";
    const sock = net.createConnection(socketPath);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`HAProxy runtime API at ${socketPath} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding("utf8");
    sock.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`HAProxy runtime API at ${socketPath}: ${err.message}`));
    });
    sock.on("data", (chunk: string) => (answer += chunk));
    sock.on("end", () => {
      clearTimeout(timer);
      resolve(answer);
    });
    sock.on("connect", () => sock.write(`${line}\n`));
  });
}

/** Points live traffic at `live`, in one runtime-API call. HAProxy answers nothing when it obeys. */
export async function setLiveSlot(socketPath: string, live: SlotName): Promise<void> {
  await setRoute(socketPath, switchCommand(liveMapPath(socketPath), live), `the switch to ${live}`);
}

/** Sends live traffic into the canary backend, where weights split it between the slots. */
export async function routeToCanary(socketPath: string): Promise<void> {
  await setRoute(socketPath, routeCommand(liveMapPath(socketPath), CANARY_BACKEND), "the canary's first step");
}

async function setRoute(socketPath: string, command: string, what: string): Promise<void> {
  const answer = await runtimeApi(socketPath, command);
  if (answer.trim() !== "") throw new Error(`HAProxy refused ${what}: ${answer.trim()}`);
}

/**
 * Where HAProxy's live map sends traffic now: a slot's own backend, or the canary backend (steps
 * under way, or left so by a driver that died during them).
 */
export async function readRouting(socketPath: string): Promise<{ live?: SlotName; canary: boolean }> {
  const answer = await runtimeApi(socketPath, `show map ${liveMapPath(socketPath)}`);
  return { live: liveFromMap(answer), canary: mapRoutesCanary(answer) };
}

/** The slot whose backend takes live traffic, as HAProxy's live map says now. */
export async function readLiveSlot(socketPath: string): Promise<SlotName | undefined> {
  return (await readRouting(socketPath)).live;
}

/**
 * Whether HAProxy took the live slot's server out by itself (failed live answers): then live
 * traffic is on the other slot already. The status it shows, or undefined while the slot serves.
 */
export async function liveSlotFailedOver(socketPath: string): Promise<string | undefined> {
  const live = await readLiveSlot(socketPath);
  if (!live) return undefined;
  const down = liveServerDown(await runtimeApi(socketPath, "show stat"), live);
  return down === undefined ? undefined : `HAProxy took ${live} out after failed live answers (${down}); live traffic is on the other slot`;
}

/**
 * Waits until HAProxy's own health check takes `slot` as its backend's server (a slot just
 * started is DOWN until its check passes `rise` times). Fails, naming the last status and check,
 * when that takes longer than `timeoutMs`.
 */
export async function waitSlotServerUp(socketPath: string, slot: SlotName, timeoutMs: number, backend = backendFor(slot)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let stat = "";
  for (;;) {
    stat = await runtimeApi(socketPath, "show stat");
    if (slotServerUp(stat, slot, backend)) return;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seen = serverStatus(stat, backend, slot);
  const what = seen ? `${seen.status}${seen.lastCheck ? `, last check ${seen.lastCheck}` : ""}` : "no such server";
  throw new Error(`HAProxy did not take ${slot} as up in ${backend} within ${timeoutMs / 1000} s (${what}); live traffic stays where it was`);
}
