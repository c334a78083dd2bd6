import * as pulumi from "@pulumi/pulumi";
import { envNumber, flyFetch, isFlyApiError, seg, sleep } from "./api";
import { flyResourceTypes, type FlyMachineConfig, type FlyMachineInputs } from "./contract";
import { setRotation } from "./cordons";
import { assertPinnedImage, machineDiff, managedConfig, regionPlan } from "./plan";

/** What Fly answers for a machine (the spec's `Machine`, the fields we use). */
interface FlyMachineBody {
  id: string;
  name?: string;
  region?: string;
  state?: string;
  instance_id?: string;
  private_ip?: string;
  config?: Record<string, unknown>;
  checks?: { name?: string; status?: string; output?: string }[];
}

export interface FlyMachineOutputs extends FlyMachineInputs {
  machineId: string;
  /** The region Fly placed the machine in (a fallback region when the preferred one had no capacity). */
  placedRegion: string;
  instanceId: string;
  state: string;
  privateIp: string;
}

function where(inputs: Pick<FlyMachineInputs, "app" | "name">, id?: string): string {
  return `app ${inputs.app}, machine ${inputs.name}${id ? ` (${id})` : ""}`;
}

/** Create attempts per region when Fly reports no capacity there, before trying the next region. */
const capacityAttemptsPerRegion = 2;

async function createInSomeRegion(inputs: FlyMachineInputs): Promise<FlyMachineBody> {
  const failures: string[] = [];
  for (const region of regionPlan(inputs.region, inputs.fallbackRegions)) {
    for (let attempt = 1; attempt <= capacityAttemptsPerRegion; attempt++) {
      try {
        const res = await flyFetch<FlyMachineBody>({
          method: "POST",
          path: `/apps/${seg(inputs.app)}/machines`,
          context: `${where(inputs)}, region ${region}`,
          body: {
            name: inputs.name,
            region,
            config: inputs.config,
            // A cordoned machine starts without its services registered, as flyctl's blue/green does.
            ...(inputs.cordoned ? { skip_service_registration: true } : {}),
          },
        });
        return res.body;
      } catch (err) {
        if (!isFlyApiError(err) || err.flyClass !== "capacity") throw err;
        failures.push(`${region}: ${err.flyMessage}`);
        if (attempt < capacityAttemptsPerRegion) await sleep(200 * attempt);
      }
    }
  }
  throw new Error(`could not create ${where(inputs)}: no capacity in any configured region (${failures.join("; ")})`);
}

/** Waits for the given instance to be `started`, then for every check to pass, before `deadline`. */
async function waitHealthy(inputs: FlyMachineInputs, id: string, instanceId: string, deadline: number): Promise<FlyMachineBody> {
  const base = `/apps/${seg(inputs.app)}/machines/${seg(id)}`;
  // 1. started: Fly's wait blocks up to `timeout` seconds (at most 60) and answers 408 on timeout.
  for (;;) {
    const left = Math.ceil((deadline - Date.now()) / 1000);
    if (left <= 0) throw new Error(`${where(inputs, id)}: instance ${instanceId} did not reach "started" within ${inputs.updateDeadlineMs} ms`);
    const res = await flyFetch<unknown>({
      method: "GET",
      path: `${base}/wait?instance_id=${seg(instanceId)}&state=started&timeout=${Math.min(60, left)}`,
      context: where(inputs, id),
      accept: [408],
      timeoutMs: (Math.min(60, left) + 5) * 1000,
    });
    if (res.status !== 408) break;
  }
  // 2. checks: poll the machine until every check reports "passing".
  let last: FlyMachineBody | undefined;
  // A check Fly reports critical (failing after its grace period) for this long fails the update
  // now: waiting out the whole deadline would hold a bad release's deploy, and the stack's lock,
  // for minutes (120 s by default) with no chance of a different answer.
  let criticalSince: number | undefined;
  const failingChecks = () => (last?.checks ?? []).filter((c) => c.status !== "passing").map((c) => `${c.name}=${c.status}${c.output ? ` (${c.output})` : ""}`);
  while (Date.now() < deadline) {
    last = (await flyFetch<FlyMachineBody>({ method: "GET", path: base, context: where(inputs, id) })).body;
    const checks = last.checks ?? [];
    // Every configured check must be listed and passing: an empty or partial list right after
    // create (before Fly has run a check) is "not yet", not "all passing".
    if (checks.length >= configuredChecks(inputs) && checks.every((c) => c.status === "passing")) return last;
    criticalSince = checks.some((c) => c.status === "critical") ? (criticalSince ?? Date.now()) : undefined;
    if (criticalSince !== undefined && Date.now() - criticalSince >= CRITICAL_GIVE_UP_MS) {
      throw new Error(`${where(inputs, id)}: checks critical for ${CRITICAL_GIVE_UP_MS} ms: ${failingChecks().join(", ")}`);
    }
    await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
  }
  throw new Error(`${where(inputs, id)}: checks did not pass within ${inputs.updateDeadlineMs} ms: ${failingChecks().join(", ")}`);
}

