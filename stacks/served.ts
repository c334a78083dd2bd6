import { readVersion } from "../components/bluegreen/probe";
import type { SlotName } from "../components/bluegreen/slots";
import type { DeliveryState } from "./plan";

export interface ServedSlot {
  /** The slot whose release every sampled answer reported; undefined when that cannot be told. */
  slot?: SlotName;
  /** True when the answers came from both slots' releases (a switch half done, or by hand). */
  mixed: boolean;
  detail: string;
}

/**
 * Which slot users are served, read from what the live URL answers. Why: where the router cannot
 * be asked (Fly's Machines API reports no cordon state), the truth users see is the release in
 * the answers. Several samples, because the proxy balances across machines: one answer from the
 * other slot's release means traffic is split. When both slots run the same release the answers
 * cannot tell them apart, and no slot is claimed.
 */
export async function servedSlot(url: string, state: DeliveryState, samples = 6): Promise<ServedSlot> {
  const bySlot = new Map<string, SlotName[]>();
  for (const slot of ["blue", "green"] as const) {
    const release = state.slots[slot]?.release;
    if (release !== undefined) bySlot.set(release, [...(bySlot.get(release) ?? []), slot]);
  }
  const seen = new Set<SlotName>();
  const other: string[] = [];
  for (let i = 0; i < samples; i++) {
    const answer = await readVersion(url);
    if (!answer.ok) {
      other.push(answer.detail);
      continue;
    }
    const slots = typeof answer.version === "string" ? bySlot.get(answer.version) : undefined;
    if (!slots) other.push(`serves ${JSON.stringify(answer.version)}, which no slot runs`);
    else if (slots.length === 1) seen.add(slots[0]);
  }
  const mixed = seen.size > 1;
  if (other.length > 0) return { mixed, detail: `${other.length} of ${samples} answers from ${url} named no slot (${other[0]})` };
  if (seen.size === 0) return { mixed: false, detail: `both slots run the same release: the answers from ${url} cannot tell them apart` };
  if (mixed) return { mixed, detail: `answers from ${url} came from both slots' releases` };
  const [slot] = [...seen];
  return { slot, mixed, detail: `${samples} answers from ${url} all from ${slot}'s release` };
}
