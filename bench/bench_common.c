/* Shared by the MQTT benchmarks; see bench_common.h. */
#define _GNU_SOURCE             /* pthread_setaffinity_np, RUSAGE_THREAD */
#include "bench_common.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define LIFETIME_S 3600
#define SUB_BATCH 200
#define BLOCK 100                   /* round trips per interleaved block */

/* ---- clocks and CPU time ---- */

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Shows whether the load generator was the limit. */
double thread_cpu_s(void)
{
	struct rusage ru;
	if(getrusage(RUSAGE_THREAD, &ru) != 0) return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* schedstat: time on the CPU, time waiting on a run queue (ns). */
static void schedstat_ns(const char *path, uint64_t *run, uint64_t *wait)
{
	FILE *f = fopen(path, "r");
	unsigned long long r = 0, w = 0;

	if(f && fscanf(f, "%llu %llu", &r, &w) != 2) r = w = 0;
	if(f) fclose(f);
	*run = r;
	*wait = w;
}

void cpu_read(int broker_pid, int responder_tid, struct cpu_use *u)
{
	char path[96];
	DIR *d;
	struct dirent *de;

	memset(u, 0, sizeof(*u));
	if(broker_pid > 0){
		snprintf(path, sizeof(path), "/proc/%d/task", broker_pid);
		d = opendir(path);
		while(d && (de = readdir(d)) != NULL){
			int tid = atoi(de->d_name);
			uint64_t ns, wait;
			if(tid <= 0) continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", broker_pid, tid);
			schedstat_ns(path, &ns, &wait);
			if(tid == broker_pid){
				u->broker_ns += ns;
				u->broker_wait_ns += wait;
			}else{
				u->core_ns += ns;
				u->core_wait_ns += wait;
			}
		}
		if(d) closedir(d);
	}
	if(responder_tid > 0){
		uint64_t wait;
		snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", responder_tid);
		schedstat_ns(path, &u->responder_ns, &wait);
	}
}

void cpu_add_delta(struct cpu_use *acc, const struct cpu_use *before, const struct cpu_use *after)
{
	acc->broker_ns += after->broker_ns - before->broker_ns;
	acc->core_ns += after->core_ns - before->core_ns;
	acc->responder_ns += after->responder_ns - before->responder_ns;
	acc->broker_wait_ns += after->broker_wait_ns - before->broker_wait_ns;
	acc->core_wait_ns += after->core_wait_ns - before->core_wait_ns;
}

void pin_self(int cpu, const char *who)
{
	cpu_set_t set;

	if(cpu < 0) return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if(pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0){
		fprintf(stderr, "bench: cannot move the %s to CPU %d\n", who, cpu);
	}
}

/* ---- the few CBOR bits the binding's messages need ---- */

void put_head(struct msg *m, uint8_t major, uint64_t v)
{
	major = (uint8_t)(major << 5);
	if(v < 24){
		m->b[m->len++] = (uint8_t)(major | v);
	}else if(v <= 0xff){
		m->b[m->len++] = major | 24;
		m->b[m->len++] = (uint8_t)v;
	}else if(v <= 0xffff){
		m->b[m->len++] = major | 25;
		m->b[m->len++] = (uint8_t)(v >> 8);
		m->b[m->len++] = (uint8_t)v;
	}else{
		m->b[m->len++] = major | 27;
		for(int i = 7; i >= 0; i--) m->b[m->len++] = (uint8_t)(v >> (8 * i));
	}
}

void put_token(struct msg *m, uint64_t token)
{
	m->b[m->len++] = 27;
	for(int i = 7; i >= 0; i--) m->b[m->len++] = (uint8_t)(token >> (8 * i));
}

void put_string(struct msg *m, uint8_t major, const char *s)
{
	size_t n = strlen(s);
	put_head(m, major, n);
	memcpy(m->b + m->len, s, n);
	m->len += n;
}

void make_register(struct msg *m, uint64_t token)
{
	m->len = 0;
	put_head(m, 5, 6);
	put_head(m, 0, 1); put_head(m, 0, 6);
	put_head(m, 0, 2); put_token(m, token);
	put_head(m, 0, 8); put_head(m, 0, LIFETIME_S);
	put_head(m, 0, 9); put_string(m, 3, "1.2");
	put_head(m, 0, 10); put_string(m, 3, "M");
	put_head(m, 0, 7); put_string(m, 3, "</1/0>,</3/0>");
}

void make_read(struct msg *m, uint64_t token)
{
	m->len = 0;
	put_head(m, 5, 3);
	put_head(m, 0, 1); put_head(m, 0, 9);
	put_head(m, 0, 2); put_token(m, token);
	put_head(m, 0, 5); put_string(m, 3, "/3/0/0");
}

void make_answer(struct msg *m, uint64_t result, uint64_t token, const char *value)
{
	m->len = 0;
	put_head(m, 5, value ? 4 : 2);
	put_head(m, 0, 18); put_head(m, 0, result);
	put_head(m, 0, 2); put_token(m, token);
	if(value){
		put_head(m, 0, 19); put_head(m, 0, 0);
		put_head(m, 0, 7); put_string(m, 2, value);
	}
}

void make_notify(struct msg *m, uint64_t token, const char *value)
{
	m->len = 0;
	put_head(m, 5, 4);
	put_head(m, 0, 1); put_head(m, 0, 23);
	put_head(m, 0, 2); put_token(m, token);
	put_head(m, 0, 19); put_head(m, 0, 0);
	put_head(m, 0, 7); put_string(m, 2, value);
}

static bool get_head(const uint8_t **p, const uint8_t *end, uint8_t *major, uint64_t *v)
{
	uint8_t ai;
	int n;

	if(*p >= end) return false;
	*major = (uint8_t)(**p >> 5);
	ai = **p & 31;
	(*p)++;
	if(ai < 24){
		*v = ai;
		return true;
	}
	if(ai > 27) return false;               /* indefinite lengths: not in these messages */
	n = 1 << (ai - 24);
	if(end - *p < n) return false;
	*v = 0;
	for(int i = 0; i < n; i++) *v = (*v << 8) | (*p)[i];
	*p += n;
	return true;
}

bool parse_map(const void *payload, size_t len, struct parsed *out)
{
	const uint8_t *p = payload, *end = p + len;
	uint8_t major;
	uint64_t n, key, v;

	memset(out, 0, sizeof(*out));
	if(!get_head(&p, end, &major, &n) || major != 5) return false;
	for(uint64_t i = 0; i < n; i++){
		if(!get_head(&p, end, &major, &key) || major != 0) return false;
		if(!get_head(&p, end, &major, &v)) return false;
		if(major == 2 || major == 3){
			if(v > (uint64_t)(end - p)) return false;
			p += v;
		}else if(major == 0){
			if(key == 1){ out->has_op = true; out->op = v; }
			if(key == 18){ out->has_result = true; out->result = v; }
			if(key == 2){ out->has_token = true; out->token = v; }
		}else if(major != 1 && major != 7){
			return false;
		}
	}
	return true;
}

/* ---- MQTT connections ---- */

static void cb_connect(struct mosquitto *m, void *ud, int rc)
{
	struct conn *c = ud;
	(void)m;
	c->connack = rc;
	c->connected = rc == 0;
}

static void cb_subscribe(struct mosquitto *m, void *ud, int mid, int n, const int *granted)
{
	struct conn *c = ud;
	(void)m;
	(void)mid;
	for(int i = 0; i < n; i++){
		if(granted[i] > 2) fprintf(stderr, "bench: a subscription was refused by the broker\n");
	}
	c->subacks++;
}

static void cb_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
	struct conn *c = ud;
	(void)m;
	if(c->on_msg) c->on_msg(c, msg);
}

