/* Benchmark of the registration interface over the MQTT binding, against a running broker
 * with the plugin loaded (bench/run_registration.sh starts one). Prints numbers only.
 *
 *  1. Register and Update round trips of one device (sequential, QoS 1), median and p99.
 *  2. The plain relay on the same broker: an echo client (a thread with its own MQTT
 *     connection) re-publishes every request; same timing client, QoS and payload size.
 *  3. Registrations per second: many distinct endpoints over a few connections with a
 *     bounded window of outstanding Registers, until every answer has arrived.
 *
 * The three round-trip kinds are measured in interleaved blocks so that background load
 * on the machine hits them alike. Times come from CLOCK_MONOTONIC. */
#define _GNU_SOURCE             /* gettid */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "bench_common.h"

#define THROUGHPUT_TIMEOUT_NS (60ull * 1000000000ull)

/* ---- the binding's messages (make_register and parse_map are in bench_common) ---- */

/* {1:7, 2:token} */
static void make_update(struct msg *m, uint64_t token)
{
	m->len = 0;
	put_head(m, 5, 2);
	put_head(m, 0, 1); put_head(m, 0, 7);
	put_head(m, 0, 2); put_token(m, token);
}

/* ---- the echo client of the plain relay (its own thread and connection) ---- */

struct echo_thread {
	struct echo echo;
	atomic_bool stop;
	atomic_int tid;                 /* for its CPU time; 0 until the thread runs */
	int cpu;                        /* -1: not pinned */
	int error;
	pthread_t thread;
};

static void *echo_main(void *arg)
{
	struct echo_thread *e = arg;

	atomic_store(&e->tid, (int)gettid());
	pin_self(e->cpu, "echo client");
	while(!atomic_load(&e->stop)){
		int rc = mosquitto_loop(e->echo.c.m, 50, 1);
		if(rc != MOSQ_ERR_SUCCESS){
			e->error = rc;
			break;
		}
		echo_flush(&e->echo.c);
	}
	return NULL;
}

/* ---- round trips of one device ---- */

enum rtt_kind { RTT_REGISTER = 0, RTT_UPDATE, RTT_RELAY, RTT_KINDS };
static const char *const rtt_names[RTT_KINDS] = { "register", "update", "relay" };

struct rtt {
	struct conn c;
	char dev_topic[128];        /* lwm2m/rd/<ep> */
	char req_topic[128];        /* plain relay */
	char rep_topic[128];
	/* what the pending round trip waits for */
	enum rtt_kind kind;
	uint64_t token;
	const struct msg *sent;
	bool done;
	uint64_t t_done;
	uint64_t result;
	unsigned long skipped;      /* echoes of our own requests and other non-answers */
};

static void rtt_on_msg(struct conn *c, const struct mosquitto_message *m)
{
	struct rtt *r = c->role;
	struct parsed pm;
	uint64_t t = now_ns();

	if(r->done) return;
	if(r->kind == RTT_RELAY){
		if(!strcmp(m->topic, r->rep_topic) && (size_t)m->payloadlen == r->sent->len
				&& !memcmp(m->payload, r->sent->b, r->sent->len)){
			r->done = true;
			r->t_done = t;
		}else{
			r->skipped++;
		}
		return;
	}
	if(strcmp(m->topic, r->dev_topic) || !parse_map(m->payload, (size_t)m->payloadlen, &pm)
			|| !pm.has_result || !pm.has_token || pm.token != r->token){
		r->skipped++;
		return;
	}
	r->done = true;
	r->t_done = t;
	r->result = pm.result;
}

