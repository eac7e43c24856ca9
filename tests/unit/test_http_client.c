/* Unit tests of the HTTP client (http/client.c) against a real libmicrohttpd server run in
 * this process on 127.0.0.1 (an ephemeral port, one thread per connection). Each test
 * drives its own libuv loop until the callbacks it waits for have fired, bounded in time,
 * and ends by closing the client and checking that the loop has no handle left. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <microhttpd.h>
#include <uv.h>

#include "http/client.h"

#define HUGE_LEN (1024u * 1024u)
#define SLOW_MS 300u
#define WAIT_MS 5000u          /* upper bound on any wait for a callback */
#define N_CONCURRENT 50

/* ------------------------------------------------------------------ the server ---- */

struct server {
	struct MHD_Daemon *daemon;
	uint16_t port;
	char *huge;                 /* HUGE_LEN bytes of 'x' */
	atomic_int connections;     /* TCP connections accepted */
	atomic_int slow_started;
	atomic_int slow_finished;
};

struct server_req {
	char *body;
	size_t len;
};

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
		enum MHD_ConnectionNotificationCode code)
{
	struct server *srv = cls;

	(void)c;
	(void)socket_ctx;
	if(code == MHD_CONNECTION_NOTIFY_STARTED) atomic_fetch_add(&srv->connections, 1);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_ctx,
		enum MHD_RequestTerminationCode code)
{
	struct server_req *r = *req_ctx;

	(void)cls;
	(void)c;
	(void)code;
	if(r){
		free(r->body);
		free(r);
	}
	*req_ctx = NULL;
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, const char *ct,
		const char *location, const void *body, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body,
			MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if(!resp) return MHD_NO;
	if(ct) MHD_add_response_header(resp, "Content-Type", ct);
	if(location) MHD_add_response_header(resp, "Location", location);
	rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* "METHOD\nContent-Type\nAccept\n" and the request body. */
static enum MHD_Result reply_echo(struct MHD_Connection *c, const char *method,
		const struct server_req *r)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
	size_t head_len = strlen(method) + (ct ? strlen(ct) : 1) + (accept ? strlen(accept) : 1) + 4;
	char *out = malloc(head_len + r->len);
	enum MHD_Result rc;
	int n;

	if(!out) return MHD_NO;
	n = snprintf(out, head_len, "%s\n%s\n%s\n", method, ct ? ct : "-", accept ? accept : "-");
	if(r->len) memcpy(out + n, r->body, r->len);
	rc = queue(c, 200, "text/plain; x=echo", NULL, out, (size_t)n + r->len);
	free(out);
	return rc;
}

static ssize_t chunked_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	size_t n;

	(void)cls;
	if(pos >= HUGE_LEN) return MHD_CONTENT_READER_END_OF_STREAM;
	n = HUGE_LEN - (size_t)pos < max ? HUGE_LEN - (size_t)pos : max;
	memset(buf, 'y', n);
	return (ssize_t)n;
}

static enum MHD_Result reply_chunked(struct MHD_Connection *c)
{
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
			chunked_reader, NULL, NULL);
	enum MHD_Result rc;

	if(!resp) return MHD_NO;
	rc = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result route(struct server *srv, struct MHD_Connection *c, const char *url,
		const char *method, const struct server_req *r)
{
	if(!strcmp(url, "/echo")) return reply_echo(c, method, r);
	if(!strcmp(url, "/created")) return queue(c, 201, NULL, "/rd/5a3f", "", 0);
	if(!strcmp(url, "/redirect")){
		return queue(c, 302, "text/plain", "http://127.0.0.1:1/elsewhere", "moved", 5);
	}
	if(!strcmp(url, "/teapot")) return queue(c, 418, "text/plain", NULL, "short and stout", 15);
	if(!strcmp(url, "/slow")){
		atomic_fetch_add(&srv->slow_started, 1);
		usleep(SLOW_MS * 1000u);
		atomic_fetch_add(&srv->slow_finished, 1);
		return queue(c, 200, "text/plain", NULL, "late", 4);
	}
	if(!strcmp(url, "/huge")) return queue(c, 200, "application/octet-stream", NULL, srv->huge, HUGE_LEN);
	if(!strcmp(url, "/huge-chunked")) return reply_chunked(c);
	return queue(c, 404, "text/plain", NULL, "no", 2);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
		const char *method, const char *version, const char *upload, size_t *upload_size,
		void **req_ctx)
{
	struct server_req *r = *req_ctx;

	(void)version;
	if(!r){
		r = calloc(1, sizeof(*r));
		*req_ctx = r;
		return r ? MHD_YES : MHD_NO;
	}
	if(*upload_size){
		char *grown = r->len + *upload_size <= HUGE_LEN ? realloc(r->body, r->len + *upload_size) : NULL;
		if(!grown) return MHD_NO;
		memcpy(grown + r->len, upload, *upload_size);
		r->body = grown;
		r->len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	return route(cls, c, url, method, r);
}

static uint16_t daemon_port(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : 0;
}

/* tls_key and tls_cert are PEM text, or NULL for plain HTTP. */
static struct MHD_Daemon *start_daemon(struct server *srv, const char *tls_key, const char *tls_cert)
{
	struct sockaddr_in addr;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if(tls_key){
		return MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, on_request, srv,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
				MHD_OPTION_HTTPS_MEM_KEY, tls_key,
				MHD_OPTION_HTTPS_MEM_CERT, tls_cert,
				MHD_OPTION_END);
	}
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
			MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
			MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
			MHD_OPTION_END);
}