/** How many checks the machine's config declares: top-level ones and each service's. */
function configuredChecks(inputs: FlyMachineInputs): number {
  const services = inputs.config.services ?? [];
  return Object.keys(inputs.config.checks ?? {}).length + services.reduce((n, s) => n + (s.checks?.length ?? 0), 0);
}

/** How long a machine's checks may stay critical before its update fails (see waitHealthy). */
export const CRITICAL_GIVE_UP_MS = 10_000;

function outputsFrom(inputs: FlyMachineInputs, m: FlyMachineBody, fallbackRegion: string): FlyMachineOutputs {
  return {
    ...inputs,
    machineId: m.id,
    placedRegion: m.region ?? fallbackRegion,
    instanceId: m.instance_id ?? "",
    state: m.state ?? "unknown",
    privateIp: m.private_ip ?? "",
  };
}

/** Lease TTL: the update deadline plus a margin, so a crashed deploy's lease expires by itself. */
function leaseTtlSeconds(inputs: FlyMachineInputs): number {
  return Math.ceil(inputs.updateDeadlineMs / 1000) + 30;
}

async function acquireLease(inputs: FlyMachineInputs, id: string): Promise<string> {
  try {
    const res = await flyFetch<{ nonce?: string }>({
      method: "POST",
      path: `/apps/${seg(inputs.app)}/machines/${seg(id)}/lease`,
      context: where(inputs, id),
      body: { ttl: leaseTtlSeconds(inputs), description: "flightdeck: update machine" },
    });
    if (!res.body?.nonce) throw new Error(`${where(inputs, id)}: Fly granted a lease without a nonce`);
    return res.body.nonce;
  } catch (err) {
    if (isFlyApiError(err) && err.flyStatus === 409) {
      throw new Error(
        `machine ${inputs.name} (${id}) of app ${inputs.app} is being changed by someone else (its lease is held: ${err.flyMessage}). ` +
          "Wait for the other deploy to finish, or release the lease with `fly machine leases clear`.",
      );
    }
    throw err;
  }
}

async function releaseLease(inputs: FlyMachineInputs, id: string, nonce: string): Promise<void> {
  await flyFetch<unknown>({
    method: "DELETE",
    path: `/apps/${seg(inputs.app)}/machines/${seg(id)}/lease`,
    context: where(inputs, id),
    headers: { "fly-machine-lease-nonce": nonce },
    accept: [404],
  });
}

/**
 * How long a live machine stays cordoned before its update restarts it, so that the requests Fly's
 * proxy already sent it can finish and the proxy's other instances have seen the cordon.
 * `FLIGHTDECK_FLY_DRAIN_MS` tunes it (tests, slow networks); read per call like the API settings.
 */
