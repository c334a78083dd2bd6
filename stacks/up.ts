import { initialDelivery } from "../infra/config/delivery";
import { withDeployLock } from "./deploy-lock";
import { recoverStack } from "./recover";
import { readStackFile } from "./stack-file";
import { StepLog, type StepRecord } from "./steps";
import { deployedState, desiredSpec, upTo } from "./update";
import { UsageError } from "./usage-error";
import { openStack, projectDir } from "./workspace";

export interface UpOptions {
  stack: string;
  workDir?: string;
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
  const workDir = opts.workDir ?? projectDir;
  const file = readStackFile(workDir, opts.stack);
  const log = new StepLog(opts.onStep);
  return withDeployLock(workDir, opts.stack, "up", undefined, async (lock, store) => {
    const stack = await openStack(opts.stack, workDir);
    await recoverStack(stack, file, lock.staleHolder, store, log, { workDir, onEngineOutput: opts.onEngineOutput });
    let delivery = await deployedState(stack);
    if (!delivery) {
      const release = file.config.release;
      if (release === undefined) throw new UsageError(`stack ${opts.stack} runs nothing yet: deploy a release first (npm run deploy -- --stack ${opts.stack} --release <release>)`);
      delivery = initialDelivery(await desiredSpec(stack, file, release, undefined));
    }
    return await upTo(stack, file, delivery, "up", { workDir, onEngineOutput: opts.onEngineOutput });
  });
}
