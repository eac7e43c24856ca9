/* Benchmark of the REST API path, against a running broker with the plugin loaded and its
 * HTTP listener on (bench/run_rest.sh starts one). Prints numbers only.
 *
 *  1. REST Read round trip: an HTTP client sends GET /api/clients/<ep>/3/0/0 on one
 *     keep-alive connection, one request at a time; the plugin publishes the Read on
 *     lwm2m/rd/<ep>; a device (libmosquitto, its own thread) answers 2.05 at once.
 *  2. On the same broker, in interleaved blocks: the plain relay round trip (a client
 *     publishes, an echo client in the device's thread publishes the bytes back) and a
 *     plain HTTP request that touches no device (GET /api/status, same connection).
 *  3. Notifications per second: many observed endpoints over a few MQTT connections publish
 *     Notify messages within a bounded window; an SSE client on GET /api/event counts the
 *     NOTIFICATION events. The same publishers then publish the same bytes to topics one
 *     plain subscriber receives: the broker's own rate for the pattern.
 *
 * Times come from CLOCK_MONOTONIC. */
#define _GNU_SOURCE             /* memmem, gettid */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "bench_common.h"

#define SETUP_TIMEOUT_NS (60ull * 1000000000ull)
#define DRAIN_TIMEOUT_NS (5ull * 1000000000ull)
#define MAX_HTTP 64
#define REPLY_SLOTS 4096
#define HTTP_MAX_RESPONSE (1024 * 1024)
#define SSE_LINE_MAX 8192
#define TOKEN_REGISTER (1ull << 40)  /* a device's Register token: this + its endpoint index */

/* ---- the binding's messages (make_register and parse_map are in bench_common) ---- */

/* ---- MQTT connections (opened and subscribed by bench_common) ---- */

/* Reads every complete packet waiting on the socket. libmosquitto reads one packet per
 * call when nothing of its own is in flight, and keeps no bytes beyond the packet it
 * reads, so what the socket still holds says whether to go on. */
static int conn_read_all(struct conn *c)
{
	int fd = mosquitto_socket(c->m), avail = 0, rc;

	for(int rounds = 0; rounds < 4096; rounds++){
		rc = mosquitto_loop_read(c->m, 1);
		if(rc != MOSQ_ERR_SUCCESS) return rc;
		if(ioctl(fd, FIONREAD, &avail) != 0 || avail <= 0) break;
	}
	return MOSQ_ERR_SUCCESS;
}

/* One pass over connections (and extra descriptors, whose revents the caller reads):
 * wait up to timeout_ms, do the I/O, then let each connection publish what its callbacks
 * queued. Publishing outside the callbacks makes libmosquitto write at once. */
static bool pump(struct conn *const *cs, size_t n, struct pollfd *extra, size_t n_extra, int timeout_ms)
{
	struct pollfd pfd[MAX_CONNS + MAX_HTTP + 4];
	int rc;

	if(n + n_extra > sizeof(pfd) / sizeof(pfd[0])) return false;
	for(size_t i = 0; i < n; i++){
		pfd[i].fd = mosquitto_socket(cs[i]->m);
		pfd[i].events = POLLIN | (mosquitto_want_write(cs[i]->m) ? POLLOUT : 0);
		pfd[i].revents = 0;
	}
	for(size_t k = 0; k < n_extra; k++){
		pfd[n + k] = extra[k];
		pfd[n + k].revents = 0;
	}
	rc = poll(pfd, (nfds_t)(n + n_extra), timeout_ms);
	if(rc < 0 && errno != EINTR) return false;
	for(size_t i = 0; i < n; i++){
		struct mosquitto *m = cs[i]->m;
		if(pfd[i].revents & (POLLIN | POLLERR | POLLHUP)){
			rc = conn_read_all(cs[i]);
			if(rc != MOSQ_ERR_SUCCESS){
				fprintf(stderr, "bench: MQTT connection: %s\n", mosquitto_strerror(rc));
				return false;
			}
		}
		if(pfd[i].revents & POLLOUT) mosquitto_loop_write(m, 1);
		mosquitto_loop_misc(m);
		if(cs[i]->flush) cs[i]->flush(cs[i]);
	}
	for(size_t k = 0; k < n_extra; k++) extra[k].revents = pfd[n + k].revents;
	return true;
}

/* ---- devices: a set of endpoints on one connection ---- */

/* Endpoint i of a set is <tag>-<kind><i> on lwm2m/rd/<tag>-<kind><i>; a set holds the
 * endpoints first, first + stride, ... below limit. It answers every Read and Observe at
 * once (2.05, plain text) and skips its own echoes. */
struct devset {
	struct conn c;
	char prefix[128];           /* "lwm2m/rd/<tag>-<kind>": the topic of endpoint i is prefix + i */
	size_t first, stride, limit;
	uint64_t *obs_token;        /* per endpoint index (shared by every set of a kind); 0: none */
	bool *registered;           /* per endpoint index */
	const char *read_value, *observe_value;
	struct reply {
		size_t ep;
		struct msg m;
	} *reply;                   /* queued in the callback, published by devset_flush */
	unsigned head, tail;
	unsigned long overflow, skipped, unexpected;
	size_t n_registered, reads, observes;
};

static size_t devset_count(const struct devset *d)
{
	return d->limit > d->first ? (d->limit - d->first + d->stride - 1) / d->stride : 0;
}

static void devset_topic(const struct devset *d, size_t ep, char *buf, size_t size)
{
	snprintf(buf, size, "%s%zu", d->prefix, ep);
}

static void devset_queue(struct devset *d, size_t ep, uint64_t result, uint64_t token, const char *value)
{
	if(d->tail - d->head >= REPLY_SLOTS){
		d->overflow++;
		return;
	}
	struct reply *r = &d->reply[d->tail++ % REPLY_SLOTS];
	r->ep = ep;
	make_answer(&r->m, result, token, value);
}

