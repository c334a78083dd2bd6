import { z } from "zod";
import type { BackendStore } from "../backend-store";

/**
 * What the scheduled health probe remembers between runs, so a long outage is one notice (and a
 * reminder now and then), not one every ten minutes, and its end is a notice too.
 */
const probeStateSchema = z.object({
  ok: z.boolean(),
  /** When the stack entered this state (ISO time). */
  since: z.string(),
  /** When the last notice about it was delivered (ISO time); absent if none was. */
  notifiedAt: z.string().optional(),
});
export type ProbeState = z.infer<typeof probeStateSchema>;

export interface ProbeMemory {
  /** Undefined when nothing is remembered, or what is there cannot be read (then the probe acts as on a first run). */
  read(): Promise<ProbeState | undefined>;
  write(state: ProbeState): Promise<void>;
  /** Where it lives, for the probe's output. */
  readonly where: string;
}

/** The memory of one stack's probe in the store beside its state (`health/<stack>.json`). */
export function storeMemory(store: BackendStore, stack: string): ProbeMemory {
  const key = `health/${stack}.json`;
  return {
    where: `${store.where} (${key})`,
    async read() {
      try {
        const parsed = probeStateSchema.safeParse(JSON.parse((await store.get(key)) ?? "null"));
        return parsed.success ? parsed.data : undefined;
      } catch {
        return undefined;
      }
    },
    write: (state) => store.put(key, JSON.stringify(state, null, 2)),
  };
}

/** Reminders while a stack stays unhealthy. */
export const REMIND_EVERY_MS = 60 * 60 * 1000;

export type NoticeKind = "failed" | "still failing" | "recovered";

/**
 * Whether this run sends a notice, given what the last run left. Pure. A failure is told when it
 * starts and every `remindEveryMs` while it lasts (counted from the last notice delivered, so an
 * undelivered one is tried again next run); a recovery is told once.
 */
export function noticeFor(prev: ProbeState | undefined, ok: boolean, now: Date, remindEveryMs = REMIND_EVERY_MS): NoticeKind | undefined {
  if (ok) return prev && !prev.ok ? "recovered" : undefined;
  if (!prev || prev.ok) return "failed";
  if (!prev.notifiedAt) return "failed";
  return now.getTime() - Date.parse(prev.notifiedAt) >= remindEveryMs ? "still failing" : undefined;
}

/** What to remember after this run: `delivered` says whether its notice (if any) went out. */
export function nextState(prev: ProbeState | undefined, ok: boolean, now: Date, notice: NoticeKind | undefined, delivered: boolean): ProbeState {
  const same = prev !== undefined && prev.ok === ok;
  const since = same ? prev.since : now.toISOString();
  const notifiedAt = notice && delivered ? now.toISOString() : same ? prev.notifiedAt : undefined;
  return { ok, since, ...(notifiedAt ? { notifiedAt } : {}) };
}
