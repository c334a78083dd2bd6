import * as pulumi from "@pulumi/pulumi";

/** One resource the program registered, with the exact inputs it passed. */
export interface RegisteredResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/**
 * Installs Pulumi mocks that record every registered resource. Call before importing the code
 * under test. `outputsFor` may add provider-computed outputs (ids, zone ids…).
 */
export function installMocks(opts: {
  stack?: string;
  project?: string;
  config?: Record<string, string>;
  /** Keys the engine would mark secret. @default the secrets-only keys present in `config` */
  secretKeys?: string[];
  outputsFor?: (type: string, name: string, inputs: Record<string, unknown>) => Record<string, unknown>;
  invoke?: (token: string, args: Record<string, unknown>) => Record<string, unknown>;
} = {}): RegisteredResource[] {
  const registered: RegisteredResource[] = [];
  const config = opts.config ?? {};
  const secretKeys = opts.secretKeys ?? ["flightdeck:appSecrets", "flightdeck:environmentSecrets"].filter((k) => k in config);
  pulumi.runtime.setAllConfig(config, secretKeys);
  pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
        // A stack reference reads a stack the mocks do not have: it has no outputs (a stack never deployed).
        const reference = args.type === "pulumi:pulumi:StackReference" ? { outputs: {}, secretOutputNames: [] } : {};
        const extra = { ...reference, ...(opts.outputsFor?.(args.type, args.name, args.inputs as Record<string, unknown>) ?? {}) };
        return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return opts.invoke?.(args.token, args.inputs as Record<string, unknown>) ?? {};
      },
    },
    opts.project ?? "flightdeck",
    opts.stack ?? "test",
    false,
    "organization",
  );
  return registered;
}

/** The zone id every cloud stack's Cloudflare zone lookup answers with. */
export const ZONE_ID = "0123456789abcdef0123456789abcdef";

/**
 * The provider lookups a cloud stack's program invokes (GitHub users and teams for reviewers,
 * the Cloudflare zone), answered as the providers would: ids by login/slug (one shared id when no
 * map is given), the zone by name. One answer for every test that runs the cloud components.
 */
export function cloudLookups(ids: { users?: Record<string, string>; teams?: Record<string, string> } = {}) {
  return (token: string, args: Record<string, unknown>): Record<string, unknown> => {
    if (token === "github:index/getUser:getUser") return { id: ids.users ? ids.users[String(args.username)] : "1001", login: args.username };
    if (token === "github:index/getTeam:getTeam") return { id: ids.teams ? ids.teams[String(args.slug)] : "2002", slug: args.slug };
    if (token === "cloudflare:index/getZone:getZone") return { id: ZONE_ID };
    return {};
  };
}

/** Resolves an Output to a Promise, so tests await values instead of asserting inside apply. */
export function valueOf<T>(output: pulumi.Input<T> | pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** The registered resources of one type. */
export function ofType(registered: RegisteredResource[], type: string): RegisteredResource[] {
  return registered.filter((r) => r.type === type);
}

/**
 * Imports the program (infra/index.ts) under the installed mocks and waits for its outputs: the
 * program's export is a promise, since it first reads what the stack already runs.
 */
export async function importProgram(): Promise<Record<string, unknown>> {
  const mod: unknown = await import("../../infra/index");
  const exported: unknown = await (Reflect.get(mod as object, "default") ?? mod);
  if (exported === null || typeof exported !== "object") throw new Error("the program exported no outputs");
  return exported as Record<string, unknown>;
}
