#!/usr/bin/env bash
# Provides the Pulumi engine for this project, then runs the given command with it first on PATH.
#
#   scripts/engine.sh <command...>   ensure deps + engine, export the project's Pulumi settings, exec command
#   scripts/engine.sh                ensure only
#
# Why: npm carries no Pulumi engine (the `pulumi` npm package downloads one at run time, which
# fails without internet). We use a compatible `pulumi` already on PATH, else build the CLI and a
# Node.js language host from Go modules, pinned to the @pulumi/pulumi version in package-lock.json,
# into a per-user cache shared by every clone on the machine (CI's included).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { printf '[flightdeck] %s\n' "$*" >&2; }
die() { printf '[flightdeck] error: %s\n' "$*" >&2; exit 1; }

ensure_node_modules() {
  local stamp="$repo/node_modules/.flightdeck-lock"
  if [[ -f "$stamp" ]] && cmp -s "$repo/package-lock.json" "$stamp"; then return 0; fi
  command -v npm >/dev/null || die "npm is not on PATH: install Node.js 20.19+ (Debian: apt-get install nodejs npm)"
  # npm 11 refuses `npm ci` on this lock (it wants platform-only optional packages of rollup that it
  # never records); `npm install --no-save` installs exactly the locked versions and leaves the lock alone.
  say "installing npm dependencies (locked versions)…"
  (cd "$repo" && npm install --no-save --no-audit --no-fund --loglevel=error >&2) || die "npm install failed (is the npm registry reachable?)"
  cp "$repo/package-lock.json" "$stamp"
}

sdk_version() {
  node -e "const l=require('$repo/package-lock.json');const p=l.packages['node_modules/@pulumi/pulumi'];if(!p)process.exit(1);console.log(p.version)" \
    || die "package-lock.json has no @pulumi/pulumi entry"
}

# A pulumi on PATH is used when its major.minor is at least the SDK's (the Automation API and the
# SDK's protocol need an engine at least as new as the SDK).
compatible_pulumi_on_path() {
  local want="$1" have
  command -v pulumi >/dev/null || return 1
  have="$(pulumi version 2>/dev/null | sed 's/^v//')" || return 1
  node -e "const [a,b]=process.argv.slice(1).map(v=>v.split('.').map(Number));process.exit(a[0]===b[0]&&(a[1]>b[1]||(a[1]===b[1]&&a[2]>=b[2]))?0:1)" "$have" "$want"
}

