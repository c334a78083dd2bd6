/**
 * Whether a resource input reached the engine as a Pulumi secret.
 *
 * @pulumi/policy 1.21 has no API for this (pulumi/pulumi-policy#241 is open): the engine sends
 * secrets to the analyzer marked (analyzer_plugin.go marshals with KeepSecrets: true), but the SDK's
 * `analyze` handler deserializes with `proxySecrets = false`, so `args.props` holds plaintext with no
 * trace of which values were secret. We therefore wrap the SDK's own deserializer (the module
 * function server.js calls through `deserialize_1.deserializeProperties`) to record, beside each
 * props object it returns, the paths whose wire value carried the secret signature. `args.props` is
 * an unknownCheckingProxy over that same object, so a policy finds the record through the proxy's
 * target. Nothing about the props changes for any policy.
 *
 * This leans on SDK internals; `secretPathsOf` answers `undefined` when the record is missing, and
 * the secrets policy then fails closed with a message saying so. The integration test
 * (test/integration/policies.test.ts) proves the wiring on the real engine.
 */

/** The wire signature of a secret value (@pulumi/pulumi runtime/rpc specialSecretSig). */
const sigKey = "4dabf18193072939515e22adb298388d";
const secretSig = "1b47061264138c4ac30d75fd1eb44270";
/** unknownCheckingProxy answers this key with the object it wraps (@pulumi/policy proxy.js). */
const proxyTargetKey = "__getSpecialProxyTarget";

interface StructLike {
  toJavaScript(): unknown;
}
interface DeserializeModule {
  deserializeProperties(struct: StructLike, proxySecrets: boolean): Record<string, unknown>;
}

const recorded = new WeakMap<object, ReadonlySet<string>>();
let installed = false;

/** Paths (dot-joined) of every value in a wire-format property map that is marked secret. */
export function findSecretPaths(wire: unknown, prefix: string[] = [], out: string[] = []): string[] {
  if (Array.isArray(wire)) {
    wire.forEach((v, i) => findSecretPaths(v, [...prefix, String(i)], out));
  } else if (typeof wire === "object" && wire !== null) {
    const obj = wire as Record<string, unknown>;
    if (obj[sigKey] === secretSig) {
      out.push(prefix.join("."));
      findSecretPaths(obj.value, prefix, out);
    } else {
      for (const [k, v] of Object.entries(obj)) findSecretPaths(v, [...prefix, k], out);
    }
  }
  return out;
}

/** Installs the recorder around @pulumi/policy's deserializer (idempotent). Returns whether it could. */
export function installSecretTracking(): boolean {
  if (installed) return true;
  let mod: DeserializeModule;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require("@pulumi/policy/deserialize") as DeserializeModule;
  } catch {
    return false;
  }
  if (typeof mod.deserializeProperties !== "function") return false;
  const original = mod.deserializeProperties.bind(mod);
  mod.deserializeProperties = (struct: StructLike, proxySecrets: boolean) => {
    const props = original(struct, proxySecrets);
    try {
      recorded.set(targetOf(props), new Set(findSecretPaths(struct.toJavaScript())));
    } catch {
      // Leave it unrecorded: the secrets policy reports that it cannot tell.
    }
    return props;
  };
  installed = true;
  return true;
}

function targetOf(props: object): object {
  let cur: unknown = props;
  // Unwrap proxies (unknownCheckingProxy, and secretsPreservingProxy when the SDK uses it).
  for (let i = 0; i < 4; i++) {
    const inner = (cur as Record<string, unknown>)[proxyTargetKey];
    if (typeof inner !== "object" || inner === null || inner === cur) break;
    cur = inner;
  }
  return cur as object;
}

/** The secret paths recorded for these props, or undefined when they did not come through the recorder. */
export function secretPathsOf(props: object): ReadonlySet<string> | undefined {
  return recorded.get(targetOf(props));
}

/** The plain object behind props (no proxy): read keys without tripping unknown-value checks. */
export function rawProps(props: object): Record<string, unknown> {
  return targetOf(props) as Record<string, unknown>;
}

/** Whether `path` or any of its ancestors is secret. */
export function isSecretPath(secretPaths: ReadonlySet<string>, path: string): boolean {
  const parts = path.split(".");
  for (let i = parts.length; i > 0; i--) {
    if (secretPaths.has(parts.slice(0, i).join("."))) return true;
  }
  return secretPaths.has("");
}

installSecretTracking();
