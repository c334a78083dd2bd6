import type { Stack } from "@pulumi/pulumi/automation";
import { detectDrift, type DetectDriftOptions, type DriftReport } from "./drift";
import { writeUpdateConfig, type StackFile } from "./stack-file";
import { deployedState } from "./update";
import { projectDir } from "./workspace";

/**
 * Drift of a stack as the driver runs it: with the committed config plus what the stack runs, so
 * right after a deploy there is none (a bare preview would also see the dynamic providers' config
 * without the delivery state as a change).
 */
export async function driftOf(stack: Stack, file: StackFile, opts: Omit<DetectDriftOptions, "configFile"> = {}, workDir = projectDir): Promise<DriftReport> {
  const current = await deployedState(stack);
  const cfg = current ? writeUpdateConfig(workDir, file, stack.name, current) : undefined;
  try {
    return await detectDrift(stack, { ...opts, ...(cfg ? { configFile: cfg.path } : {}) });
  } finally {
    cfg?.remove();
  }
}
