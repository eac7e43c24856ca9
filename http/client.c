/* The HTTP client: libcurl's multi interface in "socket action" mode. libcurl says which
 * sockets to watch (on_curl_socket) and when to wake it (on_curl_timer); the loop's
 * uv_poll_t and uv_timer_t call curl_multi_socket_action, and finished transfers are
 * collected after each call, outside libcurl, so done callbacks may use the client freely. */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>

/* Out of memory while adding to the table is reported (hh.tbl left NULL), not fatal. */
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#if LIBCURL_VERSION_NUM < 0x075500
#error "libcurl 7.85 or later is needed (CURLOPT_PROTOCOLS_STR, CURLOPT_PREREQFUNCTION)"
#endif

#define ALLOWED_PROTOCOLS "http,https"
#define HEADER_VALUE_MAX 1024
#define METHOD_MAX 32

struct http_sock {
	uv_poll_t poll;
	struct http_client *cl;
	curl_socket_t fd;
	struct http_sock *prev, *next;   /* in cl->socks until its poll is closing */
};

struct http_xfer {
	struct http_client *cl;
	CURL *easy;
	int64_t handle;
	http_done_fn done;
	void *ctx;
	struct curl_slist *headers;
	uint8_t *body;              /* response body: body_len bytes and a 0 byte */
	size_t body_len;
	size_t body_cap;
	size_t max_response;
	char *location;
	bool connected;             /* the request went out on an established connection */
	bool too_large;
	bool no_memory;
	char errbuf[CURL_ERROR_SIZE];
	UT_hash_handle hh;
};

struct http_client {
	uv_loop_t *loop;
	CURLM *multi;               /* NULL once closing */
	uv_timer_t timer;
	char *ca_file;
	char *cert_file;
	char *key_file;
	bool tls_no_verify;
	uint32_t connect_timeout_ms;
	struct http_xfer *xfers;    /* pending, by handle */
	struct http_sock *socks;    /* watched sockets */
	int64_t last_handle;
	unsigned open_handles;      /* loop handles not closed yet: the timer and the polls */
	bool closing;
	http_closed_fn on_closed;
	void *closed_arg;
};

static const uint8_t empty_body[1];

bool http_client_global_init_is_threadsafe(void)
{
	const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);

	return info && (info->features & CURL_VERSION_THREADSAFE);
}

/* ---- loop handles ---- */

static void free_client(struct http_client *cl)
{
	http_closed_fn on_closed = cl->on_closed;
	void *arg = cl->closed_arg;

	free(cl->ca_file);
	free(cl->cert_file);
	free(cl->key_file);
	free(cl);
	curl_global_cleanup();
	if(on_closed) on_closed(arg);
}

static void handle_closed(struct http_client *cl)
{
	cl->open_handles--;
	if(cl->closing && cl->open_handles == 0) free_client(cl);
}

static void on_sock_closed(uv_handle_t *h)
{
	struct http_sock *s = h->data;
	struct http_client *cl = s->cl;

	free(s);
	handle_closed(cl);
}

static void on_timer_closed(uv_handle_t *h)
{
	handle_closed(h->data);
}

static void sock_close(struct http_sock *s)
{
	struct http_client *cl = s->cl;

	if(s->prev) s->prev->next = s->next;
	else cl->socks = s->next;
	if(s->next) s->next->prev = s->prev;
	uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

/* ---- finished transfers ---- */

static void xfer_free(struct http_xfer *x)
{
	if(x->easy) curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	free(x->body);
	free(x->location);
	free(x);
}

/* Out of the table and out of libcurl: nothing reaches x any more. */
static void xfer_detach(struct http_xfer *x)
{
	struct http_client *cl = x->cl;

	HASH_DEL(cl->xfers, x);
	if(cl->multi) curl_multi_remove_handle(cl->multi, x->easy);
}

static bool is_connect_failure(CURLcode rc)
{
	switch(rc){
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return true;
	default:
		return false;
	}
}

static enum http_outcome classify(const struct http_xfer *x, CURLcode rc)
{
	if(x->too_large || rc == CURLE_FILESIZE_EXCEEDED) return HTTP_CLIENT_TOO_LARGE;
	if(rc == CURLE_OK) return HTTP_CLIENT_OK;
	/* libcurl says "timed out" for the connect and the whole exchange alike. */
	if(!x->connected && is_connect_failure(rc)) return HTTP_CLIENT_CONNECT_FAILED;
	if(rc == CURLE_OPERATION_TIMEDOUT) return HTTP_CLIENT_TIMEOUT;
	return HTTP_CLIENT_ERROR;
}

static void describe(const struct http_xfer *x, CURLcode rc, struct http_response *res,
		char *why, size_t why_size)
{
	if(res->outcome == HTTP_CLIENT_OK) return;
	if(x->too_large || rc == CURLE_FILESIZE_EXCEEDED){
		snprintf(why, why_size, "response body larger than %zu bytes", x->max_response);
		res->error = why;
	}else if(x->no_memory){
		res->error = "out of memory";
	}else{
		res->error = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
	}
}

static void xfer_finish(struct http_xfer *x, CURLcode rc)
{
	struct http_response res = { .body = empty_body };
	char why[80];
	char *ct = NULL;

	xfer_detach(x);
	res.outcome = classify(x, rc);
	if(curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &res.status) != CURLE_OK) res.status = 0;
	if(curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK) res.content_type = ct;
	res.location = x->location;
	if(res.outcome == HTTP_CLIENT_OK && x->body){
		res.body = x->body;
		res.body_len = x->body_len;
	}
	describe(x, rc, &res, why, sizeof(why));
	x->done(x->ctx, &res);
	xfer_free(x);
}

