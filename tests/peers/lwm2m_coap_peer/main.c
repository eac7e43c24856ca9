/* lwm2m_coap_peer: a CoAP LwM2M server that integration tests drive over stdin/stdout.
 *
 *   lwm2m_coap_peer --listen HOST:PORT [--dtls-listen HOST:PORT]
 *                   [--psk-identity ID --psk-key HEX]... [--request-timeout-ms N]
 *                   [--log-level N]
 *
 * coap:// on --listen (UDP); with at least one PSK also coaps:// (DTLS) on --dtls-listen,
 * by default the same host and PORT+1 (or a free port too when PORT is 0). Port 0 picks a
 * free port; the first line on stdout is {"event":"ready","port":P,"dtls_port":D|null}.
 * Nothing else is listened on. Exits on EOF of stdin or the "quit" command.
 *
 * One thread drives libcoap: poll() on stdin and libcoap's epoll fd, coap_io_process(ctx,
 * COAP_IO_NO_WAIT) when that is readable, the timeout from coap_io_prepare_epoll (libcoap
 * rounds it up to whole milliseconds) and the peer's own deadlines. While paused the peer
 * reads its listening sockets itself and drops what arrives, as a server that is down. */
#include "peer.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_REQUEST_TIMEOUT_MS 20000u

struct options {
	const char *listen;
	const char *dtls_listen;
	unsigned request_timeout_ms;
	int log_level;
};

static void startup_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void startup_error(const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	fprintf(stderr, "lwm2m_coap_peer: %s\n", message);
	emit(json_pack("{s:s, s:s}", "event", "error", "message", message));
}

/* "1.2.3.4:P" or "[::1]:P" */
static int parse_hostport(const char *text, coap_address_t *addr)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon = strrchr(text, ':');
	const char *h = text;
	size_t hlen;
	char *end;
	if(!colon){
		return -1;
	}
	hlen = (size_t)(colon - text);
	if(*h == '['){
		if(hlen < 2 || text[hlen - 1] != ']'){
			return -1;
		}
		h++;
		hlen -= 2;
	}
	if(hlen == 0 || hlen >= sizeof(host)){
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	unsigned long port = strtoul(colon + 1, &end, 10);
	if(colon[1] == '\0' || *end != '\0' || port > 65535){
		return -1;
	}
	coap_address_init(addr);
	if(inet_pton(AF_INET, host, &addr->addr.sin.sin_addr) == 1){
		addr->addr.sin.sin_family = AF_INET;
		addr->addr.sin.sin_port = htons((uint16_t)port);
		addr->size = sizeof(struct sockaddr_in);
		return 0;
	}
	if(inet_pton(AF_INET6, host, &addr->addr.sin6.sin6_addr) == 1){
		addr->addr.sin6.sin6_family = AF_INET6;
		addr->addr.sin6.sin6_port = htons((uint16_t)port);
		addr->size = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -1;
}

static uint16_t addr_port(const coap_address_t *a)
{
	return ntohs(a->addr.sa.sa_family == AF_INET ? a->addr.sin.sin_port : a->addr.sin6.sin6_port);
}

static void set_port(coap_address_t *a, uint16_t port)
{
	if(a->addr.sa.sa_family == AF_INET){
		a->addr.sin.sin_port = htons(port);
	}else{
		a->addr.sin6.sin6_port = htons(port);
	}
}

/* The port an endpoint is bound to: coap_endpoint_str() prints "ADDR:PORT PROTO" from the
 * address libcoap read back with getsockname(). */
static int endpoint_port(const coap_endpoint_t *ep)
{
	const char *text = coap_endpoint_str(ep);
	const char *space = strchr(text, ' ');
	size_t n = space ? (size_t)(space - text) : strlen(text);
	char copy[128];
	if(n >= sizeof(copy)){
		return -1;
	}
	memcpy(copy, text, n);
	copy[n] = '\0';
	const char *colon = strrchr(copy, ':');
	long port = colon ? strtol(colon + 1, NULL, 10) : 0;
	return port > 0 && port <= 65535 ? (int)port : -1;
}

static int same_address(const struct sockaddr_storage *ss, const coap_address_t *a)
{
	if(ss->ss_family != a->addr.sa.sa_family){
		return 0;
	}
	if(ss->ss_family == AF_INET){
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		return in->sin_port == a->addr.sin.sin_port
			&& in->sin_addr.s_addr == a->addr.sin.sin_addr.s_addr;
	}
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
	return in6->sin6_port == a->addr.sin6.sin6_port
		&& memcmp(&in6->sin6_addr, &a->addr.sin6.sin6_addr, sizeof(in6->sin6_addr)) == 0;
}

/* libcoap 4.3.1 does not expose an endpoint's socket; the pause needs it to drop what
 * arrives. It is the process's UDP socket bound to the endpoint's address. */
static int find_endpoint_fd(const coap_address_t *bound)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1;
	if(!d){
		return -1;
	}
	while(found < 0 && (e = readdir(d)) != NULL){
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		struct stat st;
		struct sockaddr_storage ss;
		socklen_t sslen = sizeof(ss);
		int type = 0;
		socklen_t tlen = sizeof(type);
		if(*end != '\0' || fd < 0 || fd == dirfd(d) || fstat((int)fd, &st) != 0 || !S_ISSOCK(st.st_mode)){
			continue;
		}
		if(getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_DGRAM){
			continue;
		}
		if(getsockname((int)fd, (struct sockaddr *)&ss, &sslen) == 0 && same_address(&ss, bound)){
			found = (int)fd;
		}
	}
	closedir(d);
	return found;
}

