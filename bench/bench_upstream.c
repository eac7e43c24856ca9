/* Benchmark of the CoAP forwarder (plugin_opt_coap_server) against a running broker with the
 * plugin loaded, forwarding to the CoAP LwM2M server this program plays on a loopback port
 * (bench/run_upstream.sh starts the broker). Prints numbers only.
 *
 *  1. Read latency: the server reads /3/0/0 of one MQTT device through the bridge, and the
 *     same resource of a CoAP device that answers itself (a child process with its own
 *     libcoap client session, registered at the same server), one request at a time, in
 *     interleaved blocks. The difference at the median is what the bridge adds.
 *  2. Notifications per second: MQTT devices, each observed by the server through the
 *     bridge (GET Observe 0 /3303/0/5700), publish Notify as fast as a window allows.
 *  3. The broker's memory and file descriptors per proxied device, and the core thread's CPU
 *     time per forwarded Read, at growing device counts (one MQTT connection per device).
 *
 * The server drives libcoap with epoll_wait on libcoap's own epoll set + coap_io_do_epoll:
 * coap_io_process would walk every session twice per call, and with 10,000 sessions that
 * walk is what the benchmark would measure of itself. Times come from CLOCK_MONOTONIC. */
#define _GNU_SOURCE             /* gettid */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <coap3/coap.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "bench_common.h"

#define READ_VALUE "Open Mobile Alliance"
#define OBSERVE_VALUE "21.5"
#define NOTIFY_VALUE "22.5"
#define TOKEN_REGISTER (1ull << 40)     /* an MQTT device's Register token: this + its index */
#define SETUP_TIMEOUT_NS (120ull * 1000000000ull)
#define STALL_NS (500ull * 1000000ull) /* a full notification window that long: written off */
#define MAX_SIZES 8
#define MAX_FLEET 100000
#define CONNECT_BATCH 100
#define REGISTER_WINDOW 256
#define OBSERVE_WINDOW 64
#define REPLY_SLOTS 4096
#define SRV_SLOT UINT64_MAX             /* epoll data of the server's fd in the fleet's set */
#define FD_MARGIN 64                    /* descriptors left free besides the devices' */

/* What the server's 8-byte tokens say: the kind in the top byte, then a number. */
enum token_kind { TK_READ = 1, TK_DIRECT = 2, TK_OBSERVE = 3 };

static uint64_t make_token(enum token_kind kind, uint64_t n)
{
	return ((uint64_t)kind << 56) | (n & 0x00ffffffffffffffull);
}

struct opts {
	const char *host;
	int port;                   /* the broker's MQTT port */
	int coap_port;              /* where this program's CoAP server listens */
	int broker_pid;             /* for CPU time, memory and descriptors; 0 = unknown */
	size_t n, warmup;           /* Read round trips of each kind, and warm-up */
	size_t batch;               /* Reads of each kind at every device count */
	size_t sizes[MAX_SIZES];    /* device counts, growing */
	size_t n_sizes;
	size_t observed;            /* devices observed for the notification runs */
	int window;                 /* Notify published and not yet received by the server */
	unsigned duration_ms;
	int runs;
	unsigned pace;              /* notifications per second of the paced run; 0 = none */
	int direct_cpu;             /* CPU of the CoAP device process; -1: not pinned */
	int device_cpu;             /* CPU of the MQTT Read device's thread; -1: not pinned */
	bool no_local;
	bool histogram;
	char tag[64];
};

/* ---- the binding's messages (parse_map is in bench_common) ---- */

/* {1:6, 2:token, 8:3600, 9:"1.2", 10:"M", 7:"</1/0>,</3/0>,</3303/0>"} */
static void make_register_links(struct msg *m, uint64_t token)
{
	m->len = 0;
	put_head(m, 5, 6);
	put_head(m, 0, 1); put_head(m, 0, 6);
	put_head(m, 0, 2); put_token(m, token);
	put_head(m, 0, 8); put_head(m, 0, 3600);
	put_head(m, 0, 9); put_string(m, 3, "1.2");
	put_head(m, 0, 10); put_string(m, 3, "M");
	put_head(m, 0, 7); put_string(m, 3, "</1/0>,</3/0>,</3303/0>");
}

/* ---- the broker seen from /proc ---- */

struct footprint {
	long rss_kb;
	long fds;
};

