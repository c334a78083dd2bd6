import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { PublicHostname } from "../../../components/cloudflare/public-hostname";
import { DeliveryEnvironments } from "../../../components/github/delivery-environments";
import { TrunkProtection } from "../../../components/github/trunk-protection";

// Flightdeck's GitHub and Cloudflare components as infra/delivery.ts composes them, from stack
// config, plus one ruleset whose rules are stack config. The integration suite installs the
// provider doubles into the engine's PULUMI_HOME and reads what they hold.
const config = new pulumi.Config();
const owner = config.require("owner");
const repository = config.require("repository");

const gh = new github.Provider("gh", { owner });
const opts = { providers: [gh] };

const environments = new DeliveryEnvironments(
  "delivery",
  {
    owner,
    repository,
    staging: { secrets: config.requireSecretObject<Record<string, string>>("stagingSecrets"), variables: { REGION: "ams" } },
    production: { reviewers: { users: ["alice-ops"], teams: [`${owner}/release-managers`] } },
  },
  opts,
);

const trunk = new TrunkProtection(
  "trunk",
  { repository, requiredChecks: ["tests", "preview"], requiredApprovals: config.getNumber("requiredApprovals") ?? 1 },
  opts,
);

// Stack config is untyped JSON: the route by which a misspelt property reaches a provider that
// the compiler never saw. The cast states the assumption the provider's Check then verifies.
const tagRules = config.getObject<Record<string, unknown>>("tagRules") ?? { deletion: true, nonFastForward: true };
const tags = new github.RepositoryRuleset(
  "tags",
  {
    repository,
    name: "tags: protected",
    target: "tag",
    enforcement: "active",
    conditions: { refName: { includes: ["~ALL"], excludes: [] } },
    rules: tagRules as unknown as github.types.input.RepositoryRulesetRules,
  },
  { provider: gh },
);

const web = new PublicHostname("web", {
  zone: config.require("zone"),
  hostname: config.require("hostname"),
  flyApp: config.require("flyApp"),
});

export const environmentIds = environments.environmentIds;
export const secretNames = environments.secretNames;
export const productionReviewers = environments.productionReviewers;
export const trunkRulesetId = trunk.protectionId;
export const tagRulesetId = tags.id;
export const zoneId = web.zoneId;
export const recordId = web.recordId;
export const recordContent = web.content;