build_engine() {
  local version="$1" dir="$2"
  command -v go >/dev/null || die "the Pulumi engine is not on PATH and Go is not installed to build it.
  Either install Go 1.25.11 or newer (https://go.dev/dl) and re-run,
  or, on a machine with internet, install Pulumi v$version: curl -fsSL https://get.pulumi.com | sh -s -- --version $version"
  local src="$dir/src" bin="$dir/bin.partial"
  rm -rf "$src" "$bin"; mkdir -p "$src/language-host" "$bin"
  export GOFLAGS="-mod=mod -buildvcs=false" GONOSUMDB="github.com/pulumi" GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
  say "building the Pulumi engine v$version from Go modules into $dir (once per machine; takes several minutes)"
  # A throwaway wrapper module: `go install module@version` refuses modules with replace directives.
  cat >"$src/go.mod" <<MOD
module flightdeck.local/pulumi-engine

go 1.25

require (
	github.com/pulumi/pulumi/pkg/v3 v$version
	github.com/pulumi/pulumi/sdk/v3 v$version
)
MOD
  cat >"$src/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
  cp "$repo/tools/language-host/main.go" "$src/language-host/main.go"
  say "  [1/4] resolving modules (pkg/v3 and sdk/v3 at v$version)…"
  (cd "$src" && go mod download -x github.com/pulumi/pulumi/pkg/v3 2>/dev/null >/dev/null) || true
  local pkgmod; pkgmod="$(cd "$src" && go list -m -f '{{.GoMod}}' github.com/pulumi/pulumi/pkg/v3)" \
    || die "could not download github.com/pulumi/pulumi/pkg/v3@v$version: is the Go module proxy reachable? (go env GOPROXY = $(go env GOPROXY))"
  # Copy pkg's non-local replace lines (local ones point inside pulumi's own repository).
  grep -E '^replace .* => [^./]' "$pkgmod" >>"$src/go.mod" || true
  (cd "$src" && go mod tidy >&2) || die "go mod tidy failed for the engine wrapper module"
  local got_pkg got_sdk
  got_pkg="$(cd "$src" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)"
  got_sdk="$(cd "$src" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3)"
  [[ "$got_pkg" == "v$version" && "$got_sdk" == "v$version" ]] \
    || die "pkg/v3 resolved to $got_pkg and sdk/v3 to $got_sdk; both must be v$version"
  local ldflags="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version"
  say "  [2/4] compiling the pulumi CLI (the longest step, about 6 minutes on 2 cores)…"
  # go build is silent until it ends: say every 30 s that it is still working.
  ( started=$SECONDS; while sleep 30; do say "        still compiling ($(( SECONDS - started )) s)…"; done ) &
  local heartbeat=$!
  if ! (cd "$src" && go build -ldflags "$ldflags" -o "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2); then
    kill "$heartbeat" 2>/dev/null
    die "building the pulumi CLI failed (see the Go errors above)"
  fi
  kill "$heartbeat" 2>/dev/null; wait "$heartbeat" 2>/dev/null || true
  say "  [3/4] compiling the Node.js language host…"
  build_language_host "$version" "$src" "$bin"
  say "  [4/4] installing the dynamic-provider launcher…"
  local sdkdir; sdkdir="$(cd "$src" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
  install -m 0755 "$sdkdir/nodejs/dist/pulumi-resource-pulumi-nodejs" "$bin/pulumi-resource-pulumi-nodejs"
  "$bin/pulumi" version >/dev/null || die "the freshly built pulumi does not run"
  rm -rf "$dir/bin"; mv "$bin" "$dir/bin"
  say "engine ready: $("$dir/bin/pulumi" version)"
}

host_source_sum() { sha256sum "$repo/tools/language-host/main.go" | cut -d' ' -f1; }

# The language host is this repository's own code: rebuilt (seconds) whenever its source changes.
build_language_host() {
  local version="$1" src="$2" bin="$3"
  export GOFLAGS="-mod=mod -buildvcs=false" GONOSUMDB="github.com/pulumi" GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
  mkdir -p "$src/language-host"
  cp "$repo/tools/language-host/main.go" "$src/language-host/main.go"
  (cd "$src" && go build -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
      -o "$bin/pulumi-language-nodejs" ./language-host >&2) \
    || die "building the Node.js language host failed (see the Go errors above)"
  host_source_sum >"$bin/.language-host.sha256"
}

ensure_engine() {
  local version; version="$(sdk_version)"
  local cache="${FLIGHTDECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flightdeck}"
  local dir="$cache/pulumi-v$version"
  if [[ -x "$dir/bin/pulumi" && -x "$dir/bin/pulumi-language-nodejs" ]]; then
    if [[ "$(cat "$dir/bin/.language-host.sha256" 2>/dev/null)" != "$(host_source_sum)" ]]; then
      exec 9>"$dir/.lock"; flock 9
      say "rebuilding the Node.js language host (its source changed)…"
      build_language_host "$version" "$dir/src" "$dir/bin"
      flock -u 9
    fi
    ENGINE_BIN="$dir/bin"; ENGINE_VERSION="$version"; return 0
  fi
  if compatible_pulumi_on_path "$version" && command -v pulumi-language-nodejs >/dev/null; then
    ENGINE_BIN="$(dirname "$(command -v pulumi)")"; return 0
  fi
  mkdir -p "$dir"
  # One build at a time per machine: a second clone waits for the first to finish.
  exec 9>"$dir/.lock"
  flock 9
  if [[ ! -x "$dir/bin/pulumi" ]]; then build_engine "$version" "$dir"; fi
  flock -u 9
  ENGINE_BIN="$dir/bin"; ENGINE_VERSION="$version"
}

# Installs a Debian package as root when it is missing, or stops with what to install.
#   apt_install <package> <what it is for> <how to install it elsewhere>
apt_install() {
  local pkg="$1" why="$2" elsewhere="$3"
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    say "installing $pkg ($why) from Debian's packages…"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg") >&2 \
      || die "apt-get install $pkg failed; $elsewhere and re-run"
  else
    die "$pkg is not installed: $why. $elsewhere and re-run"
  fi
}

# The local platform's router is HAProxy from Debian's packages.
ensure_haproxy() {
  command -v haproxy >/dev/null || [[ -x /usr/sbin/haproxy ]] && return 0
  apt_install haproxy "the local stack's router" "Install HAProxy 2.x (Debian/Ubuntu: sudo apt-get install haproxy; macOS: brew install haproxy)"
}

# The shared-backend tests run Pulumi's Postgres backend against a real PostgreSQL from Debian's
# packages (stable and signed, the way HAProxy arrives too); only the test command needs it.
ensure_postgres() {
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && return 0
  apt_install postgresql "the shared-backend tests' database" "Install the PostgreSQL 13+ server binaries (Debian/Ubuntu: sudo apt-get install postgresql)"
}

ensure_node_modules
ensure_engine
ensure_haproxy
if [[ "${1:-}" == "vitest" ]]; then ensure_postgres; fi

export PATH="$ENGINE_BIN:$PATH:/usr/sbin"
# The engine this script built is the SDK's version: the driver need not ask it (`pulumi version`,
# 0.3 s per command). Unset for a pulumi found on PATH, whose version the driver asks as before.
if [[ -n "${ENGINE_VERSION:-}" ]]; then
  export FLIGHTDECK_ENGINE="$ENGINE_BIN/pulumi@$ENGINE_VERSION"
else
  unset FLIGHTDECK_ENGINE
fi
export PULUMI_SKIP_UPDATE_CHECK=true
# The engine's Go runtime (and the Go language host's) collects garbage less often: these processes
# live seconds, and at the default (100) about a quarter of a short run's CPU went to the collector
# (measured here: `pulumi refresh` of the local stack 0.36 against 0.27 user-s, `stack output` about
# 0.2 against 0.15). The heap may grow to 5 times what is live: tens of MB for these stacks. A GOGC
# already set wins.
export GOGC="${GOGC:-400}"
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# The program is type-checked by `npm run typecheck` (part of `npm test`); the engine only transpiles.
export PULUMI_NODEJS_TRANSPILE_ONLY="${PULUMI_NODEJS_TRANSPILE_ONLY:-true}"
# shellcheck source=scripts/pulumi-home.sh
source "$repo/scripts/pulumi-home.sh"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$repo/.pulumi/state}"
# Every node process started from here (the driver, tests, and the engine's program, policy pack and
# provider plugin) loads two of the SDK's modules only when used (about 0.6 s less per process), and
# the policy-pack runner loads no TypeScript for the pack the driver compiled (about 0.5 s less).
# (Quoted: NODE_OPTIONS splits on spaces, and a clone's path may have some.)
export NODE_OPTIONS="--require \"$repo/scripts/lazy-sdk-modules.cjs\" --require \"$repo/scripts/precompiled-pack.cjs\"${NODE_OPTIONS:+ $NODE_OPTIONS}"
mkdir -p "$repo/.pulumi/state"

if [[ $# -gt 0 ]]; then exec "$@"; fi