static void server_start(struct server *srv)
{
	memset(srv, 0, sizeof(*srv));
	srv->huge = malloc(HUGE_LEN);
	assert_non_null(srv->huge);
	memset(srv->huge, 'x', HUGE_LEN);
	srv->daemon = start_daemon(srv, NULL, NULL);
	assert_non_null(srv->daemon);
	srv->port = daemon_port(srv->daemon);
	assert_true(srv->port > 0);
}

static void server_stop(struct server *srv)
{
	if(srv->daemon) MHD_stop_daemon(srv->daemon);
	free(srv->huge);
}

/* ------------------------------------------------------------------ the fixture ---- */

struct fixture {
	struct server srv;
	uv_loop_t loop;
	struct http_client *cl;
	bool closed;
	char url[128];
};

/* What one done call reported, copied out of the callback. */
struct outcome {
	int calls;
	enum http_outcome outcome;
	long status;
	char content_type[64];
	char location[128];
	uint8_t *body;
	size_t body_len;
	bool body_terminated;
	bool error_set;
};

static void on_done(void *ctx, const struct http_response *res)
{
	struct outcome *o = ctx;

	o->calls++;
	o->outcome = res->outcome;
	o->status = res->status;
	snprintf(o->content_type, sizeof(o->content_type), "%s", res->content_type ? res->content_type : "");
	snprintf(o->location, sizeof(o->location), "%s", res->location ? res->location : "");
	free(o->body);
	o->body = malloc(res->body_len + 1);
	assert_non_null(o->body);
	memcpy(o->body, res->body, res->body_len + 1);   /* with the promised 0 byte */
	o->body_len = res->body_len;
	o->body_terminated = res->body[res->body_len] == 0;
	o->error_set = res->error != NULL;
}

static void outcome_free(struct outcome *o)
{
	free(o->body);
	o->body = NULL;
}

struct waiter {
	uv_timer_t guard;
	uv_prepare_t check;
	const int *counter;
	int want;
	bool expired;
};

static void on_guard(uv_timer_t *t)
{
	struct waiter *w = t->data;

	w->expired = true;
}

/* Before the loop would block: stop it when the wait is over, else a callback that ran
 * in the timer phase would leave the loop asleep until the next event. */
static void on_check(uv_prepare_t *p)
{
	struct waiter *w = p->data;

	if(*w->counter >= w->want || w->expired) uv_stop(p->loop);
}

static void on_waiter_closed(uv_handle_t *h)
{
	(void)h;
}

/* Runs the loop until *counter reaches want or ms have passed; true when it was reached. */
static bool run_until(uv_loop_t *loop, const int *counter, int want, unsigned ms)
{
	struct waiter w = { .counter = counter, .want = want };

	assert_int_equal(uv_timer_init(loop, &w.guard), 0);
	assert_int_equal(uv_prepare_init(loop, &w.check), 0);
	w.guard.data = &w;
	w.check.data = &w;
	assert_int_equal(uv_timer_start(&w.guard, on_guard, ms, 0), 0);
	assert_int_equal(uv_prepare_start(&w.check, on_check), 0);
	while(*counter < want && !w.expired) uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&w.guard, on_waiter_closed);
	uv_close((uv_handle_t *)&w.check, on_waiter_closed);
	uv_run(loop, UV_RUN_NOWAIT);
	return *counter >= want;
}

/* Runs the loop for ms, whatever happens. */
static void run_for(uv_loop_t *loop, unsigned ms)
{
	int never = 0;

	run_until(loop, &never, 1, ms);
}

static void on_closed(void *arg)
{
	*(bool *)arg = true;
}

static struct http_client *new_client(struct fixture *f, const struct http_client_options *opt)
{
	struct lwm2m_error err;
	struct http_client *cl;

	memset(&err, 0, sizeof(err));
	cl = http_client_new(&f->loop, opt, &err);
	if(!cl) fail_msg("http_client_new: %s", err.msg);
	return cl;
}

