/**
 * What a provider accepts, read from the TypeScript declarations its npm package ships: a type
 * token maps to the Args interface in the package's generated .d.ts (the same contract the
 * program is compiled against), which is reduced to a small JSON shape the checker walks.
 *
 * Reading declarations costs a TypeScript program (~0.2–0.6 s), so shapes are derived lazily, one
 * type at a time, and kept on disk per package version and per version of this file: a plugin
 * start that finds its types cached never loads the compiler.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as TS from "typescript";

export type Shape =
  | { kind: "string" | "number" | "boolean" | "any" }
  | { kind: "array"; items: Shape }
  | { kind: "map"; values: Shape }
  | { kind: "object"; name: string }
  | { kind: "union"; of: Shape[] };

export interface PropShape {
  shape: Shape;
  required: boolean;
}

/** An interface of the package, by name: its properties. */
export type ObjectShapes = Record<string, Record<string, PropShape>>;

/** The shape of one type token's inputs: the root interface and every interface it reaches. */
export interface TypeShapes {
  root: string;
  objects: ObjectShapes;
  /** Top-level properties the package treats as sensitive (its `additionalSecretOutputs`). */
  sensitive: string[];
}

/** Where the package declares a token's inputs. */
export interface Declaration {
  file: string;
  interfaceName: string;
}

export const CACHE_ENV = "FLIGHTDECK_PROVIDER_DOUBLE_CACHE";

/** The installed npm package of a provider (its declarations and version). */
export function packageDir(pkg: string): string {
  return path.dirname(require.resolve(`@pulumi/${pkg}/package.json`));
}

const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The generated SDK's layout: `pkg:<module>/<file>:<Name>` lives in `<module>/<file>.d.ts`
 * (`index` is the package root); resources take `<Name>Args`, functions `<Name>Args` with the
 * name capitalised (`getZone` → `GetZoneArgs`), and the provider `ProviderArgs` in provider.d.ts.
 */
export function declarationFor(pkgDir: string, token: string): Declaration | undefined {
  if (token.startsWith("pulumi:providers:")) return { file: path.join(pkgDir, "provider.d.ts"), interfaceName: "ProviderArgs" };
  const m = /^[^:]+:([^/:]+)\/([^:]+):([^:]+)$/.exec(token);
  if (!m) return undefined;
  const [, mod, file, name] = m;
  const dir = mod === "index" ? pkgDir : path.join(pkgDir, ...mod.split("/"));
  return { file: path.join(dir, `${file}.d.ts`), interfaceName: `${upperFirst(name)}Args` };
}

/** The shapes of a token's inputs, or undefined when the package declares no such type. */
export function shapesFor(pkg: string, token: string): TypeShapes | undefined {
  const dir = packageDir(pkg);
  const cacheFile = path.join(cacheRoot(pkg, dir), `${token.replace(/[^A-Za-z0-9_.-]+/g, "_")}.json`);
  const cached = readCache(cacheFile);
  if (cached !== undefined) return cached ?? undefined;
  const decl = declarationFor(dir, token);
  const shapes = decl && fs.existsSync(decl.file) ? extract(decl) : undefined;
  writeCache(cacheFile, shapes ?? null);
  return shapes;
}

function cacheRoot(pkg: string, dir: string): string {
  const version = (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version;
  // A change to how shapes are derived must not read shapes derived the old way.
  const extractor = crypto.createHash("sha256").update(fs.readFileSync(__filename)).digest("hex").slice(0, 12);
  const base = process.env[CACHE_ENV] || path.join(os.tmpdir(), `flightdeck-provider-doubles-${os.userInfo().uid}`);
  return path.join(base, `${pkg}-${version}-${extractor}`);
}

function readCache(file: string): TypeShapes | null | undefined {
  try {
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { shapes: TypeShapes | null }).shapes;
  } catch {
    return undefined;
  }
}

function writeCache(file: string, shapes: TypeShapes | null): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Another plugin process may derive the same type at the same time: each writes whole files.
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ shapes }));
  fs.renameSync(tmp, file);
}

/**
 * One compiler host per process that hands out the same parsed file every time, and the last
 * program: a process deriving several types parses and binds the shared declarations (the
 * package's types/input.d.ts, the SDK) once.
 */
let previous: { program: TS.Program; host: TS.CompilerHost } | undefined;

function cachingHost(ts: typeof TS, options: TS.CompilerOptions): TS.CompilerHost {
  const base = ts.createCompilerHost(options);
  const parsed = new Map<string, TS.SourceFile | undefined>();
  return {
    ...base,
    getSourceFile(fileName, languageVersion, onError, shouldCreate) {
      if (!parsed.has(fileName)) parsed.set(fileName, base.getSourceFile(fileName, languageVersion, onError, shouldCreate));
      return parsed.get(fileName);
    },
  };
}

