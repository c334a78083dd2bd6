import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { loadStackConfig } from "./config/load";
import { localEnvironment } from "./local";

// Validate first: a bad config throws here, before any resource is declared.
const config = loadStackConfig();

export = (() => {
  switch (config.environment) {
    case "local":
      return localEnvironment(config, { projectDir: path.resolve(__dirname, ".."), stack: pulumi.getStack() });
    default:
      throw new Error(`environment ${config.environment} is declared by the Fly issue's components (not yet here)`);
  }
})();
