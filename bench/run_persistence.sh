#!/bin/sh
# Persistence benchmark: the registrations/s of bench_registration's throughput mode against
# the plugin without plugin_opt_state_db and against the plugin with a state_db in the
# temporary directory (under /tmp), in one run. Two brokers, same configuration but for the
# state_db, run side by side on the same CPU; the benchmark runs against one, then the other,
# in rounds (off on, on off, off on, ...), so the machine's background load hits both alike.
# Prints both rates, their ratio (persisted / not persisted), the relay's rates as a control,
# the broker's and core's CPU time per registration, the core's busy time from each plugin's
# shutdown stats line, and the database's size and rows after the run.
#
# usage: bench/run_persistence.sh [BUILD_DIR] [-- BENCH_ARGS...]
#   BUILD_DIR   a build of this project with the targets mosquitto_lwm2m and
#               bench_registration (default: build/ of this checkout). A Release build gives
#               the meaningful numbers:
#                 cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLWM2M_BUILD_TESTS=OFF
#                 cmake --build build --target mosquitto_lwm2m bench_registration
#   BENCH_ARGS  passed to every bench_registration process after "-n 0 -r 1" (no round
#               trips, one throughput run per device count and round): -d device counts
#               (1000,10000), -r runs per count and round, -c connections, -W window;
#               see bench/README.md
# environment: MOSQUITTO BENCH_PIN BENCH_DOORBELL BENCH_KEEP BENCH_CONF_EXTRA, as for
#   bench/run_registration.sh (BENCH_KEEP=1 also keeps the database and every round's output)
#   BENCH_ROUNDS  rounds (default 5): each runs the benchmark once against each broker
set -eu


me=run_persistence
# shellcheck source=bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
bench_args "$@"
shift "$bench_skip"
bench_find "$build" bench_registration
bench_tmpdir /tmp/lwm2m-persistbench.XXXXXX
top=$dir
db=$top/on/state.db
rounds=${BENCH_ROUNDS:-5}
pid_off=
pid_on=

# Both brokers stop on any exit; bench_cleanup then removes the whole directory.
# shellcheck disable=SC2317 # run by the trap
persist_cleanup() {
	for p in $pid_off $pid_on; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	broker_pid=
	dir=$top
	bench_cleanup
}
trap persist_cleanup EXIT

bench_pin_layout
case $pin in
	1) set -- -E 0 "$@"; layout="both brokers (with their core threads) and the echo client on CPU 0, devices on CPU 1";;
	2) set -- -E 1 "$@"; layout="both brokers' main threads on CPU 0, core threads, echo client and devices on CPU 1";;
	*) layout="not pinned";;
esac
set -- -n 0 -r 1 "$@"
rc=0

file_size() {
	if [ -f "$1" ]; then wc -c < "$1" | tr -d ' '; else echo 0; fi
}

# use MODE: the bench_lib variables (dir, port, broker_pid) name that broker.
use() {
	dir=$top/$1
	if [ "$1" = off ]; then port=$port_off; broker_pid=$pid_off; else port=$port_on; broker_pid=$pid_on; fi
}

# start MODE PLUGIN_OPTION
start() {
	mkdir "$top/$1"
	use "$1"
	bench_write_conf "$2"
	bench_start_broker "$port"
	bench_move_plugin_threads
	if [ "$1" = off ]; then pid_off=$broker_pid; else pid_on=$broker_pid; fi
}

# stop MODE: CPU time, stop, stats line, busy time, warnings.
stop() {
	use "$1"
	echo "## state_db $1: at stop"
	bench_cpu_seconds
	if [ "$1" = on ]; then
		echo "state_db before_stop db_bytes $(file_size "$db") wal_bytes $(file_size "$db-wal")"
	fi
	bench_stop_broker
	if [ "$1" = off ]; then pid_off=; else pid_on=; fi
	bench_stats
	bench_core_busy "$dir/bench.out"
	bench_log_warnings 'error|warning|dropped|full|timed out'
}

# bench_round MODE ROUND BENCH_ARGS...
bench_round() {
	use "$1"
	echo "## round $2 state_db $1"
	$bench_wrap "$bench" -p "$port" -B "$broker_pid" "$@" > "$dir/round-$2.out" || rc=$?
	cat "$dir/round-$2.out"
	cat "$dir/round-$2.out" >> "$dir/bench.out"
}

