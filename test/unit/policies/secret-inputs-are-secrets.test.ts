import { describe, expect, it } from "vitest";
import { checkSecretInputs, secretInputsAreSecrets } from "../../../policies/rules/secret-inputs-are-secrets";
import { types } from "../../../policies/rules/common";
import { findSecretPaths } from "../../../policies/secretness";
import { runResourcePolicy, secret } from "./support";

const flySecrets = (values: unknown) => ({ app: "flightdeck-production", values });
const ghSecret = (plaintextValue: unknown) => ({ repository: "flightdeck-app", environment: "production", secretName: "FLY_API_TOKEN", plaintextValue });
const run = (type: string, props: Record<string, unknown>, config = {}) => runResourcePolicy(secretInputsAreSecrets, type, props, config);

describe("secret-inputs-are-secrets", () => {
  it("passes Fly app secrets whose map is a Pulumi secret", async () => {
    expect(await run(types.flyAppSecrets, flySecrets(secret({ DATABASE_URL: "postgres://x" })))).toEqual([]);
  });
  it("passes Fly app secrets whose every value is a Pulumi secret", async () => {
    expect(await run(types.flyAppSecrets, flySecrets({ A: secret("a"), B: secret("b") }))).toEqual([]);
  });
  it("Fly app secrets values are never plaintext", async () => {
    const out = await run(types.flyAppSecrets, flySecrets({ A: secret("a"), B: "b" }));
    expect(out).toHaveLength(1);
    expect(out[0].message).toMatch(/values\.B is plaintext.*Fix: pass it as a secret/);
  });
  it("GitHub environment secret plaintextValue is a Pulumi secret", async () => {
    expect(await run(types.githubEnvironmentSecret, ghSecret(secret("token")))).toEqual([]);
    const out = await run(types.githubEnvironmentSecret, ghSecret("token"));
    expect(out[0].message).toMatch(/^plaintextValue is plaintext/);
  });
  it("a secret whose value is unknown during preview is still a secret", async () => {
    expect(await run(types.githubEnvironmentSecret, ghSecret(secret("04da6b54-80e4-46f7-96ec-b56ff0331ba9")))).toEqual([]);
  });
  it("extraInputs guards more inputs", async () => {
    const out = await run("custom:index:Thing", { token: "x" }, { extraInputs: { "custom:index:Thing": ["token"] } });
    expect(out).toHaveLength(1);
  });
  it("fails closed when secretness was not recorded", () => {
    const f = checkSecretInputs(types.flyAppSecrets, { values: { A: "a" } }, undefined, {});
    expect(f[0].message).toMatch(/Cannot tell whether values is a Pulumi secret/);
  });
  it("finds secret paths in wire-format properties", () => {
    expect(findSecretPaths({ a: secret("x"), b: { c: secret({ d: 1 }) }, e: [1, secret(2)] })).toEqual(["a", "b.c", "e.1"]);
  });
});
