"use strict";
// Preloaded into every Node.js process the project starts (scripts/engine.sh puts it in
// NODE_OPTIONS): the driver, vitest, and the engine's own node processes (the program, the policy
// pack, the dynamic-provider plugin), which inherit the environment.
//
// Why: `require("@pulumi/pulumi")` loads, eagerly, modules that only one rarely used path
// needs: `@npmcli/arborist` (for `computeCodePaths`, which packages a function's node_modules; we
// never call it) and the TypeScript compiler (for parsing a function's text when a dynamic
// provider is serialized, which only the program does). Measured on this repository's machine,
// they are about 0.3 s each of the SDK's 0.9 s load, in every process: 4 processes stand in line
// in each update. Here they load on first use instead. What the SDK does is unchanged; only when.
//
// Only these requests from these SDK files are deferred; anything else loads as usual.
const Module = require("node:module");
const path = require("node:path");

const sdkFile = (...parts) => new RegExp(`[\\\\/]@pulumi[\\\\/]pulumi[\\\\/]${parts.join("[\\\\/]")}$`);
const DEFERRED = [
  { request: "@npmcli/arborist", from: sdkFile("runtime", "closure", "codePaths\\.js") },
  { request: "../../typescript-shim", from: sdkFile("runtime", "closure", "parseFunction\\.js") },
  // The Automation API (0.1 s), which the SDK's index exports as `automation` but only the driver
  // uses, and the driver imports it as "@pulumi/pulumi/automation" (not deferred).
  { request: "./automation", from: sdkFile("index\\.js") },
];

const load = Module._load;
Module._load = function lazySdkLoad(request, parent, isMain) {
  const parentFile = parent && parent.filename ? path.normalize(parent.filename) : "";
  if (DEFERRED.some((d) => d.request === request && d.from.test(parentFile))) {
    return deferred(() => load.call(this, request, parent, isMain));
  }
  return load.apply(this, arguments);
};

/**
 * A stand-in for a module's exports that loads the module on first use. It says `__esModule` so
 * that TypeScript's `__importStar` hands the stand-in itself to the SDK instead of copying its
 * keys (which would load the module at once).
 */
function deferred(loadModule) {
  let real;
  const target = () => (real ??= loadModule());
  return new Proxy(
    {},
    {
      get: (_, key) => (key === "__esModule" ? true : Reflect.get(target(), key)),
      has: (_, key) => key === "__esModule" || Reflect.has(target(), key),
      ownKeys: () => Reflect.ownKeys(target()),
      getOwnPropertyDescriptor: (_, key) => {
        const d = Reflect.getOwnPropertyDescriptor(target(), key);
        // A proxy may not report a property of its (empty) target as non-configurable.
        return d ? { ...d, configurable: true } : undefined;
      },
    },
  );
}
