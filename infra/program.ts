import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { loadStackConfig } from "./config/load";
import type { StackConfig } from "./config/schema";
import { cloudEnvironment } from "./cloud";
import { resolveDelivery } from "./deployed";
import { localEnvironment } from "./local";

const projectDir = path.resolve(__dirname, "..");

/**
 * The whole program: validates the stack's config, then composes its environment. A function, so
 * that one process can run it for update after update (stacks/program-host): everything it reads
 * (config, the stack's name, what the stack runs) is read on each run, never at import.
 */
export function program(): Promise<Record<string, unknown>> {
  // Validate first, before anything is awaited: a bad config throws here, at once (at import, from
  // infra/index.ts), before any resource is declared.
  const config = loadStackConfig();
  return compose(config);
}

async function compose(config: StackConfig): Promise<Record<string, unknown>> {
  const { delivery, liveThroughout } = await resolveDelivery(config);
  const ctx = { projectDir, stack: pulumi.getStack(), liveThroughout };
  switch (config.environment) {
    case "local":
      return localEnvironment(config, delivery, ctx);
    case "staging":
    case "production":
      return cloudEnvironment(config, delivery, ctx);
  }
}