/* One round trip; its time in ns, 0 on failure. */
static uint64_t rtt_once(struct rtt *r, enum rtt_kind kind, uint64_t token)
{
	struct msg m;
	const char *topic = kind == RTT_RELAY ? r->req_topic : r->dev_topic;
	uint64_t want = kind == RTT_UPDATE ? 204 : 201, t0;
	int rc;

	if(kind == RTT_UPDATE) make_update(&m, token);
	else make_register(&m, token);      /* the relay carries the Register's bytes */
	r->kind = kind;
	r->token = token;
	r->sent = &m;
	r->done = false;
	t0 = now_ns();
	rc = mosquitto_publish(r->c.m, NULL, topic, (int)m.len, m.b, QOS, false);
	if(rc != MOSQ_ERR_SUCCESS){
		fprintf(stderr, "bench: publish failed: %s\n", mosquitto_strerror(rc));
		return 0;
	}
	while(!r->done){
		rc = mosquitto_loop(r->c.m, 100, 1);
		if(rc != MOSQ_ERR_SUCCESS || now_ns() - t0 > REPLY_TIMEOUT_NS){
			fprintf(stderr, "bench: %s token %" PRIu64 ": no answer (%s)\n", rtt_names[kind], token,
					rc ? mosquitto_strerror(rc) : "timeout");
			return 0;
		}
	}
	if(kind != RTT_RELAY && r->result != want){
		fprintf(stderr, "bench: %s token %" PRIu64 ": answer %" PRIu64 ", expected %" PRIu64 "\n",
				rtt_names[kind], token, r->result, want);
		return 0;
	}
	return r->t_done - t0;
}

struct opts {
	const char *host;
	int port;
	size_t n;
	size_t warmup;
	size_t devices[8];
	size_t n_devices;
	int conns;
	int window;
	int repeats;
	bool no_local;
	bool histogram;
	bool late_subscribe;        /* -s: each run connects and subscribes just before it runs */
	int echo_cpu;               /* -1: wherever the scheduler puts it */
	int broker_pid;             /* -B: for the broker's CPU time per message; 0 = unknown */
	int echo_tid;               /* set once the echo thread runs */
	char tag[64];
};

/* Warm-up, then n round trips of each kind in interleaved blocks. */
static void print_rtt_cpu(const struct opts *o, const struct cpu_use cpu[RTT_KINDS], const size_t count[RTT_KINDS])
{
	if(o->broker_pid <= 0) return;
	for(int k = 0; k < RTT_KINDS; k++){
		double n = count[k] ? (double)count[k] : 1;
		printf("cpu_per_round_trip_us %-8s broker %.1f core %.1f echo %.1f\n", rtt_names[k],
				(double)cpu[k].broker_ns / 1e3 / n, (double)cpu[k].core_ns / 1e3 / n, (double)cpu[k].responder_ns / 1e3 / n);
	}
}

static uint64_t rtt_once_cb(void *r, int kind, uint64_t token)
{
	return rtt_once(r, (enum rtt_kind)kind, token);
}

static bool run_rtt(const struct opts *o, struct rtt *r, struct summary out[RTT_KINDS])
{
	struct rtt_samples s;
	bool ok = rtt_measure(&s, RTT_KINDS, o->n, o->warmup, o->broker_pid, o->echo_tid, rtt_once_cb, r);

	if(ok) print_rtt_cpu(o, s.cpu, s.count);
	rtt_finish(&s, ok, rtt_names, o->histogram ? 5 : 0, out);
	return ok;
}

/* ---- registrations per second ---- */

/* Every run has its own devices and connections. All of them connect and subscribe before
 * anything is measured (devices come online, then register): the subscriptions' work in
 * the core is then done while the registry is nearly empty and stays out of the figures. */
struct tp_run;

struct tp_conn {
	struct conn c;
	struct tp_run *run;
	size_t next;                /* devices of connection j: j, j + conns, ... */
	int outstanding;
};

struct tp_run {
	const struct opts *o;
	bool relay;                 /* the plain relay instead of the plugin: same window, payload, QoS */
	size_t devices;
	uint64_t token_base;        /* token of device i: token_base + i */
	size_t conns;
	struct tp_conn *tc;
	uint64_t *sent_ns;          /* per device */
	uint64_t *rtt_ns;           /* per answered device, in answer order */
	bool *answered;
	size_t n_answered;
	size_t errors;              /* answers other than 2.01 */
	unsigned long skipped;
	int per_conn_window;
	bool barrier_done;
	double rate;                /* registrations per second, once measured */
};

/* Device `devices` is the barrier: its Register is answered once the core has handled
 * everything queued before it (the inbox is a FIFO). In a relay run, a device's requests
 * go to its connection's request topic and come back on the reply topic. */
