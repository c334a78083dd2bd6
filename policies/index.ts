/**
 * Entry point of the Flightdeck policy pack: the engine starts this file (PulumiPolicy.yaml) and
 * the PolicyPack constructor serves the policies over gRPC. Nothing else may construct it: tests
 * import ./registry and ./rules instead.
 *
 * Enforcement defaults to mandatory; each stack sets levels and settings in
 * policies/config/<stack>.json (see policies/config-file.ts), never by stack name in code.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies, policyPackName } from "./registry";
import { installSecretTracking } from "./secretness";

installSecretTracking();

// PolicyPack reads its version from `${process.cwd()}/package.json`. This repo's language host
// starts packs in their own directory, but a host that starts them in the Pulumi program's
// directory would break that read, so make the pack's own directory current first (a no-op here).
process.chdir(__dirname);

new PolicyPack(policyPackName, { policies, enforcementLevel: "mandatory" });
