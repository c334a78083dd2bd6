import { z } from "zod";
import type { TrafficSwitchSpec } from "../components/bluegreen/platform";

const slots = <T extends z.ZodTypeAny>(v: T) => z.object({ blue: v, green: v });

/**
 * How to move a stack's live traffic without the engine (its `trafficSwitch` output, and the copy a
 * deployment record keeps for rollback's first switch), checked rather than cast: a wrong shape is
 * an error that says so, never a router command sent to the wrong place.
 */
export const trafficSwitchSpecSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("local"), socketPath: z.string().min(1) }),
  z.object({ kind: z.literal("fly"), app: z.string().min(1), machines: slots(z.array(z.string())) }),
  z.object({ kind: z.literal("cloudflare"), zoneId: z.string().min(1), recordId: z.string().min(1), hostname: z.string().min(1), targets: slots(z.string()) }),
]) satisfies z.ZodType<TrafficSwitchSpec>;

/** The spec from a stack output or a record; undefined when absent, an error naming `where` when malformed. */
export function parseTrafficSwitchSpec(value: unknown, where: string): TrafficSwitchSpec | undefined {
  if (value === undefined || value === null) return undefined;
  const r = trafficSwitchSpecSchema.safeParse(value);
  if (r.success) return r.data;
  throw new Error(`${where}: expected a traffic switch (kind local, fly or cloudflare with its fields), found ${JSON.stringify(value).slice(0, 200)} (${r.error.issues.map((i) => `${i.path.join(".") || "(spec)"}: ${i.message}`).join("; ")})`);
}

/** A stack's `trafficSwitch` output, checked: undefined when it has none, an error naming the stack when malformed. */
export function trafficSwitchOutput(outputs: Record<string, { value: unknown }>, stackName: string): TrafficSwitchSpec | undefined {
  return parseTrafficSwitchSpec(outputs.trafficSwitch?.value, `stack ${stackName}: output trafficSwitch`);
}