static void devset_on_msg(struct conn *c, const struct mosquitto_message *m)
{
	struct devset *d = c->role;
	size_t pl = strlen(d->prefix);
	struct parsed pm;
	char *end;
	unsigned long ep;

	if(strncmp(m->topic, d->prefix, pl) || !parse_map(m->payload, (size_t)m->payloadlen, &pm) || !pm.has_token){
		d->unexpected++;
		return;
	}
	ep = strtoul(m->topic + pl, &end, 10);
	if(*end || ep >= d->limit){
		d->unexpected++;
		return;
	}
	if(pm.has_result){
		/* The answer to our Register, or the echo of one of our own answers. */
		if(pm.result == 201 && pm.token == TOKEN_REGISTER + ep && !d->registered[ep]){
			d->registered[ep] = true;
			d->n_registered++;
		}else{
			d->skipped++;
		}
		return;
	}
	switch(pm.op){
		case 9:                 /* Read */
			d->reads++;
			devset_queue(d, ep, 205, pm.token, d->read_value);
			break;
		case 20:                /* Observe */
			d->observes++;
			d->obs_token[ep] = pm.token;
			devset_queue(d, ep, 205, pm.token, d->observe_value);
			break;
		case 6: case 7: case 8: case 23:
			d->skipped++;   /* echoes of our own Register, Update, De-register, Notify */
			break;
		default:
			d->unexpected++;
			devset_queue(d, ep, 405, pm.token, NULL);
			break;
	}
}

static void devset_flush(struct conn *c)
{
	struct devset *d = c->role;
	char topic[160];

	while(d->head != d->tail){
		struct reply *r = &d->reply[d->head++ % REPLY_SLOTS];
		devset_topic(d, r->ep, topic, sizeof(topic));
		mosquitto_publish(c->m, NULL, topic, (int)r->m.len, r->m.b, QOS, false);
	}
}

/* Connects and subscribes every endpoint of the set to its own topic. */
static bool devset_open(struct devset *d, const char *host, int port, const char *id, int protocol, int sub_opts)
{
	size_t n = devset_count(d), k = 0;
	char **topics = calloc(n ? n : 1, sizeof(char *));
	bool ok = topics != NULL;

	d->reply = calloc(REPLY_SLOTS, sizeof(*d->reply));
	ok = ok && d->reply && conn_open(&d->c, host, port, id, protocol);
	if(ok){
		d->c.role = d;
		d->c.on_msg = devset_on_msg;
		d->c.flush = devset_flush;
	}
	for(size_t ep = d->first; ok && ep < d->limit; ep += d->stride){
		topics[k] = malloc(160);
		ok = topics[k] != NULL;
		if(ok) devset_topic(d, ep, topics[k++], 160);
	}
	if(ok) ok = conn_subscribe(&d->c, topics, k, sub_opts);
	for(size_t i = 0; i < k; i++) free(topics[i]);
	free(topics);
	return ok;
}

static void devset_close(struct devset *d)
{
	conn_close(&d->c);
	free(d->reply);
	d->reply = NULL;
}

/* Every endpoint of every set registers (all Registers at once), until all are answered. */
static bool devsets_register(struct devset *sets, size_t n_sets)
{
	struct conn *cs[MAX_CONNS];
	uint64_t deadline = now_ns() + SETUP_TIMEOUT_NS;
	size_t want = 0, have;
	char topic[160];
	struct msg m;

	for(size_t j = 0; j < n_sets; j++){
		struct devset *d = &sets[j];
		cs[j] = &d->c;
		for(size_t ep = d->first; ep < d->limit; ep += d->stride){
			devset_topic(d, ep, topic, sizeof(topic));
			make_register(&m, TOKEN_REGISTER + ep);
			if(mosquitto_publish(d->c.m, NULL, topic, (int)m.len, m.b, QOS, false) != MOSQ_ERR_SUCCESS) return false;
			want++;
		}
	}
	do{
		if(!pump(cs, n_sets, NULL, 0, 100)) return false;
		have = 0;
		for(size_t j = 0; j < n_sets; j++) have += sets[j].n_registered;
		if(now_ns() > deadline){
			fprintf(stderr, "bench: %zu of %zu Registers answered\n", have, want);
			return false;
		}
	}while(have < want);
	return true;
}

/* ---- the answering thread: the round-trip device and the echo client ---- */

struct responder {
	struct conn *cs[2];
	size_t n;
	atomic_bool stop;
	atomic_int tid;                 /* for its CPU time; 0 until the thread runs */
	int cpu;                        /* -1: not pinned */
	bool failed;
	pthread_t thread;
};

static void *responder_main(void *arg)
{
	struct responder *r = arg;

	atomic_store(&r->tid, (int)gettid());
	pin_self(r->cpu, "device thread");
	while(!atomic_load(&r->stop)){
		if(!pump(r->cs, r->n, NULL, 0, 50)){
			r->failed = true;
			break;
		}
	}
	return NULL;
}

/* ---- a minimal HTTP/1.1 client ---- */

struct http {
	int fd;
	char *buf;                  /* received, not yet consumed */
	size_t len, cap;
	char host[80];
};

struct http_resp {
	int status;
	const char *body;
	size_t body_len;
	size_t total;               /* bytes of the whole response in the buffer */
};

