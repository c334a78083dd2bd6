import { z } from "zod";
import { DEFAULT_HEALTH_PATH } from "../../components/bluegreen/probe";
import type { FlyConfig } from "../../components/fly/fly-app";
import { deliveryStateSchema, slotName, type SlotName } from "./delivery";

/** Fly region codes are three lowercase letters (ams, iad, lhr, …). */
const flyRegion = z.string().regex(/^[a-z]{3}$/, "a Fly region code such as \"ams\" or \"iad\"");
const dnsName = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "a lowercase DNS name such as \"app.example.com\"");
const appName = z.string().regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, "a Fly app name: lowercase letters, digits and dashes");
const githubLogin = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, "a GitHub user login");
const githubTeam = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*\/[a-z0-9][a-z0-9_-]*$/, "a team as \"org/team-slug\"");

export { slotName, type SlotName };

export const healthGateSchema = z
  .object({
    path: z.string().startsWith("/").default(DEFAULT_HEALTH_PATH).describe("Path the gate probes on the idle slot."),
    expectedStatus: z.number().int().min(100).max(599).default(200).describe("HTTP status a healthy probe returns."),
    intervalMs: z.number().int().min(50).default(500).describe("Time between probes."),
    timeoutMs: z.number().int().min(50).default(2000).describe("Timeout of one probe."),
    healthyThreshold: z.number().int().min(1).default(3).describe("Consecutive passes that open the gate (one in a driver's restore: revert, rollback, recovery)."),
    unhealthyThreshold: z.number().int().min(1).default(2).describe("Consecutive failures that fail the gate."),
    deadlineMs: z.number().int().min(1000).default(60_000).describe("Overall time the gate may take."),
  })
  .strict()
  .superRefine((g, ctx) => {
    if (g.timeoutMs > g.deadlineMs) {
      ctx.addIssue({ code: "custom", path: ["timeoutMs"], message: `a timeout no longer than deadlineMs (${g.deadlineMs})` });
    }
  })
  .describe("The health gate between a release reaching the idle slot and taking live traffic.");
export type HealthGateConfig = z.infer<typeof healthGateSchema>;

export const canarySchema = z
  .object({
    steps: z
      .array(z.number().int().min(1).max(99))
      .min(1)
      .default([5, 25])
      .describe("The new release's share of live traffic at each step, in percent, rising; the switch to 100% follows the last. On Fly, the closest share of machines in rotation the slot size allows (2 per slot: 33%, 50%, 67%)."),
    pauseSeconds: z.number().min(1).max(3600).default(10).describe("How long each step lasts before it is judged. On Fly, 30 or more: its metrics lag the proxy by a scrape."),
    maxErrorRate: z.number().min(0).max(1).default(0.01).describe("The highest error rate (5xx and failed connections, 0–1) the new release may show at a step."),
    maxP99Ratio: z.number().min(1).default(2).describe("The new release's p99 may be at most this many times the stable release's at the same step (plus p99SlackMs)."),
    p99SlackMs: z.number().int().min(0).default(20).describe("Milliseconds added to the allowed p99, so that noise on fast answers never aborts."),
    minRequests: z.number().int().min(0).default(0).describe("Requests the new release must answer at each step to pass it; 0 passes a step without traffic."),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.steps.some((w, i) => i > 0 && w <= c.steps[i - 1]!)) {
      ctx.addIssue({ code: "custom", path: ["steps"], message: "rising percentages" });
    }
  })
  .describe("The canary's steps and what aborts it (with strategy: canary).");
export type CanaryConfig = z.infer<typeof canarySchema>;

const featuresSchema = z
  .record(z.string().regex(/^[a-z][a-z0-9_]*$/, "a flag name in snake_case"), z.boolean())
  .default({})
  .describe("Feature flags, passed to the app as FLAG_<NAME>=true|false.");

const commonShape = {
  release: z
    .string()
    .min(1)
    .optional()
    .describe("The release a stack's first deploy runs when none is given (image digest on fly, version label on local). Afterwards the stack's own state says what runs."),
  delivery: deliveryStateSchema
    .optional()
    .describe("Set by the deploy driver in its own config file for one update: what each slot runs and which is live. Never in a committed stack file."),
  healthGate: healthGateSchema.default({}),
  bakeSeconds: z.number().min(0).max(3600).default(5).describe("How long deploy verifies the live endpoint after the switch."),
  bakeProbeIntervalMs: z.number().int().min(100).default(1000).describe("Time between probes of the live endpoint while baking."),
  bakeUnhealthyThreshold: z.number().int().min(1).default(2).describe("Consecutive failed bake probes that revert the deploy."),
  features: featuresSchema,
  strategy: z
    .enum(["bluegreen", "canary"])
    .default("bluegreen")
    .describe("How a deploy moves live traffic to the new release once its gate passes: at once (bluegreen), or in weighted steps, each judged on the router's own counters against the stable release (canary: router weights on the local platform, a share of machines in rotation on Fly)."),
  canary: canarySchema.default({}),
  switchAtOnce: z
    .boolean()
    .optional()
    .describe("Set by the deploy driver for one update that restores (revert, rollback, recovery): traffic goes back at once, never in canary steps. Never in a committed stack file."),
};