bool conn_open(struct conn *c, const char *host, int port, const char *id, int protocol)
{
	uint64_t deadline = now_ns() + CONNECT_TIMEOUT_NS;
	int rc;

	memset(c, 0, sizeof(*c));
	c->connack = -1;
	c->m = mosquitto_new(id, true, c);
	if(!c->m){
		fprintf(stderr, "bench: mosquitto_new failed\n");
		return false;
	}
	mosquitto_int_option(c->m, MOSQ_OPT_PROTOCOL_VERSION, protocol);
	mosquitto_int_option(c->m, MOSQ_OPT_TCP_NODELAY, 1);
	/* Outgoing QoS 1 messages in flight: no client-side cap below the benchmark's window. */
	mosquitto_max_inflight_messages_set(c->m, 0);
	mosquitto_connect_callback_set(c->m, cb_connect);
	mosquitto_subscribe_callback_set(c->m, cb_subscribe);
	mosquitto_message_callback_set(c->m, cb_message);
	rc = mosquitto_connect(c->m, host, port, 60);
	if(rc != MOSQ_ERR_SUCCESS){
		fprintf(stderr, "bench: cannot connect to %s:%d: %s\n", host, port, mosquitto_strerror(rc));
		return false;
	}
	while(!c->connected && c->connack <= 0 && now_ns() < deadline){
		rc = mosquitto_loop(c->m, 100, 1);
		if(rc != MOSQ_ERR_SUCCESS) break;
		if(c->connack > 0) break;
	}
	if(!c->connected){
		fprintf(stderr, "bench: client '%s': no CONNACK or refused (%d)\n", id, c->connack);
		return false;
	}
	return true;
}

void conn_close(struct conn *c)
{
	if(!c->m) return;
	mosquitto_disconnect(c->m);
	mosquitto_destroy(c->m);
	c->m = NULL;
}

