import * as pulumi from "@pulumi/pulumi";
import { flyFetch, seg } from "./api";
import { flyResourceTypes, type FlyCertificateInputs } from "./contract";

/**
 * Certificates are not in the March 2024 swagger; shapes follow Fly's Certificates resource docs:
 * `POST /v1/apps/{app}/certificates/acme` `{hostname}`, `GET`/`DELETE /v1/apps/{app}/certificates/{hostname}`.
 */
interface CertificateBody {
  hostname: string;
  configured?: boolean;
  status?: string;
  acme_requested?: boolean;
  dns_requirements?: unknown;
}

export interface FlyCertificateOutputs extends FlyCertificateInputs {
  status: string;
  configured: boolean;
}

/** Both inputs replace: a certificate is for one hostname on one app. */
export const certificateReplaceKeys: (keyof FlyCertificateInputs)[] = ["app", "hostname"];

export const flyCertificateProvider: pulumi.dynamic.ResourceProvider<FlyCertificateInputs, FlyCertificateOutputs> = {
  async create(inputs) {
    const res = await flyFetch<CertificateBody>({
      method: "POST",
      path: `/apps/${seg(inputs.app)}/certificates/acme`,
      context: `app ${inputs.app}, certificate ${inputs.hostname}`,
      body: { hostname: inputs.hostname },
    });
    return { id: `${inputs.app}/${inputs.hostname}`, outs: { ...inputs, status: res.body.status ?? "", configured: res.body.configured ?? false } };
  },
  async read(id, props) {
    if (!props) return {};
    const res = await flyFetch<CertificateBody>({
      method: "GET",
      path: `/apps/${seg(props.app)}/certificates/${seg(props.hostname)}`,
      context: `app ${props.app}, certificate ${props.hostname}`,
      accept: [404],
    });
    if (res.status === 404) return {};
    return { id, props: { ...props, status: res.body.status ?? props.status, configured: res.body.configured ?? props.configured } };
  },
  async diff(_id, olds, news) {
    const replaces = certificateReplaceKeys.filter((k) => olds[k] !== news[k]);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: olds.hostname === news.hostname };
  },
  async update(_id, olds, news) {
    return { outs: { ...olds, ...news } };
  },
  async delete(_id, props) {
    await flyFetch<unknown>({
      method: "DELETE",
      path: `/apps/${seg(props.app)}/certificates/${seg(props.hostname)}`,
      context: `app ${props.app}, certificate ${props.hostname}`,
      accept: [404],
    });
  },
};

export type FlyCertificateArgs = { [K in keyof FlyCertificateInputs]: pulumi.Input<FlyCertificateInputs[K]> };

/** An ACME (Let's Encrypt) certificate for a hostname of a Fly app. */
export class FlyCertificate extends pulumi.dynamic.Resource {
  declare readonly status: pulumi.Output<string>;
  declare readonly configured: pulumi.Output<boolean>;

  constructor(name: string, args: FlyCertificateArgs, opts?: pulumi.CustomResourceOptions) {
    super(flyCertificateProvider, name, { ...args, status: undefined, configured: undefined }, opts, "flightdeck", flyResourceTypes.certificate);
  }
}
