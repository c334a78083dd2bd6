import * as pulumi from "@pulumi/pulumi";
import { HealthGate, type HealthGateInputs } from "./health-gate";
import type { BlueGreenPlatform, SlotDeployment, TrafficSwitchSpec } from "./platform";
import { otherSlot, type SlotName } from "./slots";

/** The gate's rules (config `healthGate`): its inputs but for what the component fills in. */
export type HealthGateSettings = Pick<
  HealthGateInputs,
  "path" | "expectedStatus" | "intervalMs" | "timeoutMs" | "healthyThreshold" | "unhealthyThreshold" | "deadlineMs"
>;

export interface BlueGreenArgs {
  /** The release that takes live traffic (image digest on fly, version label on local). */
  readonly release: string;
  /** The slot that runs `release` and takes live traffic. */
  readonly liveSlot: SlotName;
  /** The release the other slot keeps warm; no other slot when absent (first deploy). */
  readonly previousRelease?: string;
  readonly healthGate: HealthGateSettings;
  readonly platform: BlueGreenPlatform;
  /** This update is a driver's restore: the gate opens on one passing probe (HealthGateInputs.restore). */
  readonly restore?: boolean;
}

/**
 * Two slots and a router. The live slot runs the release; the gate probes it directly; the router
 * depends on the gate, so even a plain `pulumi up` never sends live traffic to a release that
 * failed its gate. The other slot stays warm with the previous release, so reverting is a router
 * switch, not a rebuild.
 */
export class BlueGreen extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly liveSlot: pulumi.Output<SlotName>;
  readonly release: pulumi.Output<string>;
  readonly previousRelease: pulumi.Output<string | undefined>;
  readonly slotUrls: pulumi.Output<Partial<Record<SlotName, string>>>;
  readonly trafficSwitch: pulumi.Output<TrafficSwitchSpec>;
  readonly gateOpenedAt: pulumi.Output<string>;
  /** What the last switch's canary did, a line per step; empty without one. */
  readonly canaryReport: pulumi.Output<string[]>;

  constructor(name: string, args: BlueGreenArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flightdeck:bluegreen:BlueGreen", name, {}, opts);
    const warm = otherSlot(args.liveSlot);
    const slots: Partial<Record<SlotName, SlotDeployment>> = {
      [args.liveSlot]: args.platform.slot(args.liveSlot, args.release, this),
    };
    if (args.previousRelease !== undefined) slots[warm] = args.platform.slot(warm, args.previousRelease, this);
    const live = slots[args.liveSlot]!;

    const gate = new HealthGate(
      `${name}-gate`,
      {
        ...args.healthGate,
        target: live.url,
        release: args.release,
        ...(args.restore ? { restore: true } : {}),
        // Only platforms that need it add probe settings, so other gates' inputs stay as they were.
        ...(live.probe
          ? {
              instances: live.probe.instances,
              ...(live.probe.instanceHeader ? { instanceHeader: live.probe.instanceHeader } : {}),
              ...(live.probe.headers ? { headers: live.probe.headers } : {}),
            }
          : {}),
      },
      { parent: this, dependsOn: live.resources },
    );
    const router = args.platform.router(args.liveSlot, slots, gate, this);

    this.url = router.url;
    this.liveSlot = pulumi.output(args.liveSlot);
    this.release = pulumi.output(args.release);
    this.previousRelease = pulumi.output(args.previousRelease);
    this.slotUrls = pulumi.all(
      Object.fromEntries(Object.entries(slots).map(([slot, d]) => [slot, d!.url])) as Record<string, pulumi.Output<string>>,
    ) as pulumi.Output<Partial<Record<SlotName, string>>>;
    this.trafficSwitch = router.trafficSwitch;
    this.gateOpenedAt = gate.openedAt;
    this.canaryReport = router.canaryReport ?? pulumi.output([]);
    this.registerOutputs({
      url: this.url,
      liveSlot: this.liveSlot,
      release: this.release,
      previousRelease: this.previousRelease,
      slotUrls: this.slotUrls,
      trafficSwitch: this.trafficSwitch,
      canaryReport: this.canaryReport,
    });
  }
}
