import * as pulumi from "@pulumi/pulumi";
import * as crypto from "node:crypto";
import { flyFetch, seg } from "./api";
import { flyResourceTypes, type FlyAppSecretsInputs } from "./contract";

/**
 * App secrets are not in the March 2024 swagger; shapes follow Fly's Machines API docs:
 * `GET /v1/apps/{app}/secrets` → `{secrets: [{name, digest, created_at, updated_at}]}`,
 * `POST /v1/apps/{app}/secrets` `{values: {NAME: value}}` (set several at once),
 * `DELETE /v1/apps/{app}/secrets/{name}`.
 */
interface SecretsListBody {
  secrets?: { name: string; digest?: string; updated_at?: string }[];
}

/**
 * What the secrets resource stores. Never the values: only their names, a random salt and a
 * salted HMAC-SHA256 of each value (to notice changes without being able to recover a value),
 * and Fly's own digest of each (to notice out-of-band changes on refresh).
 */
export interface FlyAppSecretsOutputs {
  app: string;
  names: string[];
  salt: string;
  digests: Record<string, string>;
  flyDigests: Record<string, string>;
}

export function secretDigest(salt: string, name: string, value: string): string {
  return crypto.createHmac("sha256", salt).update(name).update("\0").update(value).digest("hex");
}

/** The pure diff: which names to set (new or changed) and which to remove. */
export function secretsPlan(olds: Pick<FlyAppSecretsOutputs, "salt" | "digests">, values: Record<string, string>): { set: string[]; remove: string[] } {
  const set = Object.keys(values)
    .filter((n) => olds.digests[n] !== secretDigest(olds.salt, n, values[n]))
    .sort();
  const remove = Object.keys(olds.digests)
    .filter((n) => !(n in values))
    .sort();
  return { set, remove };
}

async function listDigests(app: string): Promise<Record<string, string> | undefined> {
  const res = await flyFetch<SecretsListBody>({ method: "GET", path: `/apps/${seg(app)}/secrets`, context: `app ${app}, secrets`, accept: [404] });
  if (res.status === 404) return undefined;
  return Object.fromEntries((res.body.secrets ?? []).map((s) => [s.name, s.digest ?? ""]));
}

async function setValues(app: string, values: Record<string, string>, names: string[]): Promise<void> {
  if (names.length === 0) return;
  // Errors name the app and the secret names, never a value.
  await flyFetch<unknown>({
    method: "POST",
    path: `/apps/${seg(app)}/secrets`,
    context: `app ${app}, secrets ${names.join(", ")}`,
    body: { values: Object.fromEntries(names.map((n) => [n, values[n]])) },
  });
}

async function removeNames(app: string, names: string[]): Promise<void> {
  for (const n of names) {
    await flyFetch<unknown>({ method: "DELETE", path: `/apps/${seg(app)}/secrets/${seg(n)}`, context: `app ${app}, secret ${n}`, accept: [404] });
  }
}

async function outputsAfterWrite(app: string, salt: string, values: Record<string, string>): Promise<FlyAppSecretsOutputs> {
  const names = Object.keys(values).sort();
  const remote = (await listDigests(app)) ?? {};
  return {
    app,
    names,
    salt,
    digests: Object.fromEntries(names.map((n) => [n, secretDigest(salt, n, values[n])])),
    flyDigests: Object.fromEntries(names.map((n) => [n, remote[n] ?? ""])),
  };
}

// Inputs arrive with `values`; outputs never contain them. The engine keeps the (secret) inputs
// encrypted in state; the outputs below hold digests only.
export const flyAppSecretsProvider: pulumi.dynamic.ResourceProvider<FlyAppSecretsInputs, FlyAppSecretsOutputs> = {
  async create(inputs) {
    const salt = crypto.randomBytes(16).toString("hex");
    await setValues(inputs.app, inputs.values, Object.keys(inputs.values).sort());
    return { id: `${inputs.app}/secrets`, outs: await outputsAfterWrite(inputs.app, salt, inputs.values) };
  },
  async read(id, props) {
    if (!props) return {};
    const remote = await listDigests(props.app);
    if (remote === undefined) return {};
    // A secret removed or changed at Fly (its Fly digest moved) is drift: forget our digest for
    // it, so the next `up` sets it again from stack config.
    const digests: Record<string, string> = {};
    const flyDigests: Record<string, string> = {};
    for (const n of props.names) {
      if (!(n in remote)) continue;
      flyDigests[n] = remote[n];
      digests[n] = remote[n] === props.flyDigests[n] ? props.digests[n] : "changed-outside-pulumi";
    }
    return { id, props: { ...props, names: Object.keys(digests).sort(), digests, flyDigests } };
  },
  async diff(_id, olds, news) {
    if (olds.app !== news.app) return { changes: true, replaces: ["app"], deleteBeforeReplace: false };
    const plan = secretsPlan(olds, news.values);
    const changed = plan.set.length + plan.remove.length > 0;
    return { changes: changed, replaces: [], detailedDiff: changed ? { values: { kind: "update", inputDiff: true } } : {} };
  },
  async update(_id, olds, news) {
    const plan = secretsPlan(olds, news.values);
    await setValues(news.app, news.values, plan.set);
    await removeNames(news.app, plan.remove);
    return { outs: await outputsAfterWrite(news.app, olds.salt, news.values) };
  },
  async delete(_id, props) {
    await removeNames(props.app, props.names);
  },
};

export interface FlyAppSecretsArgs {
  app: pulumi.Input<string>;
  /** Secret name → value. Wrapped with pulumi.secret here whatever the caller passes. */
  values: pulumi.Input<Record<string, string>>;
}

/** The Flightdeck-managed secrets of a Fly app (other secrets of the app are left alone). */
export class FlyAppSecrets extends pulumi.dynamic.Resource {
  declare readonly names: pulumi.Output<string[]>;
  declare readonly digests: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: FlyAppSecretsArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      flyAppSecretsProvider,
      name,
      { app: args.app, values: pulumi.secret(args.values), names: undefined, salt: undefined, digests: undefined, flyDigests: undefined },
      { ...opts, additionalSecretOutputs: ["values", ...(opts?.additionalSecretOutputs ?? [])] },
      "flightdeck",
      flyResourceTypes.secrets,
    );
  }
}
