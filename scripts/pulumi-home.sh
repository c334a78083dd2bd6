# Sourced (with $repo set) by scripts/engine.sh and scripts/install-plugins.sh: where the engine of
# this checkout keeps its plugins. One place, so the plugins install-plugins.sh installs (on a CI
# runner, before `npm run deploy`) are the ones the engine started by engine.sh looks for.
export PULUMI_HOME="${PULUMI_HOME:-$repo/.pulumi/home}"
mkdir -p "$PULUMI_HOME"