/* Listens on addr (port 0: a free one); returns the bound port or -1. */
static int listen_on(struct peer *p, coap_address_t *addr, coap_proto_t proto)
{
	coap_endpoint_t *ep = coap_new_endpoint(p->ctx, addr, proto);
	if(!ep){
		return -1;
	}
	int port = endpoint_port(ep);
	if(port < 0){
		return -1;
	}
	set_port(addr, (uint16_t)port);
	int fd = find_endpoint_fd(addr);
	if(fd < 0 || p->endpoint_fd_count == PEER_MAX_ENDPOINT_FDS){
		return -1;
	}
	p->endpoint_fds[p->endpoint_fd_count++] = fd;
	return port;
}

static const coap_bin_const_t *psk_for_identity(coap_bin_const_t *identity, coap_session_t *s,
	void *arg)
{
	struct peer *p = arg;
	for(size_t i = 0; i < p->psk_count; i++){
		const char *id = p->psks[i].identity;
		if(strlen(id) == identity->length && memcmp(id, identity->s, identity->length) == 0){
			return &p->psks[i].key;
		}
	}
	emit(json_pack("{s:s, s:s, s:o, s:o}", "event", "dtls", "state", "unknown_identity",
		"addr", json_addr(s), "identity", json_text_or_null(identity->s, identity->length)));
	return NULL;
}

/* libcoap 4.3.1 reports no DTLS_CONNECTED for server sessions: only the ends. */
static int on_event(coap_session_t *s, const coap_event_t event)
{
	const char *state;
	switch(event){
	case COAP_EVENT_DTLS_CLOSED:
		state = "closed";
		break;
	case COAP_EVENT_DTLS_ERROR:
		state = "error";
		break;
	default:
		return 0;
	}
	emit(json_pack("{s:s, s:s, s:o, s:o}", "event", "dtls", "state", state, "addr", json_addr(s),
		"identity", json_identity(s)));
	return 0;
}

static int add_psk_identity(struct peer *p, const char *identity)
{
	struct psk_entry *grown = realloc(p->psks, (p->psk_count + 1) * sizeof(*grown));
	if(!grown){
		return -1;
	}
	p->psks = grown;
	memset(&p->psks[p->psk_count], 0, sizeof(p->psks[0]));
	if(!(p->psks[p->psk_count].identity = strdup(identity))){
		return -1;
	}
	p->psk_count++;
	return 0;
}

static int add_psk_key(struct peer *p, const char *hex)
{
	struct psk_entry *last = p->psk_count ? &p->psks[p->psk_count - 1] : NULL;
	uint8_t *key;
	size_t len;
	if(!last || last->key.s || parse_hex(hex, &key, &len) != 0 || len == 0){
		return -1;
	}
	last->key.s = key;
	last->key.length = len;
	return 0;
}

