import * as pulumi from "@pulumi/pulumi";
import { flyFetch, seg } from "./api";
import { flyResourceTypes, type FlyAppInputs } from "./contract";

export interface FlyAppResourceOutputs extends FlyAppInputs {
  appId: string;
  status: string;
}

interface AppBody {
  id?: string;
  name?: string;
  status?: string;
  organization?: { slug?: string; name?: string };
}

/**
 * Every input replaces: the Machines API cannot rename an app, move it to another organization
 * or change its private network (`network` is fixed at creation).
 */
export const appReplaceKeys: (keyof FlyAppInputs)[] = ["org", "name", "network"];

export const flyAppProvider: pulumi.dynamic.ResourceProvider<FlyAppInputs, FlyAppResourceOutputs> = {
  async create(inputs) {
    await flyFetch<unknown>({
      method: "POST",
      path: "/apps",
      context: `app ${inputs.name}, org ${inputs.org}`,
      body: { app_name: inputs.name, org_slug: inputs.org, ...(inputs.network ? { network: inputs.network } : {}) },
    });
    const got = await flyFetch<AppBody>({ method: "GET", path: `/apps/${seg(inputs.name)}`, context: `app ${inputs.name}` });
    return { id: inputs.name, outs: { ...inputs, appId: got.body?.id ?? "", status: got.body?.status ?? "" } };
  },
  async read(id, props) {
    const res = await flyFetch<AppBody>({ method: "GET", path: `/apps/${seg(id)}`, context: `app ${id}`, accept: [404] });
    if (res.status === 404 || !props) return {};
    const outs: FlyAppResourceOutputs = {
      ...props,
      name: res.body.name ?? props.name,
      org: res.body.organization?.slug ?? props.org,
      appId: res.body.id ?? props.appId,
      status: res.body.status ?? props.status,
    };
    return { id, props: outs };
  },
  async diff(_id, olds, news) {
    const replaces = appReplaceKeys.filter((k) => (olds[k] ?? "") !== (news[k] ?? ""));
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: replaces.includes("name") ? false : true };
  },
  async update(_id, olds, news) {
    // Unreachable in practice (every input replaces); keep outputs.
    return { outs: { ...olds, ...news } };
  },
  async delete(id) {
    await flyFetch<unknown>({ method: "DELETE", path: `/apps/${seg(id)}`, context: `app ${id}`, accept: [404] });
  },
};

export type FlyAppResourceArgs = { [K in keyof FlyAppInputs]: pulumi.Input<FlyAppInputs[K]> };

/** A Fly app (dynamic type `FlyApp`). An environment declares it through `FlyAppCore` in fly-app.ts. */
export class FlyAppResource extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly org: pulumi.Output<string>;
  declare readonly appId: pulumi.Output<string>;
  declare readonly status: pulumi.Output<string>;

  constructor(name: string, args: FlyAppResourceArgs, opts?: pulumi.CustomResourceOptions) {
    super(flyAppProvider, name, { network: undefined, ...args, appId: undefined, status: undefined }, opts, "flightdeck", flyResourceTypes.app);
  }
}
