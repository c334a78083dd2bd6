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
  outputsFor?: (type: string, name: string, inputs: Record<string, unknown>) => Record<string, unknown>;
  invoke?: (token: string, args: Record<string, unknown>) => Record<string, unknown>;
} = {}): RegisteredResource[] {
  const registered: RegisteredResource[] = [];
  pulumi.runtime.setAllConfig(opts.config ?? {});
  pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
        const extra = opts.outputsFor?.(args.type, args.name, args.inputs as Record<string, unknown>) ?? {};
        return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return opts.invoke?.(args.token, args.inputs as Record<string, unknown>) ?? {};
      },
    },
    opts.project ?? "flightdeck",
    opts.stack ?? "test",
    false,
  );
  return registered;
}

/** Resolves an Output to a Promise, so tests await values instead of asserting inside apply. */
export function valueOf<T>(output: pulumi.Input<T> | pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** The registered resources of one type. */
export function ofType(registered: RegisteredResource[], type: string): RegisteredResource[] {
  return registered.filter((r) => r.type === type);
}