/* Only between libcurl calls: done may send, cancel or close. */
static void collect_finished(struct http_client *cl)
{
	CURLMsg *msg;
	int left;

	while(!cl->closing && (msg = curl_multi_info_read(cl->multi, &left)) != NULL){
		CURLcode rc = msg->data.result;
		char *priv = NULL;

		if(msg->msg != CURLMSG_DONE) continue;
		if(curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv) != CURLE_OK || !priv){
			continue;
		}
		xfer_finish((struct http_xfer *)(void *)priv, rc);
	}
}

/* ---- driving libcurl from the loop ---- */

static void on_timer(uv_timer_t *t)
{
	struct http_client *cl = t->data;
	int running;

	/* Failures surface per transfer, as finished messages. */
	(void)curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect_finished(cl);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct http_sock *s = p->data;
	struct http_client *cl = s->cl;
	int flags = 0;
	int running;

	/* On an error libuv stops the poll; libcurl, told so, gives up or replaces that
	 * socket, and the transfer's timeout bounds anything else. */
	if(status < 0) flags |= CURL_CSELECT_ERR;
	if(events & UV_READABLE) flags |= CURL_CSELECT_IN;
	if(events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
	(void)curl_multi_socket_action(cl->multi, s->fd, flags, &running);
	collect_finished(cl);
}

static struct http_sock *sock_open(struct http_client *cl, curl_socket_t fd)
{
	struct http_sock *s = calloc(1, sizeof(*s));

	if(!s) return NULL;
	if(uv_poll_init_socket(cl->loop, &s->poll, fd) != 0){
		free(s);
		return NULL;
	}
	s->poll.data = s;
	s->cl = cl;
	s->fd = fd;
	s->next = cl->socks;
	if(cl->socks) cl->socks->prev = s;
	cl->socks = s;
	cl->open_handles++;
	return s;
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_client *cl = userp;
	struct http_sock *s = socketp;
	int events = 0;

	(void)easy;
	if(what == CURL_POLL_REMOVE){
		if(s) sock_close(s);
		return 0;
	}
	if(!s){
		/* A socket we cannot watch leaves its transfer to its timeout; returning -1
		 * would make libcurl fail every transfer of the client. */
		if(cl->closing || !(s = sock_open(cl, fd))) return 0;
		if(curl_multi_assign(cl->multi, fd, s) != CURLM_OK){
			sock_close(s);
			return 0;
		}
	}
	if(what & CURL_POLL_IN) events |= UV_READABLE;
	if(what & CURL_POLL_OUT) events |= UV_WRITABLE;
	/* Fails only for a closing handle, which this one is not. */
	(void)uv_poll_start(&s->poll, events, on_poll);
	return 0;
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *cl = userp;

	(void)multi;
	if(timeout_ms < 0){
		uv_timer_stop(&cl->timer);
		return 0;
	}
	/* Never curl_multi_socket_action from here: this runs inside libcurl. */
	return uv_timer_start(&cl->timer, on_timer, (uint64_t)timeout_ms, 0) == 0 ? 0 : -1;
}

/* ---- libcurl's per-transfer callbacks ---- */

static bool body_reserve(struct http_xfer *x, size_t need)
{
	size_t cap = x->body_cap ? x->body_cap : 256;
	uint8_t *p;

	if(need <= x->body_cap) return true;
	while(cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	/* Never more than the largest body allowed, plus its 0 byte. */
	if(cap > x->max_response + 1) cap = x->max_response + 1;
	if(cap < need) cap = need;
	p = realloc(x->body, cap);
	if(!p) return false;
	x->body = p;
	x->body_cap = cap;
	return true;
}

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
	struct http_xfer *x = userp;
	size_t len = size * n;

	if(len > x->max_response - x->body_len){
		x->too_large = true;
		return 0;
	}
	if(!body_reserve(x, x->body_len + len + 1)){
		x->no_memory = true;
		return 0;
	}
	memcpy(x->body + x->body_len, data, len);
	x->body_len += len;
	x->body[x->body_len] = 0;
	return len;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Keeps the Location header of the final response (a 1xx head may come first). */
static size_t on_header(char *line, size_t size, size_t n, void *userp)
{
	static const char name[] = "Location:";
	struct http_xfer *x = userp;
	size_t len = size * n;
	size_t start = sizeof(name) - 1;
	char *value;

	if(len >= 5 && !memcmp(line, "HTTP/", 5)){
		free(x->location);
		x->location = NULL;
		return len;
	}
	if(len < start || strncasecmp(line, name, start) != 0) return len;
	while(start < len && is_space(line[start])) start++;
	while(len > start && is_space(line[len - 1])) len--;
	value = malloc(len - start + 1);
	if(!value){
		x->no_memory = true;
		return 0;
	}
	memcpy(value, line + start, len - start);
	value[len - start] = 0;
	free(x->location);
	x->location = value;
	return size * n;
}

static int on_prereq(void *userp, char *remote_ip, char *local_ip, int remote_port, int local_port)
{
	struct http_xfer *x = userp;

	(void)remote_ip;
	(void)local_ip;
	(void)remote_port;
	(void)local_port;
	x->connected = true;
	return CURL_PREREQFUNC_OK;
}

/* ---- building a transfer ---- */

static bool is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		|| (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool method_ok(const char *m)
{
	size_t i;

	for(i = 0; m[i]; i++){
		if(i >= METHOD_MAX || !is_token_char(m[i])) return false;
	}
	return i > 0;
}

/* Visible ASCII, spaces and tabs, and bytes above 0x7f; no line breaks to smuggle headers. */
static bool header_value_ok(const char *v)
{
	size_t i;

	if(!v) return true;
	for(i = 0; v[i]; i++){
		unsigned char c = (unsigned char)v[i];
		if(i >= HEADER_VALUE_MAX || (c < 0x20 && c != '\t') || c == 0x7f) return false;
	}
	return true;
}

static bool url_ok(const char *url)
{
	size_t i;

	if(!url) return false;
	if(strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) return false;
	for(i = 0; url[i]; i++){
		unsigned char c = (unsigned char)url[i];
		if(c <= 0x20 || c == 0x7f) return false;
	}
	return true;
}

static int check_request(const struct http_request *req)
{
	const char *method = req->method ? req->method : "GET";

	if(!url_ok(req->url) || !method_ok(method)) return -LWM2M_EINVAL;
	if(!header_value_ok(req->content_type) || !header_value_ok(req->accept)) return -LWM2M_EINVAL;
	if(req->body_len && !req->body) return -LWM2M_EINVAL;
	if(!strcmp(method, "HEAD") && req->body_len) return -LWM2M_EINVAL;
	return 0;
}

static bool add_header(struct http_xfer *x, const char *name, const char *value)
{
	char line[HEADER_VALUE_MAX + 64];
	struct curl_slist *l;

	snprintf(line, sizeof(line), "%s:%s%s", name, value ? " " : "", value ? value : "");
	l = curl_slist_append(x->headers, line);
	if(!l) return false;
	x->headers = l;
	return true;
}

/* Empty "Content-Type:" and "Expect:" lines remove what libcurl would add by itself (a form
 * type for a body, and a 100-continue wait for a large one). */
static bool set_headers(struct http_xfer *x, const struct http_request *req)
{
	if(!add_header(x, "Content-Type", req->content_type)) return false;
	if(req->accept && !add_header(x, "Accept", req->accept)) return false;
	if(!add_header(x, "Expect", NULL)) return false;
	return curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers) == CURLE_OK;
}

static bool set_method(CURL *e, const struct http_request *req)
{
	const char *method = req->method ? req->method : "GET";
	bool has_body = req->body_len > 0 || (strcmp(method, "GET") && strcmp(method, "DELETE"));
	unsigned bad = 0;

	if(!strcmp(method, "HEAD")) return curl_easy_setopt(e, CURLOPT_NOBODY, 1L) == CURLE_OK;
	if(!strcmp(method, "GET") && !has_body) return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) == CURLE_OK;
	if(has_body){
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS,
				req->body_len ? (const char *)req->body : "") != CURLE_OK;
	}
	bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
	return !bad;
}

