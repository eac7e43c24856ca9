/* Benchmark of the LwM2M HTTP binding listener (plugin_opt_http_binding_listen) against a
 * running broker with the plugin loaded (bench/run_http_binding.sh starts one). Prints
 * numbers only.
 *
 * Every connection is one device, <prefix><i>, on its own keep-alive HTTP/1.1 connection
 * with one request outstanding (closed loop: the next request leaves as soon as the answer
 * to the previous one has arrived), all connections at once. One plain request on each
 * first makes the listener accept every connection before anything is measured.
 *  1. Register: POST /rd?ep=<prefix><i>&lt=..&lwm2m=1.2&b=H with the body </3/0>
 *     (application/link-format); the answer must be 201 with Location /rd/{id}.
 *  2. Update: POST /rd/{id} without body (204), for a fixed time; in alternation with it,
 *     on the same connections, a plain request that the listener answers without LwM2M
 *     processing (GET /nowhere: 404 from the path alone). Both in the same run, so that
 *     whatever else the machine does hits them alike.
 *
 * Times come from CLOCK_MONOTONIC. */
#define _GNU_SOURCE             /* memmem, strncasecmp */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_common.h"

#define MAX_DEVICES 1000
#define MAX_RUNS 9
#define REQ_MAX 512
#define RESP_MAX (64 * 1024)    /* the listener's answers are a few hundred bytes */
#define REG_ID_LEN 32
#define STALL_TIMEOUT_NS (10ull * 1000000000ull)   /* no answer at all for this long: give up */

enum kind { K_REGISTER, K_UPDATE, K_PLAIN, K_COUNT };

static const char *const kind_names[K_COUNT] = { "register", "update", "plain" };

struct opts {
	const char *host;
	int port;
	size_t devices;             /* = connections */
	unsigned duration_ms, warmup_ms;
	int runs;
	unsigned registers;         /* Registers per device */
	unsigned lifetime;
	const char *prefix;         /* endpoint names: prefix + index */
	char plain_method[16];
	char plain_path[256];
	int plain_status;           /* what the plain request must be answered with */
	int broker_pid;
	bool histogram;
};

/* One device: its connection, its requests, what it has received. */
struct dev {
	int fd;
	char req[K_COUNT][REQ_MAX];
	size_t req_len[K_COUNT];
	char in[RESP_MAX];          /* received, not yet consumed */
	size_t len;
	char reg_id[REG_ID_LEN + 1];
	uint64_t t_sent;
	unsigned sent;              /* requests sent in the current phase */
	bool busy;                  /* a request is outstanding */
};

struct samples {
	uint64_t *v;
	size_t n, cap;
};

struct phase_result {
	uint64_t answered, wrong;
	double seconds;             /* first request sent .. last answer received */
	double rate;
	double client_cpu_s;        /* the benchmark's thread */
	double client_wait_s;       /* ... ready to run but waiting for a CPU */
	struct cpu_use cpu;
};

struct bench {
	const struct opts *o;
	struct dev *devs;
	struct pollfd *pfd;
	char host_header[80];
};

/* ---- samples ---- */

