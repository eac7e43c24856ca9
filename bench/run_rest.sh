#!/bin/sh
# REST API benchmark: starts /usr/sbin/mosquitto with the LwM2M plugin on a free 127.0.0.1
# port, with the plugin's HTTP listener on another free port (generated config in a
# temporary directory), runs bench_rest against it, stops the broker and prints the
# results, including the plugin's own counters from its shutdown stats line.
#
# usage: bench/run_rest.sh [BUILD_DIR] [-- BENCH_ARGS...]
#   BUILD_DIR   a build of this project with the targets mosquitto_lwm2m and bench_rest
#               (default: build/ of this checkout). A Release build gives the meaningful numbers:
#                 cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLWM2M_BUILD_TESTS=OFF
#                 cmake --build build --target mosquitto_lwm2m bench_rest
#   BENCH_ARGS  passed to bench_rest (-n round trips, -w warm-up, -d observed devices,
#               -c their connections, -W notify window, -D notify run in ms, -r runs;
#               see bench/README.md)
# environment:
#   MOSQUITTO     broker binary (default /usr/sbin/mosquitto)
#   BENCH_PIN     CPU layout (with 2 CPUs or more; see bench/README.md):
#                 1 (default): broker with the plugin's core thread on CPU 0; the benchmark
#                   (HTTP and SSE clients, devices, relay client and echo client) on CPU 1
#                 2: broker main thread on CPU 0; the core thread beside the benchmark on CPU 1
#                 0: not pinned
#   BENCH_DOORBELL=unix  the doorbell on a unix-socket listener instead of the TCP one
#   BENCH_KEEP=1  keep the temporary directory (config and broker log)
#   BENCH_CONF_EXTRA  extra broker configuration lines (newline separated), for experiments
#                 such as "log_type information" or "plugin_opt_debug true"
set -eu


me=run_rest
# shellcheck source=bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_args "$@"
shift "$bench_skip"
bench_find "$build" bench_rest
bench_tmpdir /tmp/lwm2m-restbench.XXXXXX
ports=$(bench_free_ports 2)
port=${ports% *}
http_port=${ports#* }
bench_write_conf "plugin_opt_http_listen 127.0.0.1:$http_port"

bench_pin_layout
bench_start_broker "$port" "$http_port"

echo "# broker $("$mosquitto" -h 2>/dev/null | head -1 | sed 's/^mosquitto version //'), mqtt port $port, http port $http_port, plugin $plugin"
bench_move_plugin_threads
case $pin in
	1) layout="broker and core thread on CPU 0, benchmark clients on CPU 1";;
	2) layout="broker main thread on CPU 0, core thread and benchmark clients on CPU 1";;
	*) layout="not pinned";;
esac
bench_machine_line "$layout"
rc=0
$bench_wrap "$bench" -p "$port" -P "$http_port" -B "$broker_pid" "$@" > "$dir/bench.out" || rc=$?
cat "$dir/bench.out"
bench_cpu_seconds
bench_stop_broker

bench_stats
bench_log_warnings 'error|warning|dropped|full|timed out'
exit $rc