static bool set_tls(CURL *e, const struct http_client *cl)
{
	unsigned bad = 0;

	bad |= curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, cl->tls_no_verify ? 0L : 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, cl->tls_no_verify ? 0L : 2L) != CURLE_OK;
	if(cl->ca_file){
		/* The operator's file replaces the system store, directory included. */
		bad |= curl_easy_setopt(e, CURLOPT_CAINFO, cl->ca_file) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_CAPATH, (char *)NULL) != CURLE_OK;
	}
	if(cl->cert_file){
		bad |= curl_easy_setopt(e, CURLOPT_SSLCERT, cl->cert_file) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_SSLKEY, cl->key_file ? cl->key_file : cl->cert_file)
			!= CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK;
	}
	return !bad;
}

static bool set_limits(struct http_xfer *x, const struct http_client *cl,
		const struct http_request *req)
{
	CURL *e = x->easy;
	uint32_t timeout = req->timeout_ms ? req->timeout_ms : HTTP_CLIENT_DEFAULT_TIMEOUT_MS;
	uint32_t connect = cl->connect_timeout_ms < timeout ? cl->connect_timeout_ms : timeout;
	unsigned bad = 0;

	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)connect) != CURLE_OK;
	/* A declared Content-Length above the limit fails before any of the body is read. */
	if(x->max_response <= (size_t)INT64_MAX){
		bad |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_response)
			!= CURLE_OK;
	}
	return !bad;
}

