import * as net from "node:net";
import type { SlotName } from "../bluegreen/slots";
import { HAPROXY_BACKEND, liveFromWeights, switchCommands } from "./haproxy-config";

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
  const answer = await runtimeApi(socketPath, switchCommands(live).join(";"));
  if (answer.trim() !== "") throw new Error(`HAProxy refused the switch to ${live}: ${answer.trim()}`);
}

/** The slot HAProxy is actually sending traffic to, or undefined when both or neither are weighted. */
export async function readLiveSlot(socketPath: string): Promise<SlotName | undefined> {
  const blue = await runtimeApi(socketPath, `get weight ${HAPROXY_BACKEND}/blue`);
  const green = await runtimeApi(socketPath, `get weight ${HAPROXY_BACKEND}/green`);
  return liveFromWeights(blue, green);
}
