import type { Stack } from "@pulumi/pulumi/automation";
import { slotSpecFromConfig } from "../infra/config/delivery";
import { secretValues } from "../infra/config/load";
import { deliveryFromOutputs, liveSpec, type DeliveryState, type SlotSpec } from "./plan";
import { writeUpdateConfig, type StackFile } from "./stack-file";
import { formatPolicyAdvice, formatPolicyEvent, isAdvisory } from "./policy-event";
import { firstLine } from "./steps";
import { engineOptions, type Restore } from "./workspace";

/** The preview before an update failed (a mandatory policy, a program error): nothing was changed. */
export class PreviewRefusedError extends Error {
  override name = "PreviewRefusedError";
}

/** The stack's state or its delivery output cannot be read: nothing was changed. */
export class StateReadError extends Error {
  override name = "StateReadError";
}

export type StackOutputs = Awaited<ReturnType<Stack["outputs"]>>;

/** What the stack runs now, from its own outputs. Unreadable outputs are an error, never "nothing". */
export async function deployedState(stack: Stack): Promise<DeliveryState | undefined> {
  return (await readDeployed(stack)).current;
}

/**
 * The stack's outputs and the delivery state among them, from one read (each read is a CLI run):
 * for commands that also need the live URL, the slot URLs or the traffic switch.
 */
export async function readDeployed(stack: Stack): Promise<{ current?: DeliveryState; outputs: StackOutputs }> {
  let outputs: StackOutputs;
  try {
    outputs = await stack.outputs();
  } catch (err) {
    throw new StateReadError(
      `stack ${stack.name}: its state could not be read (${firstLine(err)}); nothing was changed. ` +
        `Restore it from a backup before deploying: npm run flightdeck -- restore --stack ${stack.name} --from <file> (docs/runbooks/lost-backend.md).`,
      { cause: err },
    );
  }
  return { current: deliveryFromOutputs(outputs, stack.name), outputs };
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
    /** Each advisory policy finding of the preview, once: it does not stop the update, but someone should read it. */
    onPolicyAdvice?: (line: string) => void;
  },
): Promise<Record<string, { value: unknown }>> {
  const cfg = writeUpdateConfig(opts.workDir, file, stack.name, delivery, { switchAtOnce: opts.restore !== undefined });
  try {
    const engine = { ...engineOptions(stack.name, opts.workDir, opts.onEngineOutput, opts.restore), configFile: cfg.path };
    // After a crash, what runs may differ from the state (a slot process died with its driver):
    // refresh first. A revert or rollback follows its own driver's moves (traffic first), which the
    // update restates anyway, so it skips the refresh's second or two.
    if (opts.restore?.kind === "recover") await stack.refresh({ ...engine, message: `refresh before ${opts.restore.kind}` });
    if (opts.preview) {
      const mandatory: string[] = [];
      const advisory: string[] = [];
      try {
        await stack.preview({
          ...engine,
          message: `preview: ${message}`,
          onEvent: (e) => {
            if (e.policyEvent?.enforcementLevel === "mandatory") mandatory.push(formatPolicyEvent(e.policyEvent));
            if (isAdvisory(e.policyEvent)) advisory.push(formatPolicyAdvice(e.policyEvent));
          },
        });
      } catch (err) {
        // A policy's refusal is its message (what is wrong, and the fix), not the engine's summary line.
        throw new PreviewRefusedError(mandatory.length > 0 ? [...new Set(mandatory)].join("\n") : firstLine(err), { cause: err });
      }
      for (const line of new Set(advisory)) opts.onPolicyAdvice?.(line);
    }
    const up = await stack.up({ ...engine, message });
    return up.outputs;
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