static bool set_policy(CURL *e)
{
	unsigned bad = 0;

	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, ALLOWED_PROTOCOLS) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, ALLOWED_PROTOCOLS) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	/* An empty proxy disables proxies, those named by http_proxy & co included. */
	bad |= curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK;
	return !bad;
}

static bool set_callbacks(struct http_xfer *x)
{
	CURL *e = x->easy;
	unsigned bad = 0;

	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)x) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)x) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)x) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PREREQDATA, (void *)x) != CURLE_OK;
	return !bad;
}

static struct http_xfer *xfer_new(struct http_client *cl, const struct http_request *req)
{
	struct http_xfer *x = calloc(1, sizeof(*x));

	if(!x) return NULL;
	x->cl = cl;
	x->max_response = req->max_response ? req->max_response : HTTP_CLIENT_DEFAULT_MAX_RESPONSE;
	x->easy = curl_easy_init();
	if(!x->easy || !set_callbacks(x) || !set_policy(x->easy) || !set_limits(x, cl, req)
			|| !set_tls(x->easy, cl) || !set_method(x->easy, req) || !set_headers(x, req)
			|| curl_easy_setopt(x->easy, CURLOPT_URL, req->url) != CURLE_OK){
		xfer_free(x);
		return NULL;
	}
	return x;
}

/* ---- the API ---- */

int64_t http_client_send(struct http_client *cl, const struct http_request *req, http_done_fn done,
		void *ctx)
{
	struct http_xfer *x;
	int rc;

	if(!cl || !req || !done || cl->closing) return -LWM2M_EINVAL;
	rc = check_request(req);
	if(rc < 0) return rc;
	x = xfer_new(cl, req);
	if(!x) return -LWM2M_ENOMEM;
	x->done = done;
	x->ctx = ctx;
	x->handle = ++cl->last_handle;
	HASH_ADD(hh, cl->xfers, handle, sizeof(x->handle), x);
	if(!x->hh.tbl){
		xfer_free(x);
		return -LWM2M_ENOMEM;
	}
	if(curl_multi_add_handle(cl->multi, x->easy) != CURLM_OK){
		HASH_DEL(cl->xfers, x);
		xfer_free(x);
		return -LWM2M_ENOMEM;
	}
	return x->handle;
}

void http_client_cancel(struct http_client *cl, int64_t handle)
{
	struct http_xfer *x = NULL;

	if(!cl) return;
	HASH_FIND(hh, cl->xfers, &handle, sizeof(handle), x);
	if(!x) return;
	xfer_detach(x);
	xfer_free(x);
}

