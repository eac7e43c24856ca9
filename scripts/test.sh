#!/usr/bin/env bash
# Installs what is missing, builds with AddressSanitizer + UBSan, and runs the whole test
# suite (unit tests, vectors, fuzz-corpus replays, integration tests against the real broker).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh
build=${LWM2M_TEST_BUILD_DIR:-build-test}

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DLWM2M_SANITIZE=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
# Unit-level tests run in parallel; integration tests each start brokers of their own.
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