static long status_field(const char *path, const char *name)
{
	char line[256];
	size_t len = strlen(name);
	long v = -1;
	FILE *f = fopen(path, "r");

	while(f && fgets(line, sizeof(line), f)){
		if(!strncmp(line, name, len) && line[len] == ':'){
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	if(f) fclose(f);
	return v;
}

static long count_fds(int pid)
{
	char path[64];
	struct dirent *de;
	long n = 0;
	DIR *d;

	if(pid > 0) snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	else snprintf(path, sizeof(path), "/proc/self/fd");
	d = opendir(path);
	while(d && (de = readdir(d)) != NULL){
		if(de->d_name[0] != '.') n++;
	}
	if(d) closedir(d);
	return d ? n : -1;
}

static void footprint_read(int pid, struct footprint *fp)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fp->rss_kb = pid > 0 ? status_field(path, "VmRSS") : -1;
	fp->fds = pid > 0 ? count_fds(pid) : -1;
}

/* The soft "Max open files" of a process (-1: unknown). */
static long open_files_limit(int pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", pid);
	f = fopen(path, "r");
	while(f && fgets(line, sizeof(line), f)){
		if(!strncmp(line, "Max open files", 14)){
			v = strtol(line + 14, NULL, 10);
			break;
		}
	}
	if(f) fclose(f);
	return v;
}

/* Context switches of the broker's threads but its main one (the plugin's core): how often
 * the core thread went to sleep and was woken. */
static uint64_t core_switches(int pid)
{
	char path[96];
	struct dirent *de;
	uint64_t n = 0;
	DIR *d;

	if(pid <= 0) return 0;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	while(d && (de = readdir(d)) != NULL){
		int tid = atoi(de->d_name);
		long v;
		if(tid <= 0 || tid == pid) continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
		v = status_field(path, "voluntary_ctxt_switches");
		if(v > 0) n += (uint64_t)v;
		v = status_field(path, "nonvoluntary_ctxt_switches");
		if(v > 0) n += (uint64_t)v;
	}
	if(d) closedir(d);
	return n;
}

/* Datagrams the kernel dropped because a UDP socket's receive buffer was full (all sockets
 * of the network namespace: the server's, the bridge's and the CoAP device's). */
static uint64_t udp_rcvbuf_errors(void)
{
	char head[512], vals[512];
	uint64_t v = 0;
	FILE *f = fopen("/proc/net/snmp", "r");

	while(f && fgets(head, sizeof(head), f) && fgets(vals, sizeof(vals), f)){
		char *hs, *vs, *h, *x;
		if(strncmp(head, "Udp:", 4)) continue;
		h = strtok_r(head, " \n", &hs);
		x = strtok_r(vals, " \n", &vs);
		while(h && x && strcmp(h, "RcvbufErrors")){
			h = strtok_r(NULL, " \n", &hs);
			x = strtok_r(NULL, " \n", &vs);
		}
		if(h && x) v = strtoull(x, NULL, 10);
		break;
	}
	if(f) fclose(f);
	return v;
}

/* ---- the CoAP LwM2M server ---- */

struct srv_ep {
	coap_session_t *session;    /* referenced while registered; NULL before */
	bool answered;              /* the answer to the Observe arrived */
	bool observed;              /* ... and it was a 2.05 with an Observe option */
	uint64_t notifications;
};

struct server {
	coap_context_t *ctx;
	int epfd;                   /* libcoap's epoll set (timers included) */
	int rcvbuf;                 /* its socket's receive buffer, bytes; 0 = unknown */
	char ep_prefix[80];         /* "<tag>-": endpoints <tag>-r, <tag>-c and <tag>-d<i> */
	struct srv_ep read_ep;      /* the MQTT Read device, behind the bridge */
	struct srv_ep direct_ep;    /* the CoAP device */
	struct srv_ep *fleet;       /* <tag>-d<i> at index i */
	size_t fleet_cap;
	size_t fleet_registered;
	uint64_t registers, updates, deregisters, next_location;
	/* the Read in flight */
	uint64_t want;
	bool done, ok;
	uint64_t t_done;
	/* observations */
	size_t observe_ok, observe_failed;
	uint64_t notifications;
	uint64_t t_last_notification;
	uint64_t busy_ns;           /* time spent inside libcoap (coap_io_do_epoll) */
	uint64_t poll_t0;           /* when the coap_io_do_epoll running now began */
	uint64_t busy_at_done;      /* busy_ns when the awaited answer reached its handler */
	unsigned long nacks, unexpected;
};

static struct server *server_of(coap_session_t *session)
{
	return coap_get_app_data(coap_session_get_context(session));
}

static void put_be64(uint8_t *b, uint64_t v)
{
	for(int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (56 - 8 * i));
}

static bool token_of(const coap_pdu_t *pdu, uint64_t *v)
{
	coap_bin_const_t t = coap_pdu_get_token(pdu);

	if(t.length != 8) return false;
	*v = 0;
	for(size_t i = 0; i < 8; i++) *v = (*v << 8) | t.s[i];
	return true;
}

/* The endpoint named by the query's ep= parameter. */
static struct srv_ep *srv_find_ep(struct server *s, const coap_string_t *query, bool *fleet)
{
	const char *q = query ? (const char *)query->s : NULL;
	size_t len = query ? query->length : 0, pl = strlen(s->ep_prefix);
	char name[128];

	*fleet = false;
	for(size_t i = 0; q && i + 3 <= len; i++){
		size_t n = 0;
		if((i && q[i - 1] != '&') || memcmp(q + i, "ep=", 3)) continue;
		i += 3;
		while(i + n < len && q[i + n] != '&') n++;
		if(n >= sizeof(name) || n <= pl || memcmp(q + i, s->ep_prefix, pl)) return NULL;
		memcpy(name, q + i + pl, n - pl);
		name[n - pl] = '\0';
		if(!strcmp(name, "r")) return &s->read_ep;
		if(!strcmp(name, "c")) return &s->direct_ep;
		if(name[0] == 'd'){
			char *end;
			unsigned long idx = strtoul(name + 1, &end, 10);
			if(*end || end == name + 1 || idx >= s->fleet_cap) return NULL;
			*fleet = true;
			return &s->fleet[idx];
		}
		return NULL;
	}
	return NULL;
}

/* POST /rd?ep=...: 2.01 Location rd/N; the session is the device from now on. */
static void srv_on_register(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *request,
		const coap_string_t *query, coap_pdu_t *response)
{
	struct server *s = server_of(session);
	bool fleet;
	struct srv_ep *e = srv_find_ep(s, query, &fleet);
	char loc[24];
	int n;
	(void)resource;
	(void)request;

	if(!e){
		s->unexpected++;
		coap_pdu_set_code(response, COAP_RESPONSE_CODE(400));
		return;
	}
	if(e->session != session){
		if(e->session) coap_session_release(e->session);
		else if(fleet) s->fleet_registered++;
		e->session = coap_session_reference(session);
	}
	s->registers++;
	coap_pdu_set_code(response, COAP_RESPONSE_CODE(201));
	coap_add_option(response, COAP_OPTION_LOCATION_PATH, 2, (const uint8_t *)"rd");
	n = snprintf(loc, sizeof(loc), "%" PRIu64, ++s->next_location);
	coap_add_option(response, COAP_OPTION_LOCATION_PATH, (size_t)n, (const uint8_t *)loc);
}

/* Update (POST /rd/N) and De-register (DELETE /rd/N). */
static void srv_on_other(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *request,
		const coap_string_t *query, coap_pdu_t *response)
{
	struct server *s = server_of(session);
	(void)resource;
	(void)query;

	switch(coap_pdu_get_code(request)){
		case COAP_REQUEST_CODE_POST:
			s->updates++;
			coap_pdu_set_code(response, COAP_RESPONSE_CODE(204));
			break;
		case COAP_REQUEST_CODE_DELETE:
			s->deregisters++;
			coap_pdu_set_code(response, COAP_RESPONSE_CODE(202));
			break;
		default:
			s->unexpected++;
			coap_pdu_set_code(response, COAP_RESPONSE_CODE(404));
			break;
	}
}

static bool is_read_answer(const coap_pdu_t *pdu)
{
	const uint8_t *data;
	size_t len;

	return coap_pdu_get_code(pdu) == COAP_RESPONSE_CODE(205) && coap_get_data(pdu, &len, &data)
		&& len == strlen(READ_VALUE) && !memcmp(data, READ_VALUE, len);
}

static void srv_observe_answer(struct server *s, uint64_t idx, const coap_pdu_t *pdu)
{
	coap_opt_iterator_t it;
	struct srv_ep *e;

	if(idx >= s->fleet_cap){
		s->unexpected++;
		return;
	}
	e = &s->fleet[idx];
	if(e->answered){
		s->notifications++;
		e->notifications++;
		s->t_last_notification = now_ns();
		return;
	}
	e->answered = true;
	e->observed = coap_pdu_get_code(pdu) == COAP_RESPONSE_CODE(205)
		&& coap_check_option(pdu, COAP_OPTION_OBSERVE, &it) != NULL;
	if(e->observed) s->observe_ok++;
	else s->observe_failed++;
}

static coap_response_t srv_on_response(coap_session_t *session, const coap_pdu_t *sent, const coap_pdu_t *received,
		const coap_mid_t mid)
{
	uint64_t t = now_ns(), token;
	struct server *s = server_of(session);
	(void)sent;
	(void)mid;

	if(!token_of(received, &token)){
		s->unexpected++;
		return COAP_RESPONSE_OK;
	}
	switch(token >> 56){
		case TK_READ:
		case TK_DIRECT:
			if(token == s->want && !s->done){
				s->t_done = t;
				s->busy_at_done = s->busy_ns + (t - s->poll_t0);
				s->done = true;
				s->ok = is_read_answer(received);
			}
			break;
		case TK_OBSERVE:
			srv_observe_answer(s, token & 0xffffffffu, received);
			break;
		default:
			s->unexpected++;
			break;
	}
	return COAP_RESPONSE_OK;
}

static void srv_on_nack(coap_session_t *session, const coap_pdu_t *sent, const coap_nack_reason_t reason,
		const coap_mid_t mid)
{
	struct server *s = server_of(session);
	uint64_t token;
	(void)reason;
	(void)mid;

	s->nacks++;
	if(!sent || !token_of(sent, &token)) return;
	if(token == s->want && !s->done){
		s->done = true;
		s->ok = false;
	}
	if(token >> 56 == TK_OBSERVE && (token & 0xffffffffu) < s->fleet_cap && !s->fleet[token & 0xffffffffu].answered){
		s->fleet[token & 0xffffffffu].answered = true;
		s->observe_failed++;
	}
}

/* libcoap 4.3.1 does not hand out an endpoint's socket: find the UDP socket bound to the
 * server's port among this process's descriptors and give it a receive buffer that holds a
 * whole notification window (the default one drops datagrams at a window of 256). Returns
 * the buffer size the kernel granted, 0 when the socket was not found. */
static int srv_grow_rcvbuf(int port)
{
	int want = 4 << 20;

	for(int fd = 3; fd < 1024; fd++){
		struct sockaddr_in sin;
		socklen_t len = sizeof(sin);
		int type = 0, got = 0;
		socklen_t tlen = sizeof(type), glen = sizeof(got);
		if(getsockname(fd, (struct sockaddr *)&sin, &len) != 0 || sin.sin_family != AF_INET) continue;
		if(ntohs(sin.sin_port) != port) continue;
		if(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_DGRAM) continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
		if(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &glen) != 0) return 0;
		return got;
	}
	return 0;
}

static bool srv_open(struct server *s, const struct opts *o)
{
	coap_address_t addr;
	coap_resource_t *rd, *other;

	memset(s, 0, sizeof(*s));
	snprintf(s->ep_prefix, sizeof(s->ep_prefix), "%s-", o->tag);
	s->fleet_cap = o->n_sizes ? o->sizes[o->n_sizes - 1] : 0;
	s->fleet = calloc(s->fleet_cap ? s->fleet_cap : 1, sizeof(*s->fleet));
	s->ctx = coap_new_context(NULL);
	if(!s->fleet || !s->ctx) return false;
	coap_set_app_data(s->ctx, s);
	coap_address_init(&addr);
	addr.addr.sin.sin_family = AF_INET;
	addr.addr.sin.sin_port = htons((uint16_t)o->coap_port);
	addr.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.size = sizeof(addr.addr.sin);
	if(!coap_new_endpoint(s->ctx, &addr, COAP_PROTO_UDP)){
		fprintf(stderr, "bench: cannot listen on CoAP port %d\n", o->coap_port);
		return false;
	}
	rd = coap_resource_init(coap_make_str_const("rd"), 0);
	other = coap_resource_unknown_init2(srv_on_other, 0);
	if(!rd || !other) return false;
	coap_register_request_handler(rd, COAP_REQUEST_POST, srv_on_register);
	coap_register_request_handler(other, COAP_REQUEST_POST, srv_on_other);
	coap_register_request_handler(other, COAP_REQUEST_DELETE, srv_on_other);
	coap_add_resource(s->ctx, rd);
	coap_add_resource(s->ctx, other);
	coap_register_response_handler(s->ctx, srv_on_response);
	coap_register_nack_handler(s->ctx, srv_on_nack);
	s->rcvbuf = srv_grow_rcvbuf(o->coap_port);
	s->epfd = coap_context_get_coap_fd(s->ctx);
	if(s->epfd < 0){
		fprintf(stderr, "bench: libcoap has no epoll fd\n");
		return false;
	}
	return true;
}

static void srv_close(struct server *s)
{
	struct srv_ep *eps[2] = { &s->read_ep, &s->direct_ep };

	for(size_t i = 0; i < 2; i++){
		if(eps[i]->session) coap_session_release(eps[i]->session);
	}
	for(size_t i = 0; s->fleet && i < s->fleet_cap; i++){
		if(s->fleet[i].session) coap_session_release(s->fleet[i].session);
	}
	if(s->ctx) coap_free_context(s->ctx);
	free(s->fleet);
	s->ctx = NULL;
	s->fleet = NULL;
}

