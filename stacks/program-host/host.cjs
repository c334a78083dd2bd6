"use strict";
// The program host: one Node.js process that runs the project's program (infra/program.ts) for the
// engine, update after update, so an update does not wait for a program process to start.
//
//   node host.cjs <project dir>     prints "ready <port>" once it serves; exits when stdin closes
//
// Why: an update's program process spent about 2.5 s starting (the SDK, TypeScript and ts-node,
// the program's modules) before it declared its first resource, every update, after the engine had
// already waited for the policy pack. The driver starts this host when a command begins, beside its
// first steps, and the engine runs the program here (`pulumi up --client=<address>`, the engine's
// own protocol for a program run outside a language host; the Automation API's inline programs use
// it). The program is the one `pulumi up` runs from a shell (infra/index.ts calls the same function).
//
// It is written in JavaScript because it registers the TypeScript loader the TypeScript files need,
// exactly as the SDK's program runner does (cmd/run/run.js): same ts-node, same compiler options
// from Pulumi.yaml's runtime options and the tsconfig they name. So the program compiles to the
// same JavaScript here as under the language host, and the dynamic providers it serializes (their
// code is part of each resource's inputs) are the same text whichever ran the update.
const fs = require("node:fs");
const path = require("node:path");

const projectDir = path.resolve(process.argv[2] ?? ".");
const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [projectDir] }));
const fromSdk = (p) => require(path.join(sdkDir, p));
const YAML = require(require.resolve("yaml", { paths: [projectDir] }));

function fail(message) {
  process.stderr.write(`program host: ${message}\n`);
  process.exit(1);
}

const project = YAML.parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8"));
const options = project?.runtime?.options ?? {};
const mainDir = path.resolve(projectDir, project?.main ?? ".");
// The language host runs the program from its main directory, with these two settings from the
// runtime options (pulumi-language-nodejs passes them as PULUMI_NODEJS_TYPESCRIPT and _TSCONFIG_PATH).
process.chdir(mainDir);
if (options.typescript === true || options.typescript === "true") {
  const tsutils = fromSdk("tsutils");
  const tsConfigPath = typeof options.tsconfig === "string" ? options.tsconfig : "tsconfig.json";
  if (!fs.existsSync(tsConfigPath)) fail(`tsconfig path was set to ${tsConfigPath} but the file was not found`);
  const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
  const transpileOnlyEnv = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
  const transpileOnly = transpileOnlyEnv ? transpileOnlyEnv === "true" : compilerOptions.noCheck;
  const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
  const ts = require(typescriptRequire);
  const [major, minor] = ts.version.split(".").map(Number);
  const useNodeNext = major > 4 || (major === 4 && minor >= 7);
  require(tsnodeRequire).register({
    compiler: typescriptRequire,
    transpileOnly,
    project: tsConfigPath,
    skipProject: false,
    compilerOptions: {
      target: "ES2020",
      module: useNodeNext ? "nodenext" : "commonjs",
      moduleResolution: useNodeNext ? "nodenext" : "node",
      sourceMap: "true",
      ...compilerOptions,
    },
  });
}

const entry = path.join(mainDir, "program");
const { program } = require(entry);
if (typeof program !== "function") fail(`${entry} exports no program() function`);

const grpc = require(require.resolve("@grpc/grpc-js", { paths: [sdkDir] }));
const { LanguageServer } = fromSdk("automation/server");
const langrpc = fromSdk("proto/language_grpc_pb");
const { grpcChannelOptions } = fromSdk("runtime/settings");

const server = new grpc.Server({ ...grpcChannelOptions });
server.addService(langrpc.LanguageRuntimeService, new LanguageServer(program));
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) fail(`cannot listen: ${err.message}`);
  process.stdout.write(`ready ${port}\n`);
  // While the engine starts and waits for the policy pack, make the first run's dynamic-provider
  // serialization cheaper: it opens an inspector session and loads TypeScript's parser on first use.
  fromSdk("runtime/closure/serializeClosure")
    .serializeFunction(function warmUp() {
      return port;
    })
    .catch(() => undefined);
});

// The driver holds stdin open: when it exits (or is killed), so does its host.
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
