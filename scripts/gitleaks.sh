#!/usr/bin/env bash
# Runs gitleaks, the secret scanner of the PR workflow's secret-scan job and of
# test/unit/secret-scan.test.ts, at ONE pinned version (below), built from Go modules.
#
#   scripts/gitleaks.sh <gitleaks args...>   ensure the pinned binary, then exec it with the args
#   scripts/gitleaks.sh --path               ensure it, print its path
#   scripts/gitleaks.sh --built              print its path if it is built already (exit 1 if not); never builds
#
# Why built from Go modules: gitleaks publishes release binaries on GitHub only, which this
# project's machines cannot download; its module is served by the Go module proxy. A cold build
# takes about 45 s (measured: 46 s on 2 cores, downloads included); the binary is cached per user
# and shared by every clone on the machine, like scripts/engine.sh's engine. The module path is
# github.com/zricethezav/gitleaks/v8 (the project's original path, still the one its go.mod names).
set -euo pipefail

version="v8.30.1"
say() { printf '[flightdeck] %s\n' "$*" >&2; }
die() { printf '[flightdeck] error: %s\n' "$*" >&2; exit 1; }

cache="${FLIGHTDECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flightdeck}"
dir="$cache/gitleaks-$version"
bin="$dir/gitleaks"

if [[ "${1:-}" == "--built" ]]; then [[ -x "$bin" ]] && echo "$bin" && exit 0; exit 1; fi

if [[ ! -x "$bin" ]]; then
  command -v go >/dev/null || die "gitleaks $version is not built and Go is not installed to build it (install Go 1.24.11+ and re-run)"
  mkdir -p "$dir"
  # One build at a time per machine: concurrent callers wait for the first one.
  exec 9>"$dir/.lock"
  flock 9
  if [[ ! -x "$bin" ]]; then
    say "building gitleaks $version from Go modules into $dir (once per machine, about a minute)…"
    GOBIN="$dir/bin.partial" GOFLAGS="-buildvcs=false" \
      go install "github.com/zricethezav/gitleaks/v8@$version" >&2 \
      || die "go install github.com/zricethezav/gitleaks/v8@$version failed (is the Go module proxy reachable? go env GOPROXY = $(go env GOPROXY))"
    mv "$dir/bin.partial/gitleaks" "$bin"
    rmdir "$dir/bin.partial"
  fi
  flock -u 9
fi

if [[ "${1:-}" == "--path" ]]; then echo "$bin"; exit 0; fi
exec "$bin" "$@"