function drainMs(): number {
  return envNumber("FLIGHTDECK_FLY_DRAIN_MS", 2000);
}

/**
 * Updates a machine's config in place under its lease and waits until it is healthy.
 *
 * An idle-slot machine (`drain` false) stays out of rotation through its update: without
 * skip_service_registration Fly may register its services again, and the new release would take
 * live traffic before the gate.
 *
 * A live machine (`drain` true, a drift repair of the slot in rotation) is drained first: cordoned,
 * given `drainMs` for its requests in flight, updated with its services still unregistered, then
 * uncordoned once its checks pass, so a request is never sent to it while it restarts. It is
 * uncordoned on a failure too: the slot declares it in rotation, and Fly's proxy routes only to a
 * machine whose service checks pass. With one machine in the slot (staging) the slot serves
 * nothing while it restarts, drained or not; drained, no request is cut off midway.
 */
async function updateUnderLease(id: string, olds: FlyMachineOutputs, news: FlyMachineInputs, drain: boolean): Promise<FlyMachineBody> {
  const deadline = Date.now() + news.updateDeadlineMs;
  const nonce = await acquireLease(news, id);
  let cordoned = false;
  let failure: unknown;
  try {
    if (drain) {
      await setRotation(news.app, id, "cordon", `${where(news, id)}, drain before update`, nonce);
      cordoned = true;
      await sleep(drainMs());
    }
    const res = await flyFetch<FlyMachineBody>({
      method: "POST",
      path: `/apps/${seg(news.app)}/machines/${seg(id)}`,
      context: where(news, id),
      headers: { "fly-machine-lease-nonce": nonce },
      body: { config: news.config, region: olds.placedRegion, ...(news.cordoned || drain ? { skip_service_registration: true } : {}) },
    });
    return await waitHealthy(news, id, res.body.instance_id ?? "", deadline);
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    try {
      if (cordoned) {
        await setRotation(news.app, id, "uncordon", `${where(news, id)}, back in rotation after update`, nonce).catch((err: Error) => {
          const before = failure instanceof Error ? `${failure.message}; then ` : "";
          // Thrown over the update's own outcome: the machine is out of rotation and the state would say otherwise.
          throw new Error(`${before}${where(news, id)} stays cordoned, out of rotation: ${err.message}. Put it back with \`fly machine uncordon ${id} -a ${news.app}\`.`);
        });
      }
    } finally {
      await releaseLease(news, id, nonce).catch(() => undefined);
    }
  }
}

/**
 * Runs one live-machine update of an app at a time. The engine updates sibling resources in
 * parallel, so two drifted machines of the live slot would otherwise be drained together and the
 * slot would have nothing in rotation. Every dynamic resource of an update is served by the same
 * provider process, so a process-wide queue per app (on globalThis: the provider's functions are
 * serialized and deserialized, and a module-level map would be copied into each) orders them.
 */
function oneDrainPerApp<T>(app: string, run: () => Promise<T>): Promise<T> {
  const holder = globalThis as { __flightdeckFlyDrains?: Map<string, Promise<unknown>> };
  const queues = (holder.__flightdeckFlyDrains ??= new Map<string, Promise<unknown>>());
  const turn = (queues.get(app) ?? Promise.resolve()).then(run);
  queues.set(app, turn.catch(() => undefined));
  return turn;
}

