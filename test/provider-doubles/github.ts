/**
 * GitHub as the provider double emulates it: environments, their secrets and variables by
 * composite ids (as the upstream provider writes them), rulesets and branch protections by numeric
 * and node ids, users and teams that resolve to stable numeric ids.
 */
import * as crypto from "node:crypto";
import { stableHex, stableNumber, str, type DoubleContext, type PackageBehaviour } from "./behaviour";
import { reveal, type WireMap } from "./wire";

const T = {
  environment: "github:index/repositoryEnvironment:RepositoryEnvironment",
  deploymentPolicy: "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
  variable: "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
  secret: "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
  ruleset: "github:index/repositoryRuleset:RepositoryRuleset",
  branchProtection: "github:index/branchProtection:BranchProtection",
} as const;

const randomNumber = () => 100_000_000 + crypto.randomInt(900_000_000);

export const github: PackageBehaviour = {
  // The properties that name the object in GitHub's API path: a change is a different object.
  replaceOnChanges: {
    [T.environment]: ["repository", "environment"],
    [T.deploymentPolicy]: ["repository", "environment"],
    [T.variable]: ["repository", "environment", "variableName"],
    [T.secret]: ["repository", "environment", "secretName"],
    [T.ruleset]: ["repository"],
    [T.branchProtection]: ["repositoryId"],
  },

  missingCredentials(ctx: DoubleContext) {
    // Without a token the provider is anonymous: reads may work, every write is refused.
    const token = str(reveal(ctx.config.token ?? null)) || ctx.env.GITHUB_TOKEN;
    return token ? undefined : "401 Requires authentication []: the GitHub provider has no token (set GITHUB_TOKEN or github:token)";
  },

  newId(type, i) {
    switch (type) {
      case T.environment:
        return `${str(i.repository)}:${str(i.environment)}`;
      case T.secret:
        return `${str(i.repository)}:${str(i.environment)}:${str(i.secretName)}`;
      case T.variable:
        return `${str(i.repository)}:${str(i.environment)}:${str(i.variableName)}`;
      case T.branchProtection:
        return `BPR_kwDO${crypto.randomBytes(9).toString("base64url")}`;
      default:
        return String(randomNumber());
    }
  },

  conflict(type, i, others) {
    const same = (o: { type: string; inputs: WireMap }, keys: string[]) =>
      o.type === type && keys.every((k) => str(o.inputs[k]).toLowerCase() === str(i[k]).toLowerCase());
    if (type === T.ruleset && others.some((o) => same(o, ["repository", "name"]))) {
      return `422 Validation Failed [{Resource:Repository Field:name Code:custom Message:Name must be unique}]`;
    }
    if (type === T.branchProtection && others.some((o) => same(o, ["repositoryId", "pattern"]))) {
      return `Name already protected: ${str(i.pattern)}`;
    }
    return undefined;
  },

  invoke(token, args, ctx): WireMap {
    const owner = str(reveal(ctx.config.owner ?? null)) || ctx.env.GITHUB_OWNER || "";
    switch (token) {
      case "github:index/getUser:getUser": {
        const login = str(args.username);
        const id = stableNumber(`github-user:${login.toLowerCase()}`);
        return { id: String(id), login, username: login, name: login, nodeId: `U_${stableHex(login, 16)}`, email: "", gpgKeyIds: [], sshKeys: [] };
      }
      case "github:index/getTeam:getTeam": {
        const slug = str(args.slug);
        const id = stableNumber(`github-team:${owner.toLowerCase()}/${slug.toLowerCase()}`);
        return { id: String(id), slug, name: slug, nodeId: `T_${stableHex(`${owner}/${slug}`, 16)}`, privacy: "closed", permission: "pull", members: [], repositories: [] };
      }
      default:
        throw new Error(`the GitHub provider double does not emulate ${token}`);
    }
  },
};
