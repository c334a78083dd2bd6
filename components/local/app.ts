import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { LocalProcess } from "./process";
import { DEFAULT_HEALTH_PATH } from "../bluegreen/probe";

export interface LocalAppArgs {
  /** Release label the app reports on /version. */
  readonly release: pulumi.Input<string>;
  /** Absolute directory of the app. */
  readonly appDir: pulumi.Input<string>;
  /** Command that starts the app. @default ["node", "server.js"] */
  readonly command?: pulumi.Input<string[]>;
  readonly port: pulumi.Input<number>;
  /** Extra environment (feature flags, test switches). */
  readonly env?: pulumi.Input<Record<string, string>>;
  /** App secrets as environment (a Pulumi secret); taken up only when `secretsDigest` changes. */
  readonly secretEnv?: pulumi.Input<Record<string, string>>;
  /** Which secrets the slot runs with (the slot spec's digest). @default "" */
  readonly secretsDigest?: string;
  /** Directory for logs. */
  readonly logDir: pulumi.Input<string>;
  /** Directory for pid files. */
  readonly runDir: pulumi.Input<string>;
  /** @default "/healthz" */
  readonly readyPath?: pulumi.Input<string>;
  /** @default 15000 */
  readonly readyTimeoutMs?: pulumi.Input<number>;
}

/** The sample app (or any HTTP app) as one local process on a loopback port. */
export class LocalApp extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly pid: pulumi.Output<number>;

  constructor(name: string, args: LocalAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flightdeck:local:App", name, {}, opts);
    const proc = new LocalProcess(
      `${name}-process`,
      {
        cwd: args.appDir,
        command: args.command ?? ["node", "server.js"],
        env: pulumi.all([args.release, args.env ?? {}]).apply(([release, env]) => ({ ...env, APP_VERSION: release })),
        secretEnv: pulumi.secret(args.secretEnv ?? {}),
        secretsDigest: args.secretsDigest ?? "",
        port: args.port,
        readyPath: args.readyPath ?? DEFAULT_HEALTH_PATH,
        // The sample app reports its release on /version: started means this release answers.
        expectVersion: args.release,
        readyTimeoutMs: args.readyTimeoutMs ?? 15_000,
        logFile: pulumi.output(args.logDir).apply((d) => path.join(d, `${name}.log`)),
        pidFile: pulumi.output(args.runDir).apply((d) => path.join(d, `${name}.pid`)),
      },
      { parent: this },
    );
    this.url = proc.url;
    this.pid = proc.pid;
    this.registerOutputs({ url: this.url, pid: this.pid });
  }
}