export const flyMachineProvider: pulumi.dynamic.ResourceProvider<FlyMachineInputs, FlyMachineOutputs> = {
  async check(_olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    try {
      assertPinnedImage(news.config?.image, `machine ${news.name}`);
    } catch (err) {
      failures.push({ property: "config", reason: (err as Error).message });
    }
    return { inputs: news, failures };
  },
  async create(inputs) {
    assertPinnedImage(inputs.config.image, where(inputs));
    const deadline = Date.now() + inputs.updateDeadlineMs;
    const created = await createInSomeRegion(inputs);
    const id = created.id;
    let healthy: FlyMachineBody;
    try {
      healthy = await waitHealthy(inputs, id, created.instance_id ?? "", deadline);
      if (inputs.cordoned) {
        await setRotation(inputs.app, id, "cordon", where(inputs, id));
      }
    } catch (err) {
      // The machine exists but is not healthy: remove it so a retry starts clean rather than leaking it.
      await flyFetch<unknown>({ method: "DELETE", path: `/apps/${seg(inputs.app)}/machines/${seg(id)}?force=true`, context: where(inputs, id), accept: [404] }).catch(() => undefined);
      throw err;
    }
    return { id, outs: outputsFrom(inputs, healthy, created.region ?? inputs.region) };
  },
  async read(id, props) {
    if (!props) return {};
    const res = await flyFetch<FlyMachineBody>({
      method: "GET",
      path: `/apps/${seg(props.app)}/machines/${seg(id)}`,
      context: where(props, id),
      accept: [404],
    });
    if (res.status === 404 || res.body?.state === "destroyed") return {};
    const m = res.body;
    const config = managedConfig(m.config ?? {}, props.config);
    const outs: FlyMachineOutputs = { ...outputsFrom({ ...props, config }, m, props.placedRegion), name: m.name ?? props.name };
    // Outputs follow what Fly has, so refresh shows an out-of-band change and the next `up` undoes it.
    return { id, props: outs };
  },
  async diff(_id, olds, news) {
    const d = machineDiff(olds, news);
    return { changes: d.changes, replaces: d.replaces, detailedDiff: d.detailedDiff, deleteBeforeReplace: false };
  },
  async update(id, olds, news) {
    assertPinnedImage(news.config.image, where(news, id));
    const d = machineDiff(olds, news);
    if (!d.configChanged) return { outs: { ...olds, ...news, cordoned: olds.cordoned } };
    const updated = news.cordoned ? await updateUnderLease(id, olds, news, false) : await oneDrainPerApp(news.app, () => updateUnderLease(id, olds, news, true));
    return { outs: { ...outputsFrom(news, updated, olds.placedRegion), cordoned: olds.cordoned } };
  },
  async delete(id, props) {
    // 404: already gone (deleted out of band, or with its app); nothing left to do.
    await flyFetch<unknown>({
      method: "DELETE",
      path: `/apps/${seg(props.app)}/machines/${seg(id)}?force=true`,
      context: where(props, id),
      accept: [404],
    });
  },
};

export type FlyMachineArgs = {
  [K in keyof Omit<FlyMachineInputs, "config">]: pulumi.Input<FlyMachineInputs[K]>;
} & {
  /** The machine's config, sent to Fly as it is. `image` must be pinned by digest. */
  config: pulumi.Input<FlyMachineConfig>;
};

/**
 * A Fly machine. Created in its region (falling back to `fallbackRegions` when Fly reports no
 * capacity), updated in place under a lease (waits for the new instance to start and its checks
 * to pass), replaced only when `app`, `region` or `name` change, destroyed on delete.
 */
export class FlyMachine extends pulumi.dynamic.Resource {
  declare readonly machineId: pulumi.Output<string>;
  declare readonly placedRegion: pulumi.Output<string>;
  declare readonly instanceId: pulumi.Output<string>;
  declare readonly state: pulumi.Output<string>;
  declare readonly privateIp: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;

  constructor(name: string, args: FlyMachineArgs, opts?: pulumi.CustomResourceOptions) {
    // A mutable image is refused by the provider's Check (a failure naming this resource, in
    // preview, beside the policy pack's verdict), not by throwing here: a throw in the program
    // ends it before the policies report, with an "unhandled exception" instead of one message.
    const config = args.config;
    super(
      flyMachineProvider,
      name,
      { ...args, config, machineId: undefined, placedRegion: undefined, instanceId: undefined, state: undefined, privateIp: undefined },
      opts,
      "flightdeck",
      flyResourceTypes.machine,
    );
  }
}