/* Closes the client and runs the loop until its handles are closed and freed. */
static void close_client(struct fixture *f)
{
	int closed_counter = 0;

	if(!f->cl) return;
	f->closed = false;
	http_client_close(f->cl, on_closed, &f->closed);
	f->cl = NULL;
	while(!f->closed && closed_counter++ < 1000) uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_true(f->closed);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	server_start(&f->srv);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->cl = new_client(f, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close_client(f);
	/* UV_EBUSY here would mean a handle of the client was left open. */
	assert_int_equal(uv_loop_close(&f->loop), 0);
	server_stop(&f->srv);
	free(f);
	return 0;
}

static const char *make_url(const struct fixture *f, const char *path, char *buf, size_t size)
{
	snprintf(buf, size, "http://127.0.0.1:%u%s", f->srv.port, path);
	return buf;
}

/* In the fixture's one buffer: the URL of the latest call only. */
static const char *url(struct fixture *f, const char *path)
{
	return make_url(f, path, f->url, sizeof(f->url));
}

static struct http_request request(const char *method, const char *u)
{
	struct http_request req;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = u;
	req.timeout_ms = WAIT_MS;
	return req;
}

/* Sends req and waits for its done. */
static void exchange(struct fixture *f, const struct http_request *req, struct outcome *o)
{
	int64_t h = http_client_send(f->cl, req, on_done, o);

	assert_true(h > 0);
	assert_int_equal(o->calls, 0);          /* never from inside send */
	assert_int_equal(http_client_pending(f->cl), 1);
	assert_true(run_until(&f->loop, &o->calls, 1, WAIT_MS));
	assert_int_equal(o->calls, 1);
	assert_int_equal(http_client_pending(f->cl), 0);
}

static void assert_body(const struct outcome *o, const char *expected, size_t len)
{
	assert_int_equal(o->body_len, len);
	assert_memory_equal(o->body, expected, len);
	assert_true(o->body_terminated);
}

/* ------------------------------------------------------------------ answers ---- */

static void test_put_body_and_headers_reach_the_server(void **state)
{
	struct fixture *f = *state;
	static const uint8_t body[] = { 0xc8, 0x00, 0x14, 0x4f, 0x0a, 0x00, 0x41 };
	static const char expected[] = "PUT\napplication/vnd.oma.lwm2m+tlv\ntext/plain\n"
		"\xc8\x00\x14\x4f\x0a\x00\x41";
	struct http_request req = request("PUT", url(f, "/echo"));
	struct outcome o = { 0 };

	req.content_type = "application/vnd.oma.lwm2m+tlv";
	req.accept = "text/plain";
	req.body = body;
	req.body_len = sizeof(body);
	exchange(f, &req, &o);
	assert_int_equal(o.outcome, HTTP_CLIENT_OK);
	assert_int_equal(o.status, 200);
	assert_string_equal(o.content_type, "text/plain; x=echo");
	assert_string_equal(o.location, "");
	assert_false(o.error_set);
	assert_body(&o, expected, sizeof(expected) - 1);
	outcome_free(&o);
}

static void test_methods_without_body(void **state)
{
	struct fixture *f = *state;
	static const char *const methods[] = { "GET", "DELETE", "POST", NULL };
	static const char *const expected[] = { "GET\n-\n*/*\n", "DELETE\n-\n*/*\n", "POST\n-\n*/*\n" };
	size_t i;

	for(i = 0; i < 3; i++){
		struct http_request req = request(methods[i], url(f, "/echo"));
		struct outcome o = { 0 };

		exchange(f, &req, &o);
		assert_int_equal(o.outcome, HTTP_CLIENT_OK);
		assert_int_equal(o.status, 200);
		/* No Content-Type of libcurl's own choosing, even for a POST. */
		assert_body(&o, expected[i], strlen(expected[i]));
		outcome_free(&o);
	}
	{
		/* NULL is GET. */
		struct http_request req = request(methods[3], url(f, "/echo"));
		struct outcome o = { 0 };

		exchange(f, &req, &o);
		assert_body(&o, expected[0], strlen(expected[0]));
		outcome_free(&o);
	}
}

static void test_head_ends_without_body(void **state)
{
	struct fixture *f = *state;
	struct http_request req = request("HEAD", url(f, "/teapot"));
	struct outcome o = { 0 };

	exchange(f, &req, &o);
	assert_int_equal(o.outcome, HTTP_CLIENT_OK);
	assert_int_equal(o.status, 418);
	assert_int_equal(o.body_len, 0);
	assert_true(o.body_terminated);
	outcome_free(&o);
}

static void test_created_gives_location(void **state)
{
	struct fixture *f = *state;
	struct http_request req = request("POST", url(f, "/created"));
	struct outcome o = { 0 };

	req.content_type = "application/link-format";
	req.body = (const uint8_t *)"</3303/0>";
	req.body_len = 9;
	exchange(f, &req, &o);
	assert_int_equal(o.outcome, HTTP_CLIENT_OK);
	assert_int_equal(o.status, 201);
	assert_string_equal(o.location, "/rd/5a3f");
	assert_int_equal(o.body_len, 0);
	outcome_free(&o);
}

static void test_error_status_is_an_answer(void **state)
{
	struct fixture *f = *state;
	struct http_request req = request("GET", url(f, "/teapot"));
	struct outcome o = { 0 };

	exchange(f, &req, &o);
	assert_int_equal(o.outcome, HTTP_CLIENT_OK);
	assert_int_equal(o.status, 418);
	assert_body(&o, "short and stout", 15);
	outcome_free(&o);
}

static void test_redirect_not_followed(void **state)
{
	struct fixture *f = *state;
	struct http_request req = request("GET", url(f, "/redirect"));
	struct outcome o = { 0 };

	exchange(f, &req, &o);
	assert_int_equal(o.outcome, HTTP_CLIENT_OK);
	assert_int_equal(o.status, 302);
	assert_string_equal(o.location, "http://127.0.0.1:1/elsewhere");
	assert_body(&o, "moved", 5);
	outcome_free(&o);
}

/* ------------------------------------------------------------------ failures ---- */

static void test_slow_server_times_out(void **state)
{
	struct fixture *f = *state;
	struct http_request req = request("GET", url(f, "/slow"));
	struct outcome o = { 0 };
	uint64_t start = uv_hrtime(), elapsed_ms;

	req.timeout_ms = 100;
	exchange(f, &req, &o);
	elapsed_ms = (uv_hrtime() - start) / 1000000u;
	assert_int_equal(o.outcome, HTTP_CLIENT_TIMEOUT);
	assert_int_equal(o.status, 0);
	assert_true(o.error_set);
	assert_int_equal(o.body_len, 0);
	/* Not early; and not at the end of some other, longer wait (the server's late answer
	 * would have made it HTTP_CLIENT_OK). */
	assert_true(elapsed_ms >= 90);
	assert_true(elapsed_ms < 2000);
	outcome_free(&o);
}

static void check_too_large(struct fixture *f, const char *path, size_t max, bool fits)
{
	struct http_request req = request("GET", url(f, path));
	struct outcome o = { 0 };

	req.max_response = max;
	exchange(f, &req, &o);
	if(fits){
		assert_int_equal(o.outcome, HTTP_CLIENT_OK);
		assert_int_equal(o.body_len, HUGE_LEN);
		assert_true(o.body_terminated);
	}else{
		assert_int_equal(o.outcome, HTTP_CLIENT_TOO_LARGE);
		assert_int_equal(o.status, 200);
		assert_int_equal(o.body_len, 0);
		assert_true(o.error_set);
	}
	outcome_free(&o);
}

static void test_body_limit_with_content_length(void **state)
{
	struct fixture *f = *state;

	check_too_large(f, "/huge", 64 * 1024, false);
	check_too_large(f, "/huge", HUGE_LEN - 1, false);
	check_too_large(f, "/huge", HUGE_LEN, true);
}

static void test_body_limit_chunked(void **state)
{
	struct fixture *f = *state;

	check_too_large(f, "/huge-chunked", 64 * 1024, false);
	check_too_large(f, "/huge-chunked", HUGE_LEN - 1, false);
	check_too_large(f, "/huge-chunked", HUGE_LEN, true);
}

static void test_default_body_limit(void **state)
{
	struct fixture *f = *state;

	/* HUGE_LEN is the default limit: the body fits exactly. */
	assert_int_equal(HTTP_CLIENT_DEFAULT_MAX_RESPONSE, HUGE_LEN);
	check_too_large(f, "/huge", 0, true);
}

static void test_refused_connection(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct outcome o = { 0 };
	char u[64];
	struct http_request req;

	/* A bound port that nobody listens on: connecting is refused, and no one else can
	 * take the port while the test runs. */
	assert_true(fd >= 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	snprintf(u, sizeof(u), "http://127.0.0.1:%u/echo", ntohs(addr.sin_port));
	req = request("GET", u);
	exchange(f, &req, &o);
	close(fd);
	assert_int_equal(o.outcome, HTTP_CLIENT_CONNECT_FAILED);
	assert_int_equal(o.status, 0);
	assert_true(o.error_set);
	outcome_free(&o);
}

static void test_bad_requests_refused_at_once(void **state)
{
	struct fixture *f = *state;
	struct outcome o = { 0 };
	struct http_request req = request("GET", "ftp://127.0.0.1/x");
	static const uint8_t body[] = "x";

	assert_int_equal(http_client_send(f->cl, &req, on_done, &o), -LWM2M_EINVAL);
	req = request("GET", "file:///etc/passwd");
	assert_int_equal(http_client_send(f->cl, &req, on_done, &o), -LWM2M_EINVAL);
	req = request("GET", NULL);
	assert_int_equal(http_client_send(f->cl, &req, on_done, &o), -LWM2M_EINVAL);
	req = request("GET", "http://127.0.0.1/a b");
	assert_int_equal(http_client_send(f->cl, &req, on_done, &o), -LWM2M_EINVAL);
	req = request("GE T", url(f, "/echo"));
	assert_int_equal(http_client_send(f->cl, &req, on_done, &o), -LWM2M_EINVAL);
	req = request("", url(f, "/echo"));
	assert_int_equal(http_client_send(f->cl, &req, on_done, &o), -LWM2M_EINVAL);
	req = request("PUT", url(f, "/echo"));
	req.content_type = "text/plain\r\nX-Injected: 1";
	assert_int_equal(http_client_send(f->cl, &req, on_done, &o), -LWM2M_EINVAL);
	req = request("GET", url(f, "/echo"));
	req.accept = "text/plain\n";
	assert_int_equal(http_client_send(f->cl, &req, on_done, &o), -LWM2M_EINVAL);
	req = request("HEAD", url(f, "/echo"));
	req.body = body;
	req.body_len = 1;
	assert_int_equal(http_client_send(f->cl, &req, on_done, &o), -LWM2M_EINVAL);
	req = request("PUT", url(f, "/echo"));
	req.body_len = 1;          /* length without bytes */
	assert_int_equal(http_client_send(f->cl, &req, on_done, &o), -LWM2M_EINVAL);
	req = request("GET", url(f, "/echo"));
	assert_int_equal(http_client_send(f->cl, &req, NULL, &o), -LWM2M_EINVAL);
	assert_int_equal(http_client_pending(f->cl), 0);
	run_for(&f->loop, 20);
	assert_int_equal(o.calls, 0);
}

static void test_unreadable_tls_file_refused(void **state)
{
	struct fixture *f = *state;
	struct http_client_options opt = { .ca_file = "/nonexistent/ca.pem" };
	struct lwm2m_error err;

	memset(&err, 0, sizeof(err));
	assert_null(http_client_new(&f->loop, &opt, &err));
	assert_int_equal(err.code, LWM2M_EINVAL);
	assert_non_null(strstr(err.msg, "/nonexistent/ca.pem"));
	memset(&opt, 0, sizeof(opt));
	opt.key_file = "/dev/null";
	assert_null(http_client_new(&f->loop, &opt, &err));
	assert_null(http_client_new(NULL, NULL, &err));
}

/* ------------------------------------------------------------------ many, cancel, close ---- */

struct numbered {
	struct outcome o;
	int *finished;
};

static void on_numbered_done(void *ctx, const struct http_response *res)
{
	struct numbered *n = ctx;

	on_done(&n->o, res);
	(*n->finished)++;
}

static void test_concurrent_requests_all_complete(void **state)
{
	struct fixture *f = *state;
	struct numbered n[N_CONCURRENT];
	char bodies[N_CONCURRENT][16];
	int finished = 0;
	int i;

	memset(n, 0, sizeof(n));
	for(i = 0; i < N_CONCURRENT; i++){
		struct http_request req = request("POST", url(f, "/echo"));

		snprintf(bodies[i], sizeof(bodies[i]), "req-%d", i);
		req.content_type = "text/plain";
		req.body = (const uint8_t *)bodies[i];
		req.body_len = strlen(bodies[i]);
		n[i].finished = &finished;
		assert_true(http_client_send(f->cl, &req, on_numbered_done, &n[i]) > 0);
		/* The request is copied: the caller's buffer may change at once. */
		memset(bodies[i], '!', sizeof(bodies[i]));
	}
	assert_int_equal(http_client_pending(f->cl), N_CONCURRENT);
	assert_true(run_until(&f->loop, &finished, N_CONCURRENT, WAIT_MS * 2));
	assert_int_equal(http_client_pending(f->cl), 0);
	for(i = 0; i < N_CONCURRENT; i++){
		char expected[64];
		int len = snprintf(expected, sizeof(expected), "POST\ntext/plain\n*/*\nreq-%d", i);

		assert_int_equal(n[i].o.calls, 1);
		assert_int_equal(n[i].o.outcome, HTTP_CLIENT_OK);
		assert_body(&n[i].o, expected, (size_t)len);
		outcome_free(&n[i].o);
	}
}

/* Request after request from the done callback: one connection carries them all. */
struct chain {
	struct fixture *f;
	struct outcome o;
	int left;
	int done;
	bool send_failed;
};

static void on_chain_done(void *ctx, const struct http_response *res)
{
	struct chain *c = ctx;

	on_done(&c->o, res);
	c->done++;
	if(res->outcome != HTTP_CLIENT_OK || res->status != 200) c->send_failed = true;
	if(c->left-- > 0){
		struct http_request req = request("GET", url(c->f, "/echo"));
		if(http_client_send(c->f->cl, &req, on_chain_done, c) <= 0) c->send_failed = true;
	}
}

static void test_send_from_done_reuses_connection(void **state)
{
	struct fixture *f = *state;
	struct chain c = { .f = f, .left = 4 };
	struct http_request req = request("GET", url(f, "/echo"));
	int before = atomic_load(&f->srv.connections);

	assert_true(http_client_send(f->cl, &req, on_chain_done, &c) > 0);
	assert_true(run_until(&f->loop, &c.done, 5, WAIT_MS));
	assert_false(c.send_failed);
	assert_int_equal(http_client_pending(f->cl), 0);
	assert_int_equal(atomic_load(&f->srv.connections) - before, 1);
	outcome_free(&c.o);
}

static void test_cancel_before_and_during_transfer(void **state)
{
	struct fixture *f = *state;
	struct http_request slow = request("GET", url(f, "/slow"));
	struct outcome cancelled_early = { 0 }, cancelled_late = { 0 }, other = { 0 };
	struct http_request req;
	int64_t early, late, h;

	early = http_client_send(f->cl, &slow, on_done, &cancelled_early);
	late = http_client_send(f->cl, &slow, on_done, &cancelled_late);
	assert_true(early > 0 && late > 0 && late != early);
	http_client_cancel(f->cl, early);
	assert_int_equal(http_client_pending(f->cl), 1);
	/* Wait until the server handles the other one, then cancel it mid-flight. */
	{
		uint64_t deadline = uv_hrtime() + WAIT_MS * 1000000ull;
		while(atomic_load(&f->srv.slow_started) < 1 && uv_hrtime() < deadline){
			run_for(&f->loop, 5);
		}
	}
	assert_int_equal(atomic_load(&f->srv.slow_started), 1);
	http_client_cancel(f->cl, late);
	http_client_cancel(f->cl, late);           /* twice: ignored */
	http_client_cancel(f->cl, 987654);         /* unknown: ignored */
	assert_int_equal(http_client_pending(f->cl), 0);
	/* The client still works, and the cancelled requests never report, even once the
	 * server would have answered them. */
	req = request("GET", url(f, "/echo"));
	h = http_client_send(f->cl, &req, on_done, &other);
	assert_true(h > late);
	assert_true(run_until(&f->loop, &other.calls, 1, WAIT_MS));
	assert_int_equal(other.outcome, HTTP_CLIENT_OK);
	run_for(&f->loop, SLOW_MS + 100);
	assert_int_equal(cancelled_early.calls, 0);
	assert_int_equal(cancelled_late.calls, 0);
	assert_int_equal(other.calls, 1);
	outcome_free(&other);
}

struct at_close {
	struct http_client *cl;
	int cancelled;
	int other;
	bool send_refused;
};

static void on_cancelled(void *ctx, const struct http_response *res)
{
	struct at_close *a = ctx;
	struct http_request req = request("GET", "http://127.0.0.1:1/");

	if(res->outcome != HTTP_CLIENT_CANCELLED){
		a->other++;
		return;
	}
	if(res->status == 0 && res->error && res->body_len == 0 && res->body) a->cancelled++;
	/* The client is closing: new requests are refused, closing again is ignored. */
	a->send_refused = http_client_send(a->cl, &req, on_cancelled, a) < 0;
	http_client_close(a->cl, NULL, NULL);
}

static void test_close_with_pending_requests(void **state)
{
	struct fixture *f = *state;
	struct at_close a = { .cl = f->cl };
	struct http_request slow = request("GET", url(f, "/slow"));
	struct http_request put = request("PUT", url(f, "/slow"));
	int i;

	put.body = (const uint8_t *)"abc";
	put.body_len = 3;
	for(i = 0; i < 5; i++) assert_true(http_client_send(f->cl, &slow, on_cancelled, &a) > 0);
	assert_true(http_client_send(f->cl, &put, on_cancelled, &a) > 0);
	/* Let the transfers get under way (connections open, requests sent) but not end. */
	run_for(&f->loop, 50);
	assert_int_equal(a.cancelled + a.other, 0);
	close_client(f);
	assert_int_equal(a.cancelled, 6);
	assert_int_equal(a.other, 0);
	assert_true(a.send_refused);
}

struct close_in_done {
	struct fixture *f;
	struct outcome first;
	int cancelled;
	bool closed;
};

static void on_second_done(void *ctx, const struct http_response *res)
{
	struct close_in_done *c = ctx;

	if(res->outcome == HTTP_CLIENT_CANCELLED) c->cancelled++;
}

static void on_first_done(void *ctx, const struct http_response *res)
{
	struct close_in_done *c = ctx;

	on_done(&c->first, res);
	http_client_close(c->f->cl, on_closed, &c->closed);
	c->f->cl = NULL;
}

static void test_close_from_done(void **state)
{
	struct fixture *f = *state;
	struct close_in_done c = { .f = f };
	char echo_url[128], slow_url[128];
	struct http_request echo = request("GET", make_url(f, "/echo", echo_url, sizeof(echo_url)));
	struct http_request slow = request("GET", make_url(f, "/slow", slow_url, sizeof(slow_url)));
	int ticks = 0;

	assert_true(http_client_send(f->cl, &slow, on_second_done, &c) > 0);
	assert_true(http_client_send(f->cl, &echo, on_first_done, &c) > 0);
	assert_true(run_until(&f->loop, &c.first.calls, 1, WAIT_MS));
	assert_int_equal(c.first.outcome, HTTP_CLIENT_OK);
	assert_int_equal(c.cancelled, 1);
	while(!c.closed && ticks++ < 1000) uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_true(c.closed);
	outcome_free(&c.first);
}

/* ------------------------------------------------------------------ HTTPS ---- */

struct tls_files {
	char dir[64];
	char cert[96];             /* the server's, for IP 127.0.0.1 */
	char key[96];
	char client_cert[96];
	char client_key[96];
	char *cert_pem;
	char *key_pem;
};

static char *read_text(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *text;
	long len;

	if(!fp) return NULL;
	if(fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0){
		fclose(fp);
		return NULL;
	}
	text = calloc(1, (size_t)len + 1);
	if(text && fread(text, 1, (size_t)len, fp) != (size_t)len){
		free(text);
		text = NULL;
	}
	fclose(fp);
	return text;
}

static bool make_cert(const char *subject_args, const char *key, const char *cert)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		"-nodes -days 2 %s -keyout %s -out %s >/dev/null 2>&1", subject_args, key, cert);
	return system(cmd) == 0;
}

