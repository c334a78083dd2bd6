import * as path from "node:path";
import { LocalApp } from "../components/local/app";
import type { LocalConfig } from "./config/schema";

export interface LocalContext {
  projectDir: string;
  stack: string;
}

function featureEnv(features: Record<string, boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(features).map(([k, v]) => [`FLAG_${k.toUpperCase()}`, String(v)]));
}

/** The local environment: the sample app as a local process. */
export function localEnvironment(config: LocalConfig, ctx: LocalContext) {
  const app = new LocalApp("app", {
    release: config.release,
    appDir: path.resolve(ctx.projectDir, config.local.appDir),
    command: config.local.command,
    port: config.local.proxyPort,
    env: featureEnv(config.features),
    logDir: path.join(ctx.projectDir, ".pulumi", "local", ctx.stack, "logs"),
  });
  return { url: app.url, release: config.release };
}
