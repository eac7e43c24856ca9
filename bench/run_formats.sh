#!/bin/sh
# Data-format benchmark: runs bench_formats from a build directory (builds nothing). It
# prints decode and encode throughput of SenML CBOR, LwM2M CBOR, TLV and SenML JSON on
# ~1 KB and ~64 KB payloads, and the CBOR-based decoders against libcbor's raw stream
# decode of the same bytes. Numbers only: nothing passes or fails on timings.
#
# usage: bench/run_formats.sh [BUILD_DIR] [-- BENCH_ARGS...]
#   BUILD_DIR   a build of this project with the target bench_formats (default
#               /work/main/build). A Release build gives the meaningful numbers:
#                 cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLWM2M_BUILD_TESTS=OFF
#                 cmake --build build --target bench_formats
#   BENCH_ARGS  passed to bench_formats: -s sizes (1024,65536), -x mixes
#               (numeric,string,mixed), -t seconds per measurement (0.3), -M wall clock
#               instead of process CPU time; see bench/README.md
# environment:
#   BENCH_CPU   pin the benchmark to this CPU (taskset), e.g. 1; default: not pinned
set -eu

# shellcheck source=bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_args "$@"
shift "$bench_skip"

bench=$build/bench/bench_formats
if [ ! -x "$bench" ]; then
	echo "run_formats: $bench not found (build the target bench_formats)" >&2
	exit 2
fi

echo "# bench_formats $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${BENCH_CPU:-}" ]; then
	exec taskset -c "$BENCH_CPU" "$bench" "$@"
fi
exec "$bench" "$@"
