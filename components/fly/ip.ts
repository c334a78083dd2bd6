import * as pulumi from "@pulumi/pulumi";
import { flyFetch, seg } from "./api";
import { flyResourceTypes, type FlyIpAssignmentInputs } from "./contract";

/**
 * IP assignments are not in the March 2024 swagger; shapes follow Fly's Machines API docs
 * (`GET/POST /v1/apps/{app}/ip_assignments`, `DELETE /v1/apps/{app}/ip_assignments/{ip}`).
 */
interface IpBody {
  ip: string;
  region?: string;
  shared?: boolean;
  service_name?: string;
  created_at?: string;
}

export interface FlyIpAssignmentOutputs extends FlyIpAssignmentInputs {
  ip: string;
}

/** Every input replaces: an address cannot change type, app or region; it is released and a new one allocated. */
export const ipReplaceKeys: (keyof FlyIpAssignmentInputs)[] = ["app", "type", "region"];

export const flyIpAssignmentProvider: pulumi.dynamic.ResourceProvider<FlyIpAssignmentInputs, FlyIpAssignmentOutputs> = {
  async create(inputs) {
    const res = await flyFetch<IpBody>({
      method: "POST",
      path: `/apps/${seg(inputs.app)}/ip_assignments`,
      context: `app ${inputs.app}, ${inputs.type} address`,
      body: { type: inputs.type, ...(inputs.region ? { region: inputs.region } : {}) },
    });
    return { id: res.body.ip, outs: { ...inputs, ip: res.body.ip } };
  },
  async read(id, props) {
    if (!props) return {};
    const res = await flyFetch<{ ips?: IpBody[] }>({ method: "GET", path: `/apps/${seg(props.app)}/ip_assignments`, context: `app ${props.app}`, accept: [404] });
    if (res.status === 404 || !(res.body.ips ?? []).some((i) => i.ip === id)) return {};
    return { id, props };
  },
  async diff(_id, olds, news) {
    const replaces = ipReplaceKeys.filter((k) => (olds[k] ?? "") !== (news[k] ?? ""));
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
  async update(_id, olds, news) {
    return { outs: { ...olds, ...news } };
  },
  async delete(id, props) {
    await flyFetch<unknown>({ method: "DELETE", path: `/apps/${seg(props.app)}/ip_assignments/${seg(id)}`, context: `app ${props.app}, address ${id}`, accept: [404] });
  },
};

export type FlyIpAssignmentArgs = { [K in keyof FlyIpAssignmentInputs]: pulumi.Input<FlyIpAssignmentInputs[K]> };

/** A public address of a Fly app: `shared_v4` (anycast, shared) or a dedicated `v6`. */
export class FlyIpAssignment extends pulumi.dynamic.Resource {
  declare readonly ip: pulumi.Output<string>;

  constructor(name: string, args: FlyIpAssignmentArgs, opts?: pulumi.CustomResourceOptions) {
    super(flyIpAssignmentProvider, name, { region: undefined, ...args, ip: undefined }, opts, "flightdeck", flyResourceTypes.ipAssignment);
  }
}