/* Waits up to timeout_ms for libcoap's sockets and timer, then lets it handle them. */
static void srv_poll(struct server *s, int timeout_ms)
{
	struct epoll_event ev[64];
	int n = epoll_wait(s->epfd, ev, 64, timeout_ms);

	if(n > 0){
		s->poll_t0 = now_ns();
		coap_io_do_epoll(s->ctx, ev, (size_t)n);
		s->busy_ns += now_ns() - s->poll_t0;
	}
}

/* A confirmable GET, with Observe 0 when asked. */
static bool srv_get(coap_session_t *session, uint64_t token, bool observe, const char *const *segs, size_t n_segs)
{
	uint8_t tb[8], zero = 0;
	coap_pdu_t *pdu;
	bool ok;

	if(!session) return false;
	pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, coap_new_message_id(session),
			coap_session_max_pdu_size(session));
	if(!pdu) return false;
	put_be64(tb, token);
	ok = coap_add_token(pdu, sizeof(tb), tb) != 0;
	if(ok && observe) ok = coap_add_option(pdu, COAP_OPTION_OBSERVE, 0, &zero) != 0;
	for(size_t i = 0; ok && i < n_segs; i++){
		ok = coap_add_option(pdu, COAP_OPTION_URI_PATH, strlen(segs[i]), (const uint8_t *)segs[i]) != 0;
	}
	if(!ok){
		coap_delete_pdu(pdu);
		return false;
	}
	return coap_send(session, pdu) != COAP_INVALID_MID;
}

/* ---- the CoAP device: a child process, registered at the server, answering itself ---- */

struct direct_dev {
	coap_session_t *session;
	bool registered;
};

static void direct_on_read(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *request,
		const coap_string_t *query, coap_pdu_t *response)
{
	uint8_t b[4];
	(void)resource;
	(void)session;
	(void)request;
	(void)query;

	coap_pdu_set_code(response, COAP_RESPONSE_CODE(205));
	coap_add_option(response, COAP_OPTION_CONTENT_FORMAT, coap_encode_var_safe(b, sizeof(b), 0), b);
	coap_add_data(response, strlen(READ_VALUE), (const uint8_t *)READ_VALUE);
}

static coap_response_t direct_on_response(coap_session_t *session, const coap_pdu_t *sent, const coap_pdu_t *received,
		const coap_mid_t mid)
{
	struct direct_dev *d = coap_get_app_data(coap_session_get_context(session));
	(void)sent;
	(void)mid;

	if(coap_pdu_get_code(received) == COAP_RESPONSE_CODE(201)) d->registered = true;
	return COAP_RESPONSE_OK;
}

/* POST /rd?ep=<tag>-c&lt=3600&lwm2m=1.2&b=U with </3/0>. */
static bool direct_register(struct direct_dev *d, const char *ep)
{
	const char *queries[] = { ep, "lt=3600", "lwm2m=1.2", "b=U" };
	uint8_t token[8], cf[4];
	size_t token_len;
	coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, coap_new_message_id(d->session),
			coap_session_max_pdu_size(d->session));
	bool ok = pdu != NULL;

	if(!ok) return false;
	coap_session_new_token(d->session, &token_len, token);
	ok = coap_add_token(pdu, token_len, token) != 0;
	ok = ok && coap_add_option(pdu, COAP_OPTION_URI_PATH, 2, (const uint8_t *)"rd") != 0;
	ok = ok && coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT, coap_encode_var_safe(cf, sizeof(cf), 40), cf) != 0;
	for(size_t i = 0; ok && i < sizeof(queries) / sizeof(queries[0]); i++){
		ok = coap_add_option(pdu, COAP_OPTION_URI_QUERY, strlen(queries[i]), (const uint8_t *)queries[i]) != 0;
	}
	ok = ok && coap_add_data(pdu, 6, (const uint8_t *)"</3/0>") != 0;
	if(!ok){
		coap_delete_pdu(pdu);
		return false;
	}
	return coap_send(d->session, pdu) != COAP_INVALID_MID;
}

/* The child's life: waits for the parent's server (a byte on ready_fd), registers, answers
 * until the parent ends it. */
static int direct_main(const struct opts *o, int ready_fd)
{
	struct direct_dev d = { NULL, false };
	coap_context_t *ctx;
	coap_resource_t *r;
	coap_address_t server;
	char ep[128], byte;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if(read(ready_fd, &byte, 1) != 1) return 1;
	close(ready_fd);
	pin_self(o->direct_cpu, "CoAP device");
	ctx = coap_new_context(NULL);
	r = coap_resource_init(coap_make_str_const("3/0/0"), 0);
	if(!ctx || !r) return 1;
	coap_set_app_data(ctx, &d);
	coap_register_request_handler(r, COAP_REQUEST_GET, direct_on_read);
	coap_add_resource(ctx, r);
	coap_register_response_handler(ctx, direct_on_response);
	coap_address_init(&server);
	server.addr.sin.sin_family = AF_INET;
	server.addr.sin.sin_port = htons((uint16_t)o->coap_port);
	server.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	server.size = sizeof(server.addr.sin);
	d.session = coap_new_client_session(ctx, NULL, &server, COAP_PROTO_UDP);
	snprintf(ep, sizeof(ep), "ep=%s-c", o->tag);
	if(!d.session || !direct_register(&d, ep)){
		fprintf(stderr, "bench: the CoAP device cannot register\n");
		return 1;
	}
	for(;;) coap_io_process(ctx, 1000);
}

/* ---- MQTT connections driven by hand ---- */

/* Reads every complete packet waiting on the socket: libmosquitto reads one packet per call
 * when nothing of its own is in flight, and keeps no bytes beyond the packet it reads. */
static int read_all(struct mosquitto *m)
{
	int fd = mosquitto_socket(m), avail = 0, rc;

	for(int rounds = 0; rounds < 4096; rounds++){
		rc = mosquitto_loop_read(m, 1);
		if(rc != MOSQ_ERR_SUCCESS) return rc;
		if(ioctl(fd, FIONREAD, &avail) != 0 || avail <= 0) break;
	}
	return MOSQ_ERR_SUCCESS;
}

/* ---- the MQTT Read device: its own connection and thread ---- */

struct read_dev {
	struct conn c;
	char topic[128];
	char req_topic[128];        /* the plain relay: what arrives here goes back on rep_topic */
	char rep_topic[128];
	struct answer {
		struct msg m;
		bool echo;
	} answer[16];               /* queued in the callback, published after it */
	unsigned head, tail;
	bool registered;
	unsigned long reads, echoes, unexpected, overflow;
	atomic_bool stop;
	atomic_int tid;             /* for its CPU time; 0 until the thread runs */
	int cpu;
	bool failed;
	pthread_t thread;
};

static struct answer *read_dev_slot(struct read_dev *d)
{
	if(d->tail - d->head >= sizeof(d->answer) / sizeof(d->answer[0])){
		d->overflow++;
		return NULL;
	}
	return &d->answer[d->tail++ % (sizeof(d->answer) / sizeof(d->answer[0]))];
}

static void read_dev_on_msg(struct conn *c, const struct mosquitto_message *m)
{
	struct read_dev *d = c->role;
	struct answer *a;
	struct parsed pm;

	if(!strcmp(m->topic, d->req_topic)){
		if(m->payloadlen > MAX_MSG || (a = read_dev_slot(d)) == NULL) return;
		memcpy(a->m.b, m->payload, (size_t)m->payloadlen);
		a->m.len = (size_t)m->payloadlen;
		a->echo = true;
		return;
	}
	if(!parse_map(m->payload, (size_t)m->payloadlen, &pm) || !pm.has_token){
		d->unexpected++;
		return;
	}
	if(pm.has_result){
		if(pm.result == 201 && pm.token == TOKEN_REGISTER) d->registered = true;
		else d->echoes++;       /* its own answers come back: it subscribes to its topic */
		return;
	}
	if(pm.op != 9){
		if(pm.op == 6) d->echoes++;
		else d->unexpected++;
		return;
	}
	if((a = read_dev_slot(d)) == NULL) return;
	d->reads++;
	make_answer(&a->m, 205, pm.token, READ_VALUE);
	a->echo = false;
}

/* Publishing outside the message callback: libmosquitto then writes at once. */
static void read_dev_flush(struct conn *c)
{
	struct read_dev *d = c->role;

	while(d->head != d->tail){
		struct answer *a = &d->answer[d->head++ % (sizeof(d->answer) / sizeof(d->answer[0]))];
		mosquitto_publish(c->m, NULL, a->echo ? d->rep_topic : d->topic, (int)a->m.len, a->m.b, QOS, false);
	}
}

static bool conn_pump(struct conn *c, int timeout_ms)
{
	struct pollfd pfd = { mosquitto_socket(c->m), POLLIN | (mosquitto_want_write(c->m) ? POLLOUT : 0), 0 };

	if(poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR) return false;
	if(pfd.revents & (POLLIN | POLLERR | POLLHUP)){
		int rc = read_all(c->m);
		if(rc != MOSQ_ERR_SUCCESS){
			fprintf(stderr, "bench: Read device connection: %s\n", mosquitto_strerror(rc));
			return false;
		}
	}
	if(pfd.revents & POLLOUT) mosquitto_loop_write(c->m, 1);
	mosquitto_loop_misc(c->m);
	if(c->flush) c->flush(c);
	return true;
}

