#!/bin/sh
# CoAP forwarder benchmark: starts /usr/sbin/mosquitto with the LwM2M plugin on a free
# 127.0.0.1 port, forwarding (plugin_opt_coap_server) to a free loopback UDP port where
# bench_upstream plays the CoAP LwM2M server; runs bench_upstream, stops the broker and
# prints the results with the plugin's shutdown stats line.
#
# usage: bench/run_upstream.sh [BUILD_DIR] [-- BENCH_ARGS...]
#   BUILD_DIR   a build of this project with the targets mosquitto_lwm2m and bench_upstream
#               (default: build/ of this checkout). A Release build gives the meaningful
#               numbers:
#                 cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLWM2M_BUILD_TESTS=OFF
#                 cmake --build build --target mosquitto_lwm2m bench_upstream
#   BENCH_ARGS  passed to bench_upstream (-n Read round trips, -b Reads per device count,
#               -d device counts, -o observed devices, -W window, -D ms, -r runs; see
#               bench/README.md)
# environment:
#   MOSQUITTO     broker binary (default /usr/sbin/mosquitto)
#   BENCH_PIN     CPU layout (with 2 CPUs or more; see bench/README.md):
#                 1 (default): broker (with the plugin's core thread) and the CoAP device on
#                   CPU 0; the benchmark's server and MQTT devices on CPU 1
#                 2: broker main thread on CPU 0; core thread and CoAP device on CPU 1
#                 0: not pinned
#   BENCH_DOORBELL=unix  the doorbell on a unix-socket listener instead of the TCP one
#   BENCH_KEEP=1  keep the temporary directory (config and broker log)
#   BENCH_CONF_EXTRA  extra broker configuration lines (newline separated)
#
# 10,000 devices need about 20,000 descriptors in the broker (a TCP and a UDP socket per
# device): the script raises the soft open-files limit to the hard one, and the benchmark
# measures the largest count that fits when that is not enough.
set -eu


me=run_upstream
# shellcheck source=bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_args "$@"
shift "$bench_skip"
bench_find "$build" bench_upstream
bench_tmpdir /tmp/lwm2m-upbench.XXXXXX
port=$(bench_free_ports 1)
coap_port=$(/usr/bin/python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# keep: at shutdown the benchmark's server is gone; no De-register storm toward it.
bench_write_conf "plugin_opt_coap_server coap://127.0.0.1:$coap_port
plugin_opt_coap_shutdown keep
plugin_opt_http_listen off"

bench_pin_layout
case $pin in
	1) set -- -E 0 "$@";;
	2) set -- -E 1 "$@";;
esac
bench_start_broker "$port"

echo "# broker $("$mosquitto" -h 2>/dev/null | head -1 | sed 's/^mosquitto version //'), port $port, CoAP server port $coap_port, plugin $plugin"
bench_move_plugin_threads
case $pin in
	1) layout="broker, core thread and CoAP device on CPU 0, server and MQTT devices on CPU 1";;
	2) layout="broker main thread on CPU 0, core thread, CoAP device, server and MQTT devices on CPU 1";;
	*) layout="not pinned";;
esac
bench_machine_line "$layout"
echo "# open files limit $(ulimit -n) (hard $(ulimit -Hn))"
rc=0
$bench_wrap "$bench" -p "$port" -S "$coap_port" -B "$broker_pid" "$@" > "$dir/bench.out" || rc=$?
cat "$dir/bench.out"
bench_cpu_seconds
bench_stop_broker

bench_stats
if [ -n "$stats" ]; then
	received=$(echo "$stats" | sed -n 's/.*received \([0-9]*\),.*/\1/p')
	busy_us=$(echo "$stats" | sed -n 's/.*core busy \([0-9]*\) us.*/\1/p')
	# Inbox items: every device message plus one per subscription and disconnect. The busy
	# time counts the inbox handlers only, not libcoap's work on the core loop.
	awk -v r="${received:-0}" -v b="${busy_us:-0}" 'BEGIN {
		if (r > 0) printf "core busy_us_per_inbox_item %.2f (busy %d us over %d items; libcoap work not included)\n", b / r, b, r }'
fi
bench_log_warnings 'error|warning|dropped|full'
exit $rc