bool conn_subscribe(struct conn *c, char *const *topics, size_t n, int sub_opts)
{
	uint64_t deadline = now_ns() + CONNECT_TIMEOUT_NS + n * 200000ull;
	int want = 0, rc;

	c->subacks = 0;
	for(size_t i = 0; i < n; i += SUB_BATCH){
		int count = (int)(n - i < SUB_BATCH ? n - i : SUB_BATCH);
		rc = mosquitto_subscribe_multiple(c->m, NULL, count, topics + i, QOS, sub_opts, NULL);
		if(rc != MOSQ_ERR_SUCCESS){
			fprintf(stderr, "bench: subscribe failed: %s\n", mosquitto_strerror(rc));
			return false;
		}
		want++;
	}
	while(c->subacks < want){
		if(now_ns() > deadline || mosquitto_loop(c->m, 100, 1) != MOSQ_ERR_SUCCESS){
			fprintf(stderr, "bench: no SUBACK (%d of %d)\n", c->subacks, want);
			return false;
		}
	}
	return true;
}

/* ---- the echo client of the plain relay ---- */

void echo_on_msg(struct conn *c, const struct mosquitto_message *m)
{
	struct echo *e = c->role;
	struct echo_slot *s;

	if(e->tail - e->head >= ECHO_SLOTS || m->payloadlen > MAX_MSG || strlen(m->topic) >= sizeof(s->topic)
			|| strlen(m->topic) < e->req_at + 3){
		e->overflow++;
		return;
	}
	s = &e->slot[e->tail++ % ECHO_SLOTS];
	memcpy(s->m.b, m->payload, (size_t)m->payloadlen);
	s->m.len = (size_t)m->payloadlen;
	strcpy(s->topic, m->topic);
	memcpy(s->topic + e->req_at, "rep", 3);
}

void echo_flush(struct conn *c)
{
	struct echo *e = c->role;

	while(e->head != e->tail){
		struct echo_slot *s = &e->slot[e->head++ % ECHO_SLOTS];
		mosquitto_publish(c->m, NULL, s->topic, (int)s->m.len, s->m.b, QOS, false);
	}
}

/* ---- round trips and statistics ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct summary summarize(uint64_t *v, size_t n)
{
	struct summary s = { 0, 0, 0, 0 };
	if(n == 0) return s;
	qsort(v, n, sizeof(*v), cmp_u64);
	s.median_us = (n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2) / 1e3;
	s.p90_us = (double)v[(n * 90 + 99) / 100 - 1] / 1e3;
	s.p99_us = (double)v[(n * 99 + 99) / 100 - 1] / 1e3;
	s.max_us = (double)v[n - 1] / 1e3;
	return s;
}

void print_histogram(const char *name, const uint64_t *v, size_t n, unsigned bin_us)
{
	enum { BINS = 60 };
	size_t count[BINS + 1] = { 0 };

	for(size_t i = 0; i < n; i++){
		size_t b = (size_t)(v[i] / (bin_us * 1000ull));
		count[b < BINS ? b : BINS]++;
	}
	printf("histogram %s:", name);
	for(size_t b = 0; b <= BINS; b++){
		if(count[b] * 100 < n) continue;
		if(b < BINS) printf(" %zu-%zu:%zu", b * bin_us, b * bin_us + bin_us, count[b]);
		else printf(" >=%u:%zu", BINS * bin_us, count[b]);
	}
	printf("\n");
}

bool rtt_measure(struct rtt_samples *s, int kinds, size_t n, size_t warmup, int broker_pid, int responder_tid,
		rtt_once_fn once, void *ctx)
{
	struct cpu_use before, after;
	uint64_t token = 1;
	bool ok = kinds > 0 && kinds <= RTT_MAX_KINDS;

	memset(s, 0, sizeof(*s));
	s->kinds = ok ? kinds : 0;
	for(int k = 0; k < s->kinds; k++){
		s->v[k] = calloc(n ? n : 1, sizeof(uint64_t));
		if(!s->v[k]) ok = false;
	}
	for(int k = 0; ok && k < kinds; k++){
		for(size_t i = 0; ok && i < warmup; i++) ok = once(ctx, k, token++) != 0;
	}
	while(ok && s->count[0] < n){
		for(int k = 0; ok && k < kinds; k++){
			cpu_read(broker_pid, responder_tid, &before);
			for(size_t i = 0; ok && i < BLOCK && s->count[k] < n; i++){
				uint64_t t = once(ctx, k, token++);
				ok = t != 0;
				s->v[k][s->count[k]++] = t;
			}
			cpu_read(broker_pid, responder_tid, &after);
			cpu_add_delta(&s->cpu[k], &before, &after);
		}
	}
	return ok;
}

void rtt_finish(struct rtt_samples *s, bool ok, const char *const *names, unsigned histogram_bin_us,
		struct summary *out)
{
	for(int k = 0; k < s->kinds; k++){
		if(ok) out[k] = summarize(s->v[k], s->count[k]);
		if(ok && histogram_bin_us) print_histogram(names[k], s->v[k], s->count[k], histogram_bin_us);
		free(s->v[k]);
		s->v[k] = NULL;
	}
}