/* Self-signed certificates: the server's names IP 127.0.0.1 only (not localhost). */
static bool make_tls_files(struct tls_files *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/lwm2m-http-client-XXXXXX");
	if(!mkdtemp(t->dir)) return false;
	snprintf(t->cert, sizeof(t->cert), "%s/cert.pem", t->dir);
	snprintf(t->key, sizeof(t->key), "%s/key.pem", t->dir);
	snprintf(t->client_cert, sizeof(t->client_cert), "%s/client-cert.pem", t->dir);
	snprintf(t->client_key, sizeof(t->client_key), "%s/client-key.pem", t->dir);
	if(!make_cert("-subj /CN=lwm2m-test-device -addext subjectAltName=IP:127.0.0.1", t->key, t->cert)
			|| !make_cert("-subj /CN=lwm2m-test-server", t->client_key, t->client_cert)){
		return false;
	}
	t->cert_pem = read_text(t->cert);
	t->key_pem = read_text(t->key);
	return t->cert_pem && t->key_pem;
}

static void remove_tls_files(struct tls_files *t)
{
	unlink(t->cert);
	unlink(t->key);
	unlink(t->client_cert);
	unlink(t->client_key);
	rmdir(t->dir);
	free(t->cert_pem);
	free(t->key_pem);
}

