import type { ResourceValidationPolicy } from "@pulumi/policy";
import { type Finding, isRecord, reportFindings, restoreMarkerProperty, str, strings, types } from "./common";

export type Weekday = "Mon" | "Tue" | "Wed" | "Thu" | "Fri" | "Sat" | "Sun";
export const weekdays: readonly Weekday[] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

export interface DeployWindow {
  /** Days (in the window's time zone) deploys may happen. */
  days: readonly Weekday[];
  /** "HH:MM", inclusive. */
  start: string;
  /** "HH:MM", exclusive; "24:00" is the end of the day. */
  end: string;
  /** IANA time zone, e.g. "America/Los_Angeles". */
  timeZone: string;
}

export interface EmergencyOverride {
  reason?: string;
  approvedBy?: string;
  /** ISO 8601 instant after which the override no longer applies. */
  expires?: string;
}

/** Set by the driver (never by hand) on the updates of a revert or rollback. */
export interface RestoreMarker {
  kind?: string;
  reason?: string;
}

export interface DeployWindowConfig extends Partial<DeployWindow> {
  emergencyOverride?: EmergencyOverride | null;
  restore?: RestoreMarker | null;
}

export const defaultWindow: DeployWindow = {
  days: ["Mon", "Tue", "Wed", "Thu", "Fri"],
  start: "09:00",
  end: "17:00",
  timeZone: "America/Los_Angeles",
};

