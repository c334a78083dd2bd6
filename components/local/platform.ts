import * as path from "node:path";
import type { BlueGreenPlatform, SlotDeployment } from "../bluegreen/platform";
import type { SlotName } from "../bluegreen/slots";
import { LocalApp } from "./app";
import { LocalRouter } from "./router";

export interface LocalPlatformArgs {
  /** Absolute directory of the app to run. */
  appDir: string;
  command: string[];
  /** Environment every slot gets (feature flags). */
  env: Record<string, string>;
  ports: { proxy: number; admin: number } & Record<SlotName, number>;
  /** Where processes keep logs, pid files and HAProxy's files. */
  stateDir: string;
  /** @default "haproxy" */
  haproxy?: string;
}

/** Slots are local processes of the app; the router is HAProxy driven through its runtime API. */
export function localPlatform(args: LocalPlatformArgs): BlueGreenPlatform {
  return {
    slot(slot, release, parent): SlotDeployment {
      const app = new LocalApp(
        `slot-${slot}`,
        {
          release,
          appDir: args.appDir,
          command: args.command,
          port: args.ports[slot],
          env: args.env,
          logDir: path.join(args.stateDir, "logs"),
          runDir: path.join(args.stateDir, "run"),
        },
        { parent },
      );
      return { url: app.url, resources: [app] };
    },
    router(live, _slots, gate, parent) {
      const router = new LocalRouter(
        "router",
        {
          stateDir: path.join(args.stateDir, "haproxy"),
          proxyPort: args.ports.proxy,
          adminPort: args.ports.admin,
          servers: { blue: args.ports.blue, green: args.ports.green },
          live,
          haproxy: args.haproxy ?? "haproxy",
        },
        { parent, dependsOn: [gate] },
      );
      return {
        url: router.url,
        trafficSwitch: router.socketPath.apply((socketPath) => ({ kind: "local" as const, socketPath })),
      };
    },
  };
}