static void *read_dev_main(void *arg)
{
	struct read_dev *d = arg;

	atomic_store(&d->tid, (int)gettid());
	pin_self(d->cpu, "MQTT Read device");
	while(!atomic_load(&d->stop)){
		if(!conn_pump(&d->c, 50)){
			d->failed = true;
			break;
		}
	}
	return NULL;
}

/* Connects, subscribes to its topic, registers; then its thread answers. */
static bool read_dev_start(struct read_dev *d, const struct opts *o)
{
	uint64_t deadline = now_ns() + CONNECT_TIMEOUT_NS;
	char id[96], *topics[2];
	struct msg m;

	snprintf(d->topic, sizeof(d->topic), "lwm2m/rd/%s-r", o->tag);
	snprintf(d->req_topic, sizeof(d->req_topic), "bench/%s/req", o->tag);
	snprintf(d->rep_topic, sizeof(d->rep_topic), "bench/%s/rep", o->tag);
	snprintf(id, sizeof(id), "%s-r", o->tag);
	d->cpu = o->device_cpu;
	if(!conn_open(&d->c, o->host, o->port, id, o->no_local ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311)) return false;
	d->c.role = d;
	d->c.on_msg = read_dev_on_msg;
	d->c.flush = read_dev_flush;
	topics[0] = d->topic;
	topics[1] = d->req_topic;
	if(!conn_subscribe(&d->c, topics, 2, o->no_local ? MQTT_SUB_OPT_NO_LOCAL : 0)) return false;
	make_register_links(&m, TOKEN_REGISTER);
	if(mosquitto_publish(d->c.m, NULL, d->topic, (int)m.len, m.b, QOS, false) != MOSQ_ERR_SUCCESS) return false;
	while(!d->registered){
		if(now_ns() > deadline || !conn_pump(&d->c, 100)){
			fprintf(stderr, "bench: the MQTT Read device got no answer to its Register\n");
			return false;
		}
	}
	if(pthread_create(&d->thread, NULL, read_dev_main, d) != 0) return false;
	while(atomic_load(&d->tid) == 0) usleep(1000);
	return true;
}

static void read_dev_stop(struct read_dev *d)
{
	if(atomic_load(&d->tid) != 0){
		atomic_store(&d->stop, true);
		pthread_join(d->thread, NULL);
	}
	conn_close(&d->c);
}

/* ---- the fleet: many MQTT devices, one connection each, driven by the main thread ---- */

struct fleet;

struct fdev {
	struct mosquitto *m;
	struct fleet *f;
	size_t idx;
	bool connected, subscribed, registered, failed, in_wq;
	uint64_t obs_token;         /* the Observe's MQTT token; 0 = not observed */
};

struct fleet {
	const struct opts *o;
	struct server *srv;
	struct fdev *dev;
	size_t n, cap;
	int epfd;                   /* every device's socket and the server's libcoap set */
	char topic_prefix[96];      /* "lwm2m/rd/<tag>-d": device i's topic is this + i */
	size_t connacks, subacks, registered, refused, failed;
	struct freply {
		size_t idx;
		struct msg m;
	} *reply;                   /* queued in callbacks, published after them */
	unsigned head, tail;
	size_t *wq;                 /* devices with bytes libmosquitto has not written yet */
	size_t n_wq;
	uint64_t last_misc_ns;
	struct conn *keep;          /* another connection of this thread, kept alive in fleet_misc */
	unsigned long echoes, unexpected, overflow;
	uint64_t sent;              /* LwM2M messages the fleet published */
	double fds_per_device;      /* the broker's, measured at the last count; 0 = not yet */
};

static void fleet_topic(const struct fleet *f, size_t idx, char *buf, size_t size)
{
	snprintf(buf, size, "%s%zu", f->topic_prefix, idx);
}

static void fleet_on_connect(struct mosquitto *m, void *ud, int rc)
{
	struct fdev *d = ud;
	(void)m;

	if(rc != 0){
		d->failed = true;
		d->f->failed++;
	}else if(!d->connected){
		d->connected = true;
		d->f->connacks++;
	}
}

static void fleet_on_subscribe(struct mosquitto *m, void *ud, int mid, int n, const int *granted)
{
	struct fdev *d = ud;
	(void)m;
	(void)mid;

	if(n < 1 || granted[0] > 2) fprintf(stderr, "bench: a subscription was refused by the broker\n");
	if(!d->subscribed){
		d->subscribed = true;
		d->f->subacks++;
	}
}

static void fleet_queue(struct fleet *f, size_t idx, uint64_t result, uint64_t token, const char *value)
{
	struct freply *r;

	if(f->tail - f->head >= REPLY_SLOTS){
		f->overflow++;
		return;
	}
	r = &f->reply[f->tail++ % REPLY_SLOTS];
	r->idx = idx;
	make_answer(&r->m, result, token, value);
}

static void fleet_on_result(struct fdev *d, const struct parsed *pm)
{
	struct fleet *f = d->f;

	if(pm->token != TOKEN_REGISTER + d->idx){
		f->echoes++;            /* its own answers, which come back on its topic */
		return;
	}
	if(d->registered) return;
	d->registered = true;
	if(pm->result == 201) f->registered++;
	else f->refused++;
}

static void fleet_on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
	struct fdev *d = ud;
	struct fleet *f = d->f;
	struct parsed pm;
	(void)m;

	if(!parse_map(msg->payload, (size_t)msg->payloadlen, &pm) || !pm.has_token){
		f->unexpected++;
		return;
	}
	if(pm.has_result){
		fleet_on_result(d, &pm);
		return;
	}
	switch(pm.op){
		case 9:                 /* Read */
			fleet_queue(f, d->idx, 205, pm.token, READ_VALUE);
			break;
		case 20:                /* Observe */
			d->obs_token = pm.token;
			fleet_queue(f, d->idx, 205, pm.token, OBSERVE_VALUE);
			break;
		case 22:                /* Cancel-Observe */
			d->obs_token = 0;
			fleet_queue(f, d->idx, 205, pm.token, NULL);
			break;
		case 6: case 7: case 8: case 23: case 24:
			f->echoes++;    /* its own Register, Update, De-register, Notify, Send */
			break;
		default:
			f->unexpected++;
			fleet_queue(f, d->idx, 405, pm.token, NULL);
			break;
	}
}

static bool fleet_init(struct fleet *f, const struct opts *o, struct server *srv)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = SRV_SLOT };

	memset(f, 0, sizeof(*f));
	f->o = o;
	f->srv = srv;
	f->cap = srv->fleet_cap;
	snprintf(f->topic_prefix, sizeof(f->topic_prefix), "lwm2m/rd/%s-d", o->tag);
	f->dev = calloc(f->cap ? f->cap : 1, sizeof(*f->dev));
	f->wq = calloc(f->cap ? f->cap : 1, sizeof(*f->wq));
	f->reply = calloc(REPLY_SLOTS, sizeof(*f->reply));
	f->epfd = epoll_create1(EPOLL_CLOEXEC);
	if(!f->dev || !f->wq || !f->reply || f->epfd < 0) return false;
	return epoll_ctl(f->epfd, EPOLL_CTL_ADD, srv->epfd, &ev) == 0;
}

static void fleet_fail(struct fdev *d, int rc)
{
	if(d->failed) return;
	fprintf(stderr, "bench: device %zu: %s\n", d->idx, mosquitto_strerror(rc));
	d->failed = true;
	d->f->failed++;
	epoll_ctl(d->f->epfd, EPOLL_CTL_DEL, mosquitto_socket(d->m), NULL);
}

/* Called after a publish outside a callback: what did not fit the socket waits in wq. */
static void fleet_wrote(struct fdev *d)
{
	if(!d->in_wq && mosquitto_want_write(d->m)){
		d->in_wq = true;
		d->f->wq[d->f->n_wq++] = d->idx;
	}
}

static void fleet_retry_writes(struct fleet *f)
{
	size_t kept = 0;

	for(size_t i = 0; i < f->n_wq; i++){
		struct fdev *d = &f->dev[f->wq[i]];
		if(!d->failed) mosquitto_loop_write(d->m, 1);
		if(!d->failed && mosquitto_want_write(d->m)) f->wq[kept++] = d->idx;
		else d->in_wq = false;
	}
	f->n_wq = kept;
}

static void fleet_flush(struct fleet *f)
{
	char topic[160];

	while(f->head != f->tail){
		struct freply *r = &f->reply[f->head++ % REPLY_SLOTS];
		struct fdev *d = &f->dev[r->idx];
		if(d->failed) continue;
		fleet_topic(f, r->idx, topic, sizeof(topic));
		if(mosquitto_publish(d->m, NULL, topic, (int)r->m.len, r->m.b, QOS, false) == MOSQ_ERR_SUCCESS) f->sent++;
		fleet_wrote(d);
	}
}