static void tp_topic(const struct tp_run *t, size_t dev, char *buf, size_t size)
{
	if(t->relay) snprintf(buf, size, "bench/%s/req/%" PRIx64 "-%zu", t->o->tag, t->token_base >> 32, dev % t->conns);
	else if(dev == t->devices) snprintf(buf, size, "lwm2m/rd/%s-%" PRIx64 "-barrier", t->o->tag, t->token_base >> 32);
	else snprintf(buf, size, "lwm2m/rd/%s-%" PRIx64 "-%zu", t->o->tag, t->token_base >> 32, dev);
}

static void tp_reply_topic(const struct tp_run *t, size_t j, char *buf, size_t size)
{
	snprintf(buf, size, "bench/%s/rep/%" PRIx64 "-%zu", t->o->tag, t->token_base >> 32, j);
}

static void tp_on_msg(struct conn *c, const struct mosquitto_message *m)
{
	struct tp_conn *tc = c->role;
	struct tp_run *t = tc->run;
	struct parsed pm;
	size_t dev;

	/* The relay sends the Register back as it was: its token is the answer. */
	if(!parse_map(m->payload, (size_t)m->payloadlen, &pm) || (!pm.has_result && !t->relay) || !pm.has_token
			|| pm.token < t->token_base || pm.token - t->token_base > t->devices){
		t->skipped++;               /* echoes of our own Registers */
		return;
	}
	dev = (size_t)(pm.token - t->token_base);
	if(dev == t->devices){
		t->barrier_done = true;
		return;
	}
	if(t->answered[dev]){
		t->skipped++;
		return;
	}
	t->answered[dev] = true;
	t->rtt_ns[t->n_answered++] = now_ns() - t->sent_ns[dev];
	if(!t->relay && pm.result != 201) t->errors++;
	tc->outstanding--;
}

/* Publish Registers until this connection has its share of the window outstanding.
 * Outside any callback, so libmosquitto writes each at once. */
static bool tp_fill(struct tp_conn *tc)
{
	struct tp_run *t = tc->run;
	char topic[160];
	struct msg m;

	while(tc->outstanding < t->per_conn_window && tc->next < t->devices){
		size_t dev = tc->next;
		int rc;

		tp_topic(t, dev, topic, sizeof(topic));
		make_register(&m, t->token_base + dev);
		t->sent_ns[dev] = now_ns();
		rc = mosquitto_publish(tc->c.m, NULL, topic, (int)m.len, m.b, QOS, false);
		if(rc != MOSQ_ERR_SUCCESS){
			fprintf(stderr, "bench: publish failed: %s\n", mosquitto_strerror(rc));
			return false;
		}
		tc->outstanding++;
		tc->next += t->conns;
	}
	return true;
}

static bool add_topic(const struct tp_run *t, size_t dev, char **topics, size_t *n)
{
	topics[*n] = malloc(160);
	if(!topics[*n]) return false;
	tp_topic(t, dev, topics[*n], 160);
	(*n)++;
	return true;
}

/* Every device subscribes to its own topic; connection 0 also to the barrier's. */
static bool tp_subscribe(struct tp_run *t, size_t j)
{
	size_t n = 0, cap = t->devices / t->conns + 2;
	char **topics = calloc(cap, sizeof(char *));
	bool ok = topics != NULL;

	if(t->relay && ok){
		topics[0] = malloc(160);
		ok = topics[0] != NULL;
		if(ok) tp_reply_topic(t, j, topics[n++], 160);
	}
	for(size_t dev = j; ok && !t->relay && dev < t->devices; dev += t->conns) ok = add_topic(t, dev, topics, &n);
	if(ok && !t->relay && j == 0) ok = add_topic(t, t->devices, topics, &n);
	if(ok) ok = conn_subscribe(&t->tc[j].c, topics, n, 0);
	for(size_t i = 0; i < n; i++) free(topics[i]);
	free(topics);
	return ok;
}