static void https_get(struct fixture *f, struct http_client *cl, const char *u, struct outcome *o)
{
	struct http_request req = request("GET", u);

	memset(o, 0, sizeof(*o));
	assert_true(http_client_send(cl, &req, on_done, o) > 0);
	assert_true(run_until(&f->loop, &o->calls, 1, WAIT_MS));
}

static void close_extra(struct fixture *f, struct http_client *cl)
{
	bool closed = false;
	int ticks = 0;

	http_client_close(cl, on_closed, &closed);
	while(!closed && ticks++ < 1000) uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_true(closed);
}

static void test_https_verification(void **state)
{
	struct fixture *f = *state;
	struct server tls_srv;
	struct tls_files t;
	struct http_client_options with_ca = { 0 }, no_verify = { .tls_no_verify = true };
	struct http_client *trusting, *lax;
	struct outcome o;
	char by_ip[96], by_name[96];

	if(MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) skip();
	if(!make_tls_files(&t)){
		remove_tls_files(&t);
		skip();
	}
	memset(&tls_srv, 0, sizeof(tls_srv));
	tls_srv.daemon = start_daemon(&tls_srv, t.key_pem, t.cert_pem);
	assert_non_null(tls_srv.daemon);
	snprintf(by_ip, sizeof(by_ip), "https://127.0.0.1:%u/teapot", daemon_port(tls_srv.daemon));
	snprintf(by_name, sizeof(by_name), "https://localhost:%u/teapot", daemon_port(tls_srv.daemon));
	with_ca.ca_file = t.cert;
	trusting = new_client(f, &with_ca);
	lax = new_client(f, &no_verify);

	/* The default client trusts the system store, where this certificate is not. */
	https_get(f, f->cl, by_ip, &o);
	assert_int_equal(o.outcome, HTTP_CLIENT_CONNECT_FAILED);
	assert_true(o.error_set);
	outcome_free(&o);
	https_get(f, trusting, by_ip, &o);
	assert_int_equal(o.outcome, HTTP_CLIENT_OK);
	assert_int_equal(o.status, 418);
	assert_body(&o, "short and stout", 15);
	outcome_free(&o);
	/* Trusted certificate, wrong name. */
	https_get(f, trusting, by_name, &o);
	assert_int_equal(o.outcome, HTTP_CLIENT_CONNECT_FAILED);
	outcome_free(&o);
	https_get(f, lax, by_name, &o);
	assert_int_equal(o.outcome, HTTP_CLIENT_OK);
	assert_int_equal(o.status, 418);
	outcome_free(&o);

	close_extra(f, trusting);
	close_extra(f, lax);
	MHD_stop_daemon(tls_srv.daemon);
	remove_tls_files(&t);
}

