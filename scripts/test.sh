#!/usr/bin/env bash
# `npm test`: set up everything the tests need, type-check, check the layer rules, then run every test once.
# Test results also land in .tmp/test-results.json, from which .ci/run prints its closing line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p .tmp
npx tsc -p tsconfig.json --noEmit
# The layer rules of src/ (.dependency-cruiser.cjs): imports point only downward, no cycles.
npx depcruise src --config .dependency-cruiser.cjs --output-type err
exec npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/test-results.json "$@"