static int parse_args(struct peer *p, struct options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"dtls-listen", required_argument, NULL, 'd'},
		{"psk-identity", required_argument, NULL, 'i'},
		{"psk-key", required_argument, NULL, 'k'},
		{"request-timeout-ms", required_argument, NULL, 't'},
		{"log-level", required_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	int c;
	char *end;
	unsigned long n;
	while((c = getopt_long(argc, argv, "", longopts, NULL)) != -1){
		switch(c){
		case 'l':
			o->listen = optarg;
			break;
		case 'd':
			o->dtls_listen = optarg;
			break;
		case 'i':
			if(add_psk_identity(p, optarg) != 0){
				startup_error("cannot keep PSK identity %s", optarg);
				return -1;
			}
			break;
		case 'k':
			if(add_psk_key(p, optarg) != 0){
				startup_error("--psk-key %s: needs hex and a --psk-identity before it", optarg);
				return -1;
			}
			break;
		case 't':
			n = strtoul(optarg, &end, 10);
			if(*optarg == '\0' || *end != '\0' || n == 0 || n > 3600000){
				startup_error("--request-timeout-ms %s: 1 to 3600000", optarg);
				return -1;
			}
			o->request_timeout_ms = (unsigned)n;
			break;
		case 'v':
			o->log_level = atoi(optarg);
			break;
		default:
			startup_error("usage: --listen HOST:PORT [--dtls-listen HOST:PORT] "
				"[--psk-identity ID --psk-key HEX]... [--request-timeout-ms N] [--log-level N]");
			return -1;
		}
	}
	if(!o->listen || optind != argc){
		startup_error("--listen HOST:PORT is required (and nothing else on the command line)");
		return -1;
	}
	for(size_t i = 0; i < p->psk_count; i++){
		if(!p->psks[i].key.s){
			startup_error("PSK identity %s has no --psk-key", p->psks[i].identity);
			return -1;
		}
	}
	return 0;
}

static int setup_psk(struct peer *p)
{
	coap_dtls_spsk_t spsk;
	if(!coap_dtls_is_supported()){
		return -1;
	}
	memset(&spsk, 0, sizeof(spsk));
	spsk.version = COAP_DTLS_SPSK_SETUP_VERSION;
	spsk.validate_id_call_back = psk_for_identity;
	spsk.id_call_back_arg = p;
	spsk.psk_info.key = p->psks[0].key;
	return coap_context_set_psk2(p->ctx, &spsk) ? 0 : -1;
}

static int setup(struct peer *p, const struct options *o)
{
	coap_address_t plain;
	coap_address_t secure;
	int dtls_port = -1;
	if(parse_hostport(o->listen, &plain) != 0){
		startup_error("--listen %s: want IPV4:PORT or [IPV6]:PORT", o->listen);
		return -1;
	}
	if(o->dtls_listen && parse_hostport(o->dtls_listen, &secure) != 0){
		startup_error("--dtls-listen %s: want IPV4:PORT or [IPV6]:PORT", o->dtls_listen);
		return -1;
	}
	if(!(p->ctx = coap_new_context(NULL))){
		startup_error("cannot create the CoAP context");
		return -1;
	}
	coap_set_app_data(p->ctx, p);
	/* block-wise transfers are the peer's own (block.c): libcoap 4.3.1 drops a Block2
	 * answer that comes as a separate response to a server session's request */
	coap_context_set_block_mode(p->ctx, 0);
	coap_register_event_handler(p->ctx, on_event);
	req_install(p);
	if(rd_install(p) != 0){
		startup_error("cannot create the resources");
		return -1;
	}
	uint16_t wanted = addr_port(&plain);
	int port = listen_on(p, &plain, COAP_PROTO_UDP);
	if(port < 0){
		startup_error("cannot listen on %s", o->listen);
		return -1;
	}
	if(p->psk_count){
		if(!o->dtls_listen){
			secure = plain;
			set_port(&secure, wanted ? (uint16_t)(wanted + 1) : 0);
		}
		if(setup_psk(p) != 0 || (dtls_port = listen_on(p, &secure, COAP_PROTO_DTLS)) < 0){
			startup_error("cannot listen for DTLS (PSK) next to %s", o->listen);
			return -1;
		}
	}
	emit(json_pack("{s:s, s:i, s:o, s:i}", "event", "ready", "port", port,
		"dtls_port", dtls_port < 0 ? json_null() : json_integer(dtls_port), "pid", (int)getpid()));
	return 0;
}

/* Datagrams that arrive while paused are read and dropped. */
static void drain(int fd)
{
	char buf[2048];
	while(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0){
	}
}