/* Keep-alive for connections that are otherwise silent for minutes. */
static void fleet_misc(struct fleet *f)
{
	uint64_t t = now_ns();

	if(t - f->last_misc_ns < 5000000000ull) return;
	f->last_misc_ns = t;
	for(size_t i = 0; i < f->n; i++){
		if(!f->dev[i].failed) mosquitto_loop_misc(f->dev[i].m);
	}
	if(f->keep && f->keep->m) conn_pump(f->keep, 0);
}

/* One pass: wait up to timeout_ms, let libmosquitto and libcoap read, publish the answers. */
static bool fleet_step(struct fleet *f, int timeout_ms)
{
	struct epoll_event ev[256];
	int n = epoll_wait(f->epfd, ev, 256, f->n_wq ? 0 : timeout_ms);

	if(n < 0) return errno == EINTR;
	for(int i = 0; i < n; i++){
		struct fdev *d;
		int rc;
		if(ev[i].data.u64 == SRV_SLOT){
			srv_poll(f->srv, 0);
			continue;
		}
		d = &f->dev[ev[i].data.u64];
		if(d->failed) continue;
		rc = read_all(d->m);
		if(rc != MOSQ_ERR_SUCCESS){
			fleet_fail(d, rc);
			continue;
		}
		if(mosquitto_want_write(d->m)) mosquitto_loop_write(d->m, 1);
	}
	fleet_flush(f);
	fleet_retry_writes(f);
	fleet_misc(f);
	return true;
}

/* Steps until *count reaches want (or the fleet fails, or time runs out). */
static bool fleet_wait(struct fleet *f, const size_t *count, size_t want, const char *what)
{
	uint64_t deadline = now_ns() + SETUP_TIMEOUT_NS;

	while(*count < want){
		if(f->failed || now_ns() > deadline || !fleet_step(f, 10)){
			fprintf(stderr, "bench: %s: %zu of %zu (%zu devices failed)\n", what, *count, want, f->failed);
			return false;
		}
	}
	return true;
}

/* libmosquitto gives every client a socket pair that only wakes its own mosquitto_loop();
 * the fleet never calls that, and one descriptor per device instead of three is what lets
 * 10,000 devices fit the open-files limit. With the soft limit at the lowest free
 * descriptor the socket pair cannot be made, and libmosquitto goes on without it (it then
 * also skips the wake-up write on every publish). Main thread only; the Read device's
 * thread opens no descriptors. */
static struct mosquitto *mosquitto_new_lean(const char *id, void *ud)
{
	struct rlimit old, tight;
	struct mosquitto *m;
	int lowest = dup(STDERR_FILENO);

	if(lowest < 0 || getrlimit(RLIMIT_NOFILE, &old) != 0){
		if(lowest >= 0) close(lowest);
		return mosquitto_new(id, true, ud);
	}
	close(lowest);
	tight = old;
	tight.rlim_cur = (rlim_t)lowest;
	if(setrlimit(RLIMIT_NOFILE, &tight) != 0) return mosquitto_new(id, true, ud);
	m = mosquitto_new(id, true, ud);
	setrlimit(RLIMIT_NOFILE, &old);
	return m;
}

