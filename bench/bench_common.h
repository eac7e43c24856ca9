/* What the MQTT benchmarks (bench_registration, bench_rest) share: clocks and CPU time,
 * the few CBOR bits of the binding's messages, libmosquitto connections, the plain relay's
 * echo client, interleaved round-trip measurement and its statistics. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mosquitto.h>

#define QOS 1
#define MAX_MSG 256
#define MAX_CONNS 64
#define ECHO_SLOTS 1024
#define REPLY_TIMEOUT_NS (5ull * 1000000000ull)
#define CONNECT_TIMEOUT_NS (5ull * 1000000000ull)

/* ---- clocks and CPU time ---- */

uint64_t now_ns(void);                  /* CLOCK_MONOTONIC */
double thread_cpu_s(void);              /* CPU time of the calling thread */

/* CPU time of the answering side, from /proc/<pid>/task/<tid>/schedstat (ns). */
struct cpu_use {
	uint64_t broker_ns;         /* the broker's main thread */
	uint64_t core_ns;           /* the broker's other threads: the plugin's core (and MHD in it) */
	uint64_t responder_ns;      /* the benchmark's answering thread (device, echo client) */
	uint64_t broker_wait_ns;    /* time the broker's threads were runnable but not running: */
	uint64_t core_wait_ns;      /* what other processes on the machine cost them */
};

/* broker_pid 0: no broker figures; responder_tid 0: no responder figure. */
void cpu_read(int broker_pid, int responder_tid, struct cpu_use *u);
/* acc += after - before */
void cpu_add_delta(struct cpu_use *acc, const struct cpu_use *before, const struct cpu_use *after);

/* Pins the calling thread to cpu (-1: leaves it); says so on stderr if it cannot. */
void pin_self(int cpu, const char *who);

/* ---- the few CBOR bits the binding's messages need ---- */

struct msg {
	uint8_t b[MAX_MSG];
	size_t len;
};

void put_head(struct msg *m, uint8_t major, uint64_t v);
/* Tokens always take 9 bytes, so every message of a kind has the same size. */
void put_token(struct msg *m, uint64_t token);
/* Major type 3 (text) or 2 (bytes). Callers keep strings far below MAX_MSG. */
void put_string(struct msg *m, uint8_t major, const char *s);
/* {1:6, 2:token, 8:3600, 9:"1.2", 10:"M", 7:"</1/0>,</3/0>"} */
void make_register(struct msg *m, uint64_t token);
/* {1:9, 2:token, 5:"/3/0/0"}: a Read */
void make_read(struct msg *m, uint64_t token);
/* {18:result, 2:token} or, with a value, {18:result, 2:token, 19:0, 7:h'value'} (plain text). */
void make_answer(struct msg *m, uint64_t result, uint64_t token, const char *value);
/* {1:23, 2:observation token, 19:0, 7:h'value'}: a Notify */
void make_notify(struct msg *m, uint64_t token, const char *value);

/* A message on a device topic: a request (key 1) or an answer (key 18), and its token. */
struct parsed {
	bool has_op, has_result, has_token;
	uint64_t op, result, token;
};

bool parse_map(const void *payload, size_t len, struct parsed *out);

/* ---- MQTT connections ---- */

struct conn;
typedef void (*on_msg_fn)(struct conn *c, const struct mosquitto_message *m);
typedef void (*flush_fn)(struct conn *c);

struct conn {
	struct mosquitto *m;
	bool connected;
	int connack;
	int subacks;
	on_msg_fn on_msg;
	flush_fn flush;             /* publishes what on_msg queued, outside the callback (NULL: none) */
	void *role;                 /* the state of whoever uses this connection */
};

bool conn_open(struct conn *c, const char *host, int port, const char *id, int protocol);
void conn_close(struct conn *c);
/* Subscribe to topics[0..n) in batches and wait for every SUBACK. sub_opts: MQTT 5 only. */
bool conn_subscribe(struct conn *c, char *const *topics, size_t n, int sub_opts);

/* ---- the echo client of the plain relay ---- */

/* Re-publishes every message on bench/<tag>/req[/x] to the same topic with "req" replaced
 * by "rep". Set c.role to the echo, c.on_msg to echo_on_msg and c.flush to echo_flush. */
struct echo {
	struct conn c;
	size_t req_at;                  /* offset of "req" in the request topics */
	struct echo_slot {
		struct msg m;
		char topic[160];        /* the reply topic */
	} slot[ECHO_SLOTS];         /* received in the callback, re-published after it */
	unsigned head, tail;
	unsigned long overflow;
};

void echo_on_msg(struct conn *c, const struct mosquitto_message *m);
/* Publishing outside the message callback: libmosquitto then writes at once instead of
 * waiting for the next pass of its loop. */
void echo_flush(struct conn *c);

/* ---- round trips and statistics ---- */

#define RTT_MAX_KINDS 4

struct summary {
	double median_us, p90_us, p99_us, max_us;
};

/* Sorts v in place. p99 is the value 99 % of the samples do not exceed (nearest rank). */
struct summary summarize(uint64_t *v, size_t n);
/* Where the samples lie, in bin_us bins (bins under 1 % of the samples are left out). */
void print_histogram(const char *name, const uint64_t *v, size_t n, unsigned bin_us);
int cmp_double(const void *a, const void *b);

/* One round trip of a kind; its time in ns, 0 on failure. */
typedef uint64_t (*rtt_once_fn)(void *ctx, int kind, uint64_t token);

struct rtt_samples {
	int kinds;
	uint64_t *v[RTT_MAX_KINDS];
	size_t count[RTT_MAX_KINDS];
	struct cpu_use cpu[RTT_MAX_KINDS];     /* spent during each kind's blocks */
};

/* Warm-up, then n round trips of each of kinds (at most RTT_MAX_KINDS) in interleaved
 * blocks, so that background load on the machine hits them alike. Call rtt_finish after,
 * whatever this returns. */
bool rtt_measure(struct rtt_samples *s, int kinds, size_t n, size_t warmup, int broker_pid, int responder_tid,
		rtt_once_fn once, void *ctx);
/* If ok: the summary of each kind into out[], and with histogram_bin_us > 0 its histogram.
 * Frees the samples. */
void rtt_finish(struct rtt_samples *s, bool ok, const char *const *names, unsigned histogram_bin_us,
		struct summary *out);

#endif
