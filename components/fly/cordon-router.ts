import * as pulumi from "@pulumi/pulumi";
import { flyFetch, seg } from "./api";
import { flyResourceTypes, type FlyCordonRouterInputs } from "./contract";
import { cordonPlan, cordonState, restorePlan, stableJson, type CordonStep, type Slot } from "./plan";

export type FlyCordonRouterOutputs = FlyCordonRouterInputs;

async function cordonCall(app: string, step: CordonStep): Promise<void> {
  await flyFetch<unknown>({
    method: "POST",
    path: `/apps/${seg(app)}/machines/${seg(step.machine)}/${step.action}`,
    context: `app ${app}, machine ${step.machine} (slot ${step.slot}), ${step.action}`,
  });
}

/**
 * Puts `live` in rotation and the other slot out, through the Machines API (used by the router
 * resource and by the deploy driver's revert). On a failure midway, puts back `found` (machine id →
 * cordoned) for the machines it touched and throws an error naming the app and the machine.
 */
export async function applyCordons(
  app: string,
  live: Slot,
  machines: Record<Slot, readonly string[]>,
  found: Record<string, boolean>,
): Promise<void> {
  if (machines[live].length === 0) {
    throw new Error(`FlyCordonRouter: app ${app}: slot ${live} has no machines; refusing to cordon the others (nothing would take traffic)`);
  }
  const done: CordonStep[] = [];
  for (const step of cordonPlan(live, machines)) {
    try {
      await cordonCall(app, step);
      done.push(step);
    } catch (err) {
      const back = restorePlan(found, [...done, step]);
      const restoreFailures: string[] = [];
      for (const r of back) {
        await cordonCall(app, r).catch((e: Error) => restoreFailures.push(`${r.action} ${r.machine}: ${e.message}`));
      }
      const cause = `FlyCordonRouter: app ${app}: ${step.action} of machine ${step.machine} (slot ${step.slot}) failed while moving live traffic to ${live}: ${(err as Error).message}.`;
      throw new Error(
        restoreFailures.length === 0
          ? `${cause} The cordon state found before the switch is back (${back.length} machine(s) reverted).`
          : `${cause} Putting back the cordon state found before the switch also failed (${restoreFailures.join("; ")}): check \`fly machine list -a ${app}\` and cordon/uncordon by hand.`,
      );
    }
  }
}

export const flyCordonRouterProvider: pulumi.dynamic.ResourceProvider<FlyCordonRouterInputs, FlyCordonRouterOutputs> = {
  async create(inputs) {
    // Nothing found yet: the platform creates every machine cordoned.
    await applyCordons(inputs.app, inputs.live, inputs.machines, {});
    return { id: `${inputs.app}-router`, outs: inputs };
  },
  async read(id, props) {
    // The Machines API (spec of March 2024) reports no cordon state on a machine, so the router
    // cannot see a cordon changed by hand: it keeps what it last set.
    return { id, props };
  },
  async diff(_id, olds, news) {
    const changed = (["app", "live", "machines"] as const).filter((k) => stableJson(olds[k]) !== stableJson(news[k]));
    return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
  },
  async update(_id, olds, news) {
    const found = olds.app === news.app ? cordonState(olds.live, olds.machines) : {};
    await applyCordons(news.app, news.live, news.machines, found);
    return { outs: news };
  },
  async delete() {
    // Machines keep their cordons: they are deleted with their slot, or stay serving as they are.
  },
};

export type FlyCordonRouterArgs = {
  app: pulumi.Input<string>;
  live: pulumi.Input<Slot>;
  machines: pulumi.Input<{ blue: pulumi.Input<string[]>; green: pulumi.Input<string[]> }>;
};

/**
 * The blue/green router on one Fly app: the live slot's machines are uncordoned (in Fly's proxy
 * rotation), the other slot's cordoned. Declare it with `dependsOn: [gate]`.
 */
export class FlyCordonRouter extends pulumi.dynamic.Resource {
  declare readonly app: pulumi.Output<string>;
  declare readonly live: pulumi.Output<Slot>;
  declare readonly machines: pulumi.Output<{ blue: string[]; green: string[] }>;

  constructor(name: string, args: FlyCordonRouterArgs, opts?: pulumi.CustomResourceOptions) {
    super(flyCordonRouterProvider, name, args, opts, "flightdeck", flyResourceTypes.cordonRouter);
  }
}