static bool fdev_open(struct fleet *f, size_t idx)
{
	struct fdev *d = &f->dev[idx];
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = idx };
	char id[96];
	int rc;

	d->f = f;
	d->idx = idx;
	snprintf(id, sizeof(id), "%s-d%zu", f->o->tag, idx);
	d->m = mosquitto_new_lean(id, d);
	if(!d->m) return false;
	mosquitto_int_option(d->m, MOSQ_OPT_PROTOCOL_VERSION, f->o->no_local ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	mosquitto_int_option(d->m, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_max_inflight_messages_set(d->m, 0);
	mosquitto_connect_callback_set(d->m, fleet_on_connect);
	mosquitto_subscribe_callback_set(d->m, fleet_on_subscribe);
	mosquitto_message_callback_set(d->m, fleet_on_message);
	/* Silent for most of the run: a keep-alive far beyond it. */
	rc = mosquitto_connect(d->m, f->o->host, f->o->port, 3600);
	if(rc != MOSQ_ERR_SUCCESS){
		fprintf(stderr, "bench: device %zu cannot connect: %s\n", idx, mosquitto_strerror(rc));
		return false;
	}
	return epoll_ctl(f->epfd, EPOLL_CTL_ADD, mosquitto_socket(d->m), &ev) == 0;
}

/* Devices n .. target-1 connect and subscribe to their topics, a batch at a time. */
static bool fleet_grow(struct fleet *f, size_t target)
{
	char topic[160];

	while(f->n < target){
		size_t end = f->n + CONNECT_BATCH < target ? f->n + CONNECT_BATCH : target;
		for(size_t i = f->n; i < end; i++){
			if(!fdev_open(f, i)) return false;
		}
		if(!fleet_wait(f, &f->connacks, end, "CONNACKs")) return false;
		for(size_t i = f->n; i < end; i++){
			int rc;
			fleet_topic(f, i, topic, sizeof(topic));
			if(f->o->no_local) rc = mosquitto_subscribe_v5(f->dev[i].m, NULL, topic, QOS, MQTT_SUB_OPT_NO_LOCAL, NULL);
			else rc = mosquitto_subscribe(f->dev[i].m, NULL, topic, QOS);
			if(rc != MOSQ_ERR_SUCCESS) return false;
			fleet_wrote(&f->dev[i]);
		}
		if(!fleet_wait(f, &f->subacks, end, "SUBACKs")) return false;
		f->n = end;
	}
	return true;
}

/* Devices from .. n-1 register at the broker; then wait until the bridge has registered
 * every one of them at the server. */
static bool fleet_register(struct fleet *f, size_t from)
{
	uint64_t deadline = now_ns() + SETUP_TIMEOUT_NS;
	size_t next = from, base = f->registered + f->refused;
	char topic[160];
	struct msg m;

	while(f->registered + f->refused - base < f->n - from){
		while(next < f->n && (next - from) - (f->registered + f->refused - base) < REGISTER_WINDOW){
			fleet_topic(f, next, topic, sizeof(topic));
			make_register_links(&m, TOKEN_REGISTER + next);
			if(mosquitto_publish(f->dev[next].m, NULL, topic, (int)m.len, m.b, QOS, false) != MOSQ_ERR_SUCCESS) return false;
			f->sent++;
			fleet_wrote(&f->dev[next]);
			next++;
		}
		if(f->failed || now_ns() > deadline || !fleet_step(f, 10)){
			fprintf(stderr, "bench: Registers answered: %zu of %zu\n", f->registered + f->refused - base, f->n - from);
			return false;
		}
	}
	if(f->refused){
		fprintf(stderr, "bench: %zu Registers refused by the broker\n", f->refused);
		return false;
	}
	return fleet_wait(f, &f->srv->fleet_registered, f->n, "devices registered at the CoAP server");
}

/* The server observes /3303/0/5700 of devices 0 .. count-1 through the bridge. */
static bool fleet_observe(struct fleet *f, size_t count)
{
	static const char *const path[] = { "3303", "0", "5700" };
	struct server *s = f->srv;
	uint64_t deadline = now_ns() + SETUP_TIMEOUT_NS;
	size_t next = 0;

	while(s->observe_ok + s->observe_failed < count){
		while(next < count && next - (s->observe_ok + s->observe_failed) < OBSERVE_WINDOW){
			if(!srv_get(s->fleet[next].session, make_token(TK_OBSERVE, next), true, path, 3)) return false;
			next++;
		}
		if(f->failed || now_ns() > deadline || !fleet_step(f, 10)){
			fprintf(stderr, "bench: Observes answered: %zu of %zu\n", s->observe_ok + s->observe_failed, count);
			return false;
		}
	}
	if(s->observe_failed) fprintf(stderr, "bench: %zu Observes failed\n", s->observe_failed);
	return s->observe_failed == 0;
}

static void fleet_close(struct fleet *f)
{
	for(size_t i = 0; f->dev && i < f->n; i++){
		if(!f->dev[i].m) continue;
		mosquitto_disconnect(f->dev[i].m);
		mosquitto_destroy(f->dev[i].m);
	}
	if(f->epfd >= 0) close(f->epfd);
	free(f->dev);
	free(f->wq);
	free(f->reply);
	f->dev = NULL;
	f->wq = NULL;
	f->reply = NULL;
}

/* ---- 1. Read round trips: through the bridge and directly ---- */

enum read_kind { RK_BRIDGE = 0, RK_DIRECT, RK_RELAY, RK_KINDS };
static const char *const read_names[RK_KINDS] = { "bridge_read", "direct_read", "mqtt_relay" };

/* The plain relay's client: publishes the bytes of the bridge's MQTT Read request to
 * bench/<tag>/req; the Read device's thread sends them back on bench/<tag>/rep. One MQTT
 * round trip through the broker, without the plugin. */
struct relay {
	struct conn c;
	char req_topic[128], rep_topic[128];
	const struct msg *sent;
	bool done;
	uint64_t t_done;
};

static void relay_on_msg(struct conn *c, const struct mosquitto_message *m)
{
	struct relay *r = c->role;
	uint64_t t = now_ns();

	if(!r->done && r->sent && !strcmp(m->topic, r->rep_topic) && (size_t)m->payloadlen == r->sent->len
			&& !memcmp(m->payload, r->sent->b, r->sent->len)){
		r->done = true;
		r->t_done = t;
	}
}

static bool relay_open(struct relay *r, const struct opts *o)
{
	char id[96], *topics[1];

	snprintf(r->req_topic, sizeof(r->req_topic), "bench/%s/req", o->tag);
	snprintf(r->rep_topic, sizeof(r->rep_topic), "bench/%s/rep", o->tag);
	snprintf(id, sizeof(id), "%s-relay", o->tag);
	if(!conn_open(&r->c, o->host, o->port, id, MQTT_PROTOCOL_V311)) return false;
	r->c.role = r;
	r->c.on_msg = relay_on_msg;
	topics[0] = r->rep_topic;
	return conn_subscribe(&r->c, topics, 1, 0);
}

static uint64_t relay_once(struct relay *r, uint64_t token)
{
	struct msg m;
	uint64_t t0;

	make_read(&m, token);
	r->sent = &m;
	r->done = false;
	t0 = now_ns();
	if(mosquitto_publish(r->c.m, NULL, r->req_topic, (int)m.len, m.b, QOS, false) != MOSQ_ERR_SUCCESS) return 0;
	while(!r->done){
		if(now_ns() - t0 > REPLY_TIMEOUT_NS || !conn_pump(&r->c, 100)){
			fprintf(stderr, "bench: mqtt_relay: no echo\n");
			return 0;
		}
	}
	r->sent = NULL;
	return r->t_done - t0;
}

struct reader {
	struct server *srv;
	struct relay *relay;
	uint64_t seq;
	uint64_t server_ns[RK_KINDS];   /* the server's time inside libcoap, per kind */
	uint64_t reads[RK_KINDS];
};

static uint64_t read_once(void *ctx, int kind, uint64_t token)
{
	static const char *const path[] = { "3", "0", "0" };
	struct reader *r = ctx;
	struct server *s = r->srv;
	struct srv_ep *e = kind == RK_BRIDGE ? &s->read_ep : &s->direct_ep;
	uint64_t t0, busy0;

	if(kind == RK_RELAY) return relay_once(r->relay, token);
	s->want = make_token(kind == RK_BRIDGE ? TK_READ : TK_DIRECT, ++r->seq);
	s->done = false;
	busy0 = s->busy_ns;
	t0 = now_ns();
	if(!srv_get(e->session, s->want, false, path, 3)){
		fprintf(stderr, "bench: %s: the GET could not be sent\n", read_names[kind]);
		return 0;
	}
	while(!s->done){
		if(now_ns() - t0 > REPLY_TIMEOUT_NS){
			fprintf(stderr, "bench: %s: no answer within %llu s\n", read_names[kind], REPLY_TIMEOUT_NS / 1000000000ull);
			return 0;
		}
		srv_poll(s, 100);
	}
	if(!s->ok){
		fprintf(stderr, "bench: %s: not a 2.05 \"%s\" (or not delivered)\n", read_names[kind], READ_VALUE);
		return 0;
	}
	/* Until the answer reached its handler: libcoap's walk over its sessions after the
	 * handler is not part of this round trip. */
	r->server_ns[kind] += s->busy_at_done - busy0;
	r->reads[kind]++;
	return s->t_done - t0;
}

struct read_result {
	struct summary sum[RK_KINDS];
	double server_us[RK_KINDS];             /* the server's time in libcoap per Read */
	double broker_us, core_us, device_us;   /* CPU per bridge Read */
	double relay_broker_us, relay_device_us;
	double core_switches;                   /* core thread sleeps per bridge Read */
};

static bool read_batch(const struct opts *o, struct reader *r, int device_tid, size_t n, size_t warmup,
		struct read_result *out)
{
	struct rtt_samples s;
	uint64_t sw0 = core_switches(o->broker_pid);
	uint64_t ns0[RK_KINDS], n0[RK_KINDS];
	bool ok;
	double count, all = (double)(n + warmup);

	for(int k = 0; k < RK_KINDS; k++){
		ns0[k] = r->server_ns[k];
		n0[k] = r->reads[k];
	}
	ok = rtt_measure(&s, RK_KINDS, n, warmup, o->broker_pid, device_tid, read_once, r);
	count = s.count[RK_BRIDGE] ? (double)s.count[RK_BRIDGE] : 1;

	memset(out, 0, sizeof(*out));
	out->core_switches = (double)(core_switches(o->broker_pid) - sw0) / (all > 0 ? all : 1);
	out->broker_us = (double)s.cpu[RK_BRIDGE].broker_ns / 1e3 / count;
	out->core_us = (double)s.cpu[RK_BRIDGE].core_ns / 1e3 / count;
	out->device_us = (double)s.cpu[RK_BRIDGE].responder_ns / 1e3 / count;
	count = s.count[RK_RELAY] ? (double)s.count[RK_RELAY] : 1;
	out->relay_broker_us = (double)s.cpu[RK_RELAY].broker_ns / 1e3 / count;
	out->relay_device_us = (double)s.cpu[RK_RELAY].responder_ns / 1e3 / count;
	for(int k = 0; k < RK_KINDS; k++){
		uint64_t reads = r->reads[k] - n0[k];
		out->server_us[k] = reads ? (double)(r->server_ns[k] - ns0[k]) / 1e3 / (double)reads : 0;
	}
	rtt_finish(&s, ok, read_names, o->histogram ? 10 : 0, out->sum);
	return ok;
}

/* What the bridge adds against the CoAP device, also without the benchmark server's own
 * time in libcoap (a separate answer costs it two datagrams and an ACK, a piggybacked one
 * datagram; with many sessions its walk over them dominates). */
static void print_added(const char *what, const struct read_result *r)
{
	double added = r->sum[RK_BRIDGE].median_us - r->sum[RK_DIRECT].median_us;

	printf("%s median_us %.1f without_server_time_median_us %.1f (target: at most 150 us at the median: %s; "
			"informative)\n", what, added, added - (r->server_us[RK_BRIDGE] - r->server_us[RK_DIRECT]),
			added <= 150 ? "met" : "MISSED");
}

static void print_read_rtt(const struct opts *o, const struct read_result *r)
{
	for(int k = 0; k < RK_KINDS; k++){
		printf("rtt %-11s n %zu median_us %.1f p90_us %.1f p99_us %.1f max_us %.1f\n", read_names[k], o->n,
				r->sum[k].median_us, r->sum[k].p90_us, r->sum[k].p99_us, r->sum[k].max_us);
	}
	print_added("added_by_bridge", r);
	printf("server_us_per_read bridge_read %.1f direct_read %.1f (the benchmark's server inside libcoap, "
			"until the answer's handler)\n", r->server_us[RK_BRIDGE], r->server_us[RK_DIRECT]);
	if(o->broker_pid > 0){
		printf("cpu_per_round_trip_us bridge_read broker %.1f core %.1f device %.1f core_wakeups %.2f\n",
				r->broker_us, r->core_us, r->device_us, r->core_switches);
		printf("cpu_per_round_trip_us mqtt_relay  broker %.1f device %.1f\n", r->relay_broker_us, r->relay_device_us);
	}
}

/* ---- 2. notifications per second ---- */

struct notify_result {
	double secs, rate, client_cpu_s;
	uint64_t published, received, lost, rcvbuf_errors;
	struct cpu_use cpu;
};

static bool notify_publish(struct fleet *f, size_t *next, size_t count)
{
	struct fdev *d = &f->dev[*next];
	char topic[160];
	struct msg m;

	*next = (*next + 1) % count;
	fleet_topic(f, d->idx, topic, sizeof(topic));
	make_notify(&m, d->obs_token, NOTIFY_VALUE);
	if(mosquitto_publish(d->m, NULL, topic, (int)m.len, m.b, QOS, false) != MOSQ_ERR_SUCCESS) return false;
	f->sent++;
	fleet_wrote(d);
	return true;
}

/* Notifications published and neither received nor written off. */
static uint64_t notify_outstanding(const struct notify_result *r)
{
	return r->published > r->received + r->lost ? r->published - r->received - r->lost : 0;
}

/* Devices 0 .. count-1 publish Notify round-robin whenever fewer than the window are on
 * their way, for the run's duration; then until everything arrived. A non-confirmable
 * notification the server's socket dropped never comes: a window that stays full for
 * STALL_NS is written off as lost (and counted back if it arrives after all). */
static bool notify_run(struct fleet *f, size_t count, struct notify_result *r)
{
	const struct opts *o = f->o;
	struct server *s = f->srv;
	uint64_t base = s->notifications, t0, end, progress_ns, last_seen = 0;
	struct cpu_use before, after;
	size_t next = 0;
	double cpu0 = thread_cpu_s();

	memset(r, 0, sizeof(*r));
	r->rcvbuf_errors = udp_rcvbuf_errors();
	cpu_read(o->broker_pid, 0, &before);
	t0 = progress_ns = now_ns();
	end = t0 + (uint64_t)o->duration_ms * 1000000ull;
	for(;;){
		uint64_t t = now_ns();
		r->received = s->notifications - base;
		if(r->received != last_seen){
			last_seen = r->received;
			progress_ns = t;
		}
		if(t >= end && notify_outstanding(r) == 0) break;
		if(t - progress_ns > STALL_NS && (t >= end || notify_outstanding(r) >= (uint64_t)o->window)){
			r->lost += notify_outstanding(r);
			progress_ns = t;
		}
		while(t < end && notify_outstanding(r) < (uint64_t)o->window){
			if(!notify_publish(f, &next, count)) return false;
			r->published++;
		}
		if(f->failed || !fleet_step(f, 5)) return false;
	}
	cpu_read(o->broker_pid, 0, &after);
	cpu_add_delta(&r->cpu, &before, &after);
	r->client_cpu_s = thread_cpu_s() - cpu0;
	r->lost = r->published > r->received ? r->published - r->received : 0;
	r->rcvbuf_errors = udp_rcvbuf_errors() - r->rcvbuf_errors;
	r->secs = (double)((s->t_last_notification > t0 ? s->t_last_notification : now_ns()) - t0) / 1e9;
	r->rate = r->secs > 0 ? (double)r->received / r->secs : 0;
	return true;
}

static void print_notify(const struct opts *o, size_t devices, size_t count, const struct notify_result *r)
{
	double n = r->received ? (double)r->received : 1;

	printf("notify devices %zu observed %zu window %d seconds %.3f published %" PRIu64 " received %" PRIu64
			" lost %" PRIu64 " (udp_rcvbuf_errors %" PRIu64 ") per_s %.0f client_cpu_s %.3f\n", devices, count, o->window,
			r->secs, r->published, r->received, r->lost, r->rcvbuf_errors, r->rate, r->client_cpu_s);
	if(o->broker_pid > 0){
		printf("cpu_per_notification_us devices %zu broker %.1f core %.1f cpu_share broker %.2f core %.2f "
				"runqueue_wait_share broker %.2f core %.2f\n", devices,
				(double)r->cpu.broker_ns / 1e3 / n, (double)r->cpu.core_ns / 1e3 / n,
				(double)r->cpu.broker_ns / 1e9 / r->secs, (double)r->cpu.core_ns / 1e9 / r->secs,
				(double)r->cpu.broker_wait_ns / 1e9 / r->secs, (double)r->cpu.core_wait_ns / 1e9 / r->secs);
	}
}

static bool run_notifications(struct fleet *f, size_t devices, size_t count)
{
	const struct opts *o = f->o;
	double rates[9];
	int done = 0;

	for(int i = 0; i < o->runs; i++){
		struct notify_result r;
		if(!notify_run(f, count, &r)) return false;
		print_notify(o, devices, count, &r);
		rates[done++] = r.rate;
	}
	qsort(rates, (size_t)done, sizeof(rates[0]), cmp_double);
	printf("notifications_per_s devices %zu median %.0f min %.0f max %.0f (runs %d)\n", devices, rates[done / 2],
			rates[0], rates[done - 1], done);
	return true;
}

/* The same devices publish at a fixed rate: CPU per notification at the same rate at every
 * device count (at full speed the rate decides how much a wake-up is shared). */
static bool notify_paced(struct fleet *f, size_t devices, size_t count)
{
	const struct opts *o = f->o;
	struct server *s = f->srv;
	uint64_t base = s->notifications, t0, end, published = 0, received = 0, progress_ns, sw0, busy0 = s->busy_ns;
	struct cpu_use before, after, used;
	size_t next = 0;
	double n, secs;

	memset(&used, 0, sizeof(used));
	sw0 = core_switches(o->broker_pid);
	cpu_read(o->broker_pid, 0, &before);
	t0 = progress_ns = now_ns();
	end = t0 + (uint64_t)o->duration_ms * 1000000ull;
	for(;;){
		uint64_t t = now_ns(), due = t < end ? (t - t0) * (uint64_t)o->pace / 1000000000ull : published;
		if(s->notifications - base != received){
			received = s->notifications - base;
			progress_ns = t;
		}
		if(t >= end && (received >= published || t - progress_ns > STALL_NS)) break;
		while(published < due){
			if(!notify_publish(f, &next, count)) return false;
			published++;
		}
		if(f->failed || !fleet_step(f, 1)) return false;
	}
	cpu_read(o->broker_pid, 0, &after);
	cpu_add_delta(&used, &before, &after);
	secs = (double)(now_ns() - t0) / 1e9;
	n = received ? (double)received : 1;
	printf("notify_paced devices %zu observed %zu rate_per_s %u seconds %.3f published %" PRIu64 " received %" PRIu64
			" cpu_per_notification_us broker %.1f core %.1f core_wakeups %.2f server_cpu_share %.2f\n", devices, count,
			o->pace, secs, published, received, (double)used.broker_ns / 1e3 / n, (double)used.core_ns / 1e3 / n,
			(double)(core_switches(o->broker_pid) - sw0) / n, (double)(s->busy_ns - busy0) / 1e9 / secs);
	return received == published;
}

/* ---- 3. memory, descriptors and core cost per device count ---- */

/* Lets the broker and the bridge finish what is on its way before /proc is read. */
static void fleet_settle(struct fleet *f, unsigned ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;

	while(now_ns() < end) fleet_step(f, 10);
}

static void print_footprint(size_t from, size_t to, const struct footprint *a, const struct footprint *b,
		const struct footprint *c)
{
	double n = to > from ? (double)(to - from) : 1;

	printf("footprint devices %zu -> %zu broker rss_kb %ld -> %ld -> %ld fds %ld -> %ld -> %ld\n", from, to,
			a->rss_kb, b->rss_kb, c->rss_kb, a->fds, b->fds, c->fds);
	printf("per_device devices %zu -> %zu rss_kb connect_subscribe %.2f register_forward %.2f total %.2f "
			"fds connect_subscribe %.2f register_forward %.2f total %.2f\n", from, to,
			(double)(b->rss_kb - a->rss_kb) / n, (double)(c->rss_kb - b->rss_kb) / n, (double)(c->rss_kb - a->rss_kb) / n,
			(double)(b->fds - a->fds) / n, (double)(c->fds - b->fds) / n, (double)(c->fds - a->fds) / n);
}

/* How many devices the open-files limits allow: the broker needs a TCP and a UDP socket per
 * device, and two more per libcoap context of the forwarder (fds_per_device, as measured at
 * the last count); this program one TCP socket per device (mosquitto_new_lean). */
static size_t device_capacity(const struct opts *o, size_t have, double fds_per_device)
{
	long broker_limit = o->broker_pid > 0 ? open_files_limit(o->broker_pid) : -1;
	long broker_used = o->broker_pid > 0 ? count_fds(o->broker_pid) : -1;
	long own_used = count_fds(0);
	struct rlimit rl;
	size_t cap = SIZE_MAX;

	if(broker_limit > 0 && broker_used >= 0){
		double room = (double)(broker_limit - broker_used - FD_MARGIN) / (fds_per_device > 2 ? fds_per_device : 2);
		cap = have + (size_t)(room > 0 ? room : 0);
	}
	if(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && own_used >= 0){
		long room = (long)rl.rlim_cur - own_used - FD_MARGIN;
		size_t own = have + (size_t)(room > 0 ? room : 0);
		if(own < cap) cap = own;
	}
	return cap;
}

static bool run_size(struct fleet *f, struct reader *r, int device_tid, size_t target, bool *observed)
{
	const struct opts *o = f->o;
	size_t from = f->n, cap = device_capacity(o, f->n, f->fds_per_device), count;
	struct footprint a, b, c;
	struct read_result rr;
	uint64_t t;

	if(target > cap){
		printf("# devices %zu do not fit the open-files limits (broker %ld, benchmark %ld): %zu instead\n", target,
				o->broker_pid > 0 ? open_files_limit(o->broker_pid) : -1L, open_files_limit((int)getpid()), cap);
		target = cap;
	}
	if(target <= from) return true;
	fleet_settle(f, 300);
	footprint_read(o->broker_pid, &a);
	t = now_ns();
	fprintf(stderr, "# %zu devices: connecting and subscribing\n", target);
	if(!fleet_grow(f, target)) return false;
	printf("setup devices %zu -> %zu connect_subscribe_s %.3f", from, target, (double)(now_ns() - t) / 1e9);
	fleet_settle(f, 500);
	footprint_read(o->broker_pid, &b);
	t = now_ns();
	fprintf(stderr, "# %zu devices: registering (at the broker and, through the bridge, at the server)\n", target);
	if(!fleet_register(f, from)){
		printf("\n");
		return false;
	}
	printf(" register_and_forward_s %.3f\n", (double)(now_ns() - t) / 1e9);
	fleet_settle(f, 1000);
	footprint_read(o->broker_pid, &c);
	print_footprint(from, target, &a, &b, &c);
	f->fds_per_device = (double)(c.fds - a.fds) / (double)(target - from);

	fprintf(stderr, "# %zu devices: Reads\n", target);
	if(!read_batch(o, r, device_tid, o->batch, o->batch / 10, &rr)) return false;
	printf("reads devices %zu n %zu bridge median_us %.1f p99_us %.1f direct median_us %.1f p99_us %.1f "
			"relay median_us %.1f server_us bridge %.1f direct %.1f\n", target, o->batch, rr.sum[RK_BRIDGE].median_us,
			rr.sum[RK_BRIDGE].p99_us, rr.sum[RK_DIRECT].median_us, rr.sum[RK_DIRECT].p99_us, rr.sum[RK_RELAY].median_us,
			rr.server_us[RK_BRIDGE], rr.server_us[RK_DIRECT]);
	print_added("added_by_bridge devices", &rr);
	if(o->broker_pid > 0){
		printf("core_per_read devices %zu cpu_us %.1f wakeups %.2f broker_cpu_us %.1f\n", target, rr.core_us,
				rr.core_switches, rr.broker_us);
	}

	if(!*observed){
		/* The first count: observe, then notifications as fast as the window allows. */
		count = o->observed < f->n ? o->observed : f->n;
		if(count == 0) return true;
		t = now_ns();
		fprintf(stderr, "# observing %zu devices\n", count);
		if(!fleet_observe(f, count)) return false;
		printf("setup observe %zu seconds %.3f\n", count, (double)(now_ns() - t) / 1e9);
		*observed = true;
		fprintf(stderr, "# %zu devices: notifications\n", target);
		if(o->runs > 0 && !run_notifications(f, target, count)) return false;
	}
	if(o->pace == 0) return true;
	fprintf(stderr, "# %zu devices: notifications at %u per s\n", target, o->pace);
	return notify_paced(f, target, f->srv->observe_ok);
}

/* ---- main ---- */

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s -p MQTT_PORT -S COAP_PORT [-H HOST] [-B BROKER_PID] [-n READS] [-w WARMUP]\n"
		"          [-b BATCH] [-d DEVICES[,DEVICES...]] [-o OBSERVED] [-W WINDOW] [-D MS] [-r RUNS] [-P RATE]\n"
		"          [-E CPU] [-M CPU] [-t TAG] [-L] [-v]\n"
		"  needs a broker with the LwM2M plugin forwarding to coap://127.0.0.1:COAP_PORT\n"
		"  (plugin_opt_identity any, plugin_opt_register_rate 0); this program is that server\n"
		"  defaults: -n 2000 -w 200 -b 1000 -d 1000,10000 -o 1000 -W 256 -D 5000 -r 3 -P 2000\n"
		"  -b: Reads of each kind at every device count; -d: device counts (one MQTT connection\n"
		"      each), capped by the open-files limits; -o: devices observed (at the first count) for\n"
		"      -r runs of -D ms as fast as a window of -W allows (-r 0: none), then at every count\n"
		"      one run of -D ms at -P notifications per second (-P 0: none)\n"
		"  -E: CPU of the CoAP device process; -M: CPU of the MQTT Read device's thread\n"
		"  -B: the broker's process id: CPU time, memory and descriptors\n"
		"  -L: MQTT devices subscribe with MQTT 5 no-local (no echoes of their own messages)\n"
		"  -v: histograms of the Read round trips\n", argv0);
}

