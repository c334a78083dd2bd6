import type { Stack } from "@pulumi/pulumi/automation";
import { deliveryFromOutputs, type DeliveryState } from "./plan";
import { writeUpdateConfig, type StackFile } from "./stack-file";
import { firstLine } from "./steps";
import { engineOptions, type Restore } from "./workspace";

/** The preview before an update failed (a mandatory policy, a program error): nothing was changed. */
export class PreviewRefusedError extends Error {
  override name = "PreviewRefusedError";
}

/** What the stack runs now, from its own outputs. Unreadable outputs are an error, never "nothing". */
export async function deployedState(stack: Stack): Promise<DeliveryState | undefined> {
  return deliveryFromOutputs(await stack.outputs(), stack.name);
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
  opts: { workDir: string; onEngineOutput?: (s: string) => void; restore?: Restore; preview?: boolean },
): Promise<Record<string, { value: unknown }>> {
  const cfg = writeUpdateConfig(opts.workDir, file, stack.name, delivery);
  try {
    const engine = { ...engineOptions(stack.name, opts.workDir, opts.onEngineOutput, opts.restore), configFile: cfg.path };
    if (opts.restore) await stack.refresh({ ...engine, message: `refresh before ${opts.restore.kind}` });
    if (opts.preview) {
      try {
        await stack.preview({ ...engine, message: `preview: ${message}` });
      } catch (err) {
        throw new PreviewRefusedError(firstLine(err), { cause: err });
      }
    }
    const up = await stack.up({ ...engine, message });
    return up.outputs;
  } finally {
    cfg.remove();
  }
}