function minutes(hhmm: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  if (!m) throw new Error(`"${hhmm}" is not a time as HH:MM`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** The weekday and minute of day of `now` on the wall clock of `timeZone`. */
export function wallClock(now: Date, timeZone: string): { day: Weekday; minute: number } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(now);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  return { day: get("weekday") as Weekday, minute: Number(get("hour")) * 60 + Number(get("minute")) };
}

/** Whether `now` falls inside the window, on the wall clock of the window's time zone. */
export function isInsideWindow(now: Date, window: DeployWindow): boolean {
  const { day, minute } = wallClock(now, window.timeZone);
  const start = minutes(window.start);
  const end = minutes(window.end);
  return window.days.includes(day) && minute >= start && minute < end;
}

/** Why an override cannot be used, or undefined when it is complete and unexpired. */
export function overrideProblem(o: EmergencyOverride, now: Date): string | undefined {
  if (!str(o.reason)?.trim()) return "it has no reason";
  if (!str(o.approvedBy)?.trim()) return "it names no approver (approvedBy)";
  const expires = Date.parse(str(o.expires) ?? "");
  if (Number.isNaN(expires)) return `its expires ("${o.expires ?? ""}") is not an ISO 8601 instant`;
  if (expires <= now.getTime()) return `it expired at ${new Date(expires).toISOString()}`;
  return undefined;
}

/** Reads the window from policy config, defaults for what is missing. */
export function windowFrom(config: DeployWindowConfig): DeployWindow {
  const days = config.days === undefined ? defaultWindow.days : strings(config.days).filter((d): d is Weekday => (weekdays as readonly string[]).includes(d));
  return {
    days,
    start: str(config.start) ?? defaultWindow.start,
    end: str(config.end) ?? defaultWindow.end,
    timeZone: str(config.timeZone) ?? defaultWindow.timeZone,
  };
}

/**
 * Deploys happen inside the window. Outside it, only a complete, unexpired emergency override lets
 * one through, and its use is recorded as an advisory violation so the update's output shows who
 * approved it and why.
 */
export function checkDeployWindow(now: Date, config: DeployWindowConfig): Finding[] {
  const window = windowFrom(config);
  const inside = isInsideWindow(now, window);
  const o = isRecord(config.emergencyOverride) ? (config.emergencyOverride as EmergencyOverride) : undefined;
  const describe = `${window.days.join(",") || "no days"} ${window.start}–${window.end} ${window.timeZone}`;
  // Restoring is never blocked: the window guards forward deploys, and a revert or rollback puts
  // back what already ran. Outside the window it is recorded (advisory) so the output says so.
  if (isRecord(config.restore)) {
    if (inside) return [];
    const r = config.restore as RestoreMarker;
    return [
      {
        message: `Restore (${str(r.kind) ?? "restore"}) outside the deploy window (${describe}), allowed: restores are never blocked. Reason: ${str(r.reason) ?? "none given"}.`,
        remediation: "nothing to do: forward deploys still wait for the window.",
        level: "advisory",
      },
    ];
  }
  if (o === undefined) {
    if (inside) return [];
    return [
      {
        message: `Deploys are allowed only inside the deploy window (${describe}); it is now ${now.toISOString()}.`,
        remediation: `deploy inside the window, or set deploy-window.emergencyOverride { reason, approvedBy, expires } in policies/config/<stack>.json.`,
      },
    ];
  }
  const problem = overrideProblem(o, now);
  if (problem !== undefined) {
    return [
      {
        message: `Emergency override refused: ${problem}.`,
        remediation: inside
          ? `remove deploy-window.emergencyOverride from the policy config (the deploy is inside the window anyway).`
          : `give the override a reason, an approver and a future expires (ISO 8601), or deploy inside the window (${describe}).`,
        level: inside ? "advisory" : undefined,
      },
    ];
  }
  return [
    {
      message: `Emergency override in use${inside ? " (inside the window)" : ` outside the deploy window (${describe})`}: approved by ${o.approvedBy}, reason: "${o.reason}", expires ${o.expires}.`,
      remediation: `remove deploy-window.emergencyOverride from the policy config once the emergency is over.`,
      level: "advisory",
    },
  ];
}

/** The policy, reading the clock through `now` (tests pass a fixed instant). */
export function makeDeployWindowPolicy(now: () => Date): ResourceValidationPolicy {
  return {
    name: "deploy-window",
    description: "Checks whether the update runs inside the configured deploy window, or under a complete, unexpired and audited emergency override.",
    configSchema: {
      properties: {
        days: { type: "array", items: { type: "string", enum: [...weekdays] }, default: [...defaultWindow.days], description: "Weekdays deploys may happen." },
        start: { type: "string", pattern: "^\\d{1,2}:\\d{2}$", default: defaultWindow.start, description: "Window start, HH:MM (inclusive)." },
        end: { type: "string", pattern: "^\\d{1,2}:\\d{2}$", default: defaultWindow.end, description: "Window end, HH:MM (exclusive); 24:00 for end of day." },
        timeZone: { type: "string", default: defaultWindow.timeZone, description: "IANA time zone of the window." },
        emergencyOverride: {
          type: ["object", "null"],
          properties: { reason: { type: "string" }, approvedBy: { type: "string" }, expires: { type: "string" } },
          description: "An audited override: who approved it, why, and until when (ISO 8601).",
        },
        restore: restoreMarkerProperty("Set by the deploy driver on a revert or rollback (never by hand): restores pass outside the window, recorded as advisory."),
      },
    },
    // Checked on the stack's root resource: it is registered first, so a refusal stops the update
    // before any other resource is touched, and it is reported once per update.
    validateResource: (args, report) => {
      if (args.type !== types.stack) return;
      reportFindings(report, checkDeployWindow(now(), args.getConfig<DeployWindowConfig>()));
    },
  };
}

/** Set to an ISO 8601 instant, the deploy window's clock reads that instant instead of the time. */
export const POLICY_NOW_ENV = "FLIGHTDECK_POLICY_NOW";

/**
 * The window's clock. Why a stand-in: the rehearsal runs the committed production policy config,
 * window included, in every test run, whatever the hour; it sets the clock to an hour inside the
 * window rather than editing the config. A GitHub runner (GITHUB_ACTIONS=true) never reads it, so it
 * cannot become a way around the window in the real pipeline: that is what emergencyOverride is for.
 */
export function policyClock(env: NodeJS.ProcessEnv = process.env): () => Date {
  const fixed = (env[POLICY_NOW_ENV] ?? "").trim();
  if (!fixed || env.GITHUB_ACTIONS === "true") return () => new Date();
  const at = Date.parse(fixed);
  if (Number.isNaN(at)) throw new Error(`${POLICY_NOW_ENV}: expected an ISO 8601 instant, found "${fixed}"`);
  return () => new Date(at);
}

export const deployWindow = makeDeployWindowPolicy(policyClock());
