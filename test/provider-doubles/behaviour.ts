/**
 * What differs between the packages a double serves: how the service names what it creates,
 * which changes it can only make by replacing, what it refuses (conflicts, missing credentials),
 * and the functions (invokes) it answers. Everything else is the generic double in provider.ts.
 */
import * as crypto from "node:crypto";
import type { DoubleResource } from "./state";
import type { WireMap } from "./wire";

export const ZONES_ENV = "FLIGHTDECK_PROVIDER_DOUBLE_ZONES";

/** The zones the emulated Cloudflare account holds unless the installer says otherwise. */
export const DEFAULT_ZONES: readonly string[] = ["flightdeck.dev", "example.com"];

export interface DoubleContext {
  /** The provider's configuration, as the engine sent it to Configure (secrets still marked). */
  config: WireMap;
  env: NodeJS.ProcessEnv;
}

export interface PackageBehaviour {
  /** Properties (top-level) whose change the service can only apply by replacing, per type token. */
  replaceOnChanges: Readonly<Record<string, readonly string[]>>;
  /** Why the provider cannot reach its API (no credentials), as the real one would say; else undefined. */
  missingCredentials(ctx: DoubleContext): string | undefined;
  /** The id the service gives a new object. `inputs` are plain values. */
  newId(type: string, inputs: WireMap): string;
  /** The service's refusal of an object that clashes with one it holds, or undefined. */
  conflict(type: string, inputs: WireMap, others: readonly DoubleResource[], ctx: DoubleContext): string | undefined;
  /** A function's result; throws as the service would for what it does not have. `args` are plain values. */
  invoke(token: string, args: WireMap, ctx: DoubleContext): WireMap;
}

/** A deterministic hex digest: stable ids for things that exist before any program runs (zones, users). */
export function stableHex(seed: string, length = 32): string {
  return crypto.createHash("sha256").update(seed).digest("hex").slice(0, length);
}

/** A deterministic positive integer below 10^9, as GitHub's numeric ids look. */
export function stableNumber(seed: string): number {
  return (parseInt(stableHex(seed, 12), 16) % 900_000_000) + 100_000_000;
}

/** Cloudflare's id of a zone the emulated account holds. */
export function zoneIdOf(name: string): string {
  return stableHex(`cloudflare-zone:${name.toLowerCase()}`);
}

export const str = (v: unknown): string => (typeof v === "string" ? v : v === undefined || v === null ? "" : JSON.stringify(v));
