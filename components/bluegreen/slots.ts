/** The two blue/green slots. */
export type SlotName = "blue" | "green";
export const SLOTS: readonly SlotName[] = ["blue", "green"];

export function otherSlot(slot: SlotName): SlotName {
  return slot === "blue" ? "green" : "blue";
}