static bool http_open(struct http *h, const char *host, int port)
{
	struct addrinfo hints, *res = NULL;
	char service[16];
	int one = 1;

	memset(h, 0, sizeof(*h));
	h->fd = -1;
	snprintf(h->host, sizeof(h->host), "%s:%d", host, port);
	snprintf(service, sizeof(service), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if(getaddrinfo(host, service, &hints, &res) != 0 || !res){
		fprintf(stderr, "bench: cannot resolve %s\n", host);
		return false;
	}
	h->fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if(h->fd < 0 || connect(h->fd, res->ai_addr, res->ai_addrlen) != 0){
		fprintf(stderr, "bench: cannot connect to the HTTP listener %s: %s\n", h->host, strerror(errno));
		freeaddrinfo(res);
		return false;
	}
	freeaddrinfo(res);
	setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	h->cap = 64 * 1024;
	h->buf = malloc(h->cap);
	return h->buf != NULL;
}

static void http_close(struct http *h)
{
	if(h->fd >= 0) close(h->fd);
	free(h->buf);
	h->fd = -1;
	h->buf = NULL;
}

static bool http_set_nonblocking(struct http *h)
{
	int fl = fcntl(h->fd, F_GETFL);
	return fl >= 0 && fcntl(h->fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

/* Blocking reads give up after this long. */
static void http_set_read_timeout(struct http *h, uint64_t ns)
{
	struct timeval tv = { .tv_sec = (time_t)(ns / 1000000000ull), .tv_usec = (suseconds_t)(ns % 1000000000ull / 1000) };
	setsockopt(h->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static bool write_all(int fd, const char *p, size_t n)
{
	while(n){
		ssize_t w = write(fd, p, n);
		if(w < 0 && errno == EAGAIN){
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			poll(&pfd, 1, 1000);
			continue;
		}
		if(w < 0 && errno == EINTR) continue;
		if(w <= 0) return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static bool http_send(struct http *h, const char *method, const char *path)
{
	char req[512];
	int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", method, path, h->host,
			strcmp(method, "GET") ? "Content-Length: 0\r\n" : "");

	if(n < 0 || (size_t)n >= sizeof(req)) return false;
	return write_all(h->fd, req, (size_t)n);
}

/* One read into the buffer: bytes read, 0 at end of stream, -1 on error (errno set). */
static ssize_t http_fill(struct http *h)
{
	ssize_t r;

	if(h->cap - h->len < 16 * 1024){
		size_t cap = h->cap * 2;
		char *b;
		if(cap > 2 * HTTP_MAX_RESPONSE){
			errno = EMSGSIZE;
			return -1;
		}
		b = realloc(h->buf, cap);
		if(!b) return -1;
		h->buf = b;
		h->cap = cap;
	}
	do r = read(h->fd, h->buf + h->len, h->cap - h->len); while(r < 0 && errno == EINTR);
	if(r > 0) h->len += (size_t)r;
	return r;
}

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

/* 1: a whole response (with Content-Length) is in the buffer; 0: not yet; -1: malformed
 * or of a kind this client does not read. */
static int http_parse(const struct http *h, struct http_resp *r)
{
	const char *end = memmem(h->buf, h->len, "\r\n\r\n", 4), *cl;
	size_t hdr, n;
	char num[24];

	if(!end) return h->len > 16 * 1024 ? -1 : 0;
	hdr = (size_t)(end - h->buf) + 4;
	if(h->len < 12 || strncmp(h->buf, "HTTP/1.", 7)) return -1;
	r->status = atoi(h->buf + 9);
	cl = header_value(h->buf, end, "Content-Length", &n);
	if(!cl || n == 0 || n >= sizeof(num)) return -1;
	memcpy(num, cl, n);
	num[n] = '\0';
	n = (size_t)strtoull(num, NULL, 10);
	if(n > HTTP_MAX_RESPONSE) return -1;
	if(h->len < hdr + n) return 0;
	r->body = h->buf + hdr;
	r->body_len = n;
	r->total = hdr + n;
	return 1;
}

static void http_consume(struct http *h, size_t n)
{
	memmove(h->buf, h->buf + n, h->len - n);
	h->len -= n;
}

/* Sends the request and blocks until its whole response has arrived (the caller consumes
 * it). The first read usually brings all of it. */
static bool http_roundtrip(struct http *h, const char *method, const char *path, struct http_resp *r)
{
	int rc;

	if(!http_send(h, method, path)) return false;
	while((rc = http_parse(h, r)) == 0){
		if(http_fill(h) <= 0){
			fprintf(stderr, "bench: %s %s: no response (%s)\n", method, path, strerror(errno));
			return false;
		}
	}
	if(rc < 0) fprintf(stderr, "bench: %s %s: malformed response\n", method, path);
	return rc > 0;
}

static bool body_has(const struct http_resp *r, const char *what)
{
	return memmem(r->body, r->body_len, what, strlen(what)) != NULL;
}

static void print_bad_response(const char *what, const struct http_resp *r)
{
	fprintf(stderr, "bench: %s: HTTP %d %.*s\n", what, r->status, (int)(r->body_len < 300 ? r->body_len : 300), r->body);
}

/* ---- the event stream ---- */

enum chunk_state { CH_SIZE, CH_DATA, CH_DATA_END, CH_DONE };

struct sse {
	struct http h;
	bool chunked;               /* HTTP/1.1 without a length: chunked transfer coding */
	enum chunk_state st;
	size_t chunk_left;
	char size_line[32];
	size_t size_len;
	char line[SSE_LINE_MAX];    /* the event text line being assembled */
	size_t line_len;
	bool line_too_long;
	uint64_t notifications;     /* "event: NOTIFICATION" lines */
	uint64_t events;            /* every "event:" line */
	uint64_t t_last;            /* when the last notification arrived */
	bool ended;
};

static void sse_line(struct sse *s)
{
	size_t n = s->line_len;

	if(n && s->line[n - 1] == '\r') n--;
	if(!s->line_too_long && n > 6 && !memcmp(s->line, "event:", 6)){
		s->events++;
		if(n == 19 && !memcmp(s->line, "event: NOTIFICATION", 19)){
			s->notifications++;
			s->t_last = now_ns();
		}
	}
	s->line_len = 0;
	s->line_too_long = false;
}

static void sse_text(struct sse *s, const char *p, size_t n)
{
	while(n){
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;

		if(s->line_len + take > sizeof(s->line)){
			s->line_too_long = true;        /* only event lines matter: they are short */
		}else{
			memcpy(s->line + s->line_len, p, take);
			s->line_len += take;
		}
		if(!nl) return;
		sse_line(s);
		p += take + 1;
		n -= take + 1;
	}
}

/* Undoes the chunked transfer coding, feeding the text to sse_text. false: malformed. */
static bool sse_raw(struct sse *s, const char *p, size_t n)
{
	if(!s->chunked){
		sse_text(s, p, n);
		return true;
	}
	while(n){
		switch(s->st){
			case CH_SIZE:
				if(*p == '\n'){
					s->size_line[s->size_len] = '\0';
					s->chunk_left = (size_t)strtoull(s->size_line, NULL, 16);
					s->size_len = 0;
					s->st = s->chunk_left ? CH_DATA : CH_DONE;
				}else if(s->size_len + 1 < sizeof(s->size_line)){
					s->size_line[s->size_len++] = *p;
				}else{
					return false;
				}
				p++;
				n--;
				break;
			case CH_DATA: {
				size_t take = n < s->chunk_left ? n : s->chunk_left;
				sse_text(s, p, take);
				p += take;
				n -= take;
				s->chunk_left -= take;
				if(!s->chunk_left) s->st = CH_DATA_END;
				break;
			}
			case CH_DATA_END:       /* the CRLF after a chunk's data */
				if(*p == '\n') s->st = CH_SIZE;
				p++;
				n--;
				break;
			case CH_DONE:
				s->ended = true;
				return true;
		}
	}
	return true;
}

#define SSE_REQUEST "GET /api/event HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n"

/* GET /api/event; reads the response head, then the stream is read without blocking. */
static bool sse_open(struct sse *s, const char *host, int port)
{
	const char *end = NULL, *te;
	size_t hdr, n;
	uint64_t deadline = now_ns() + CONNECT_TIMEOUT_NS;

	memset(s, 0, sizeof(*s));
	if(!http_open(&s->h, host, port)) return false;
	http_set_read_timeout(&s->h, CONNECT_TIMEOUT_NS);
	if(!write_all(s->h.fd, SSE_REQUEST, strlen(SSE_REQUEST))) return false;
	while(!(end = memmem(s->h.buf, s->h.len, "\r\n\r\n", 4))){
		if(now_ns() > deadline || http_fill(&s->h) <= 0){
			fprintf(stderr, "bench: GET /api/event: no response head\n");
			return false;
		}
	}
	if(strncmp(s->h.buf, "HTTP/1.1 200", 12)){
		fprintf(stderr, "bench: GET /api/event: %.*s\n", (int)(end - s->h.buf), s->h.buf);
		return false;
	}
	te = header_value(s->h.buf, end, "Transfer-Encoding", &n);
	s->chunked = te && n >= 7 && !strncasecmp(te, "chunked", 7);
	hdr = (size_t)(end - s->h.buf) + 4;
	if(!sse_raw(s, s->h.buf + hdr, s->h.len - hdr)) return false;
	s->h.len = 0;
	return http_set_nonblocking(&s->h);
}

/* Reads what has arrived. false: the stream ended or broke. */
static bool sse_read(struct sse *s)
{
	char buf[64 * 1024];

	for(;;){
		ssize_t r = read(s->h.fd, buf, sizeof(buf));
		if(r < 0 && errno == EINTR) continue;
		if(r < 0 && errno == EAGAIN) return true;
		if(r <= 0){
			fprintf(stderr, "bench: the event stream ended (%s)\n", r ? strerror(errno) : "closed by the server");
			return false;
		}
		if(!sse_raw(s, buf, (size_t)r) || s->ended){
			fprintf(stderr, "bench: the event stream is malformed or ended\n");
			return false;
		}
		if((size_t)r < sizeof(buf)) return true;
	}
}

/* ---- options ---- */

struct opts {
	const char *host;
	int port;                   /* MQTT */
	int http_port;
	size_t n;
	size_t warmup;
	size_t devices;             /* observed endpoints of the notification runs */
	int conns;                  /* their MQTT connections */
	int http_conns;             /* HTTP connections that send the Observes */
	int window;                 /* Notify messages published and not yet received */
	unsigned duration_ms;
	int repeats;
	bool no_local;
	bool histogram;
	int responder_cpu;          /* -1: wherever the scheduler puts it */
	int broker_pid;             /* -B: for the broker's CPU time; 0 = unknown */
	char tag[64];
};

/* ---- round trips ---- */

enum rtt_kind { RTT_READ = 0, RTT_RELAY, RTT_STATUS, RTT_KINDS };
static const char *const rtt_names[RTT_KINDS] = { "rest_read", "relay", "status" };

struct rtt {
	const struct opts *o;
	struct http h;              /* one keep-alive connection for the Reads and the status */
	char read_path[160];
	struct conn relay;          /* the relay's timing client */
	char req_topic[128], rep_topic[128];
	const struct msg *sent;
	bool done;
	uint64_t t_done;
	unsigned long skipped;
	struct devset dev;          /* the device, in the responder thread */
	struct echo *echo;          /* the echo client, in the responder thread */
	struct responder resp;
	bool *dev_registered;
	uint64_t dev_obs_token;
};

static void relay_on_msg(struct conn *c, const struct mosquitto_message *m)
{
	struct rtt *r = c->role;
	uint64_t t = now_ns();

	if(!r->done && r->sent && !strcmp(m->topic, r->rep_topic) && (size_t)m->payloadlen == r->sent->len
			&& !memcmp(m->payload, r->sent->b, r->sent->len)){
		r->done = true;
		r->t_done = t;
	}else{
		r->skipped++;
	}
}

static uint64_t relay_once(struct rtt *r, uint64_t token)
{
	struct msg m;
	uint64_t t0;
	int rc;

	make_read(&m, token);
	r->sent = &m;
	r->done = false;
	t0 = now_ns();
	rc = mosquitto_publish(r->relay.m, NULL, r->req_topic, (int)m.len, m.b, QOS, false);
	if(rc != MOSQ_ERR_SUCCESS){
		fprintf(stderr, "bench: publish failed: %s\n", mosquitto_strerror(rc));
		return 0;
	}
	while(!r->done){
		rc = mosquitto_loop(r->relay.m, 100, 1);
		if(rc != MOSQ_ERR_SUCCESS || now_ns() - t0 > REPLY_TIMEOUT_NS){
			fprintf(stderr, "bench: relay token %" PRIu64 ": no echo (%s)\n", token, rc ? mosquitto_strerror(rc) : "timeout");
			r->sent = NULL;
			return 0;
		}
	}
	r->sent = NULL;
	return r->t_done - t0;
}

/* One HTTP request on the keep-alive connection; its time in ns, 0 on failure. */
static uint64_t http_once(struct rtt *r, enum rtt_kind kind)
{
	struct http_resp resp;
	const char *path = kind == RTT_READ ? r->read_path : "/api/status";
	uint64_t t0 = now_ns(), t;

	if(!http_roundtrip(&r->h, "GET", path, &resp)) return 0;
	t = now_ns() - t0;
	if(resp.status != 200 || (kind == RTT_READ && !body_has(&resp, "\"success\":true"))){
		print_bad_response(path, &resp);
		return 0;
	}
	http_consume(&r->h, resp.total);
	return t;
}

static uint64_t rtt_once(struct rtt *r, enum rtt_kind kind, uint64_t token)
{
	return kind == RTT_RELAY ? relay_once(r, token) : http_once(r, kind);
}

static bool rtt_setup(struct rtt *r, const struct opts *o)
{
	char id[96], prefix[96];
	char *topics[1];

	r->o = o;
	r->h.fd = -1;
	snprintf(r->req_topic, sizeof(r->req_topic), "bench/%s/req", o->tag);
	snprintf(r->rep_topic, sizeof(r->rep_topic), "bench/%s/rep", o->tag);
	snprintf(r->read_path, sizeof(r->read_path), "/api/clients/%s-r0/3/0/0", o->tag);

	/* The device: endpoint <tag>-r0 on its own connection. */
	snprintf(prefix, sizeof(prefix), "lwm2m/rd/%s-r", o->tag);
	snprintf(r->dev.prefix, sizeof(r->dev.prefix), "%s", prefix);
	r->dev.first = 0;
	r->dev.stride = 1;
	r->dev.limit = 1;
	r->dev.registered = r->dev_registered;
	r->dev.obs_token = &r->dev_obs_token;
	r->dev.read_value = "value";
	r->dev.observe_value = "value";
	snprintf(id, sizeof(id), "%s-r0", o->tag);
	if(!devset_open(&r->dev, o->host, o->port, id, MQTT_PROTOCOL_V311, 0)) return false;
	if(!devsets_register(&r->dev, 1)) return false;

	/* The echo client. */
	r->echo->req_at = strlen(r->req_topic) - 3;
	snprintf(id, sizeof(id), "%s-echo", o->tag);
	if(!conn_open(&r->echo->c, o->host, o->port, id, MQTT_PROTOCOL_V311)) return false;
	r->echo->c.role = r->echo;
	r->echo->c.on_msg = echo_on_msg;
	r->echo->c.flush = echo_flush;
	topics[0] = r->req_topic;
	if(!conn_subscribe(&r->echo->c, topics, 1, 0)) return false;

	/* The relay's timing client. */
	snprintf(id, sizeof(id), "%s-relay", o->tag);
	if(!conn_open(&r->relay, o->host, o->port, id, MQTT_PROTOCOL_V311)) return false;
	r->relay.role = r;
	r->relay.on_msg = relay_on_msg;
	topics[0] = r->rep_topic;
	if(!conn_subscribe(&r->relay, topics, 1, 0)) return false;

	/* Both answerers run in one thread of their own. */
	r->resp.cs[0] = &r->dev.c;
	r->resp.cs[1] = &r->echo->c;
	r->resp.n = 2;
	r->resp.cpu = o->responder_cpu;
	if(pthread_create(&r->resp.thread, NULL, responder_main, &r->resp) != 0) return false;
	while(atomic_load(&r->resp.tid) == 0) usleep(1000);

	if(!http_open(&r->h, o->host, o->http_port)) return false;
	http_set_read_timeout(&r->h, REPLY_TIMEOUT_NS);
	return true;
}

static void rtt_teardown(struct rtt *r)
{
	if(atomic_load(&r->resp.tid)){
		atomic_store(&r->resp.stop, true);
		pthread_join(r->resp.thread, NULL);
	}
	if(r->resp.failed) fprintf(stderr, "bench: the device thread stopped on an error\n");
	if(r->echo->overflow || r->dev.overflow) fprintf(stderr, "bench: answers lost: echo %lu device %lu\n", r->echo->overflow, r->dev.overflow);
	http_close(&r->h);
	conn_close(&r->relay);
	conn_close(&r->echo->c);
	devset_close(&r->dev);
}

static void print_rtt_cpu(const struct opts *o, const struct cpu_use cpu[RTT_KINDS], const size_t count[RTT_KINDS])
{
	if(o->broker_pid <= 0) return;
	for(int k = 0; k < RTT_KINDS; k++){
		double n = count[k] ? (double)count[k] : 1;
		printf("cpu_per_round_trip_us %-9s broker %.1f core %.1f device_or_echo %.1f\n", rtt_names[k],
				(double)cpu[k].broker_ns / 1e3 / n, (double)cpu[k].core_ns / 1e3 / n, (double)cpu[k].responder_ns / 1e3 / n);
	}
}

static uint64_t rtt_once_cb(void *r, int kind, uint64_t token)
{
	return rtt_once(r, (enum rtt_kind)kind, token);
}

/* Warm-up, then n round trips of each kind in interleaved blocks. */
static bool run_rtt(struct rtt *r, struct summary out[RTT_KINDS])
{
	const struct opts *o = r->o;
	struct rtt_samples s;
	bool ok = rtt_measure(&s, RTT_KINDS, o->n, o->warmup, o->broker_pid, atomic_load(&r->resp.tid), rtt_once_cb, r);

	if(ok) print_rtt_cpu(o, s.cpu, s.count);
	rtt_finish(&s, ok, rtt_names, o->histogram ? 10 : 0, out);
	return ok;
}

static void print_rtt(const struct opts *o, const struct summary s[RTT_KINDS], const struct rtt *r)
{
	double budget = s[RTT_RELAY].median_us + s[RTT_STATUS].median_us + 100;

	for(int k = 0; k < RTT_KINDS; k++){
		printf("rtt %-9s n %zu median_us %.1f p90_us %.1f p99_us %.1f max_us %.1f\n", rtt_names[k],
				o->n, s[k].median_us, s[k].p90_us, s[k].p99_us, s[k].max_us);
	}
	printf("rtt device reads_answered %zu skipped_echoes %lu unexpected %lu\n", r->dev.reads, r->dev.skipped,
			r->dev.unexpected);
	printf("target rest_read_median_us %.1f <= relay_median_us %.1f + status_median_us %.1f + 100 = %.1f: %s\n",
			s[RTT_READ].median_us, s[RTT_RELAY].median_us, s[RTT_STATUS].median_us, budget,
			s[RTT_READ].median_us <= budget ? "met" : "MISSED");
}

/* ---- notifications per second ---- */

struct notif {
	const struct opts *o;
	struct devset *sets;        /* o->conns sets; endpoint i is in set i % conns */
	size_t n_sets;
	uint64_t *obs_token;        /* per endpoint */
	bool *registered;
	size_t *next;               /* per set: the next of its endpoints to publish for */
	struct conn sub;            /* the plain subscriber */
	uint64_t sub_received, sub_t_last;
	char plain_prefix[96];      /* bench/<tag>/n/ */
};

static void sub_on_msg(struct conn *c, const struct mosquitto_message *m)
{
	struct notif *nt = c->role;
	(void)m;
	nt->sub_received++;
	nt->sub_t_last = now_ns();
}

static bool notif_setup(struct notif *nt, const struct opts *o)
{
	size_t n = o->devices;
	char id[96], sub_topic[128];
	char *topics[1];
	int protocol = o->no_local ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311;
	uint64_t t0 = now_ns();

	nt->o = o;
	nt->n_sets = (size_t)o->conns;
	nt->sets = calloc(nt->n_sets, sizeof(*nt->sets));
	nt->next = calloc(nt->n_sets, sizeof(*nt->next));
	nt->obs_token = calloc(n, sizeof(*nt->obs_token));
	nt->registered = calloc(n, sizeof(*nt->registered));
	if(!nt->sets || !nt->next || !nt->obs_token || !nt->registered) return false;
	snprintf(nt->plain_prefix, sizeof(nt->plain_prefix), "bench/%s/n/", o->tag);
	for(size_t j = 0; j < nt->n_sets; j++){
		struct devset *d = &nt->sets[j];
		snprintf(d->prefix, sizeof(d->prefix), "lwm2m/rd/%s-d", o->tag);
		d->first = j;
		d->stride = nt->n_sets;
		d->limit = n;
		d->obs_token = nt->obs_token;
		d->registered = nt->registered;
		d->read_value = "value";
		d->observe_value = "100";           /* /3/0/9 battery level: an integer */
		nt->next[j] = j;
		snprintf(id, sizeof(id), "%s-dc%zu", o->tag, j);
		if(!devset_open(d, o->host, o->port, id, protocol, o->no_local ? MQTT_SUB_OPT_NO_LOCAL : 0)) return false;
	}
	if(!devsets_register(nt->sets, nt->n_sets)) return false;
	printf("setup notify_devices %zu conns %zu registered_seconds %.3f\n", n, nt->n_sets, (double)(now_ns() - t0) / 1e9);

	snprintf(id, sizeof(id), "%s-sub", o->tag);
	if(!conn_open(&nt->sub, o->host, o->port, id, MQTT_PROTOCOL_V311)) return false;
	nt->sub.role = nt;
	nt->sub.on_msg = sub_on_msg;
	snprintf(sub_topic, sizeof(sub_topic), "%s#", nt->plain_prefix);
	topics[0] = sub_topic;
	return conn_subscribe(&nt->sub, topics, 1, 0);
}

/* POST /api/clients/<ep>/3/0/9/observe for every endpoint, over a few keep-alive HTTP
 * connections with one request outstanding each; the devices answer 2.05. */
static bool notif_observe_all(struct notif *nt)
{
	const struct opts *o = nt->o;
	struct http h[MAX_HTTP];
	struct pollfd pfd[MAX_HTTP];
	struct conn *cs[MAX_CONNS];
	size_t k_n = (size_t)o->http_conns, next = 0, done = 0;
	uint64_t t0 = now_ns(), deadline = t0 + SETUP_TIMEOUT_NS;
	bool busy[MAX_HTTP] = { false }, ok = true;
	char path[192];

	for(size_t j = 0; j < nt->n_sets; j++) cs[j] = &nt->sets[j].c;
	for(size_t k = 0; k < k_n; k++) h[k].fd = -1, h[k].buf = NULL;
	for(size_t k = 0; ok && k < k_n; k++){
		ok = http_open(&h[k], o->host, o->http_port) && http_set_nonblocking(&h[k]);
		pfd[k].fd = h[k].fd;
		pfd[k].events = POLLIN;
	}
	while(ok && done < o->devices){
		for(size_t k = 0; ok && k < k_n; k++){
			if(busy[k] || next >= o->devices) continue;
			snprintf(path, sizeof(path), "/api/clients/%s-d%zu/3/0/9/observe", o->tag, next++);
			ok = http_send(&h[k], "POST", path);
			busy[k] = true;
		}
		if(ok) ok = pump(cs, nt->n_sets, pfd, k_n, 100);
		for(size_t k = 0; ok && k < k_n; k++){
			struct http_resp resp;
			int rc;
			if(!(pfd[k].revents & (POLLIN | POLLERR | POLLHUP))) continue;
			for(;;){
				ssize_t r = http_fill(&h[k]);
				if(r < 0 && errno == EAGAIN) break;
				if(r <= 0){
					fprintf(stderr, "bench: an Observe connection closed\n");
					ok = false;
					break;
				}
			}
			while(ok && (rc = http_parse(&h[k], &resp)) != 0){
				if(rc < 0 || resp.status != 200 || !body_has(&resp, "\"success\":true")){
					if(rc > 0) print_bad_response("Observe", &resp);
					ok = false;
					break;
				}
				http_consume(&h[k], resp.total);
				busy[k] = false;
				done++;
			}
		}
		if(now_ns() > deadline){
			fprintf(stderr, "bench: %zu of %zu Observes answered\n", done, o->devices);
			ok = false;
		}
	}
	for(size_t k = 0; k < k_n; k++) http_close(&h[k]);
	if(ok){
		size_t missing = 0;
		for(size_t i = 0; i < o->devices; i++) missing += nt->obs_token[i] == 0;
		if(missing) fprintf(stderr, "bench: %zu endpoints saw no Observe\n", missing);
		ok = missing == 0;
	}
	if(ok){
		double s = (double)(now_ns() - t0) / 1e9;
		printf("setup observe endpoints %zu http_conns %zu seconds %.3f per_s %.0f\n", o->devices, k_n, s, (double)o->devices / s);
	}
	return ok;
}

struct notif_result {
	bool plain;
	uint64_t published, received;
	double seconds;             /* first publish to last arrival */
	double rate;
	double client_cpu_s;
	struct cpu_use cpu;
};

/* Publishes Notify messages (or, plain, the same bytes on bench/<tag>/n/<i>) round-robin
 * over the connections and their endpoints while fewer than `window` are unreceived, for
 * duration_ms; then waits until everything published has arrived. */
static bool notif_measure(struct notif *nt, bool plain, struct notif_result *res)
{
	const struct opts *o = nt->o;
	struct conn *cs[MAX_CONNS + 1];
	struct sse sse;
	struct pollfd extra[1];
	size_t n_cs = nt->n_sets, n_extra = 0;
	uint64_t published = 0, received0, t0, t_end, t_stop, *received, *t_last;
	struct cpu_use before, after;
	double cpu0;
	char topic[160];
	struct msg m;
	bool ok = true;

	memset(res, 0, sizeof(*res));
	res->plain = plain;
	for(size_t j = 0; j < nt->n_sets; j++) cs[j] = &nt->sets[j].c;
	if(plain){
		cs[n_cs++] = &nt->sub;
		received = &nt->sub_received;
		t_last = &nt->sub_t_last;
	}else{
		if(!sse_open(&sse, o->host, o->http_port)) return false;
		extra[0].fd = sse.h.fd;
		extra[0].events = POLLIN;
		n_extra = 1;
		received = &sse.notifications;
		t_last = &sse.t_last;
	}
	received0 = *received;
	cpu0 = thread_cpu_s();
	cpu_read(o->broker_pid, 0, &before);
	t0 = now_ns();
	t_end = t0 + (uint64_t)o->duration_ms * 1000000ull;
	for(;;){
		uint64_t t = now_ns();
		bool publishing = t < t_end;
		if(!publishing && *received - received0 >= published) break;
		if(!publishing && t > t_end + DRAIN_TIMEOUT_NS){
			fprintf(stderr, "bench: %s: %" PRIu64 " of %" PRIu64 " notifications never arrived\n", plain ? "plain" : "sse",
					published - (*received - received0), published);
			break;
		}
		while(publishing && published - (*received - received0) < (uint64_t)o->window){
			size_t j = published % nt->n_sets;
			struct devset *d = &nt->sets[j];
			size_t ep = nt->next[j];
			nt->next[j] = ep + d->stride < d->limit ? ep + d->stride : d->first;
			make_notify(&m, nt->obs_token[ep], "100");
			if(plain) snprintf(topic, sizeof(topic), "%s%zu", nt->plain_prefix, ep);
			else devset_topic(d, ep, topic, sizeof(topic));
			if(mosquitto_publish(d->c.m, NULL, topic, (int)m.len, m.b, QOS, false) != MOSQ_ERR_SUCCESS){
				fprintf(stderr, "bench: publish failed\n");
				ok = false;
				break;
			}
			published++;
		}
		if(!ok || !pump(cs, n_cs, extra, n_extra, 20)){
			ok = false;
			break;
		}
		if(n_extra && (extra[0].revents & (POLLIN | POLLERR | POLLHUP)) && !sse_read(&sse)){
			ok = false;
			break;
		}
	}
	t_stop = *t_last > t0 ? *t_last : now_ns();
	cpu_read(o->broker_pid, 0, &after);
	cpu_add_delta(&res->cpu, &before, &after);
	res->client_cpu_s = thread_cpu_s() - cpu0;
	res->published = published;
	res->received = *received - received0;
	res->seconds = (double)(t_stop - t0) / 1e9;
	res->rate = res->seconds > 0 ? (double)res->received / res->seconds : 0;
	if(!plain) http_close(&sse.h);
	printf("notify %-5s devices %zu conns %zu window %d seconds %.3f published %" PRIu64 " received %" PRIu64
			" per_s %.0f client_cpu_s %.3f\n", plain ? "plain" : "sse", o->devices, nt->n_sets, o->window,
			res->seconds, res->published, res->received, res->rate, res->client_cpu_s);
	if(o->broker_pid > 0 && res->received){
		printf("cpu_per_message_us %-5s broker %.2f core %.2f\n", plain ? "plain" : "sse",
				(double)res->cpu.broker_ns / 1e3 / (double)res->received, (double)res->cpu.core_ns / 1e3 / (double)res->received);
		printf("cpu_share %-5s broker %.2f core %.2f client %.2f runqueue_wait_share broker %.2f core %.2f\n",
				plain ? "plain" : "sse", (double)res->cpu.broker_ns / 1e9 / res->seconds,
				(double)res->cpu.core_ns / 1e9 / res->seconds, res->client_cpu_s / res->seconds,
				(double)res->cpu.broker_wait_ns / 1e9 / res->seconds, (double)res->cpu.core_wait_ns / 1e9 / res->seconds);
	}
	return ok && res->received == res->published;
}

static void notif_teardown(struct notif *nt)
{
	for(size_t j = 0; nt->sets && j < nt->n_sets; j++) devset_close(&nt->sets[j]);
	conn_close(&nt->sub);
	free(nt->sets);
	free(nt->next);
	free(nt->obs_token);
	free(nt->registered);
}

/* Median of n rates (sorts them); the mean of the middle two for an even n. */
static double median_rate(double *rates, int n)
{
	qsort(rates, (size_t)n, sizeof(*rates), cmp_double);
	return n % 2 ? rates[n / 2] : (rates[n / 2 - 1] + rates[n / 2]) / 2;
}

static bool run_notifications(const struct opts *o)
{
	struct notif nt;
	struct notif_result res;
	double sse_rates[9], plain_rates[9];
	unsigned long skipped = 0, unexpected = 0, overflow = 0;
	bool ok;

	memset(&nt, 0, sizeof(nt));
	ok = notif_setup(&nt, o) && notif_observe_all(&nt);
	for(int i = 0; ok && i < o->repeats; i++){
		ok = notif_measure(&nt, false, &res);
		sse_rates[i] = res.rate;
		if(ok) ok = notif_measure(&nt, true, &res);
		plain_rates[i] = res.rate;
	}
	if(ok){
		double sse = median_rate(sse_rates, o->repeats), plain = median_rate(plain_rates, o->repeats);
		printf("notifications_per_s sse median %.0f min %.0f max %.0f (runs %d)\n", sse,
				sse_rates[0], sse_rates[o->repeats - 1], o->repeats);
		printf("plain_messages_per_s median %.0f min %.0f max %.0f (runs %d)\n", plain,
				plain_rates[0], plain_rates[o->repeats - 1], o->repeats);
		printf("ratio notifications sse/plain %.2f\n", sse / plain);
	}
	for(size_t j = 0; j < nt.n_sets; j++){
		skipped += nt.sets[j].skipped;
		unexpected += nt.sets[j].unexpected;
		overflow += nt.sets[j].overflow;
	}
	printf("notify devices echoes_skipped %lu unexpected %lu answers_lost %lu\n", skipped, unexpected, overflow);
	notif_teardown(&nt);
	return ok;
}

/* ---- main ---- */

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s -p MQTT_PORT -P HTTP_PORT [-H HOST] [-n ROUND_TRIPS] [-w WARMUP] [-d DEVICES]\n"
		"          [-c CONNECTIONS] [-k HTTP_CONNECTIONS] [-W WINDOW] [-D MS] [-r RUNS] [-t TAG]\n"
		"          [-E CPU] [-B PID] [-L] [-v]\n"
		"  needs a broker with the LwM2M plugin (plugin_opt_identity any, plugin_opt_register_rate 0,\n"
		"  plugin_opt_http_listen HOST:HTTP_PORT, no api_token)\n"
		"  defaults: -H 127.0.0.1 -n 2000 -w 200 -d 1000 -c 4 -k 16 -W 256 -D 5000 -r 3 -t bench<pid>\n"
		"  -n 0: no round trips; -d 0: no notification runs\n"
		"  -L: notifying devices use MQTT 5 no-local (no echo of their own Notify messages)\n"
		"  -v: also print a histogram of each round-trip kind\n"
		"  -E: run the device and echo thread on this CPU\n"
		"  -B: the broker's process id: also print the CPU time it spent per message\n", argv0);
}

static bool parse_args(struct opts *o, int argc, char **argv)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->host = "127.0.0.1";
	o->n = 2000;
	o->warmup = 200;
	o->devices = 1000;
	o->conns = 4;
	o->http_conns = 16;
	o->window = 256;
	o->duration_ms = 5000;
	o->repeats = 3;
	o->responder_cpu = -1;
	snprintf(o->tag, sizeof(o->tag), "bench%ld", (long)getpid());
	while((ch = getopt(argc, argv, "H:p:P:n:w:d:c:k:W:D:r:t:E:B:Lvh")) != -1){
		switch(ch){
			case 'H': o->host = optarg; break;
			case 'p': o->port = atoi(optarg); break;
			case 'P': o->http_port = atoi(optarg); break;
			case 'n': o->n = (size_t)strtoul(optarg, NULL, 10); break;
			case 'w': o->warmup = (size_t)strtoul(optarg, NULL, 10); break;
			case 'd': o->devices = (size_t)strtoul(optarg, NULL, 10); break;
			case 'c': o->conns = atoi(optarg); break;
			case 'k': o->http_conns = atoi(optarg); break;
			case 'W': o->window = atoi(optarg); break;
			case 'D': o->duration_ms = (unsigned)strtoul(optarg, NULL, 10); break;
			case 'r': o->repeats = atoi(optarg); break;
			case 't': snprintf(o->tag, sizeof(o->tag), "%s", optarg); break;
			case 'E': o->responder_cpu = atoi(optarg); break;
			case 'B': o->broker_pid = atoi(optarg); break;
			case 'L': o->no_local = true; break;
			case 'v': o->histogram = true; break;
			default: return false;
		}
	}
	return o->port > 0 && o->http_port > 0 && o->conns > 0 && o->conns <= MAX_CONNS && o->http_conns > 0
		&& o->http_conns <= MAX_HTTP && o->window > 0 && o->repeats > 0 && o->repeats <= 9
		&& (o->devices == 0 || o->devices >= (size_t)o->conns);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct rtt *r = calloc(1, sizeof(*r));
	struct echo *e = calloc(1, sizeof(*e));
	bool registered[1] = { false };
	struct summary s[RTT_KINDS];
	bool ok = true;

	if(!r || !e || !parse_args(&o, argc, argv)){
		usage(argv[0]);
		free(r);
		free(e);
		return 2;
	}
	mosquitto_lib_init();
	if(o.n){
		r->echo = e;
		r->dev_registered = registered;
		ok = rtt_setup(r, &o) && run_rtt(r, s);
		if(ok) print_rtt(&o, s, r);
		rtt_teardown(r);
	}
	if(ok && o.devices) ok = run_notifications(&o);
	fflush(stdout);
	mosquitto_lib_cleanup();
	free(r);
	free(e);
	return ok ? 0 : 1;
}
