#!/bin/sh
# Registration benchmark: starts /usr/sbin/mosquitto with the LwM2M plugin on a free
# 127.0.0.1 port (generated config in a temporary directory), runs bench_registration
# against it, stops the broker and prints the results, including the core thread's
# busy time per message from the plugin's shutdown stats line.
#
# usage: bench/run_registration.sh [BUILD_DIR] [-- BENCH_ARGS...]
#   BUILD_DIR   a build of this project with the targets mosquitto_lwm2m and
#               bench_registration (default: build/ of this checkout). A Release build gives
#               the meaningful numbers:
#                 cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLWM2M_BUILD_TESTS=OFF
#                 cmake --build build --target mosquitto_lwm2m bench_registration
#   BENCH_ARGS  passed to bench_registration (-n round trips, -w warm-up, -d device counts,
#               -c connections, -W window; see bench/README.md)
# environment:
#   MOSQUITTO     broker binary (default /usr/sbin/mosquitto)
#   BENCH_PIN     CPU layout (with 2 CPUs or more; see bench/README.md):
#                 1 (default): broker with the plugin's core thread, and the relay's echo
#                   client, on CPU 0; device clients on CPU 1 - the answerers beside the broker
#                 2: broker main thread on CPU 0; core thread, echo client and devices on CPU 1
#                 0: not pinned
#   BENCH_DOORBELL=unix  the doorbell on a unix-socket listener instead of the TCP one
#   BENCH_KEEP=1  keep the temporary directory (config and broker log)
#   BENCH_CONF_EXTRA  extra broker configuration lines (newline separated), for experiments
#                 such as "log_type information" or "plugin_opt_debug true"
set -eu


me=run_registration
# shellcheck source=bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_args "$@"
shift "$bench_skip"
bench_find "$build" bench_registration
bench_tmpdir /tmp/lwm2m-bench.XXXXXX
port=$(bench_free_ports 1)
bench_write_conf ""

bench_pin_layout
case $pin in
	1) set -- -E 0 "$@";;
	2) set -- -E 1 "$@";;
esac
bench_start_broker "$port"

echo "# broker $("$mosquitto" -h 2>/dev/null | head -1 | sed 's/^mosquitto version //'), port $port, plugin $plugin"
bench_move_plugin_threads
case $pin in
	1) layout="broker, core thread and echo client on CPU 0, devices on CPU 1";;
	2) layout="broker main thread on CPU 0, core thread, echo client and devices on CPU 1";;
	*) layout="not pinned";;
esac
bench_machine_line "$layout"
rc=0
$bench_wrap "$bench" -p "$port" -B "$broker_pid" "$@" > "$dir/bench.out" || rc=$?
cat "$dir/bench.out"
bench_cpu_seconds
bench_stop_broker

bench_stats
if [ -n "$stats" ]; then
	received=$(echo "$stats" | sed -n 's/.*received \([0-9]*\),.*/\1/p')
	busy_us=$(echo "$stats" | sed -n 's/.*core busy \([0-9]*\) us.*/\1/p')
	sent=$(sed -n 's/^lwm2m_messages_sent \([0-9]*\)/\1/p' "$dir/bench.out")
	# Per inbox item (device messages plus one per subscription and disconnect), and per
	# LwM2M message the benchmark sent (all the core's time charged to them: an upper bound).
	awk -v r="${received:-0}" -v b="${busy_us:-0}" -v s="${sent:-0}" 'BEGIN {
		if (r > 0) printf "core busy_us_per_inbox_item %.2f (busy %d us over %d items)\n", b / r, b, r
		if (s > 0) printf "core busy_us_per_lwm2m_message %.2f (over %d Register/Update messages)\n", b / s, s }'
fi
bench_log_warnings 'error|warning|dropped|full'
exit $rc
