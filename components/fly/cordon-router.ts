import * as pulumi from "@pulumi/pulumi";
import { runFlyCanary } from "./canary";
import { flyResourceTypes, type FlyCanarySettings, type FlyCordonRouterInputs } from "./contract";
import { applyCordons } from "./cordons";
import { cordonState, stableJson, type Slot } from "./plan";

export interface FlyCordonRouterOutputs extends FlyCordonRouterInputs {
  /** What the last switch's canary did, a line per step (or why it was skipped); empty without one. */
  canaryReport?: string[];
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
    // The canary settings alone change nothing in rotation: they are read at the next switch.
    const changed = (["app", "live", "machines"] as const).filter((k) => stableJson(olds[k]) !== stableJson(news[k]));
    return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
  },
  async update(_id, olds, news) {
    let found = olds.app === news.app ? cordonState(olds.live, olds.machines) : {};
    let canaryReport: string[] = [];
    // Canary steps only for a switch between slots of one app, and never from a driver's restore
    // (the program leaves `canary` out then: traffic goes back at once).
    if (news.canary && olds.app === news.app && olds.live !== news.live) {
      const passed = await runFlyCanary({ app: news.app, stable: olds.live, canary: news.live, machines: news.machines, settings: news.canary });
      canaryReport = passed.report;
      found = passed.found;
    }
    await applyCordons(news.app, news.live, news.machines, found);
    return { outs: { ...news, canaryReport } };
  },
  async delete() {
    // Machines keep their cordons: they are deleted with their slot, or stay serving as they are.
  },
};

export type FlyCordonRouterArgs = {
  app: pulumi.Input<string>;
  live: pulumi.Input<Slot>;
  machines: pulumi.Input<{ blue: pulumi.Input<string[]>; green: pulumi.Input<string[]> }>;
  /** Switch in canary steps (config `strategy: canary`); absent: at once. */
  canary?: FlyCanarySettings;
};

/**
 * The blue/green router on one Fly app: the live slot's machines are uncordoned (in Fly's proxy
 * rotation), the other slot's cordoned. Declare it with `dependsOn: [gate]`.
 */
export class FlyCordonRouter extends pulumi.dynamic.Resource {
  declare readonly app: pulumi.Output<string>;
  declare readonly live: pulumi.Output<Slot>;
  declare readonly machines: pulumi.Output<{ blue: string[]; green: string[] }>;
  declare readonly canaryReport: pulumi.Output<string[] | undefined>;

  constructor(name: string, args: FlyCordonRouterArgs, opts?: pulumi.CustomResourceOptions) {
    super(flyCordonRouterProvider, name, { ...args, canaryReport: undefined }, opts, "flightdeck", flyResourceTypes.cordonRouter);
  }
}
