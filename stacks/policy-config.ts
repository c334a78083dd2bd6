import * as fs from "node:fs";
import { UsageError } from "./usage-error";

/** A stack's policy config (the `--policy-pack-config` format): policy name → level, or settings with `enforcementLevel`. */
export type PolicyConfig = Record<string, unknown>;

/**
 * A stack's policy config file, read before anything else happens: a file that is not a JSON
 * object is one clear message naming it (the engine would otherwise fail on it mid-command).
 */
export function readPolicyConfig(file: string | undefined): PolicyConfig | undefined {
  if (file === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`${file}: expected the stack's policy config as JSON, found ${err instanceof SyntaxError ? `invalid JSON (${err.message})` : `an unreadable file (${(err as Error).message})`}`);
  }
  if (!isObject(parsed)) throw new UsageError(`${file}: expected a JSON object of policy name → level or settings, found ${Array.isArray(parsed) ? "an array" : typeof parsed}`);
  return parsed;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
