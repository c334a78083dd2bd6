import * as crypto from "node:crypto";
import { z } from "zod";
import { SLOTS, otherSlot, type SlotName } from "../../components/bluegreen/slots";
import { stableJson } from "../../components/fly/plan";
import type { StackConfig } from "./schema";

export const slotName = z.enum(SLOTS).describe("Which blue/green slot takes live traffic.");
export type { SlotName };

/**
 * What one slot runs: the release and every setting that shapes its processes or machines. A
 * change to any of it is a new release of the slot, so it goes through the idle slot, the gate,
 * the switch and the bake like a new image does; the live slot keeps what it was started with.
 */
export const slotSpecSchema = z
  .object({
    release: z.string().min(1).describe("The release the slot runs."),
    features: z.record(z.boolean()).default({}).describe("The feature flags the slot was started with."),
    local: z
      .object({
        appDir: z.string().min(1).describe("The app directory the slot's process runs."),
        command: z.array(z.string()).min(1).describe("The command that started the slot's process."),
      })
      .strict()
      .optional()
      .describe("Local platform only: the app and the command that starts it."),
    fly: z
      .object({
        size: z
          .object({
            cpuKind: z.enum(["shared", "performance"]).describe("Fly CPU kind the slot's machines run with."),
            cpus: z.number().int().min(1).describe("CPUs per machine of the slot."),
            memoryMb: z.number().int().min(256).describe("Memory per machine of the slot, in MB."),
          })
          .strict()
          .describe("The machine size the slot was started with."),
      })
      .strict()
      .optional()
      .describe("Fly platforms only: the settings a slot's machines were started with."),
    secrets: z
      .object({
        salt: z.string().min(1).describe("Random salt of the digest."),
        digest: z.string().min(1).describe("Salted HMAC-SHA256 of the app secrets' names and values: notices a change, reveals no value."),
      })
      .strict()
      .optional()
      .describe("Which app secrets the slot was started with (a digest, never the values)."),
  })
  .strict()
  .describe("What one slot runs.");
export type SlotSpec = z.infer<typeof slotSpecSchema>;

/**
 * What is deployed where: the live slot and what each slot runs. It lives with the stack (its
 * `delivery` output, and the config of each update the driver makes), never in a committed file.
 */
export const deliveryStateSchema = z
  .object({
    liveSlot: slotName,
    slots: z
      .object({ blue: slotSpecSchema.optional().describe("What the blue slot runs."), green: slotSpecSchema.optional().describe("What the green slot runs.") })
      .strict()
      .describe("What each slot runs; a slot that runs nothing is absent."),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (!d.slots[d.liveSlot]) ctx.addIssue({ code: "custom", path: ["slots", d.liveSlot], message: `a spec for the live slot ${d.liveSlot}` });
  });
export type DeliveryState = z.infer<typeof deliveryStateSchema>;

/** The config key the driver sets (in its own config file, never the committed one). */
export const DELIVERY_KEY = "delivery";

/** The config key the driver sets for an update that restores: switch at once, never in canary steps. */
export const SWITCH_AT_ONCE_KEY = "switchAtOnce";

export { otherSlot };

export function liveSpec(d: DeliveryState): SlotSpec {
  return d.slots[d.liveSlot]!;
}

export function warmSpec(d: DeliveryState): SlotSpec | undefined {
  return d.slots[otherSlot(d.liveSlot)];
}

export function sameSpec(a: SlotSpec | undefined, b: SlotSpec | undefined): boolean {
  return !!a && !!b && stableJson(a) === stableJson(b);
}

/**
 * A salted HMAC-SHA256 over the app secrets (names and values, sorted): the slot spec records which
 * secrets a slot started with, so rotating one is a change that goes through the idle slot, while
 * the spec (a stack output, recorded config) never holds a value.
 */
export function secretsDigest(salt: string, secrets: Record<string, string>): string {
  const h = crypto.createHmac("sha256", salt);
  for (const name of Object.keys(secrets).sort()) h.update(name).update("\0").update(secrets[name]!).update("\0");
  return h.digest("hex");
}

/**
 * The slot spec a stack's committed config asks for, running `release`. `secrets` are the app
 * secrets' decrypted values (the driver has them); `salt` is reused from the live slot's spec when
 * there is one, so the same secrets give the same digest.
 */
export function slotSpecFromConfig(config: StackConfig, release: string, secrets?: Record<string, string>, salt?: string): SlotSpec {
  const spec: SlotSpec = { release, features: config.features };
  if (config.environment === "local") spec.local = { appDir: config.local.appDir, command: config.local.command };
  else spec.fly = { size: config.fly.size };
  if (secrets && Object.keys(secrets).length > 0) {
    const s = salt ?? crypto.randomBytes(16).toString("hex");
    spec.secrets = { salt: s, digest: secretsDigest(s, secrets) };
  }
  return spec;
}

/** Reads a delivery state from raw JSON (a config value or a stack output); throws with the reason. */
export function parseDeliveryState(value: unknown, where: string): DeliveryState {
  const text = typeof value === "string" ? value : undefined;
  let raw = value;
  if (text !== undefined) {
    try {
      raw = JSON.parse(text);
    } catch {
      throw new Error(`${where}: expected the delivery state as JSON, found ${text.slice(0, 60)}`);
    }
  }
  const parsed = deliveryStateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${where}: not a delivery state (${issue.path.join(".") || "value"}: ${issue.message})`);
  }
  return parsed.data;
}

/** The state a stack starts from when nothing is deployed yet: the config's release on blue. */
export function initialDelivery(spec: SlotSpec): DeliveryState {
  return { liveSlot: "blue", slots: { blue: spec } };
}