static bool parse_sizes(struct opts *o, char *s)
{
	o->n_sizes = 0;
	for(char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")){
		size_t v = (size_t)strtoul(tok, NULL, 10);
		if(o->n_sizes == MAX_SIZES || v > MAX_FLEET || (o->n_sizes && v <= o->sizes[o->n_sizes - 1])) return false;
		o->sizes[o->n_sizes++] = v;
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
	o->batch = 1000;
	o->sizes[0] = 1000;
	o->sizes[1] = 10000;
	o->n_sizes = 2;
	o->observed = 1000;
	o->window = 256;
	o->duration_ms = 5000;
	o->runs = 3;
	o->pace = 2000;
	o->direct_cpu = -1;
	o->device_cpu = -1;
	snprintf(o->tag, sizeof(o->tag), "up%ld", (long)getpid());
	while((ch = getopt(argc, argv, "H:p:S:B:n:w:b:d:o:W:D:r:P:E:M:t:Lvh")) != -1){
		switch(ch){
			case 'H': o->host = optarg; break;
			case 'p': o->port = atoi(optarg); break;
			case 'S': o->coap_port = atoi(optarg); break;
			case 'B': o->broker_pid = atoi(optarg); break;
			case 'n': o->n = (size_t)strtoul(optarg, NULL, 10); break;
			case 'w': o->warmup = (size_t)strtoul(optarg, NULL, 10); break;
			case 'b': o->batch = (size_t)strtoul(optarg, NULL, 10); break;
			case 'd': if(!parse_sizes(o, optarg)) return false; break;
			case 'o': o->observed = (size_t)strtoul(optarg, NULL, 10); break;
			case 'W': o->window = atoi(optarg); break;
			case 'D': o->duration_ms = (unsigned)strtoul(optarg, NULL, 10); break;
			case 'r': o->runs = atoi(optarg); break;
			case 'P': o->pace = (unsigned)strtoul(optarg, NULL, 10); break;
			case 'E': o->direct_cpu = atoi(optarg); break;
			case 'M': o->device_cpu = atoi(optarg); break;
			case 't': snprintf(o->tag, sizeof(o->tag), "%s", optarg); break;
			case 'L': o->no_local = true; break;
			case 'v': o->histogram = true; break;
			default: return false;
		}
	}
	return o->port > 0 && o->coap_port > 0 && o->coap_port < 65536 && o->window > 0 && o->runs >= 0
		&& o->runs <= 9 && o->batch > 0;
}

/* Until the server has both Read devices: the MQTT one (through the bridge) and the CoAP one. */
static bool wait_read_devices(struct server *s)
{
	uint64_t deadline = now_ns() + SETUP_TIMEOUT_NS;

	while(!s->read_ep.session || !s->direct_ep.session){
		if(now_ns() > deadline){
			fprintf(stderr, "bench: the server has %s\n", s->read_ep.session ? "no CoAP device" : "no bridged device");
			return false;
		}
		srv_poll(s, 100);
	}
	return true;
}

struct bench {
	struct opts o;
	struct server srv;
	struct read_dev dev;
	struct fleet fleet;
	struct reader reader;
	struct relay relay;
	pid_t child;
	int ready_fd;
};

/* The measurements, in order; false at the first failure. */
static bool run(struct bench *b)
{
	const struct opts *o = &b->o;
	struct footprint fp;
	struct read_result rr;
	bool observed = false;
	char byte = 1;

	if(!srv_open(&b->srv, o)) return false;
	if(write(b->ready_fd, &byte, 1) != 1) return false;
	if(!read_dev_start(&b->dev, o) || !wait_read_devices(&b->srv) || !relay_open(&b->relay, o)) return false;
	b->reader.srv = &b->srv;
	b->reader.relay = &b->relay;
	footprint_read(o->broker_pid, &fp);
	printf("setup read_devices broker rss_kb %ld fds %ld server_rcvbuf_bytes %d\n", fp.rss_kb, fp.fds, b->srv.rcvbuf);
	if(o->n){
		fprintf(stderr, "# Read round trips\n");
		if(!read_batch(o, &b->reader, atomic_load(&b->dev.tid), o->n, o->warmup, &rr)) return false;
		print_read_rtt(o, &rr);
		printf("rtt device reads %lu skipped_echoes %lu\n", b->dev.reads, b->dev.echoes);
	}
	if(!fleet_init(&b->fleet, o, &b->srv)) return false;
	b->fleet.keep = &b->relay.c;
	for(size_t i = 0; i < o->n_sizes; i++){
		if(!run_size(&b->fleet, &b->reader, atomic_load(&b->dev.tid), o->sizes[i], &observed)) return false;
	}
	return true;
}

static void finish(struct bench *b)
{
	struct server *s = &b->srv;
	int status;

	if(b->fleet.dev){
		printf("fleet devices %zu echoes_skipped %lu unexpected %lu reply_overflow %lu\n", b->fleet.n, b->fleet.echoes,
				b->fleet.unexpected, b->fleet.overflow);
	}
	printf("server registers %" PRIu64 " updates %" PRIu64 " deregisters %" PRIu64 " nacks %lu unexpected %lu\n",
			s->registers, s->updates, s->deregisters, s->nacks, s->unexpected);
	fflush(stdout);
	read_dev_stop(&b->dev);
	conn_close(&b->relay.c);
	fleet_close(&b->fleet);
	srv_close(s);
	if(b->child > 0){
		kill(b->child, SIGTERM);
		waitpid(b->child, &status, 0);
	}
}

int main(int argc, char **argv)
{
	struct bench *b = calloc(1, sizeof(*b));
	int pipe_fds[2];
	bool ok;

	if(!b || !parse_args(&b->o, argc, argv)){
		usage(argv[0]);
		free(b);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	b->fleet.epfd = -1;
	/* The CoAP device is forked before anything else exists, so it shares nothing. */
	if(pipe(pipe_fds) != 0){
		free(b);
		return 1;
	}
	coap_startup();
	coap_set_log_level(LOG_ERR);
	b->child = fork();
	if(b->child == 0){
		close(pipe_fds[1]);
		_exit(direct_main(&b->o, pipe_fds[0]));
	}
	close(pipe_fds[0]);
	b->ready_fd = pipe_fds[1];
	mosquitto_lib_init();
	ok = b->child > 0 && run(b);
	close(b->ready_fd);
	finish(b);
	mosquitto_lib_cleanup();
	coap_cleanup();
	free(b);
	return ok ? 0 : 1;
}
