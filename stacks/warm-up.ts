import { warmProgramHost } from "./program-host";
import { compilePolicyPack } from "./policy-pack-build";
import { openStackEarly, policyPackFor } from "./workspace";

/**
 * Started when a command that updates begins, beside its lock and its state reads, so that neither
 * is waited for later: the program's host (stacks/program-host), the compiled policy pack
 * (stacks/policy-pack-build.ts) and the stack's handle (one CLI run, and the CLI's lookup).
 * Never throws; a real problem is reported where the command needs the thing.
 */
export function warmUp(workDir: string, stackName: string): void {
  try {
    openStackEarly(stackName, workDir); // first: the open step comes soonest
  } catch {
    /* a stack without its passphrase, say: the open step reports it */
  }
  warmProgramHost(workDir, stackName);
  void compilePackFor(workDir, stackName);
}

/**
 * Compiles the project's policy pack for this stack's updates, when the project has one. A pack
 * that does not compile is not an error here: the update then runs the pack's sources, and the
 * engine reports what is wrong with them as it always did.
 */
export async function compilePackFor(workDir: string, stackName: string): Promise<void> {
  try {
    const packs = policyPackFor(stackName, workDir);
    if (packs) await compilePolicyPack(packs.pack, workDir);
  } catch {
    /* see above */
  }
}
