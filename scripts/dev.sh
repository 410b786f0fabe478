#!/usr/bin/env bash
# One entry point that sets up a fresh machine, then runs a root script:
#   bash scripts/dev.sh demo [args]   bash scripts/dev.sh test [args]
# Set-up: a redis-server binary (the tests and the demo start their own), Chromium for the
# dashboard's tests, the pinned pnpm (run through npx: corepack and pnpm's packageManager switch
# refuse unsigned registries), the locked dependencies, and a build of the packages.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
pnpm() { npx -y "pnpm@${PNPM_VERSION}" "$@"; }

if ! command -v redis-server >/dev/null 2>&1 && [ -z "${REDIS_URL:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "› installing redis-server (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "redis-server is not on PATH: install it (apt-get install -y redis-server, brew install redis)," >&2
    echo "start Docker, or set REDIS_URL to a Redis you may write to." >&2
    exit 1
  fi
fi

# The dashboard's tests drive Debian's Chromium through playwright-core (CHROMIUM overrides the path).
if [ "${1:-test}" = test ] && [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "› installing chromium (apt-get), for the dashboard's browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is not on PATH: install it (apt-get install -y chromium) or set CHROMIUM to a" >&2
    echo "Chromium binary; the dashboard's tests drive it." >&2
    exit 1
  fi
fi

if [ "${CI:-}" = true ] || [ ! -d node_modules/.pnpm ]; then
  echo "› installing dependencies (pnpm ${PNPM_VERSION}, frozen lockfile)"
  pnpm install --frozen-lockfile --reporter=silent
fi
echo "› building packages"
pnpm run --silent build >/dev/null

script="${1:-test}"
shift || true
exec npx -y "pnpm@${PNPM_VERSION}" run --silent "$script" "$@"
