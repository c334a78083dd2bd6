/** Feature flags reach the app as FLAG_<NAME>=true|false. */
export function featureEnv(features: Record<string, boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(features).map(([k, v]) => [`FLAG_${k.toUpperCase()}`, String(v)]));
}