ports=$(bench_free_ports 2)
port_off=${ports% *}
port_on=${ports#* }
start off ""
start on "plugin_opt_state_db $db"
echo "# broker $("$mosquitto" -h 2>/dev/null | head -1 | sed 's/^mosquitto version //'), port $port_off without state_db, port $port_on with $db, plugin $plugin, $rounds rounds"
doorbell="each broker's own (${BENCH_DOORBELL:-tcp})"
bench_machine_line "$layout"

round=1
while [ "$round" -le "$rounds" ]; do
	if [ $((round % 2)) = 1 ]; then first=off; second=on; else first=on; second=off; fi
	bench_round $first $round "$@"
	bench_round $second $round "$@"
	round=$((round + 1))
done
bench_machine_line "$layout"

stop off
stats_off=$stats
stop on

# The broker closed the database: SQLite checkpointed the WAL into it. Sizes first: reading
# the rows opens the database again.
sizes="$(( $(file_size "$db") + $(file_size "$db-wal") + $(file_size "$db-shm") ))"
sizes="$sizes (db $(file_size "$db"), wal $(file_size "$db-wal"), shm $(file_size "$db-shm"))"
rows=$(/usr/bin/python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT count(*) FROM registrations").fetchone()[0])' "$db" 2>/dev/null || echo "?")
echo "state_db after_stop bytes $sizes rows $rows" \
	"(registrations in the stats line: $(echo "$stats" | sed -n 's/.*registrations \([0-9]*\),.*/\1/p'))"
[ -n "$stats_off" ] || rc=1

# rates MODE KIND DEVICES: per_s of every throughput run of KIND (plugin, relay), in order.
rates() {
	sed -n "s/^throughput $2 *devices $3 .* per_s \([0-9.]*\) .*/\1/p" "$top/$1/bench.out"
}

# cpu MODE DEVICES WHO: WHO's (broker, core) CPU time per registration in every plugin run.
cpu() {
	sed -n "s/^cpu_per_message_us plugin devices $2 .*$3 \([0-9.]*\).*/\1/p" "$top/$1/bench.out"
}

# The numbers of each list on one line, separated by ",", e.g. "a1,a2,a3 b1,b2,b3"; "none"
# for an empty list.
lists() {
	for l in "$@"; do
		if [ -n "$l" ]; then printf '%s ' "$(echo "$l" | paste -sd, -)"; else printf 'none '; fi
	done
}

echo "## persisted / not persisted, medians over the rounds"
sed -n 's/^throughput plugin devices \([0-9]*\) .*/\1/p' "$top/off/bench.out" | sort -un | while read -r n; do
	# shellcheck disable=SC2046 # one word per list
	set -- $(lists "$(rates off plugin "$n")" "$(rates on plugin "$n")" "$(rates off relay "$n")" \
		"$(rates on relay "$n")" "$(cpu off "$n" broker)" "$(cpu on "$n" broker)" "$(cpu off "$n" core)" \
		"$(cpu on "$n" core)")
	awk -v n="$n" -v off="$1" -v on="$2" -v roff="$3" -v ron="$4" -v boff="$5" -v bon="$6" -v coff="$7" \
		-v con="$8" '
	function median(list,   v, k, i, j, t) {
		k = list == "none" ? 0 : split(list, v, ",")
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		return k ? (k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2) : 0
	}
	# on/off of each round: both ran within seconds of each other.
	function paired(a, b,   x, y, k, i, out) {
		if (a == "none" || b == "none") return "none"
		k = split(a, x, ",")
		split(b, y, ",")
		out = ""
		for (i = 1; i <= k; i++) if (x[i] > 0) out = out (out == "" ? "" : ",") sprintf("%.3f", y[i] / x[i])
		return out
	}
	BEGIN {
		m_off = median(off); m_on = median(on)
		if (m_off > 0) {
			r = m_on / m_off
			printf "persistence devices %d registrations_per_s off %.0f on %.0f ratio %.3f (target 0.8: %s)\n",
				n, m_off, m_on, r, (r >= 0.8 ? "met" : "MISSED")
			printf "persistence devices %d registrations_per_s all_runs off %s on %s\n", n, off, on
			p = paired(off, on)
			printf "persistence devices %d ratio_per_round %s median %.3f\n", n, p, median(p)
		}
		if (median(roff) > 0) {
			printf "persistence devices %d relay_messages_per_s off %.0f on %.0f ratio %.3f (control: the relay does not use the state_db)\n",
				n, median(roff), median(ron), median(ron) / median(roff)
		}
		printf "persistence devices %d cpu_per_registration_us broker off %.1f on %.1f core off %.1f on %.1f\n",
			n, median(boff), median(bon), median(coff), median(con)
	}'
done
exit $rc