/* Register the barrier device on connection 0 and wait for its answer. */
static bool tp_barrier(struct tp_run *t)
{
	uint64_t deadline = now_ns() + THROUGHPUT_TIMEOUT_NS;
	struct mosquitto *m = t->tc[0].c.m;
	char topic[160];
	struct msg msg;

	tp_topic(t, t->devices, topic, sizeof(topic));
	make_register(&msg, t->token_base + t->devices);
	if(mosquitto_publish(m, NULL, topic, (int)msg.len, msg.b, QOS, false) != MOSQ_ERR_SUCCESS) return false;
	while(!t->barrier_done){
		if(now_ns() > deadline || mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS){
			fprintf(stderr, "bench: no answer to the barrier Register\n");
			return false;
		}
	}
	return true;
}

/* Connect and subscribe every device of the run; the barrier waits for the core. */
static bool tp_prepare(struct tp_run *t, const struct opts *o, size_t devices, uint64_t token_base,
		bool relay)
{
	memset(t, 0, sizeof(*t));
	t->o = o;
	t->relay = relay;
	t->devices = devices;
	t->token_base = token_base;
	t->conns = (size_t)o->conns;
	t->per_conn_window = o->window / o->conns > 0 ? o->window / o->conns : 1;
	t->tc = calloc(t->conns, sizeof(*t->tc));
	t->sent_ns = calloc(devices ? devices : 1, sizeof(uint64_t));
	t->rtt_ns = calloc(devices ? devices : 1, sizeof(uint64_t));
	t->answered = calloc(devices ? devices : 1, sizeof(bool));
	if(!t->tc || !t->sent_ns || !t->rtt_ns || !t->answered) return false;
	for(size_t j = 0; j < t->conns; j++){
		char id[96];
		snprintf(id, sizeof(id), "%s-%" PRIx64 "-c%zu", o->tag, token_base >> 32, j);
		t->tc[j].run = t;
		t->tc[j].next = j;
		if(!conn_open(&t->tc[j].c, o->host, o->port, id, MQTT_PROTOCOL_V311)) return false;
		t->tc[j].c.role = &t->tc[j];
		t->tc[j].c.on_msg = tp_on_msg;
		if(!tp_subscribe(t, j)) return false;
	}
	return t->relay || tp_barrier(t);
}

static bool tp_pump(struct tp_run *t, uint64_t deadline)
{
	struct pollfd pfd[MAX_CONNS];
	int rc;

	for(size_t j = 0; j < t->conns; j++){
		if(!tp_fill(&t->tc[j])) return false;
		pfd[j].fd = mosquitto_socket(t->tc[j].c.m);
		pfd[j].events = POLLIN | (mosquitto_want_write(t->tc[j].c.m) ? POLLOUT : 0);
		pfd[j].revents = 0;
	}
	rc = poll(pfd, (nfds_t)t->conns, 100);
	if(rc < 0 && errno != EINTR) return false;
	if(now_ns() > deadline){
		fprintf(stderr, "bench: throughput run timed out (%zu of %zu answers)\n", t->n_answered, t->devices);
		return false;
	}
	for(size_t j = 0; j < t->conns; j++){
		struct mosquitto *m = t->tc[j].c.m;
		if(pfd[j].revents & (POLLIN | POLLERR | POLLHUP)){
			rc = mosquitto_loop_read(m, 1);
			if(rc != MOSQ_ERR_SUCCESS){
				fprintf(stderr, "bench: connection %zu: %s\n", j, mosquitto_strerror(rc));
				return false;
			}
		}
		if(pfd[j].revents & POLLOUT) mosquitto_loop_write(m, 1);
		mosquitto_loop_misc(m);
	}
	return true;
}

/* Every device registers, as fast as the window allows; the clock runs until the last
 * answer has arrived. */
