import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";

export const projectDir = path.resolve(__dirname, "../..");

/** The `flightdeck:*` config of a committed stack file, keys without the namespace. */
export function stackFileConfig(stack: string): Record<string, unknown> {
  const doc = YAML.parse(fs.readFileSync(path.join(projectDir, `Pulumi.${stack}.yaml`), "utf8")) as {
    config?: Record<string, unknown>;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc.config ?? {})) {
    if (k.startsWith("flightdeck:")) out[k.slice("flightdeck:".length)] = v;
  }
  return out;
}

/** A deep copy with one value set at a dotted path (creating objects on the way). */
export function withValue(base: Record<string, unknown>, dotted: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(base);
  const parts = dotted.split(".");
  let cur: Record<string, unknown> = copy;
  for (const p of parts.slice(0, -1)) {
    if (typeof cur[p] !== "object" || cur[p] === null) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  const last = parts[parts.length - 1];
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return copy;
}

/** A delivery state for tests: `release` live on `liveSlot`, `previous` warm in the other slot. */
export function deliveryOf(release: string, liveSlot: "blue" | "green" = "blue", previous?: string, features: Record<string, boolean> = {}) {
  const warm = liveSlot === "blue" ? "green" : "blue";
  return { liveSlot, slots: { [liveSlot]: { release, features }, ...(previous ? { [warm]: { release: previous, features } } : {}) } };
}

/** The committed stack file's config with a release deployed, as the driver would run it. */
export function deployedConfig(stack: string, release: string, liveSlot: "blue" | "green" = "blue", previous?: string): Record<string, unknown> {
  const base = stackFileConfig(stack);
  return { ...base, delivery: deliveryOf(release, liveSlot, previous, (base.features ?? {}) as Record<string, boolean>) };
}