/** Canary steps are shares of one app's machines in rotation: two-app mode (the Cloudflare record) cannot run them. */
function noCanaryOnTwoApps(s: { strategy: string; fly: { router: string } }, ctx: z.RefinementCtx): void {
  if (s.strategy === "canary" && s.fly.router === "cloudflare") {
    ctx.addIssue({
      code: "custom",
      path: ["strategy"],
      message: "bluegreen with fly.router: cloudflare (a canary on Fly is a share of one app's machines in rotation: fly.router: cordon; see docs/fly.md)",
    });
  }
}

export const localSchema = z
  .object({
    environment: z.literal("local").describe("Which environment this stack is: chooses the schema and the platform."),
    ...commonShape,
    release: commonShape.release.default("v1"),
    local: z
      .object({
        proxyPort: z.number().int().min(1024).max(65535).default(18000).describe("Port of the local router (HAProxy)."),
        bluePort: z.number().int().min(1024).max(65535).default(18001).describe("Port of the blue slot's process."),
        greenPort: z.number().int().min(1024).max(65535).default(18002).describe("Port of the green slot's process."),
        adminPort: z.number().int().min(1024).max(65535).default(18003).describe("Port of HAProxy's stats page."),
        appDir: z.string().default("examples/app").describe("Directory of the app to run, relative to the project."),
        command: z.array(z.string()).min(1).default(["node", "server.js"]).describe("Command that starts the app."),
      })
      .strict()
      .default({})
      .superRefine((l, ctx) => {
        const ports = [l.proxyPort, l.bluePort, l.greenPort, l.adminPort];
        if (new Set(ports).size !== ports.length) {
          ctx.addIssue({ code: "custom", message: `four different ports, found ${ports.join(", ")}` });
        }
      })
      .describe("The local platform: the router's and both slots' ports (four different ones), and the app it runs."),
  })
  .strict();

const machineSize = z
  .object({
    cpuKind: z.enum(["shared", "performance"]).default("shared").describe("Fly CPU kind of each machine."),
    cpus: z.number().int().refine((n) => [1, 2, 4, 8, 16].includes(n), "1, 2, 4, 8 or 16 CPUs").describe("CPUs per machine: 1, 2, 4, 8 or 16."),
    memoryMb: z.number().int().min(256).refine((n) => n % 256 === 0, "a multiple of 256 MB").describe("Memory per machine in MB, a multiple of 256."),
  })
  .strict()
  .describe("Size of each machine.");

export const flySchema = z
  .object({
    org: z.string().min(1).describe("Fly organization slug."),
    app: appName.describe("Fly app name."),
    regions: z.array(flyRegion).min(1).describe("Regions machines are spread over, in order of preference."),
    machinesPerSlot: z.number().int().min(1).max(20).describe("Machines in each blue/green slot."),
    size: machineSize,
    internalPort: z.number().int().min(1).max(65535).default(8080).describe("Port the app listens on inside each machine."),
    router: z.enum(["cordon", "cloudflare"]).default("cordon").describe("How traffic switches: Fly cordoning, or the Cloudflare record (two apps)."),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (new Set(f.regions).size !== f.regions.length) {
      ctx.addIssue({ code: "custom", path: ["regions"], message: `each region once, found ${f.regions.join(", ")}` });
    }
    // Two-app mode runs `<app>-blue` and `<app>-green`: both must still be valid Fly app names.
    if (f.router === "cloudflare" && f.app.length + "-green".length > 63) {
      ctx.addIssue({ code: "custom", path: ["app"], message: `at most 57 characters with fly.router: cloudflare (the apps are ${f.app}-blue and ${f.app}-green)` });
    }
  });