static bool tp_measure(struct tp_run *t)
{
	uint64_t t0 = now_ns(), deadline = t0 + THROUGHPUT_TIMEOUT_NS;
	double cpu0 = thread_cpu_s(), secs;
	struct cpu_use before, after, used;
	struct summary s;

	memset(&used, 0, sizeof(used));
	cpu_read(t->o->broker_pid, t->o->echo_tid, &before);
	while(t->n_answered < t->devices){
		if(!tp_pump(t, deadline)) return false;
	}
	secs = (double)(now_ns() - t0) / 1e9;
	cpu_read(t->o->broker_pid, t->o->echo_tid, &after);
	cpu_add_delta(&used, &before, &after);
	t->rate = (double)t->devices / secs;
	s = summarize(t->rtt_ns, t->n_answered);
	printf("throughput %s devices %zu conns %zu window %d seconds %.3f per_s %.0f "
			"latency_median_us %.1f latency_p99_us %.1f errors %zu client_cpu_s %.3f\n",
			t->relay ? "relay " : "plugin", t->devices, t->conns, t->per_conn_window * (int)t->conns, secs, t->rate,
			s.median_us, s.p99_us, t->errors, thread_cpu_s() - cpu0);
	if(t->o->broker_pid > 0){
		printf("cpu_per_message_us %s devices %zu broker %.1f core %.1f echo %.1f\n", t->relay ? "relay " : "plugin",
				t->devices, (double)used.broker_ns / 1e3 / (double)t->devices,
				(double)used.core_ns / 1e3 / (double)t->devices, (double)used.responder_ns / 1e3 / (double)t->devices);
	}
	return t->errors == 0;
}

static void tp_close(struct tp_run *t)
{
	for(size_t j = 0; t->tc && j < t->conns; j++) conn_close(&t->tc[j].c);
	free(t->tc);
	free(t->sent_ns);
	free(t->rtt_ns);
	free(t->answered);
	t->tc = NULL;
	t->sent_ns = t->rtt_ns = NULL;
	t->answered = NULL;
}

/* ---- main ---- */

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s -p PORT [-H HOST] [-n ROUND_TRIPS] [-w WARMUP] [-d DEVICES[,DEVICES...]]\n"
		"          [-c CONNECTIONS] [-W WINDOW] [-r REPEATS] [-t TAG] [-E CPU] [-B PID] [-L] [-s] [-v]\n"
		"  needs a broker with the LwM2M plugin (plugin_opt_identity any, plugin_opt_register_rate 0)\n"
		"  defaults: -H 127.0.0.1 -n 2000 -w 200 -d 1000,10000 -c 4 -W 128 -r 3 -t bench<pid>\n"
		"  -L: the device subscribes with MQTT 5 no-local (no echo of its own requests)\n"
		"  -v: also print a histogram of each round-trip kind\n"
		"  -E: run the relay's echo client on this CPU (put it where the broker runs)\n"
		"  -B: the broker's process id: also print the CPU time it (and the echo client)\n"
		"      spent per message\n"
		"  -s: each throughput run's devices connect and subscribe just before it, while the\n"
		"      registrations of the earlier runs exist (prints the time the core took for it)\n", argv0);
}

static bool parse_devices(struct opts *o, char *s)
{
	o->n_devices = 0;
	for(char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")){
		if(o->n_devices == sizeof(o->devices) / sizeof(o->devices[0])) return false;
		o->devices[o->n_devices++] = (size_t)strtoul(tok, NULL, 10);
	}
	return true;
}

static bool parse_args(struct opts *o, int argc, char **argv)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->host = "127.0.0.1";
	o->n = 2000;
	o->warmup = 200;
	o->devices[0] = 1000;
	o->devices[1] = 10000;
	o->n_devices = 2;
	o->conns = 4;
	o->window = 128;
	o->repeats = 3;
	o->echo_cpu = -1;
	snprintf(o->tag, sizeof(o->tag), "bench%ld", (long)getpid());
	while((ch = getopt(argc, argv, "H:p:n:w:d:c:W:r:t:E:B:Lsvh")) != -1){
		switch(ch){
			case 'H': o->host = optarg; break;
			case 'p': o->port = atoi(optarg); break;
			case 'n': o->n = (size_t)strtoul(optarg, NULL, 10); break;
			case 'w': o->warmup = (size_t)strtoul(optarg, NULL, 10); break;
			case 'd': if(!parse_devices(o, optarg)) return false; break;
			case 'c': o->conns = atoi(optarg); break;
			case 'W': o->window = atoi(optarg); break;
			case 'r': o->repeats = atoi(optarg); break;
			case 't': snprintf(o->tag, sizeof(o->tag), "%s", optarg); break;
			case 'L': o->no_local = true; break;
			case 'v': o->histogram = true; break;
			case 's': o->late_subscribe = true; break;
			case 'E': o->echo_cpu = atoi(optarg); break;
			case 'B': o->broker_pid = atoi(optarg); break;
			default: return false;
		}
	}
	return o->port > 0 && o->conns > 0 && o->conns <= MAX_CONNS && o->window > 0 && o->repeats > 0
		&& o->repeats <= 9;
}

