/**
 * Checks property values against a type's shapes the way a provider's Check does: every required
 * property present, no property the type does not have (at any depth, through objects, arrays
 * and maps), and primitives of the right kind. Unknown values (a preview) are not judged; secret
 * values are judged by what they hold, and never quoted in a message.
 */
import type { Shape, TypeShapes } from "./shapes";
import { isObject, isSecret, isUnknown, unwrap, type Wire, type WireMap } from "./wire";

export interface CheckFailure {
  /** Where, as a property path: `rules.pullRequest.requiredApprovingReviewCount`, `reviewers[0].users`. */
  property: string;
  reason: string;
}

export interface CheckOptions {
  /**
   * Provider configuration travels JSON-encoded: the SDK sends `maxRetries: 3` as the string "3".
   * With this set, a string is accepted where it parses as the expected kind.
   */
  jsonEncodedScalars?: boolean;
  /** Top-level keys the engine adds that belong to no type (`version` on a provider). */
  ignoreKeys?: readonly string[];
}

export function checkValues(shapes: TypeShapes, values: WireMap, opts: CheckOptions = {}): CheckFailure[] {
  const out: CheckFailure[] = [];
  const top = Object.fromEntries(Object.entries(values).filter(([k]) => !(opts.ignoreKeys ?? []).includes(k)));
  checkObject(shapes, shapes.root, top, "", out, opts);
  return out;
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

function checkObject(shapes: TypeShapes, name: string, value: WireMap, path: string, out: CheckFailure[], opts: CheckOptions): void {
  const props = shapes.objects[name] ?? {};
  for (const [key, prop] of Object.entries(props)) {
    const v = value[key];
    if (prop.required && (v === undefined || v === null)) {
      out.push({ property: join(path, key), reason: `missing required property "${key}" of ${name}` });
    }
  }
  for (const [key, v] of Object.entries(value)) {
    const prop = props[key];
    if (!prop) {
      const hint = closest(key, Object.keys(props));
      out.push({
        property: join(path, key),
        reason: `unknown property "${key}": ${name} has no such property${hint ? ` (did you mean "${hint}"?)` : ""}`,
      });
      continue;
    }
    checkValue(shapes, prop.shape, v, join(path, key), out, opts);
  }
}

function checkValue(shapes: TypeShapes, shape: Shape, v: Wire, path: string, out: CheckFailure[], opts: CheckOptions): void {
  if (isUnknown(v)) return;
  const u = unwrap(v);
  if (u === null || shape.kind === "any") return;
  switch (shape.kind) {
    case "string":
    case "number":
    case "boolean":
      if (typeof u === shape.kind) return;
      if (opts.jsonEncodedScalars && typeof u === "string" && typeof parseJson(u) === shape.kind) return;
      out.push({ property: path, reason: `expected a ${shape.kind}, got ${describe(v)}` });
      return;
    case "array":
      if (!Array.isArray(u)) {
        out.push({ property: path, reason: `expected a list, got ${describe(v)}` });
        return;
      }
      u.forEach((e, i) => checkValue(shapes, shape.items, e, `${path}[${i}]`, out, opts));
      return;
    case "map":
      if (!isObject(u)) {
        out.push({ property: path, reason: `expected a map, got ${describe(v)}` });
        return;
      }
      for (const [k, e] of Object.entries(u)) checkValue(shapes, shape.values, e, `${path}["${k}"]`, out, opts);
      return;
    case "object": {
      const parsed = opts.jsonEncodedScalars && typeof u === "string" ? parseJson(u) : u;
      if (!isObject(parsed)) {
        out.push({ property: path, reason: `expected an object (${shape.name}), got ${describe(v)}` });
        return;
      }
      checkObject(shapes, shape.name, parsed, path, out, opts);
      return;
    }
    case "union": {
      // The first alternative that fits wins; otherwise report against the alternatives.
      const attempts = shape.of.map((s) => {
        const failures: CheckFailure[] = [];
        checkValue(shapes, s, v, path, failures, opts);
        return failures;
      });
      if (attempts.some((f) => f.length === 0)) return;
      const kinds = shape.of.map((s) => (s.kind === "object" ? s.name : s.kind)).join(" | ");
      out.push({ property: path, reason: `expected ${kinds}, got ${describe(v)}` });
      return;
    }
  }
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

/** A value for a message: its kind, and its text only when it is short and not secret. */
function describe(v: Wire): string {
  if (isSecret(v)) return "a secret value";
  const u = unwrap(v);
  if (typeof u === "string") return u.length <= 40 ? `string ${JSON.stringify(u)}` : "a string";
  if (typeof u === "number" || typeof u === "boolean") return `${typeof u} ${String(u)}`;
  return kindOf(u);
}

function kindOf(v: Wire): string {
  if (Array.isArray(v)) return "a list";
  if (isObject(v)) return "an object";
  return v === null ? "null" : `a ${typeof v}`;
}

/** The candidate nearest to a misspelt name, when it is near enough to be a typo. */
function closest(name: string, candidates: string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = distance(name.toLowerCase(), c.toLowerCase());
    if (!best || d < best.d) best = { c, d };
  }
  return best && best.d <= Math.max(2, Math.floor(name.length / 4)) ? best.c : undefined;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
