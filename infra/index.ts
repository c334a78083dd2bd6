import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { loadStackConfig } from "./config/load";
import { cloudEnvironment } from "./cloud";
import { localEnvironment } from "./local";

// Validate first: a bad config throws here, before any resource is declared.
const config = loadStackConfig();

const projectDir = path.resolve(__dirname, "..");

export = (() => {
  switch (config.environment) {
    case "local":
      return localEnvironment(config, { projectDir, stack: pulumi.getStack() });
    case "staging":
    case "production":
      return cloudEnvironment(config, { projectDir, stack: pulumi.getStack() });
  }
})();