// The components take the parsed section as their own FlyConfig: a schema change that breaks it fails to compile here.
const flySectionFitsComponents: z.infer<typeof flySchema> extends FlyConfig ? true : never = true;
void flySectionFitsComponents;
export const githubSchema = z
  .object({
    owner: z.string().min(1).describe("GitHub user or organization that owns the repository."),
    repository: z.string().regex(/^[A-Za-z0-9_.-]+$/, "a repository name without the owner").describe("The repository whose environments and default branch this stack manages."),
    defaultBranch: z.string().min(1).default("main").describe("The branch that deploys: the only one production's environment accepts."),
    reviewers: z
      .object({
        users: z.array(githubLogin).default([]).describe("User logins who may approve a production deploy."),
        teams: z.array(githubTeam).default([]).describe("Teams (\"org/team-slug\") who may approve a production deploy."),
      })
      .strict()
      .default({})
      .describe("Required reviewers of the production environment."),
    mergeIsRelease: z.boolean().default(false).describe("Production needs no reviewer: merging is the release decision."),
    waitTimerMinutes: z.number().int().min(0).max(43200).default(0).describe("Minutes the environment waits before a deploy job starts."),
    requiredChecks: z.array(z.string().min(1)).default([]).describe("Status checks the default branch requires."),
    requiredApprovals: z.number().int().min(0).max(6).default(1).describe("Approving reviews a pull request to the default branch needs."),
    protection: z.enum(["ruleset", "branch-protection"]).default("ruleset").describe("How the default branch is protected: a repository ruleset, or a classic branch protection rule."),
    enforceAdmins: z.boolean().default(true).describe("Admins are held to reviewers and branch protection too; false lets them bypass."),
    mergeMethod: z
      .enum(["squash", "rebase"])
      .optional()
      .describe(
        "The repository's only merge method (never merge commits: the default branch stays linear); auto-merge on, head branches deleted on merge. Set by the production stack, which owns the repository's settings; squash when unset.",
      ),
  })
  .strict()
  .describe("The GitHub repository: deploy environments and default-branch protection.");

export const cloudflareSchema = z
  .object({
    zone: dnsName.describe("The Cloudflare zone (domain) that holds the hostname."),
    hostname: dnsName.describe("The public hostname of this environment."),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.hostname !== c.zone && !c.hostname.endsWith(`.${c.zone}`)) {
      ctx.addIssue({ code: "custom", path: ["hostname"], message: `a hostname inside the zone ${c.zone}, found ${c.hostname}` });
    }
  })
  .describe("Cloudflare DNS: the public hostname of this environment.");

const cloudShape = {
  ...commonShape,
  fly: flySchema.describe("The Fly app that runs this environment's blue/green slots."),
  github: githubSchema,
  cloudflare: cloudflareSchema,
};

export const stagingSchema = z
  .object({ environment: z.literal("staging").describe("Which environment this stack is: chooses the schema and the platform."), ...cloudShape })
  .strict()
  .superRefine((s, ctx) => {
    noCanaryOnTwoApps(s, ctx);
    // Merge settings are the repository's, not an environment's: one stack owns them (infra/delivery.ts).
    if (s.github.mergeMethod !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["github", "mergeMethod"],
        message: "no github.mergeMethod on staging: the repository's merge settings are declared by the production stack (set it in Pulumi.production.yaml)",
      });
    }
  });
export const productionSchema = z
  .object({
    environment: z.literal("production").describe("Which environment this stack is: chooses the schema and the platform."),
    ...cloudShape,
    promotion: z
      .object({
        from: z.literal("staging").describe("The stack whose succeeded deploys production may run (compared by image digest)."),
      })
      .strict()
      .optional()
      .describe("Promotion, not rebuild: deploy refuses a release this stack has not recorded as a succeeded deploy (the release-promoted policy too)."),
  })
  .strict()
  .superRefine((p, ctx) => {
    noCanaryOnTwoApps(p, ctx);
    if (p.github.requiredChecks.length === 0) {
      ctx.addIssue({ code: "custom", path: ["github", "requiredChecks"], message: "at least one required status check on production" });
    }
    const reviewers = p.github.reviewers.users.length + p.github.reviewers.teams.length;
    if (reviewers === 0 && !p.github.mergeIsRelease) {
      ctx.addIssue({
        code: "custom",
        path: ["github", "reviewers"],
        message: "at least one reviewer on production, or github.mergeIsRelease: true to release on merge",
      });
    }
  });

export const environmentSchema = z.enum(["local", "staging", "production"]).describe("Which environment this stack is.");
export type Environment = z.infer<typeof environmentSchema>;

/** The schema for each environment: chosen by `environment` before the rest is parsed. */
export const schemaFor = { local: localSchema, staging: stagingSchema, production: productionSchema } as const;

export type LocalConfig = z.infer<typeof localSchema>;
export type CloudConfig = z.infer<typeof stagingSchema> | z.infer<typeof productionSchema>;
export type StackConfig = LocalConfig | CloudConfig;