static bool samples_push(struct samples *s, uint64_t v)
{
	if(s->n == s->cap){
		size_t cap = s->cap ? s->cap * 2 : 65536;
		uint64_t *nv = realloc(s->v, cap * sizeof(*nv));
		if(!nv) return false;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	return true;
}

static void print_summary(const char *what, const char *name, struct samples *s, bool histogram)
{
	struct summary sum;

	if(histogram && s->n) print_histogram(name, s->v, s->n, 50);
	sum = summarize(s->v, s->n);
	printf("rtt %-8s %s n %zu median_us %.1f p90_us %.1f p99_us %.1f max_us %.1f\n", name, what, s->n,
			sum.median_us, sum.p90_us, sum.p99_us, sum.max_us);
}

/* CPU time and run-queue wait of the calling thread, in ns (zeros if unreadable). */
static void self_schedstat(uint64_t *cpu_ns, uint64_t *wait_ns)
{
	FILE *f = fopen("/proc/thread-self/schedstat", "r");
	unsigned long long cpu = 0, wait = 0;

	if(f){
		if(fscanf(f, "%llu %llu", &cpu, &wait) != 2) cpu = wait = 0;
		fclose(f);
	}
	*cpu_ns = cpu;
	*wait_ns = wait;
}

/* ---- requests ---- */

static bool dev_set_request(struct dev *d, enum kind k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool dev_set_request(struct dev *d, enum kind k, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(d->req[k], sizeof(d->req[k]), fmt, ap);
	va_end(ap);
	if(n < 0 || (size_t)n >= sizeof(d->req[k])) return false;
	d->req_len[k] = (size_t)n;
	return true;
}

static bool dev_build_requests(struct bench *b, struct dev *d, size_t index)
{
	const struct opts *o = b->o;
	static const char objects[] = "</3/0>";

	return dev_set_request(d, K_REGISTER, "POST /rd?ep=%s%zu&lt=%u&lwm2m=1.2&b=H HTTP/1.1\r\nHost: %s\r\n"
				"Content-Type: application/link-format\r\nContent-Length: %zu\r\n\r\n%s",
				o->prefix, index, o->lifetime, b->host_header, strlen(objects), objects)
		&& dev_set_request(d, K_PLAIN, "%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", o->plain_method, o->plain_path,
				b->host_header, strcmp(o->plain_method, "GET") ? "Content-Length: 0\r\n" : "");
}

/* The Update goes to the registration the last Register created. */
static bool dev_set_update(struct bench *b, struct dev *d, const char *location, size_t len)
{
	if(len != 4 + REG_ID_LEN || memcmp(location, "/rd/", 4)) return false;
	for(size_t i = 4; i < len; i++){
		char c = location[i];
		if(!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
	}
	memcpy(d->reg_id, location + 4, REG_ID_LEN);
	d->reg_id[REG_ID_LEN] = '\0';
	return dev_set_request(d, K_UPDATE, "POST /rd/%s HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\n\r\n",
			d->reg_id, b->host_header);
}

/* ---- connections ---- */

static int connect_to(const char *host, int port)
{
	struct addrinfo hints, *res = NULL;
	char service[16];
	int one = 1, fd, fl;

	snprintf(service, sizeof(service), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if(getaddrinfo(host, service, &hints, &res) != 0 || !res){
		fprintf(stderr, "bench: cannot resolve %s\n", host);
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if(fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0){
		fprintf(stderr, "bench: cannot connect to %s:%d: %s\n", host, port, strerror(errno));
		if(fd >= 0) close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	if(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0
			|| (fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0){
		fprintf(stderr, "bench: socket options: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static bool write_all(int fd, const char *p, size_t n)
{
	while(n){
		ssize_t w = write(fd, p, n);
		if(w < 0 && errno == EAGAIN){
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			if(poll(&pfd, 1, 1000) < 0 && errno != EINTR) return false;
			continue;
		}
		if(w < 0 && errno == EINTR) continue;
		if(w <= 0) return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static bool dev_send(struct dev *d, enum kind k)
{
	d->t_sent = now_ns();
	d->busy = true;
	d->sent++;
	if(!write_all(d->fd, d->req[k], d->req_len[k])){
		fprintf(stderr, "bench: write: %s\n", strerror(errno));
		return false;
	}
	return true;
}

/* ---- answers ---- */

struct answer {
	int status;
	const char *location;
	size_t location_len;
	const char *body;
	size_t body_len;
	size_t total;               /* bytes of the whole answer */
	bool closes;                /* Connection: close */
};

/* A header's value in the header block [p, end), or NULL. */
static const char *header_value(const char *p, const char *end, const char *name, size_t *len)
{
	size_t nl = strlen(name);

	while(p < end){
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if(!eol) eol = end;
		if((size_t)(eol - p) > nl && p[nl] == ':' && !strncasecmp(p, name, nl)){
			p += nl + 1;
			while(p < eol && (*p == ' ' || *p == '\t')) p++;
			*len = (size_t)(eol - p);
			return p;
		}
		p = eol + 2;
	}
	return NULL;
}

/* 1: a whole answer is in d->in; 0: not yet; -1: malformed, or framed in a way this client
 * does not read (chunked, or delimited by closing the connection). */
static int parse_answer(const struct dev *d, struct answer *a)
{
	const char *end = memmem(d->in, d->len, "\r\n\r\n", 4), *cl;
	size_t hdr, n = 0, vlen;
	char num[24];

	if(!end) return d->len >= sizeof(d->in) ? -1 : 0;
	hdr = (size_t)(end - d->in) + 4;
	if(hdr < 16 || strncmp(d->in, "HTTP/1.", 7) || d->in[8] != ' ') return -1;
	memset(a, 0, sizeof(*a));
	a->status = atoi(d->in + 9);
	cl = header_value(d->in, end, "Content-Length", &vlen);
	if(cl){
		if(vlen == 0 || vlen >= sizeof(num)) return -1;
		memcpy(num, cl, vlen);
		num[vlen] = '\0';
		n = (size_t)strtoull(num, NULL, 10);
	}else if(a->status != 204 && a->status != 304 && a->status >= 200){
		return -1;
	}
	if(n > sizeof(d->in) - hdr) return -1;
	if(d->len < hdr + n) return 0;
	a->location = header_value(d->in, end, "Location", &a->location_len);
	cl = header_value(d->in, end, "Connection", &vlen);
	a->closes = cl && vlen == 5 && !strncasecmp(cl, "close", 5);
	a->body = d->in + hdr;
	a->body_len = n;
	a->total = hdr + n;
	return 1;
}

static void dev_consume(struct dev *d, size_t n)
{
	memmove(d->in, d->in + n, d->len - n);
	d->len -= n;
}

/* Counts in *wrong an answer that is not the one kind k must get, and shows the first few. */
static void check_answer(struct bench *b, struct dev *d, enum kind k, const struct answer *a, uint64_t *wrong)
{
	static const int expected[K_COUNT] = { 201, 204, 0 };
	int want = k == K_PLAIN ? b->o->plain_status : expected[k];
	bool ok = a->status == want && !a->closes;

	if(ok && k == K_REGISTER) ok = a->location && dev_set_update(b, d, a->location, a->location_len);
	if(ok) return;
	if(*wrong < 5){
		fprintf(stderr, "bench: %s of %s%zu answered %d%s (expected %d): %.*s\n", kind_names[k], b->o->prefix,
				(size_t)(d - b->devs), a->status, a->closes ? ", connection closing" : "", want,
				(int)(a->body_len > 200 ? 200 : a->body_len), a->body);
	}
	(*wrong)++;
}

/* ---- one phase: every device sends requests of one kind ---- */

/* Reads what arrived for d and handles its answer: 1 when an answer is complete, 0 when
 * none is yet, -1 on a broken connection or a malformed answer. */
static int dev_receive(struct bench *b, struct dev *d, enum kind k, struct samples *s, struct phase_result *res,
		uint64_t *t_last)
{
	struct answer a;
	ssize_t r;
	uint64_t t;
	int rc;

	do r = read(d->fd, d->in + d->len, sizeof(d->in) - d->len); while(r < 0 && errno == EINTR);
	if(r < 0 && errno == EAGAIN) return 0;
	if(r <= 0){
		fprintf(stderr, "bench: %s%zu: connection %s\n", b->o->prefix, (size_t)(d - b->devs),
				r == 0 ? "closed by the server" : strerror(errno));
		return -1;
	}
	t = now_ns();
	d->len += (size_t)r;
	rc = parse_answer(d, &a);
	if(rc < 0 || (rc > 0 && !d->busy)){
		fprintf(stderr, "bench: %s%zu: %s\n", b->o->prefix, (size_t)(d - b->devs),
				rc < 0 ? "malformed answer" : "an answer to no request");
		return -1;
	}
	if(rc == 0) return 0;
	d->busy = false;
	*t_last = t;
	res->answered++;
	check_answer(b, d, k, &a, &res->wrong);
	dev_consume(d, a.total);
	if(d->len){
		fprintf(stderr, "bench: %s%zu: bytes after the answer\n", b->o->prefix, (size_t)(d - b->devs));
		return -1;
	}
	return !s || samples_push(s, t - d->t_sent) ? 1 : -1;
}

/* Every device sends a request of kind k, and another as soon as each answer arrives,
 * until duration_ns has passed (0: no time limit) or it has sent per_dev of them (0: no
 * count limit); then the answers still outstanding are waited for. RTTs go to s (NULL:
 * warm-up, not kept). */
static bool run_phase(struct bench *b, enum kind k, uint64_t duration_ns, unsigned per_dev, struct samples *s,
		struct phase_result *res)
{
	const struct opts *o = b->o;
	uint64_t t0, t_end, t_last, t_progress, cpu0, wait0, cpu1, wait1;
	size_t outstanding = 0;
	struct cpu_use before, after;
	bool ok = true;

	memset(res, 0, sizeof(*res));
	self_schedstat(&cpu0, &wait0);
	cpu_read(o->broker_pid, 0, &before);
	t0 = now_ns();
	t_end = duration_ns ? t0 + duration_ns : UINT64_MAX;
	t_last = t_progress = t0;
	for(size_t i = 0; ok && i < o->devices; i++){
		b->devs[i].sent = 0;
		ok = dev_send(&b->devs[i], k);
		outstanding += ok;
	}
	while(ok && outstanding){
		int rc = poll(b->pfd, (nfds_t)o->devices, 1000);
		uint64_t answered = res->answered;
		if(rc < 0 && errno != EINTR){
			fprintf(stderr, "bench: poll: %s\n", strerror(errno));
			ok = false;
			break;
		}
		for(size_t i = 0; ok && rc > 0 && i < o->devices; i++){
			struct dev *d = &b->devs[i];
			int got;
			if(!(b->pfd[i].revents & (POLLIN | POLLERR | POLLHUP))) continue;
			got = dev_receive(b, d, k, s, res, &t_last);
			ok = got >= 0;
			if(got == 1){
				outstanding--;
				if(t_last < t_end && (per_dev == 0 || d->sent < per_dev)){
					ok = dev_send(d, k);
					outstanding++;
				}
			}
		}
		if(res->answered != answered){
			t_progress = now_ns();
		}else if(now_ns() - t_progress > STALL_TIMEOUT_NS){
			fprintf(stderr, "bench: %s: %zu requests unanswered for %llu s\n", kind_names[k], outstanding,
					STALL_TIMEOUT_NS / 1000000000ull);
			ok = false;
		}
	}
	cpu_read(o->broker_pid, 0, &after);
	cpu_add_delta(&res->cpu, &before, &after);
	self_schedstat(&cpu1, &wait1);
	res->client_cpu_s = (double)(cpu1 - cpu0) / 1e9;
	res->client_wait_s = (double)(wait1 - wait0) / 1e9;
	res->seconds = (double)(t_last - t0) / 1e9;
	res->rate = res->seconds > 0 ? (double)res->answered / res->seconds : 0;
	return ok && res->wrong == 0;
}

static void print_phase(const char *what, enum kind k, const struct phase_result *r)
{
	printf("%-8s %s seconds %.3f answered %" PRIu64 " wrong %" PRIu64 " per_s %.0f client_cpu_s %.3f "
			"client_wait_s %.3f\n", kind_names[k], what, r->seconds, r->answered, r->wrong, r->rate,
			r->client_cpu_s, r->client_wait_s);
}

static void print_cpu(const struct opts *o, enum kind k, const struct cpu_use *cpu, uint64_t answered,
		double seconds)
{
	double n = answered ? (double)answered : 1;

	if(o->broker_pid <= 0 || seconds <= 0) return;
	printf("cpu_per_request_us %-8s broker %.2f core %.2f\n", kind_names[k], (double)cpu->broker_ns / 1e3 / n,
			(double)cpu->core_ns / 1e3 / n);
	printf("cpu_share %-8s broker %.2f core %.2f runqueue_wait_share broker %.2f core %.2f\n", kind_names[k],
			(double)cpu->broker_ns / 1e9 / seconds, (double)cpu->core_ns / 1e9 / seconds,
			(double)cpu->broker_wait_ns / 1e9 / seconds, (double)cpu->core_wait_ns / 1e9 / seconds);
}

/* Requests per second of the listener's thread's CPU time: what one CPU given wholly to the
 * core thread would answer, whatever else the machine ran meanwhile. */
static void print_per_cpu_second(const struct opts *o, const struct phase_result total[2])
{
	double up, plain;

	if(o->broker_pid <= 0 || !total[0].cpu.core_ns || !total[1].cpu.core_ns) return;
	up = (double)total[0].answered / ((double)total[0].cpu.core_ns / 1e9);
	plain = (double)total[1].answered / ((double)total[1].cpu.core_ns / 1e9);
	printf("per_core_cpu_second update %.0f plain %.0f ratio %.2f\n", up, plain, up / plain);
}

/* ---- the whole run ---- */

/* One plain request on every connection, so that the listener has accepted them all before
 * anything is measured (the kernel completes the TCP handshake before the server looks). */
static bool run_setup(struct bench *b)
{
	struct phase_result r;
	bool ok = run_phase(b, K_PLAIN, 0, 1, NULL, &r);

	printf("setup connections %zu seconds %.3f (one plain request each)\n", b->o->devices, r.seconds);
	return ok;
}

static bool run_register(struct bench *b)
{
	const struct opts *o = b->o;
	struct samples s = { NULL, 0, 0 };
	struct phase_result r;
	bool ok = run_phase(b, K_REGISTER, 0, o->registers, &s, &r);

	printf("register devices %zu per_device %u seconds %.3f answered %" PRIu64 " wrong %" PRIu64 " per_s %.0f "
			"client_cpu_s %.3f client_wait_s %.3f\n", o->devices, o->registers, r.seconds, r.answered, r.wrong,
			r.rate, r.client_cpu_s, r.client_wait_s);
	if(s.n) print_summary("all", kind_names[K_REGISTER], &s, o->histogram);
	print_cpu(o, K_REGISTER, &r.cpu, r.answered, r.seconds);
	free(s.v);
	return ok;
}

static double median_of(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Update and plain phases of the same length in alternation; the first pair is warm-up. */
static bool run_interleaved(struct bench *b)
{
	const struct opts *o = b->o;
	static const enum kind kinds[2] = { K_UPDATE, K_PLAIN };
	struct samples all[2] = { { NULL, 0, 0 }, { NULL, 0, 0 } };
	struct phase_result r, total[2];
	double rates[2][MAX_RUNS];
	bool ok = true;

	memset(total, 0, sizeof(total));
	for(int j = 0; ok && j < 2 && o->warmup_ms; j++){
		ok = run_phase(b, kinds[j], (uint64_t)o->warmup_ms * 1000000ull, 0, NULL, &r);
		print_phase("warmup", kinds[j], &r);
	}
	for(int i = 0; ok && i < o->runs; i++){
		for(int j = 0; ok && j < 2; j++){
			struct samples s = { NULL, 0, 0 };
			char what[16];
			ok = run_phase(b, kinds[j], (uint64_t)o->duration_ms * 1000000ull, 0, &s, &r);
			snprintf(what, sizeof(what), "run%d", i + 1);
			print_phase(what, kinds[j], &r);
			for(size_t n = 0; ok && n < s.n; n++) ok = samples_push(&all[j], s.v[n]);
			print_summary(what, kind_names[kinds[j]], &s, false);
			free(s.v);
			rates[j][i] = r.rate;
			total[j].answered += r.answered;
			total[j].seconds += r.seconds;
			cpu_add_delta(&total[j].cpu, &(struct cpu_use){ 0 }, &r.cpu);
		}
	}
	if(ok){
		double up = median_of(rates[0], o->runs), plain = median_of(rates[1], o->runs);
		printf("updates_per_s median %.0f min %.0f max %.0f (runs %d, %zu connections)\n", up, rates[0][0],
				rates[0][o->runs - 1], o->runs, o->devices);
		printf("plain_per_s   median %.0f min %.0f max %.0f (%s %s, answered %d)\n", plain, rates[1][0],
				rates[1][o->runs - 1], o->plain_method, o->plain_path, o->plain_status);
		printf("ratio update/plain per_s %.2f\n", up / plain);
		for(int j = 0; j < 2; j++) print_summary("all", kind_names[kinds[j]], &all[j], o->histogram);
		for(int j = 0; j < 2; j++) print_cpu(o, kinds[j], &total[j].cpu, total[j].answered, total[j].seconds);
		print_per_cpu_second(o, total);
	}
	free(all[0].v);
	free(all[1].v);
	return ok;
}

static bool bench_open(struct bench *b, const struct opts *o)
{
	memset(b, 0, sizeof(*b));
	b->o = o;
	snprintf(b->host_header, sizeof(b->host_header), "%s:%d", o->host, o->port);
	b->devs = calloc(o->devices, sizeof(*b->devs));
	b->pfd = calloc(o->devices, sizeof(*b->pfd));
	for(size_t i = 0; b->devs && i < o->devices; i++) b->devs[i].fd = -1;
	if(!b->devs || !b->pfd) return false;
	for(size_t i = 0; i < o->devices; i++){
		struct dev *d = &b->devs[i];
		if(!dev_build_requests(b, d, i)){
			fprintf(stderr, "bench: request of %s%zu too long\n", o->prefix, i);
			return false;
		}
		d->fd = connect_to(o->host, o->port);
		if(d->fd < 0) return false;
		b->pfd[i].fd = d->fd;
		b->pfd[i].events = POLLIN;
	}
	return true;
}

static void bench_close(struct bench *b)
{
	for(size_t i = 0; b->devs && i < b->o->devices; i++){
		if(b->devs[i].fd >= 0) close(b->devs[i].fd);
	}
	free(b->devs);
	free(b->pfd);
}

/* ---- main ---- */

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s -P HTTP_BINDING_PORT [-H HOST] [-c DEVICES] [-D MS] [-w WARMUP_MS] [-r RUNS]\n"
		"          [-g REGISTERS] [-l LIFETIME] [-e PREFIX] [-u 'METHOD PATH'] [-s STATUS] [-B PID] [-v]\n"
		"  needs a broker with the LwM2M plugin: plugin_opt_http_binding_listen HOST:PORT,\n"
		"  plugin_opt_register_rate 0, and an endpoints file allowing PREFIX* with an http section\n"
		"  defaults: -H 127.0.0.1 -c 100 -D 5000 -w 1000 -r 3 -g 1 -l 3600 -e bench- -u 'GET /nowhere' -s 404\n"
		"  -c: devices, each on its own keep-alive connection, all at once\n"
		"  -D: length of each Update and each plain run; -r: runs of each, in alternation\n"
		"  -g: Registers per device before the Updates (each replaces the last)\n"
		"  -u, -s: the plain request and the status it must be answered with\n"
		"  -B: the broker's process id: also print its CPU time per request\n"
		"  -v: histograms of the round-trip times\n", argv0);
}

static bool parse_plain(struct opts *o, const char *arg)
{
	const char *sp = strchr(arg, ' ');

	if(!sp || sp == arg || (size_t)(sp - arg) >= sizeof(o->plain_method) || sp[1] != '/'
			|| strlen(sp + 1) >= sizeof(o->plain_path) || strpbrk(arg, "\r\n")){
		return false;
	}
	snprintf(o->plain_method, sizeof(o->plain_method), "%.*s", (int)(sp - arg), arg);
	snprintf(o->plain_path, sizeof(o->plain_path), "%s", sp + 1);
	return true;
}

static bool parse_args(struct opts *o, int argc, char **argv)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->host = "127.0.0.1";
	o->devices = 100;
	o->duration_ms = 5000;
	o->warmup_ms = 1000;
	o->runs = 3;
	o->registers = 1;
	o->lifetime = 3600;
	o->prefix = "bench-";
	o->plain_status = 404;
	if(!parse_plain(o, "GET /nowhere")) return false;
	while((ch = getopt(argc, argv, "H:P:c:D:w:r:g:l:e:u:s:B:vh")) != -1){
		switch(ch){
			case 'H': o->host = optarg; break;
			case 'P': o->port = atoi(optarg); break;
			case 'c': o->devices = (size_t)strtoul(optarg, NULL, 10); break;
			case 'D': o->duration_ms = (unsigned)strtoul(optarg, NULL, 10); break;
			case 'w': o->warmup_ms = (unsigned)strtoul(optarg, NULL, 10); break;
			case 'r': o->runs = atoi(optarg); break;
			case 'g': o->registers = (unsigned)strtoul(optarg, NULL, 10); break;
			case 'l': o->lifetime = (unsigned)strtoul(optarg, NULL, 10); break;
			case 'e': o->prefix = optarg; break;
			case 'u': if(!parse_plain(o, optarg)) return false; break;
			case 's': o->plain_status = atoi(optarg); break;
			case 'B': o->broker_pid = atoi(optarg); break;
			case 'v': o->histogram = true; break;
			default: return false;
		}
	}
	return o->port > 0 && o->devices > 0 && o->devices <= MAX_DEVICES && o->duration_ms > 0 && o->runs > 0
		&& o->runs <= MAX_RUNS && o->registers > 0 && o->lifetime > 0 && o->plain_status >= 100
		&& o->plain_status <= 599 && strlen(o->prefix) < 200;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct bench b;
	bool ok;

	if(!parse_args(&o, argc, argv)){
		usage(argv[0]);
		return 2;
	}
	printf("# http binding %s:%d, %zu devices %s0..%s%zu, one keep-alive connection each, one request "
			"outstanding on each\n", o.host, o.port, o.devices, o.prefix, o.prefix, o.devices - 1);
	ok = bench_open(&b, &o) && run_setup(&b) && run_register(&b) && run_interleaved(&b);
	bench_close(&b);
	fflush(stdout);
	return ok ? 0 : 1;
}
