import type { Stack } from "@pulumi/pulumi/automation";
import { initialDelivery } from "../infra/config/delivery";
import { withDeployLock } from "./deploy-lock";
import { describeDelivery, liveSpec, type DeliveryState } from "./plan";
import { secretsOf, startRecord } from "./records";
import { recoverStack } from "./recover";
import { readStackFile } from "./stack-file";
import { StepLog, firstLine, type StepRecord } from "./steps";
import { deployedState, desiredSpec, upTo } from "./update";
import { UsageError } from "./usage-error";
import { openStack, projectDir } from "./workspace";
import { warmUp } from "./warm-up";

export interface UpOptions {
  stack: string;
  workDir?: string;
  /**
   * Refresh first: the engine compares the program with its state, so a change made out of band
   * (what `drift` reports) is put back only once a refresh has written it into the state.
   */
  refresh?: boolean;
  onStep?: (s: StepRecord) => void;
  onEngineOutput?: (s: string) => void;
}

/**
 * `npm start`: brings a stack to its committed config as it runs now — what its slots run stays as
 * recorded (a change to them ships with `deploy`), and a stack that runs nothing gets the config's
 * `release` on blue. Through the driver like every update it makes: under the deploy lock, with its
 * own config file, so the update records its delivery state and `rollback` can return to it.
 */
export async function upAsIs(opts: UpOptions): Promise<Record<string, { value: unknown }>> {
  const started = Date.now();
  const workDir = opts.workDir ?? projectDir;
  const file = readStackFile(workDir, opts.stack);
  warmUp(workDir, opts.stack); // ready when the update needs it (stacks/warm-up.ts)
  const log = new StepLog(opts.onStep);
  return withDeployLock(workDir, opts.stack, "up", undefined, async (lock, store) => {
    // An `npm start` changes the stack like a deploy does: it leaves a record too.
    const record = startRecord(store, log, { workDir, stack: opts.stack, kind: "up", startedAt: started });
    record.begin();
    let stack: Stack | undefined;
    let previousRelease: string | undefined;
    let delivery: DeliveryState | undefined;
    const secrets = () => secretsOf(stack, file);
    let outputs: Record<string, { value: unknown }>;
    try {
      stack = await openStack(opts.stack, workDir);
      await recoverStack(stack, file, lock.staleHolder, store, log, { workDir, onEngineOutput: opts.onEngineOutput });
      delivery = await deployedState(stack);
      previousRelease = delivery ? liveSpec(delivery).release : undefined;
      if (!delivery) {
        const release = file.config.release;
        if (release === undefined) throw new UsageError(`stack ${opts.stack} runs nothing yet: deploy a release first (npm run deploy -- --stack ${opts.stack} --release <release>)`);
        delivery = initialDelivery(await desiredSpec(stack, file, release, undefined));
      }
      const ready = delivery;
      outputs = await log.run(
        opts.refresh ? "refresh, up" : "up",
        () => upTo(stack!, file, ready, opts.refresh ? "up --refresh" : "up", { workDir, refresh: opts.refresh, onEngineOutput: opts.onEngineOutput }),
        () => `${describeDelivery(ready)}`,
      );
    } catch (err) {
      await record.finish(
        { outcome: "failed", reason: firstLine(err), release: delivery ? liveSpec(delivery).release : undefined, previousRelease, liveSlot: delivery?.liveSlot },
        secrets,
      );
      throw err;
    }
    await record.finish({ outcome: "succeeded", release: liveSpec(delivery).release, previousRelease, liveSlot: delivery.liveSlot }, secrets);
    return outputs;
  });
}
