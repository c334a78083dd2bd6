/**
 * Feature flags across environments. Flags are per-environment booleans in stack config
 * (`features`), passed to the app as FLAG_<NAME>=true|false. Production may only turn on a
 * flag that staging knows: otherwise a flag reaches users without ever running in staging.
 */

export type Features = Record<string, boolean>;

export interface FeatureFlagProblem {
  flag: string;
  message: string;
}

/** Problems with the pair of environments' flags; empty when they are consistent. */
export function checkFeatureFlags(staging: Features, production: Features): FeatureFlagProblem[] {
  const problems: FeatureFlagProblem[] = [];
  for (const [flag, on] of Object.entries(production).sort(([a], [b]) => a.localeCompare(b))) {
    if (on && !(flag in staging)) {
      problems.push({
        flag,
        message: `feature flag "${flag}" is on in production (Pulumi.production.yaml, flightdeck:features.${flag}) but unknown to staging: add it to Pulumi.staging.yaml first`,
      });
    }
  }
  return problems;
}
