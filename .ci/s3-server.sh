#!/usr/bin/env bash
# Which S3-compatible server the s3 tests start: prints exactly one line on stdout,
#   EVENTLAKE_TEST_S3_SERVER=minio   or   EVENTLAKE_TEST_S3_SERVER=moto
# so `.ci/run` can `export "$(.ci/s3-server.sh)"`. Diagnostics go to stderr.
#
# - A MinIO binary cached in ~/.cache/eventlake/bin (or on PATH) is used when present.
# - With --build-minio (or EVENTLAKE_BUILD_MINIO=1) and a Go toolchain, MinIO is built with
#   `go install` into that cache, within EVENTLAKE_MINIO_BUILD_SECONDS (default 480). A
#   fresh 2-core machine needs longer than that (docs/s3.md), so CI does not ask by default.
# - Otherwise moto's standalone server from the project's venv.
set -euo pipefail

MINIO_MODULE="github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/eventlake/bin"
build_seconds="${EVENTLAKE_MINIO_BUILD_SECONDS:-480}"
build="${EVENTLAKE_BUILD_MINIO:-0}"
[[ "${1:-}" == "--build-minio" ]] && build=1

say() { echo "s3-server: $*" >&2; }

minio_works() { "$1" --version >/dev/null 2>&1; }

if [[ -x "$cache/minio" ]] && minio_works "$cache/minio"; then
  say "using cached MinIO $cache/minio ($("$cache/minio" --version 2>/dev/null | head -1))"
  echo "EVENTLAKE_TEST_S3_SERVER=minio"
  exit 0
fi
if command -v minio >/dev/null 2>&1 && minio_works "$(command -v minio)"; then
  say "using MinIO from PATH: $(command -v minio)"
  echo "EVENTLAKE_TEST_S3_SERVER=minio"
  exit 0
fi

if [[ "$build" == "1" ]]; then
  if command -v go >/dev/null 2>&1; then
    mkdir -p "$cache"
    work="$(mktemp -d)"
    say "building $MINIO_MODULE with $(go version) (limit ${build_seconds}s)"
    start=$(date +%s)
    if GOBIN="$work" timeout "$build_seconds" go install "$MINIO_MODULE" >&2 \
        && minio_works "$work/minio"; then
      mv "$work/minio" "$cache/minio"
      rm -rf "$work"
      say "built MinIO in $(( $(date +%s) - start ))s -> $cache/minio"
      echo "EVENTLAKE_TEST_S3_SERVER=minio"
      exit 0
    fi
    rm -rf "$work"
    say "MinIO build failed or exceeded ${build_seconds}s after $(( $(date +%s) - start ))s; falling back to moto"
  else
    say "no Go toolchain; falling back to moto"
  fi
fi

moto="$root/.venv/bin/moto_server"
if [[ -x "$moto" ]] || moto="$(command -v moto_server)"; then
  say "using moto's standalone server: $moto"
  echo "EVENTLAKE_TEST_S3_SERVER=moto"
  exit 0
fi
say "neither MinIO nor moto_server is available: install the dev extra (moto[server])"
exit 1
