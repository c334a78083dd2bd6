#!/usr/bin/env bash
# Installs the Pulumi resource plugins of the provider packages package.json depends on
# (@pulumi/github, @pulumi/cloudflare, …), at the versions package-lock.json pins.
#
# Why: the engine runs with PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true (scripts/engine.sh), so
# nothing downloads a plugin on first use; a runner that previews or deploys staging or production
# must have them before it starts. Needs `pulumi` on PATH and the plugins' registry reachable
# (GitHub releases / get.pulumi.com): true on GitHub's runners, not on the development machines.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Into the plugin directory the project's engine reads (not ~/.pulumi, where a bare `pulumi plugin
# install` would put them and `npm run deploy` would never look).
# shellcheck source=scripts/pulumi-home.sh
source "$repo/scripts/pulumi-home.sh"
command -v pulumi >/dev/null || { echo "install-plugins: pulumi is not on PATH" >&2; exit 1; }
plugins="$(node -e '
  const lock = require(process.argv[1] + "/package-lock.json");
  const pkg = require(process.argv[1] + "/package.json");
  // Provider packages: @pulumi/<name> dependencies that ship a resource plugin (not the SDK or policy).
  const sdk = new Set(["pulumi", "policy"]);
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    const m = /^@pulumi\/(.+)$/.exec(dep);
    if (!m || sdk.has(m[1])) continue;
    const locked = lock.packages["node_modules/" + dep];
    if (!locked) { console.error("install-plugins: " + dep + " is not in package-lock.json"); process.exit(1); }
    console.log(m[1] + " " + locked.version);
  }
' "$repo")"
while read -r name version; do
  [[ -n "$name" ]] || continue
  echo "installing resource plugin $name v$version" >&2
  pulumi plugin install resource "$name" "$version"
done <<<"$plugins"
