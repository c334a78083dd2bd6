import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { loadStackConfig } from "./config/load";
import { cloudEnvironment } from "./cloud";
import { resolveDelivery } from "./deployed";
import { localEnvironment } from "./local";

// Validate first: a bad config throws here, before any resource is declared.
const config = loadStackConfig();

const projectDir = path.resolve(__dirname, "..");

export = (async () => {
  const { delivery, liveThroughout } = await resolveDelivery(config);
  const ctx = { projectDir, stack: pulumi.getStack(), liveThroughout };
  switch (config.environment) {
    case "local":
      return localEnvironment(config, delivery, ctx);
    case "staging":
    case "production":
      return cloudEnvironment(config, delivery, ctx);
  }
})();