size_t http_client_pending(const struct http_client *cl)
{
	return cl ? HASH_COUNT(cl->xfers) : 0;
}

static void cancel_all(struct http_client *cl)
{
	struct http_xfer *x;

	/* One at a time from the head: a done callback may cancel others. */
	while((x = cl->xfers) != NULL){
		struct http_response res = {
			.outcome = HTTP_CLIENT_CANCELLED,
			.body = empty_body,
			.error = "the HTTP client was closed",
		};
		xfer_detach(x);
		x->done(x->ctx, &res);
		xfer_free(x);
	}
}

void http_client_close(struct http_client *cl, http_closed_fn on_closed, void *arg)
{
	if(!cl || cl->closing) return;
	cl->closing = true;
	cl->on_closed = on_closed;
	cl->closed_arg = arg;
	cancel_all(cl);
	/* Closes the cached connections: their sockets leave through on_curl_socket. */
	curl_multi_cleanup(cl->multi);
	cl->multi = NULL;
	while(cl->socks) sock_close(cl->socks);
	uv_close((uv_handle_t *)&cl->timer, on_timer_closed);
}

static char *dup_path(const char *path, const char *what, struct lwm2m_error *err, bool *failed)
{
	char *copy;

	if(!path || *failed) return NULL;
	if(access(path, R_OK) != 0){
		lwm2m_fail(err, LWM2M_EINVAL, -1, "TLS %s %s: %s", what, path, strerror(errno));
		*failed = true;
		return NULL;
	}
	copy = strdup(path);
	if(!copy){
		lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
		*failed = true;
	}
	return copy;
}

static bool copy_options(struct http_client *cl, const struct http_client_options *opt,
		struct lwm2m_error *err)
{
	bool failed = false;

	cl->connect_timeout_ms = HTTP_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS;
	if(!opt) return true;
	if(opt->connect_timeout_ms) cl->connect_timeout_ms = opt->connect_timeout_ms;
	cl->tls_no_verify = opt->tls_no_verify;
	cl->ca_file = dup_path(opt->ca_file, "CA file", err, &failed);
	cl->cert_file = dup_path(opt->cert_file, "certificate file", err, &failed);
	cl->key_file = dup_path(opt->key_file, "key file", err, &failed);
	if(!failed && cl->key_file && !cl->cert_file){
		lwm2m_fail(err, LWM2M_EINVAL, -1, "TLS key file given without a certificate file");
		failed = true;
	}
	return !failed;
}

static bool multi_setup(struct http_client *cl, struct lwm2m_error *err)
{
	unsigned bad = 0;

	cl->multi = curl_multi_init();
	if(!cl->multi){
		lwm2m_fail(err, LWM2M_ENOMEM, -1, "libcurl multi handle: out of memory");
		return false;
	}
	bad |= curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket) != CURLM_OK;
	bad |= curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, (void *)cl) != CURLM_OK;
	bad |= curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK;
	bad |= curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, (void *)cl) != CURLM_OK;
	if(bad) lwm2m_fail(err, LWM2M_ENOTSUP, -1, "libcurl refused the multi handle callbacks");
	return !bad;
}

/* A client that never had loop handles. */
static void discard_client(struct http_client *cl)
{
	if(cl->multi) curl_multi_cleanup(cl->multi);
	free(cl->ca_file);
	free(cl->cert_file);
	free(cl->key_file);
	free(cl);
}

struct http_client *http_client_new(struct uv_loop_s *loop, const struct http_client_options *opt,
		struct lwm2m_error *err)
{
	struct http_client *cl;

	if(!loop){
		lwm2m_fail(err, LWM2M_EINVAL, -1, "no loop");
		return NULL;
	}
	if(curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK){
		lwm2m_fail(err, LWM2M_ENOMEM, -1, "libcurl could not be initialised");
		return NULL;
	}
	cl = calloc(1, sizeof(*cl));
	if(!cl) lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	if(!cl || !copy_options(cl, opt, err) || !multi_setup(cl, err)){
		if(cl) discard_client(cl);
		curl_global_cleanup();
		return NULL;
	}
	/* Last: from here on the client is freed only through the loop. */
	if(uv_timer_init(loop, &cl->timer) != 0){
		lwm2m_fail(err, LWM2M_EINVAL, -1, "loop timer could not be set up");
		discard_client(cl);
		curl_global_cleanup();
		return NULL;
	}
	cl->loop = loop;
	cl->timer.data = cl;
	cl->open_handles = 1;
	return cl;
}
