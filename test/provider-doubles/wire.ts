/**
 * Property values as the engine sends them to a provider that accepts secrets (the Node provider
 * server says it does), after `Struct.toJavaScript`: plain JSON, with the engine's markers for
 * secrets (`{[sigKey]: secretSig, value}`), unknowns during preview (a sentinel string), and
 * output values (`{[sigKey]: outputSig, value?, secret?}`). The doubles check, compare and record
 * these without ever turning a secret into plaintext on disk.
 */
import { specialOutputValueSig, specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";

/** A property value on the wire (JSON, possibly holding the engine's markers). */
export type Wire = null | boolean | number | string | Wire[] | { [key: string]: Wire };
export type WireMap = { [key: string]: Wire };

/** What the state file holds instead of a secret value. */
export const REDACTED = "[secret]";

export function isObject(v: unknown): v is WireMap {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isSecret(v: Wire): v is WireMap {
  return isObject(v) && v[specialSigKey] === specialSecretSig;
}

function isOutputValue(v: Wire): v is WireMap {
  return isObject(v) && v[specialSigKey] === specialOutputValueSig;
}

/** Unknown during preview: the sentinel, or an output value that carries no value. */
export function isUnknown(v: Wire): boolean {
  return v === unknownValue || (isOutputValue(v) && !("value" in v));
}

/** The value inside secret and output markers (one level; nested values keep theirs). */
export function unwrap(v: Wire): Wire {
  let cur = v;
  while ((isSecret(cur) || isOutputValue(cur)) && "value" in cur) cur = cur.value;
  return cur;
}

/** A deep copy with every secret (and secret output value) replaced by REDACTED. */
export function redact(v: Wire): Wire {
  if (isSecret(v) || (isOutputValue(v) && v.secret === true)) return REDACTED;
  if (isOutputValue(v)) return "value" in v ? redact(v.value) : unknownValue;
  if (Array.isArray(v)) return v.map(redact);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x)]));
  return v;
}

/** A deep copy without any markers: the values a real service would receive. Never written to disk. */
export function reveal(v: Wire): Wire {
  const u = unwrap(v);
  if (Array.isArray(u)) return u.map(reveal);
  if (isObject(u)) return Object.fromEntries(Object.entries(u).map(([k, x]) => [k, reveal(x)]));
  return u;
}

/** Whether any value inside is unknown (a preview with values still to be computed). */
export function containsUnknown(v: Wire): boolean {
  if (isUnknown(v)) return true;
  const u = unwrap(v);
  if (Array.isArray(u)) return u.some(containsUnknown);
  if (isObject(u)) return Object.values(u).some(containsUnknown);
  return false;
}

/** Equality of the values a service would see: markers ignored, absent and null alike. */
export function sameValue(a: Wire | undefined, b: Wire | undefined): boolean {
  const x = a === undefined ? null : reveal(a);
  const y = b === undefined ? null : reveal(b);
  if (Array.isArray(x) || Array.isArray(y)) {
    return Array.isArray(x) && Array.isArray(y) && x.length === y.length && x.every((e, i) => sameValue(e, y[i]));
  }
  if (isObject(x) || isObject(y)) {
    if (!isObject(x) || !isObject(y)) return false;
    const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
    return [...keys].every((k) => sameValue(x[k], y[k]));
  }
  return x === y;
}

/** The values with the named top-level properties marked secret (as a provider's Check marks sensitive ones). */
export function markSecret(values: WireMap, keys: readonly string[]): WireMap {
  const out: WireMap = { ...values };
  for (const k of keys) {
    const v = out[k];
    if (v !== undefined && v !== null && !isSecret(v) && !isUnknown(v)) out[k] = { [specialSigKey]: specialSecretSig, value: v };
  }
  return out;
}

/** Narrows the SDK's untyped property bags (`any` in its interface) at the edge, once. */
export function asWireMap(v: unknown): WireMap {
  return isObject(v) ? v : {};
}
