/**
 * The provider double: a resource provider for one package (github, cloudflare, or any other,
 * generically) that checks inputs against the package's own type declarations, keeps what it
 * "created" in the state file, and answers the functions the program calls. The engine drives it
 * through the Node SDK's provider server exactly as it drives the real plugin.
 */
import * as crypto from "node:crypto";
import type * as provider from "@pulumi/pulumi/provider";
import type { DoubleContext, PackageBehaviour } from "./behaviour";
import { checkValues } from "./check";
import { cloudflare } from "./cloudflare";
import type { ConfigHooks } from "./config-rpc";
import { github } from "./github";
import { shapesFor, type TypeShapes } from "./shapes";
import { changeState, readDoubleState, type DoubleResource } from "./state";
import { asWireMap, containsUnknown, markSecret, redact, reveal, sameValue, REDACTED, type Wire, type WireMap } from "./wire";

/** A package the doubles know nothing particular about: objects with random ids, no functions. */
const generic: PackageBehaviour = {
  replaceOnChanges: {},
  missingCredentials: () => undefined,
  newId: () => crypto.randomUUID(),
  conflict: () => undefined,
  invoke: (token) => {
    throw new Error(`the provider double does not emulate ${token}`);
  },
};

const BEHAVIOURS: Readonly<Record<string, PackageBehaviour>> = { github, cloudflare };

/** Packages whose API needs credentials for reads too (GitHub answers some reads anonymously). */
const CREDENTIALS_FOR_READS = new Set(["cloudflare"]);

export interface DoubleOptions {
  /** The provider package, e.g. "github". */
  pkg: string;
  /** The plugin version the engine asked for (reported by GetPluginInfo). */
  version: string;
  /** The state file (FLIGHTDECK_PROVIDER_DOUBLE_STATE). */
  stateFile: string;
  env: NodeJS.ProcessEnv;
}

/** `urn:pulumi:<stack>::<project>::<parent$type>::<name>` → its type token and name. */
export function parseUrn(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  return { type: (parts[2] ?? "").split("$").pop() ?? "", name: parts.slice(3).join("::") };
}

export class ProviderDouble implements provider.Provider {
  readonly version: string;
  private readonly behaviour: PackageBehaviour;
  private config: WireMap = {};

  constructor(private readonly opts: DoubleOptions) {
    this.version = opts.version;
    this.behaviour = BEHAVIOURS[opts.pkg] ?? generic;
  }

  private get ctx(): DoubleContext {
    return { config: this.config, env: this.opts.env };
  }

  /** Hooks for the provider's own configuration (see config-rpc.ts). */
  configHooks(): ConfigHooks {
    return {
      checkConfig: (news) => {
        const shapes = shapesFor(this.opts.pkg, `pulumi:providers:${this.opts.pkg}`);
        if (!shapes) return { inputs: news, failures: [] };
        // `version` and `__internal` are the engine's, not the provider's.
        const ignoreKeys = Object.keys(news).filter((k) => k === "version" || k === "pluginDownloadURL" || k.startsWith("__"));
        const failures = checkValues(shapes, news, { jsonEncodedScalars: true, ignoreKeys });
        return { inputs: markSecret(news, shapes.sensitive), failures };
      },
      diffConfig: (olds, news) => Object.keys({ ...olds, ...news }).some((k) => containsUnknown(news[k] ?? null) || !sameValue(olds[k], news[k])),
      configure: (config) => {
        this.config = config;
      },
    };
  }

  /** Inputs against the package's Args interface for the type; unknown types pass as they are. */
  async check(urn: string, _olds: unknown, newsRaw: unknown): Promise<provider.CheckResult> {
    const news = asWireMap(newsRaw);
    const { type, name } = parseUrn(urn);
    const shapes = this.shapesOf(type);
    if (!shapes) return { inputs: news };
    const failures = checkValues(shapes, news).map((f) => ({
      property: f.property,
      // The bridged providers end with where to look, by resource name and property path.
      reason: `${f.reason}. Examine values at '${name}.${f.property}'.`,
    }));
    return { inputs: markSecret(news, shapes.sensitive), failures };
  }

  private shapesOf(token: string): TypeShapes | undefined {
    return token.startsWith(`${this.opts.pkg}:`) ? shapesFor(this.opts.pkg, token) : undefined;
  }