static bool setup_relay(const struct opts *o, struct rtt *r, struct echo_thread *et)
{
	struct echo *e = &et->echo;
	char id[96], req_all[160];
	char *topics[2];

	memset(r, 0, sizeof(*r));
	snprintf(r->dev_topic, sizeof(r->dev_topic), "lwm2m/rd/%s-rtt", o->tag);
	snprintf(r->req_topic, sizeof(r->req_topic), "bench/%s/req", o->tag);
	snprintf(r->rep_topic, sizeof(r->rep_topic), "bench/%s/rep", o->tag);
	e->req_at = strlen(r->req_topic) - 3;
	et->cpu = o->echo_cpu;

	snprintf(id, sizeof(id), "%s-echo", o->tag);
	if(!conn_open(&e->c, o->host, o->port, id, MQTT_PROTOCOL_V311)) return false;
	e->c.role = e;
	e->c.on_msg = echo_on_msg;
	e->c.flush = echo_flush;
	snprintf(req_all, sizeof(req_all), "%s/+", r->req_topic);   /* throughput runs */
	topics[0] = r->req_topic;
	topics[1] = req_all;
	if(!conn_subscribe(&e->c, topics, 2, 0)) return false;

	snprintf(id, sizeof(id), "%s-rtt", o->tag);
	/* -L: MQTT 5 with no-local, so the device does not get its own requests back. */
	if(!conn_open(&r->c, o->host, o->port, id, o->no_local ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311)){
		return false;
	}
	r->c.role = r;
	r->c.on_msg = rtt_on_msg;
	topics[0] = r->dev_topic;   /* a device subscribes to its own topic first */
	topics[1] = r->rep_topic;
	return conn_subscribe(&r->c, topics, 2, o->no_local ? MQTT_SUB_OPT_NO_LOCAL : 0);
}

static void print_rtt(const struct opts *o, const struct summary s[RTT_KINDS])
{
	for(int k = 0; k < RTT_KINDS; k++){
		printf("rtt %-8s n %zu median_us %.1f p90_us %.1f p99_us %.1f max_us %.1f\n", rtt_names[k],
				o->n, s[k].median_us, s[k].p90_us, s[k].p99_us, s[k].max_us);
	}
	printf("ratio register/relay median %.2f p99 %.2f\n", s[RTT_REGISTER].median_us / s[RTT_RELAY].median_us,
			s[RTT_REGISTER].p99_us / s[RTT_RELAY].p99_us);
	printf("ratio update/relay median %.2f p99 %.2f\n", s[RTT_UPDATE].median_us / s[RTT_RELAY].median_us,
			s[RTT_UPDATE].p99_us / s[RTT_RELAY].p99_us);
}

/* Median of n rates (sorts them). */
static double print_rate_summary(const char *what, size_t devices, double *rates, int n)
{
	qsort(rates, (size_t)n, sizeof(*rates), cmp_double);
	printf("%s devices %zu median %.0f min %.0f max %.0f (runs %d)\n", what, devices,
			rates[n / 2], rates[0], rates[n - 1], n);
	return rates[n / 2];
}

