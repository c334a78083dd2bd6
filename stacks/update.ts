import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { slotSpecFromConfig } from "../infra/config/delivery";
import { secretValues } from "../infra/config/load";
import { deliveryFromOutputs, liveSpec, type DeliveryState, type SlotSpec } from "./plan";
import { writeUpdateConfig, type StackFile } from "./stack-file";
import { formatPolicyAdvice, formatPolicyEvent, isAdvisory } from "./policy-event";
import { firstLine } from "./steps";
import { enginePreview, engineUp, readStackOutputs } from "./engine-cli";
import { withProgramHost } from "./program-host";
import { engineOptions, type Restore } from "./workspace";
import { compilePackFor } from "./warm-up";

/**
 * Refused before anything changed: by the preview before an update (a mandatory policy, a program
 * error), or by a mandatory policy the update checked before its first change (the stack's root).
 */
export class PreviewRefusedError extends Error {
  override name = "PreviewRefusedError";
}

/**
 * The update itself was refused by a mandatory policy (run without a preview first): the engine
 * stopped at the refused resource; what it changed before that resource is the caller's to put back.
 */
export class UpdateRefusedError extends Error {
  override name = "UpdateRefusedError";
}

/** The stack's state or its delivery output cannot be read: nothing was changed. */
export class StateReadError extends Error {
  override name = "StateReadError";
}

export type StackOutputs = Awaited<ReturnType<Stack["outputs"]>>;

/** What the stack runs now, from its own outputs. Unreadable outputs are an error, never "nothing". */
export async function deployedState(stack: Stack, readOutputs?: (stack: Stack) => Promise<StackOutputs>): Promise<DeliveryState | undefined> {
  return (await readDeployed(stack, readOutputs)).current;
}

/**
 * The stack's outputs and the delivery state among them, from one read (each read is a CLI run):
 * for commands that also need the live URL, the slot URLs or the traffic switch.
 */
export async function readDeployed(
  stack: Stack,
  readOutputs: (stack: Stack) => Promise<StackOutputs> = readStackOutputs,
): Promise<{ current?: DeliveryState; outputs: StackOutputs }> {
  let outputs: StackOutputs;
  try {
    outputs = await readOutputs(stack);
  } catch (err) {
    throw new StateReadError(
      `stack ${stack.name}: its state could not be read (${firstLine(err)}); nothing was changed. ` +
        `Restore it from a backup before deploying: npm run flightdeck -- restore --stack ${stack.name} --from <file> (docs/runbooks/lost-backend.md).`,
      { cause: err },
    );
  }
  return { current: deliveryFromOutputs(outputs, stack.name), outputs };
}

/** The policy findings of one engine run, each once: mandatory refusals and advisory findings, as lines. */
function policyFindings() {
  const mandatory = new Set<string>();
  const advisory = new Set<string>();
  const see = (e: EngineEvent) => {
    if (e.policyEvent?.enforcementLevel === "mandatory") mandatory.add(formatPolicyEvent(e.policyEvent));
    if (isAdvisory(e.policyEvent)) advisory.add(formatPolicyAdvice(e.policyEvent));
  };
  return { mandatory, advisory, see };
}

/**
 * One update of the stack to a delivery state, with the committed config plus that state (written
 * to the driver's own config file, so nothing committed changes and the update's recorded config
 * says what it deployed).
 */
export async function upTo(
  stack: Stack,
  file: StackFile,
  delivery: DeliveryState,
  message: string,
  opts: {
    workDir: string;
    onEngineOutput?: (s: string) => void;
    restore?: Restore;
    preview?: boolean;
    /** Refresh first: what runs is known to differ from the state (a slot process died out of band). */
    refresh?: boolean;
    /** Each advisory policy finding of the preview, once: it does not stop the update, but someone should read it. */
    onPolicyAdvice?: (line: string) => void;
  },
): Promise<Record<string, { value: unknown }>> {
  const cfg = writeUpdateConfig(opts.workDir, file, stack.name, delivery, { switchAtOnce: opts.restore !== undefined });
  try {
    await compilePackFor(opts.workDir, stack.name); // started by warmUp as the command began: done by now
    const engine = { ...engineOptions(stack.name, opts.workDir, opts.onEngineOutput, opts.restore), configFile: cfg.path };
    // After a crash, what runs may differ from the state (a slot process died with its driver):
    // refresh first. A revert or rollback follows its own driver's moves (traffic first), which the
    // update restates anyway, so it skips the refresh's second or two.
    if (opts.restore?.kind === "recover" || opts.refresh) await stack.refresh({ ...engine, message: `refresh before ${opts.restore?.kind ?? "update"}` });
    if (opts.preview) {
      const found = policyFindings();
      try {
        // In the program host the update then reuses: the program loads once for both.
        await withProgramHost(opts.workDir, stack.name, (client) => enginePreview(stack, { ...engine, client, message: `preview: ${message}`, onEvent: found.see }));
      } catch (err) {
        // A policy's refusal is its message (what is wrong, and the fix), not the engine's summary line.
        throw new PreviewRefusedError(found.mandatory.size > 0 ? [...found.mandatory].join("\n") : firstLine(err), { cause: err });
      }
      for (const line of found.advisory) opts.onPolicyAdvice?.(line);
    }
    const found = policyFindings();
    let changed = false;
    try {
      return await withProgramHost(opts.workDir, stack.name, (client) => engineUp(stack, {
        ...engine,
        client,
        message,
        onEvent: (e) => {
          found.see(e);
          // A step that began may have changed something, even if it never finished.
          const op = e.resourcePreEvent?.metadata.op;
          if (op !== undefined && op !== "same" && op !== "read") changed = true;
        },
      }));
    } catch (err) {
      // Refused by a policy during the update: its message (what is wrong, and the fix) is the reason.
      if (found.mandatory.size > 0) {
        const why = [...found.mandatory].join("\n");
        throw changed ? new UpdateRefusedError(why, { cause: err }) : new PreviewRefusedError(why, { cause: err });
      }
      throw err;
    } finally {
      // Without a preview, the update's own run is the only one to report advisory findings.
      if (!opts.preview) for (const line of found.advisory) opts.onPolicyAdvice?.(line);
    }
  } finally {
    cfg.remove();
  }
}


/**
 * The stack's app secrets, decrypted, to digest them into the slot spec; they stay in memory, never
 * printed or written. Empty when the committed file sets none (no CLI call then).
 */
export async function appSecretsOf(stack: Stack, file: StackFile): Promise<Record<string, string>> {
  if (!file.hasAppSecrets) return {};
  return secretValues((await stack.getAllConfig())["flightdeck:appSecrets"]?.value);
}

/** The slot spec the committed config asks for, with the live slot's salt for the secrets' digest. */
export async function desiredSpec(stack: Stack, file: StackFile, release: string, current: DeliveryState | undefined): Promise<SlotSpec> {
  const secrets = await appSecretsOf(stack, file);
  return slotSpecFromConfig(file.config, release, secrets, current ? liveSpec(current).secrets?.salt : undefined);
}