/** Reads one interface (and all it reaches) from the declarations with the compiler's checker. */
export function extract(decl: Declaration): TypeShapes | undefined {
  // Loaded only on a cache miss: requiring the compiler alone costs a plugin start ~150 ms.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require("typescript") as typeof TS;
  const roots = [...new Set([...(previous?.program.getRootFileNames() ?? []), decl.file])];
  const options: TS.CompilerOptions = {
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2022.d.ts"],
    moduleResolution: ts.ModuleResolutionKind.Node10,
  };
  const host = previous?.host ?? cachingHost(ts, options);
  const program = ts.createProgram(roots, options, host, previous?.program);
  previous = { program, host };
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(decl.file);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  const root = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === decl.interfaceName);
  if (!root) return undefined;

  const objects: ObjectShapes = {};
  const names = new Map<TS.Type, string>();
  const F = ts.TypeFlags;

  // Input<T> is `T | Promise<T> | OutputInstance<T>`: only T is a value on the wire.
  const isWrapper = (t: TS.Type) => ["Promise", "OutputInstance", "Output"].includes(t.getSymbol()?.name ?? "");

  const objectName = (t: TS.Type): string => {
    const known = names.get(t);
    if (known) return known;
    const symbolName = (t.aliasSymbol ?? t.getSymbol())?.name;
    const base = symbolName && !symbolName.startsWith("__") ? symbolName : "(inline object)";
    let name = base;
    for (let i = 2; name in objects; i++) name = `${base}#${i}`;
    names.set(t, name);
    objects[name] = {}; // placeholder first: interfaces may refer to themselves
    for (const prop of checker.getPropertiesOfType(t)) {
      objects[name][prop.name] = {
        shape: shapeOf(checker.getTypeOfSymbol(prop)),
        required: (prop.flags & ts.SymbolFlags.Optional) === 0,
      };
    }
    return name;
  };

  const shapeOf = (t: TS.Type): Shape => {
    if (t.flags & (F.Any | F.Unknown)) return { kind: "any" };
    if (t.flags & (F.String | F.StringLiteral | F.TemplateLiteral | F.StringMapping)) return { kind: "string" };
    if (t.flags & (F.Number | F.NumberLiteral)) return { kind: "number" };
    if (t.flags & (F.Boolean | F.BooleanLiteral)) return { kind: "boolean" };
    if (t.isUnion()) {
      const members = t.types.filter((m) => !(m.flags & (F.Undefined | F.Null | F.Void)) && !isWrapper(m));
      const unique = new Map(members.map((m) => shapeOf(m)).map((s) => [JSON.stringify(s), s] as const));
      const of = [...unique.values()];
      if (of.length === 0 || of.some((s) => s.kind === "any")) return { kind: "any" };
      return of.length === 1 ? of[0] : { kind: "union", of };
    }
    if (checker.isArrayType(t)) return { kind: "array", items: shapeOf(checker.getTypeArguments(t as TS.TypeReference)[0]) };
    if (t.flags & F.Object) {
      const symbol = t.getSymbol();
      // Classes (assets, archives, resources) are not plain data the checker can judge.
      if (symbol && symbol.flags & ts.SymbolFlags.Class) return { kind: "any" };
      const props = checker.getPropertiesOfType(t);
      const index = checker.getIndexInfoOfType(t, ts.IndexKind.String);
      if (props.length === 0) return index ? { kind: "map", values: shapeOf(index.type) } : { kind: "any" };
      return { kind: "object", name: objectName(t) };
    }
    return { kind: "any" };
  };

  const rootName = objectName(checker.getDeclaredTypeOfSymbol(root));
  return { root: rootName, objects, sensitive: sensitiveOf(decl) };
}

/**
 * The properties the SDK marks secret on the way out (`additionalSecretOutputs` in the generated
 * .js beside the declarations): the provider's schema calls them sensitive, and the real provider's
 * Check returns them as secrets, so a plaintext token never reaches state or the engine's display.
 */
function sensitiveOf(decl: Declaration): string[] {
  const js = decl.file.replace(/\.d\.ts$/, ".js");
  const m = fs.existsSync(js) ? /additionalSecretOutputs:\s*\[([^\]]*)\]/.exec(fs.readFileSync(js, "utf8")) : null;
  return m ? [...m[1].matchAll(/["']([^"']+)["']/g)].map((x) => x[1]) : [];
}
