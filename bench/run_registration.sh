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

build="$(cd "$(dirname "$0")/.." && pwd)/build"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
	build=$1
	shift
fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift

mosquitto=${MOSQUITTO:-/usr/sbin/mosquitto}
plugin=$build/plugin/mosquitto_lwm2m.so
bench=$build/bench/bench_registration
for f in "$plugin" "$bench" "$mosquitto"; do
	if [ ! -x "$f" ] && [ ! -f "$f" ]; then
		echo "run_registration: $f not found (build the targets mosquitto_lwm2m and bench_registration)" >&2
		exit 2
	fi
done

dir=$(mktemp -d /tmp/lwm2m-bench.XXXXXX)
broker_pid=
cleanup() {
	if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
		kill -TERM "$broker_pid" 2>/dev/null || true
		wait "$broker_pid" 2>/dev/null || true
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "run_registration: kept $dir" >&2
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free port: bind to port 0 and read what the kernel chose.
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

doorbell="127.0.0.1:$port"
bell_listener=
if [ "${BENCH_DOORBELL:-tcp}" = unix ]; then
	doorbell="unix:$dir/doorbell.sock"
	bell_listener="listener 0 $dir/doorbell.sock"
fi

cat > "$dir/mosquitto.conf" <<EOF
per_listener_settings false
listener $port 127.0.0.1
$bell_listener
allow_anonymous true
user root
set_tcp_nodelay true
persistence false
log_type error
log_type notice
log_dest file $dir/mosquitto.log
max_queued_messages 100000
plugin $plugin
plugin_opt_doorbell $doorbell
plugin_opt_identity any
plugin_opt_register_rate 0
plugin_opt_inbox_size 1000000
plugin_opt_outbox_size 1000000
${BENCH_CONF_EXTRA:-}
EOF

pin=${BENCH_PIN:-1}
if [ "$(nproc)" -lt 2 ] || ! command -v taskset > /dev/null; then
	pin=0
fi
broker_wrap=
bench_wrap=
case $pin in
	1) broker_wrap="taskset -c 0"; bench_wrap="taskset -c 1"; set -- -E 0 "$@";;
	2) broker_wrap="taskset -c 0"; bench_wrap="taskset -c 1"; set -- -E 1 "$@";;
esac

$broker_wrap "$mosquitto" -c "$dir/mosquitto.conf" > "$dir/broker.out" 2>&1 &
broker_pid=$!

# Wait until the listener accepts connections (or the broker died).
i=0
until /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 50 ] || ! kill -0 "$broker_pid" 2>/dev/null; then
		echo "run_registration: the broker did not start; its log:" >&2
		cat "$dir/mosquitto.log" >&2 2>/dev/null || true
		exit 1
	fi
	sleep 0.1
done

echo "# broker $("$mosquitto" -h 2>/dev/null | head -1 | sed 's/^mosquitto version //'), port $port, plugin $plugin"
# Layout 2: move the plugin's threads (all but the broker's main thread) to CPU 1.
if [ "$pin" = 2 ]; then
	for task in /proc/"$broker_pid"/task/*; do
		tid=$(basename "$task")
		[ "$tid" != "$broker_pid" ] && taskset -p -c 1 "$tid" > /dev/null
	done
fi
case $pin in
	1) layout="broker, core thread and echo client on CPU 0, devices on CPU 1";;
	2) layout="broker main thread on CPU 0, core thread, echo client and devices on CPU 1";;
	*) layout="not pinned";;
esac
echo "# machine: $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg), $layout, doorbell $doorbell"
rc=0
$bench_wrap "$bench" -p "$port" -B "$broker_pid" "$@" > "$dir/bench.out" || rc=$?
cat "$dir/bench.out"

# CPU time of the broker's threads (its main thread; the others are the plugin's), in s.
cpu_line=
for stat in /proc/"$broker_pid"/task/*/stat; do
	tid=$(basename "$(dirname "$stat")")
	# utime and stime are fields 14 and 15, counted after the ")" that ends the name.
	ticks=$(sed 's/.*) //' "$stat" | awk '{ print $12 + $13 }')
	name=plugin_thread_$tid
	[ "$tid" = "$broker_pid" ] && name=broker_main_thread
	cpu_line="$cpu_line $name $(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')"
done
echo "cpu_seconds$cpu_line"

kill -TERM "$broker_pid"
wait "$broker_pid" 2>/dev/null || true
broker_pid=

stats=$(grep 'lwm2m: stats:' "$dir/mosquitto.log" | tail -1 || true)
if [ -n "$stats" ]; then
	echo "# ${stats#*: lwm2m: }"
	received=$(echo "$stats" | sed -n 's/.*received \([0-9]*\),.*/\1/p')
	busy_us=$(echo "$stats" | sed -n 's/.*core busy \([0-9]*\) us.*/\1/p')
	sent=$(sed -n 's/^lwm2m_messages_sent \([0-9]*\)/\1/p' "$dir/bench.out")
	# Per inbox item (device messages plus one per subscription and disconnect), and per
	# LwM2M message the benchmark sent (all the core's time charged to them: an upper bound).
	awk -v r="${received:-0}" -v b="${busy_us:-0}" -v s="${sent:-0}" 'BEGIN {
		if (r > 0) printf "core busy_us_per_inbox_item %.2f (busy %d us over %d items)\n", b / r, b, r
		if (s > 0) printf "core busy_us_per_lwm2m_message %.2f (over %d Register/Update messages)\n", b / s, s }'
else
	echo "run_registration: no stats line in the broker log" >&2
	rc=1
fi
if grep -v 'lwm2m: stats:' "$dir/mosquitto.log" | grep -qiE 'error|warning|dropped|full'; then
	echo "# broker log had warnings or errors:" >&2
	grep -iE 'error|warning|dropped|full' "$dir/mosquitto.log" | grep -v 'lwm2m: stats:' | head -5 >&2
fi
exit $rc
