#!/usr/bin/env bash
# `npm run bench [-- --size 1G | --sizes 1G,4G] [--runs N] [--dir DIR] [--keep] [--only SCENARIOS]`
# Sets up what the benchmark needs (the same setup as tests and demo, plus GNU time for peak
# RSS), then runs the harness in bench/. Results: bench/results/latest.md and latest.json.
# Docs: docs/BENCHMARKS.md. A missed target is reported, not an error.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! /usr/bin/time -f %M true >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "bench: installing GNU time (peak RSS)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends time >/dev/null
fi
exec npx tsx bench/main.ts "$@"