  async diff(_id: string, urn: string, oldsRaw: unknown, newsRaw: unknown): Promise<provider.DiffResult> {
    const olds = asWireMap(oldsRaw);
    const news = asWireMap(newsRaw);
    const keys = [...new Set([...Object.keys(olds), ...Object.keys(news)])];
    const changed = keys.filter((k) => containsUnknown(news[k] ?? null) || !sameValue(olds[k], news[k]));
    const replaceOn = this.behaviour.replaceOnChanges[parseUrn(urn).type] ?? [];
    return { changes: changed.length > 0, replaces: changed.filter((k) => replaceOn.includes(k)) };
  }

  async create(urn: string, inputsRaw: unknown): Promise<provider.CreateResult> {
    const inputs = asWireMap(inputsRaw);
    const { type } = parseUrn(urn);
    this.requireCredentials();
    const plain = asWireMap(reveal(inputs));
    const id = await changeState(this.opts.stateFile, (state) => {
      this.refuseConflict(type, plain, state.resources);
      const now = new Date().toISOString();
      const created: DoubleResource = {
        package: this.opts.pkg,
        type,
        urn,
        id: this.behaviour.newId(type, plain),
        inputs: asWireMap(redact(inputs)),
        createdAt: now,
        updatedAt: now,
        updates: 0,
      };
      state.resources.push(created);
      return created.id;
    });
    // Outputs are the inputs, secret markers kept: the engine stores them encrypted.
    return { id, outs: inputs };
  }

  /**
   * The object as the service holds it: gone when the state file no longer lists it (deleted out
   * of band), and with any non-secret input a test edited in the file (drift).
   */
  async read(id: string, urn: string, propsRaw: unknown): Promise<provider.ReadResult> {
    const props = asWireMap(propsRaw);
    if (CREDENTIALS_FOR_READS.has(this.opts.pkg)) this.requireCredentials();
    const { type } = parseUrn(urn);
    const held = findHeld(readDoubleState(this.opts.stateFile).resources, id, type, urn);
    if (!held) return { id: "", props: {} };
    const live: WireMap = { ...props };
    for (const [k, v] of Object.entries(held.inputs)) {
      if (!mentionsSecret(v) && !sameValue(v, props[k])) live[k] = v;
    }
    return { id, props: live, inputs: live };
  }

  async update(id: string, urn: string, _olds: unknown, newsRaw: unknown): Promise<provider.UpdateResult> {
    const news = asWireMap(newsRaw);
    const { type } = parseUrn(urn);
    this.requireCredentials();
    await changeState(this.opts.stateFile, (state) => {
      const held = findHeld(state.resources, id, type, urn);
      if (!held) throw new Error(`404 Not Found: ${type} ${id} does not exist`);
      this.refuseConflict(type, asWireMap(reveal(news)), state.resources.filter((r) => r !== held));
      held.inputs = asWireMap(redact(news));
      held.urn = urn;
      held.updatedAt = new Date().toISOString();
      held.updates += 1;
    });
    return { outs: news };
  }

  async delete(id: string, urn: string): Promise<void> {
    const { type } = parseUrn(urn);
    this.requireCredentials();
    // Deleting what is already gone succeeds, as the providers treat a 404 on delete.
    await changeState(this.opts.stateFile, (state) => {
      const held = findHeld(state.resources, id, type, urn);
      state.resources = state.resources.filter((r) => r !== held);
    });
  }

  async invoke(token: string, argsRaw: unknown): Promise<provider.InvokeResult> {
    const args = asWireMap(argsRaw);
    const shapes = this.shapesOf(token);
    const failures = shapes ? checkValues(shapes, args) : [];
    if (failures.length > 0) return { outputs: {}, failures };
    if (CREDENTIALS_FOR_READS.has(this.opts.pkg)) this.requireCredentials();
    return { outputs: this.behaviour.invoke(token, asWireMap(reveal(args)), this.ctx) };
  }

  private requireCredentials(): void {
    const missing = this.behaviour.missingCredentials(this.ctx);
    if (missing) throw new Error(missing);
  }

  private refuseConflict(type: string, plain: WireMap, others: readonly DoubleResource[]): void {
    const conflict = this.behaviour.conflict(type, plain, others, this.ctx);
    if (conflict) throw new Error(conflict);
  }
}

/** Ids are the service's (composite for GitHub environments): two stacks sharing a file may hold equal ones. */
function findHeld(resources: DoubleResource[], id: string, type: string, urn: string): DoubleResource | undefined {
  return resources.find((r) => r.id === id && r.urn === urn) ?? resources.find((r) => r.id === id && r.type === type);
}

function mentionsSecret(v: Wire): boolean {
  if (v === REDACTED) return true;
  if (Array.isArray(v)) return v.some(mentionsSecret);
  if (typeof v === "object" && v !== null) return Object.values(v).some(mentionsSecret);
  return false;
}