static int poll_timeout(struct peer *p, uint64_t now)
{
	uint64_t due = 0;
	long long timeout = -1;
	rd_tick(p, now, &due);
	req_tick(p, now, &due);
	if(p->paused_until_ms){
		if(!due || p->paused_until_ms < due){
			due = p->paused_until_ms;
		}
	}else{
		coap_tick_t ticks;
		coap_ticks(&ticks);
		unsigned lib = coap_io_prepare_epoll(p->ctx, ticks);
		if(lib){
			timeout = lib;
		}
	}
	if(due){
		long long own = due > now ? (long long)(due - now) : 0;
		if(timeout < 0 || own < timeout){
			timeout = own;
		}
	}
	return timeout > INT_MAX ? INT_MAX : (int)timeout;
}

static int read_stdin(struct peer *p)
{
	char buf[65536];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
	if(n < 0){
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	}
	if(n == 0){
		return -1;
	}
	commands_feed(p, buf, (size_t)n);
	return 0;
}

static int run(struct peer *p)
{
	int coap_fd = coap_context_get_coap_fd(p->ctx);
	if(coap_fd < 0){
		startup_error("libcoap was built without epoll");
		return -1;
	}
	while(!p->quit){
		uint64_t now = now_ms();
		if(p->paused_until_ms && p->paused_until_ms <= now){
			p->paused_until_ms = 0;
			emit(json_pack("{s:s}", "event", "resumed"));
		}
		int timeout = poll_timeout(p, now);
		int paused = p->paused_until_ms != 0;
		struct pollfd fds[1 + PEER_MAX_ENDPOINT_FDS];
		nfds_t nfds = 1;
		fds[0] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
		if(paused){
			for(size_t i = 0; i < p->endpoint_fd_count; i++){
				fds[nfds++] = (struct pollfd){.fd = p->endpoint_fds[i], .events = POLLIN};
			}
		}else{
			fds[nfds++] = (struct pollfd){.fd = coap_fd, .events = POLLIN};
		}
		int n = poll(fds, nfds, timeout);
		if(n < 0){
			if(errno == EINTR){
				continue;
			}
			return -1;
		}
		for(nfds_t i = 1; i < nfds; i++){
			if(!(fds[i].revents & (POLLIN | POLLERR | POLLHUP))){
				continue;
			}
			if(paused){
				drain(fds[i].fd);
			}else{
				coap_io_process(p->ctx, COAP_IO_NO_WAIT);
			}
		}
		if(fds[0].revents & (POLLIN | POLLERR | POLLHUP) && read_stdin(p) != 0){
			p->quit = 1;
		}
	}
	return 0;
}

/* stdout carries the events only: libcoap's log (which it would print on stdout below
 * LOG_CRIT) goes to stderr. */
static void log_to_stderr(coap_log_t level, const char *message)
{
	size_t len = strlen(message);
	fprintf(stderr, "libcoap[%d] %s%s", level, message, len && message[len - 1] == '\n' ? "" : "\n");
}

static void teardown(struct peer *p)
{
	/* every session reference goes before the context, which expects none left */
	req_free_all(p);
	rd_forget(p, NULL);
	inbound_free_all(p);
	if(p->ctx){
		coap_free_context(p->ctx);
	}
	json_decref(p->refused_versions);
	for(size_t i = 0; i < p->psk_count; i++){
		free(p->psks[i].identity);
		free((void *)p->psks[i].key.s);
	}
	free(p->psks);
	free(p->line);
}

int main(int argc, char **argv)
{
	struct peer p;
	struct options o = {.request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS, .log_level = LOG_WARNING};
	int rc = 2;
	memset(&p, 0, sizeof(p));
	signal(SIGPIPE, SIG_IGN);
	coap_startup();
	coap_set_log_handler(log_to_stderr);
	coap_set_show_pdu_output(0);
	if(!(p.refused_versions = json_array())){
		coap_cleanup();
		return 2;
	}
	if(parse_args(&p, &o, argc, argv) == 0){
		coap_set_log_level(o.log_level);
		coap_dtls_set_log_level(o.log_level);
		p.request_timeout_ms = o.request_timeout_ms;
		if(setup(&p, &o) == 0){
			rc = run(&p) == 0 ? 0 : 1;
		}
	}
	teardown(&p);
	coap_cleanup();
	return rc;
}
