#!/bin/sh
# HTTP binding benchmark: starts /usr/sbin/mosquitto with the LwM2M plugin on a free 127.0.0.1
# port and its HTTP binding listener (plugin_opt_http_binding_listen) on another, with an
# endpoints file that allows the devices bench-* (generated config in a temporary
# directory), runs bench_http_binding against the listener, stops the broker and prints the
# results, including the plugin's own counters from its shutdown stats line.
#
# usage: bench/run_http_binding.sh [BUILD_DIR] [-- BENCH_ARGS...]
#   BUILD_DIR   a build of this project with the targets mosquitto_lwm2m and bench_http_binding
#               (default: build/ of this checkout). A Release build gives the meaningful numbers:
#                 cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLWM2M_BUILD_TESTS=OFF
#                 cmake --build build --target mosquitto_lwm2m bench_http_binding
#   BENCH_ARGS  passed to bench_http_binding (-c devices, -D run in ms, -w warm-up in ms,
#               -r runs, -g Registers per device, -u plain request, -s its status, -v;
#               see bench/README.md). Endpoint prefixes (-e) must start with "bench-".
# environment:
#   MOSQUITTO     broker binary (default /usr/sbin/mosquitto)
#   BENCH_PIN     CPU layout (with 2 CPUs or more; see bench/README.md):
#                 1 (default): broker with the plugin's core thread (which serves the
#                   listener) on CPU 0; the benchmark on CPU 1
#                 2: broker main thread on CPU 0; the core thread beside the benchmark on CPU 1
#                 0: not pinned
#   BENCH_KEEP=1  keep the temporary directory (config, endpoints file and broker log)
#   BENCH_CONF_EXTRA  extra broker configuration lines (newline separated), for experiments
set -eu


me=run_http_binding
# shellcheck source=bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_args "$@"
shift "$bench_skip"
bench_find "$build" bench_http_binding
bench_tmpdir /tmp/lwm2m-httpbindingbench.XXXXXX
ports=$(bench_free_ports 2)
port=${ports% *}
http_port=${ports#* }
# The URL is where requests to the devices would go; this benchmark sends none.
cat > "$dir/endpoints.json" <<JSON
{"endpoints": {"bench-*": {"http": {"url": "http://127.0.0.1:9"}}}}
JSON
bench_write_conf "plugin_opt_http_binding_listen 127.0.0.1:$http_port
plugin_opt_endpoints_file $dir/endpoints.json"

bench_pin_layout
bench_start_broker "$port" "$http_port"

echo "# broker $("$mosquitto" -h 2>/dev/null | head -1 | sed 's/^mosquitto version //'), mqtt port $port, http binding port $http_port, plugin $plugin"
bench_move_plugin_threads
case $pin in
	1) layout="broker and core thread (HTTP binding listener) on CPU 0, benchmark on CPU 1";;
	2) layout="broker main thread on CPU 0, core thread and benchmark on CPU 1";;
	*) layout="not pinned";;
esac
bench_machine_line "$layout"
rc=0
$bench_wrap "$bench" -P "$http_port" -B "$broker_pid" "$@" > "$dir/bench.out" || rc=$?
cat "$dir/bench.out"
bench_cpu_seconds
bench_stop_broker

bench_stats
# Every refused request is one notice line in the broker log (the plain request's 404 too).
echo "broker_log refused_lines $(grep -c 'lwm2m: http: .* refused with' "$dir/mosquitto.log" || true)"
bench_log_warnings 'error|warning|dropped|full|timed out'
exit $rc