/* openssl s_server (TLS 1.2, so that a missing client certificate fails the handshake)
 * requiring a client certificate issued by the test's client certificate, answering with
 * a status page that shows the certificate it got. It ends by itself after 20 s. */
struct tls_peer {
	pid_t pid;
	int out;
	uint16_t port;
};

extern char **environ;

/* Reads the server's "ACCEPT 127.0.0.1:port" line. */
static uint16_t read_accept_port(int fd)
{
	char buf[512];
	size_t len = 0;
	uint64_t deadline = uv_hrtime() + WAIT_MS * 1000000ull;

	while(len < sizeof(buf) - 1 && uv_hrtime() < deadline){
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		const char *line, *colon;
		ssize_t n;

		if(poll(&pfd, 1, 100) <= 0) continue;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if(n <= 0) return 0;
		len += (size_t)n;
		buf[len] = 0;
		line = strstr(buf, "ACCEPT ");
		if(line && strchr(line, '\n') && (colon = strrchr(line, ':')) != NULL){
			return (uint16_t)atoi(colon + 1);
		}
	}
	return 0;
}

static bool start_tls_peer(const struct tls_files *t, struct tls_peer *p)
{
	char *const argv[] = { "timeout", "20", "openssl", "s_server", "-accept", "127.0.0.1:0",
		"-cert", (char *)t->cert, "-key", (char *)t->key, "-CAfile", (char *)t->client_cert,
		"-Verify", "1", "-verify_return_error", "-tls1_2", "-www", NULL };
	posix_spawn_file_actions_t fa;
	int fds[2];
	int rc;

	memset(p, 0, sizeof(*p));
	p->out = -1;
	if(pipe(fds) != 0) return false;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	rc = posix_spawnp(&p->pid, "timeout", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	p->out = fds[0];
	if(rc != 0){
		p->pid = 0;
		return false;
	}
	p->port = read_accept_port(p->out);
	return p->port != 0;
}

static void stop_tls_peer(struct tls_peer *p)
{
	if(p->pid > 0){
		kill(p->pid, SIGTERM);
		waitpid(p->pid, NULL, 0);
	}
	if(p->out >= 0) close(p->out);
}

static void test_https_client_certificate(void **state)
{
	struct fixture *f = *state;
	struct tls_files t;
	struct tls_peer peer;
	struct http_client_options anonymous = { 0 }, identified = { 0 };
	struct http_client *anon_cl, *id_cl;
	struct outcome o;
	char u[64];

	if(!make_tls_files(&t)){
		remove_tls_files(&t);
		skip();
	}
	if(!start_tls_peer(&t, &peer)){
		stop_tls_peer(&peer);
		remove_tls_files(&t);
		skip();
	}
	snprintf(u, sizeof(u), "https://127.0.0.1:%u/", peer.port);
	anonymous.ca_file = t.cert;
	identified.ca_file = t.cert;
	identified.cert_file = t.client_cert;
	identified.key_file = t.client_key;
	anon_cl = new_client(f, &anonymous);
	id_cl = new_client(f, &identified);

	https_get(f, anon_cl, u, &o);
	assert_int_equal(o.outcome, HTTP_CLIENT_CONNECT_FAILED);
	outcome_free(&o);
	https_get(f, id_cl, u, &o);
	assert_int_equal(o.outcome, HTTP_CLIENT_OK);
	assert_int_equal(o.status, 200);
	assert_non_null(strstr((const char *)o.body, "Client certificate"));
	assert_non_null(strstr((const char *)o.body, "lwm2m-test-server"));
	outcome_free(&o);

	close_extra(f, anon_cl);
	close_extra(f, id_cl);
	stop_tls_peer(&peer);
	remove_tls_files(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_body_and_headers_reach_the_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_methods_without_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_ends_without_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_created_gives_location, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_status_is_an_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redirect_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_server_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_limit_with_content_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_limit_chunked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_body_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests_refused_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_tls_file_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_requests_all_complete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_from_done_reuses_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_before_and_during_transfer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_with_pending_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_from_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_https_verification, setup, teardown),
		cmocka_unit_test_setup_teardown(test_https_client_certificate, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
