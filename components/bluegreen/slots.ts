/** The two blue/green slots: the one list every layer takes them from (config schema included). */
export const SLOTS = ["blue", "green"] as const;
export type SlotName = (typeof SLOTS)[number];

export function otherSlot(slot: SlotName): SlotName {
  return slot === "blue" ? "green" : "blue";
}
