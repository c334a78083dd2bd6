/**
 * Cordon calls through the Machines API: which machines of an app are in Fly's proxy rotation.
 * Used by the router resource, its canary, and the deploy driver's revert (stacks/fly-switch.ts).
 */
import { flyFetch, seg } from "./api";
import { cordonPlan, restorePlan, type CordonStep, type Slot } from "./plan";

/**
 * Takes one machine out of Fly's proxy rotation (`cordon`) or puts it back (`uncordon`); with the
 * nonce of the machine's lease when the caller holds it. `context` names the machine in errors.
 */
export async function setRotation(app: string, machine: string, action: CordonStep["action"], context: string, leaseNonce?: string): Promise<void> {
  await flyFetch<unknown>({
    method: "POST",
    path: `/apps/${seg(app)}/machines/${seg(machine)}/${action}`,
    context,
    ...(leaseNonce ? { headers: { "fly-machine-lease-nonce": leaseNonce } } : {}),
  });
}

async function cordonCall(app: string, step: CordonStep): Promise<void> {
  await setRotation(app, step.machine, step.action, `app ${app}, machine ${step.machine} (slot ${step.slot}), ${step.action}`);
}

/**
 * Puts `live` in rotation and the other slot out, through the Machines API (used by the router
 * resource, its canary, and the deploy driver's revert). On a failure midway, puts back `found`
 * (machine id → cordoned) for the machines it touched and throws an error naming the app and the machine.
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
  await applyCordonSteps(app, cordonPlan(live, machines), found, `moving live traffic to ${live}`);
}

/** Runs cordon calls in order; on a failure, puts back `found` for the machines touched, then throws. */
export async function applyCordonSteps(app: string, steps: readonly CordonStep[], found: Record<string, boolean>, doing: string): Promise<void> {
  const done: CordonStep[] = [];
  for (const step of steps) {
    try {
      await cordonCall(app, step);
      done.push(step);
    } catch (err) {
      const back = restorePlan(found, [...done, step]);
      const restoreFailures: string[] = [];
      for (const r of back) {
        await cordonCall(app, r).catch((e: Error) => restoreFailures.push(`${r.action} ${r.machine}: ${e.message}`));
      }
      const cause = `FlyCordonRouter: app ${app}: ${step.action} of machine ${step.machine} (slot ${step.slot}) failed while ${doing}: ${(err as Error).message}.`;
      throw new Error(
        restoreFailures.length === 0
          ? `${cause} The cordon state found before the switch is back (${back.length} machine(s) reverted).`
          : `${cause} Putting back the cordon state found before the switch also failed (${restoreFailures.join("; ")}): check \`fly machine list -a ${app}\` and cordon/uncordon by hand.`,
      );
    }
  }
}