int main(int argc, char **argv)
{
	struct opts o;
	struct rtt *r = calloc(1, sizeof(*r));
	struct echo_thread *e = calloc(1, sizeof(*e));
	struct tp_run *runs;
	struct summary s[RTT_KINDS];
	size_t n_runs;
	bool ok, echo_started = false;
	uint64_t sent = 0, t_setup, registered = 0;

	if(!r || !e || !parse_args(&o, argc, argv)){
		usage(argv[0]);
		free(r);
		free(e);
		return 2;
	}
	n_runs = o.n_devices * (size_t)o.repeats * 2;       /* plugin and relay runs alternate */
	runs = calloc(n_runs ? n_runs : 1, sizeof(*runs));
	mosquitto_lib_init();
	ok = runs != NULL && setup_relay(&o, r, e);

	t_setup = now_ns();
	for(size_t i = 0; ok && !o.late_subscribe && i < n_runs; i++){
		bool relay = i % 2 == 1;
		ok = tp_prepare(&runs[i], &o, o.devices[i / (2 * (size_t)o.repeats)], (uint64_t)(i + 1) << 32, relay);
		if(!relay) sent += 1;                           /* its barrier Register */
	}
	if(ok && n_runs && !o.late_subscribe){
		size_t subs = 0;
		for(size_t i = 0; i < n_runs; i++) subs += runs[i].relay ? (size_t)o.conns : runs[i].devices + 1;
		printf("setup connections %zu subscriptions %zu seconds %.3f (before any measurement)\n",
				n_runs * (size_t)o.conns + 2, subs + 3, (double)(now_ns() - t_setup) / 1e9);
	}

	if(ok){
		ok = pthread_create(&e->thread, NULL, echo_main, e) == 0;
		echo_started = ok;
		while(ok && atomic_load(&e->tid) == 0) usleep(1000);
		o.echo_tid = atomic_load(&e->tid);
	}
	if(ok && o.n){
		ok = run_rtt(&o, r, s);
		if(ok) print_rtt(&o, s);
		if(ok) sent += 2 * (o.warmup + o.n);            /* the Registers and Updates */
		if(ok) registered = 1;
		printf("rtt skipped_messages %lu (echoes of the device's own requests)\n", r->skipped);
	}
	conn_close(&r->c);

	for(size_t i = 0; ok && i < n_runs; i++){
		size_t first = i + 1 - 2 * (size_t)o.repeats;
		if(o.late_subscribe){
			bool relay = i % 2 == 1;
			t_setup = now_ns();
			ok = tp_prepare(&runs[i], &o, o.devices[i / (2 * (size_t)o.repeats)], (uint64_t)(i + 1) << 32, relay);
			if(!relay) sent += 1;
			if(ok && !relay){
				printf("setup devices %zu subscribe_and_drain_s %.3f (with %" PRIu64 " registrations present)\n",
						runs[i].devices, (double)(now_ns() - t_setup) / 1e9, registered);
			}
			if(!ok) break;
		}
		ok = tp_measure(&runs[i]);
		if(ok && !runs[i].relay) registered += runs[i].devices + 1;
		if(ok && !runs[i].relay) sent += runs[i].devices;
		if(ok && (i + 1) % (2 * (size_t)o.repeats) == 0){
			double rates[9], plugin, relay;
			for(int k = 0; k < o.repeats; k++) rates[k] = runs[first + 2 * (size_t)k].rate;
			plugin = print_rate_summary("registrations_per_s", runs[i].devices, rates, o.repeats);
			for(int k = 0; k < o.repeats; k++) rates[k] = runs[first + 2 * (size_t)k + 1].rate;
			relay = print_rate_summary("relay_messages_per_s", runs[i].devices, rates, o.repeats);
			printf("ratio throughput plugin/relay devices %zu %.2f\n", runs[i].devices, plugin / relay);
		}
	}
	if(echo_started){
		atomic_store(&e->stop, true);
		pthread_join(e->thread, NULL);
		if(e->error || e->echo.overflow){
			fprintf(stderr, "bench: echo client: error %d, overflow %lu\n", e->error, e->echo.overflow);
		}
	}
	conn_close(&e->echo.c);
	for(size_t i = 0; runs && i < n_runs; i++) tp_close(&runs[i]);
	/* The script divides the core's busy time by this. */
	printf("lwm2m_messages_sent %" PRIu64 "\n", sent);
	fflush(stdout);
	mosquitto_lib_cleanup();
	free(runs);
	free(r);
	free(e);
	return ok ? 0 : 1;
}
