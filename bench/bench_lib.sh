# Sourced by every bench/run_*.sh: the command line (bench_args), a broker
# with the plugin in a temporary directory, free ports, the CPU layout, the broker's CPU time
# and stats line.
# The caller sets `me` (its name, for messages) before calling these; they share its
# variables: mosquitto plugin bench dir broker_pid port doorbell pin broker_wrap bench_wrap
# stats rc. Environment: MOSQUITTO BENCH_PIN BENCH_DOORBELL BENCH_KEEP BENCH_CONF_EXTRA
# (see the callers' headers).

# "[BUILD_DIR] [-- BENCH_ARGS...]": sets build (default: build/ of this checkout) and
# bench_skip, the number of arguments the caller shifts away before the benchmark's own.
bench_args() {
	build="$(cd "$(dirname "$0")/.." && pwd)/build"
	bench_skip=0
	if [ $# -gt 0 ] && [ "$1" != "--" ]; then
		build=$1
		bench_skip=1
		shift
	fi
	if [ $# -gt 0 ] && [ "$1" = "--" ]; then
		bench_skip=$((bench_skip + 1))
	fi
}

# bench_find BUILD_DIR BENCH_TARGET: sets mosquitto, plugin and bench; exits 2 if one is missing.
bench_find() {
	mosquitto=${MOSQUITTO:-/usr/sbin/mosquitto}
	plugin=$1/plugin/mosquitto_lwm2m.so
	bench=$1/bench/$2
	for f in "$plugin" "$bench" "$mosquitto"; do
		if [ ! -x "$f" ] && [ ! -f "$f" ]; then
			echo "$me: $f not found (build the targets mosquitto_lwm2m and $2)" >&2
			exit 2
		fi
	done
}

bench_cleanup() {
	if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
		kill -TERM "$broker_pid" 2>/dev/null || true
		wait "$broker_pid" 2>/dev/null || true
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "$me: kept $dir" >&2
	else
		rm -rf "$dir"
	fi
}

# bench_tmpdir TEMPLATE: sets dir; on exit the broker is stopped and dir removed.
bench_tmpdir() {
	dir=$(mktemp -d "$1")
	broker_pid=
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

# bench_free_ports N: prints N free 127.0.0.1 ports: all bound to port 0 at once, so the
# kernel chooses distinct ones.
bench_free_ports() {
	/usr/bin/python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])' "$1"
}

# bench_write_conf [EXTRA_PLUGIN_OPTION]: $dir/mosquitto.conf with a listener on $port and
# the plugin; sets doorbell (BENCH_DOORBELL=unix: on a unix-socket listener).
bench_write_conf() {
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
max_inflight_messages 0
plugin $plugin
plugin_opt_doorbell $doorbell
plugin_opt_identity any
plugin_opt_register_rate 0
${1:-}
plugin_opt_inbox_size 1000000
plugin_opt_outbox_size 1000000
${BENCH_CONF_EXTRA:-}
EOF
}

# Sets pin (BENCH_PIN; 0 with fewer than 2 CPUs or no taskset) and, for layouts 1 and 2,
# broker_wrap (CPU 0) and bench_wrap (CPU 1).
bench_pin_layout() {
	pin=${BENCH_PIN:-1}
	if [ "$(nproc)" -lt 2 ] || ! command -v taskset > /dev/null; then
		pin=0
	fi
	broker_wrap=
	bench_wrap=
	case $pin in
		1|2) broker_wrap="taskset -c 0"; bench_wrap="taskset -c 1";;
	esac
}

# bench_start_broker PORT...: starts the broker (sets broker_pid) and waits until every
# listed port accepts connections; exits 1 with the broker's log if it does not.
bench_start_broker() {
	$broker_wrap "$mosquitto" -c "$dir/mosquitto.conf" > "$dir/broker.out" 2>&1 &
	broker_pid=$!
	i=0
	until /usr/bin/python3 -c 'import socket, sys
for p in sys.argv[1:]: socket.create_connection(("127.0.0.1", int(p)), 0.2)' "$@" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 50 ] || ! kill -0 "$broker_pid" 2>/dev/null; then
			echo "$me: the broker did not start; its log:" >&2
			cat "$dir/mosquitto.log" >&2 2>/dev/null || true
			exit 1
		fi
		sleep 0.1
	done
}

# Layout 2: move the plugin's threads (all but the broker's main thread) to CPU 1.
bench_move_plugin_threads() {
	if [ "$pin" = 2 ]; then
		for task in /proc/"$broker_pid"/task/*; do
			tid=$(basename "$task")
			if [ "$tid" != "$broker_pid" ]; then
				taskset -p -c 1 "$tid" > /dev/null
			fi
		done
	fi
}

# bench_machine_line LAYOUT
bench_machine_line() {
	echo "# machine: $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg), $1, doorbell $doorbell"
}

# CPU time of the broker's threads (its main thread; the others are the plugin's), in s.
bench_cpu_seconds() {
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
}

bench_stop_broker() {
	kill -TERM "$broker_pid"
	wait "$broker_pid" 2>/dev/null || true
	broker_pid=
}

# Prints the plugin's last stats line from the broker log and sets stats to it; without
# one, says so and sets rc=1.
bench_stats() {
	stats=$(grep 'lwm2m: stats:' "$dir/mosquitto.log" | tail -1 || true)
	if [ -n "$stats" ]; then
		echo "# ${stats#*: lwm2m: }"
	else
		echo "$me: no stats line in the broker log" >&2
		rc=1
	fi
}

# bench_log_warnings PATTERN: the first few broker log lines (but the stats) matching the
# extended regular expression PATTERN, case-insensitive, on stderr.
bench_log_warnings() {
	if grep -v 'lwm2m: stats:' "$dir/mosquitto.log" | grep -qiE "$1"; then
		echo "# broker log had warnings or errors:" >&2
		grep -iE "$1" "$dir/mosquitto.log" | grep -v 'lwm2m: stats:' | head -5 >&2
	fi
	return 0
}

# bench_core_busy BENCH_OUT: the core thread's busy time from $stats per inbox item (device
# messages plus one per subscription and disconnect) and per LwM2M message the benchmark sent
# (the sum of the "lwm2m_messages_sent N" lines in BENCH_OUT, one per benchmark process; all
# the core's time charged to them: an upper bound). Busy time is the inbox handlers' only: it
# leaves out the end of each loop turn, where the state_db commit runs.
bench_core_busy() {
	[ -n "$stats" ] || return 0
	received=$(echo "$stats" | sed -n 's/.*received \([0-9]*\),.*/\1/p')
	busy_us=$(echo "$stats" | sed -n 's/.*core busy \([0-9]*\) us.*/\1/p')
	sent=$(awk '/^lwm2m_messages_sent / { s += $2 } END { print s + 0 }' "$1")
	awk -v r="${received:-0}" -v b="${busy_us:-0}" -v s="${sent:-0}" 'BEGIN {
		if (r > 0) printf "core busy_us_per_inbox_item %.2f (busy %d us over %d items)\n", b / r, b, r
		if (s > 0) printf "core busy_us_per_lwm2m_message %.2f (over %d Register/Update messages)\n", b / s, s }'
}
