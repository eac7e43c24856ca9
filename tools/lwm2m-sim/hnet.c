/* HTTP mode (Transport TS 7): the devices' own HTTP server, one for all of them with device
 * <ep> under /<ep> (libmicrohttpd), and their requests to the LwM2M server (libcurl multi),
 * both driven by the simulator's one loop on this thread:
 *  - libmicrohttpd runs without a thread of its own (MHD_USE_EPOLL): its epoll descriptor
 *    sits in s->epfd under SIM_HTTP_TAG and MHD_run is called every loop turn;
 *  - curl_multi_poll waits on the client's sockets and on s->epfd together, so that one
 *    wait covers the server, the client, the signals and the timers.
 * A server request is answered at once from the device's tree (proto_handle_request into a
 * struct sim_answer); nothing is ever suspended. The HTTP binding codec builds every
 * request of the devices and the status of every answer; http_req.c decodes the server's
 * requests the way the codec encodes them. */
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "sim.h"
#include "http_req.h"
#include "objects/fmt.h"

#define MAX_BODY (64u * 1024u)          /* largest request body the devices take (413 above) */
#define LOCATION_MAX 512u
#define CONNECT_TIMEOUT_MS 10000L
#define MAX_CONNECTIONS 256L            /* the client's sockets at once; more requests wait */
#define SERVER_CONNECTIONS 256u

/* One request of a device to the server, owned by the list in struct hnet. */
struct hxfer {
	struct hnet *h;
	CURL *easy;
	struct curl_slist *headers;
	uint32_t dev;
	uint64_t token;
	enum lwm2m_op_kind kind;
	char location[LOCATION_MAX];    /* the answer's Location header, "" = none */
	struct hxfer *prev, *next;
};

/* One server request being received, owned by libmicrohttpd's connection (freed when the
 * request completes). */
struct hreq {
	char *uri;                      /* as sent: path and raw query */
	bool headers_seen;
	bool too_big;
	struct lwm2m_buf body;
};

struct hnet {
	struct sim *sim;
	struct MHD_Daemon *mhd;
	CURLM *multi;
	bool curl_global;               /* curl_global_init succeeded */
	char *server;                   /* --http URL without a trailing '/' */
	struct hxfer *xfers;
	struct lwm2m_buf url;           /* scratch */
};

/* ---- the devices' requests ---- */

static void xfer_free(struct hxfer *x)
{
	struct hnet *h = x->h;

	if(x->prev) x->prev->next = x->next;
	else h->xfers = x->next;
	if(x->next) x->next->prev = x->prev;
	if(x->easy){
		curl_multi_remove_handle(h->multi, x->easy);
		curl_easy_cleanup(x->easy);
	}
	curl_slist_free_all(x->headers);
	free(x);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct hxfer *x = ud;
	size_t len = size * n, v = 9, end;

	if(len > 9 && strncasecmp(p, "Location:", 9) == 0){
		while(v < len && (p[v] == ' ' || p[v] == '\t')) v++;
		end = len;
		while(end > v && (p[end - 1] == '\r' || p[end - 1] == '\n' || p[end - 1] == ' '
					|| p[end - 1] == '\t')) end--;
		if(end - v >= LOCATION_MAX) end = v + LOCATION_MAX - 1;
		memcpy(x->location, p + v, end - v);
		x->location[end - v] = '\0';
	}
	return len;
}

/* The server's answer bodies say nothing the devices need. */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

/* Append "Name: value" to the request's headers; "Name:" (value NULL) removes a header
 * libcurl would add by itself. */
static struct curl_slist *add_header(struct curl_slist *list, const char *name, const char *value,
		bool *ok)
{
	struct curl_slist *grown;
	char line[160];

	snprintf(line, sizeof(line), "%s:%s%s", name, value ? " " : "", value ? value : "");
	grown = curl_slist_append(list, line);
	if(!grown) *ok = false;
	return grown ? grown : list;
}

static bool set_method(CURL *e, const struct http_request_view *v)
{
	static const char empty[] = "";
	bool ok = true;

	if(!strcmp(v->method, "POST")){
		ok &= curl_easy_setopt(e, CURLOPT_POST, 1L) == CURLE_OK;
		ok &= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)v->body_len) == CURLE_OK;
		ok &= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, v->body ? (const char *)v->body : empty)
			== CURLE_OK;
	}else if(strcmp(v->method, "GET") != 0){
		ok &= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, v->method) == CURLE_OK;
	}
	return ok;
}

static bool set_options(struct hnet *h, struct hxfer *x, const struct http_request_view *v)
{
	const struct sim_config *c = &h->sim->cfg;
	long timeout_ms = (long)c->timeout_s * 1000L;
	CURL *e = x->easy;
	bool ok = true;

	ok &= curl_easy_setopt(e, CURLOPT_URL, (const char *)h->url.data) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_PROXY, "") == CURLE_OK;   /* never the environment's */
	ok &= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			timeout_ms < CONNECT_TIMEOUT_MS ? timeout_ms : CONNECT_TIMEOUT_MS) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_PRIVATE, x) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_HEADERDATA, x) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
	if(c->tls_ca) ok &= curl_easy_setopt(e, CURLOPT_CAINFO, c->tls_ca) == CURLE_OK;
	if(c->tls_cert){
		ok &= curl_easy_setopt(e, CURLOPT_SSLCERT, c->tls_cert) == CURLE_OK;
		ok &= curl_easy_setopt(e, CURLOPT_SSLKEY, c->tls_key) == CURLE_OK;
	}
	ok &= set_method(e, v);
	if(v->content_type) x->headers = add_header(x->headers, "Content-Type", v->content_type, &ok);
	if(v->accept) x->headers = add_header(x->headers, "Accept", v->accept, &ok);
	x->headers = add_header(x->headers, "Expect", NULL, &ok);   /* no 100-continue round trip */
	ok &= curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers) == CURLE_OK;
	return ok;
}

/* The URL of a request: the server's base URL, the codec's path and query. */
static int build_url(struct hnet *h, const struct http_request_view *v)
{
	int rc;

	buf_reset(&h->url);
	rc = buf_printf(&h->url, "%s%s%s%s", h->server, v->path, v->query ? "?" : "",
			v->query ? v->query : "");
	if(!rc) rc = buf_append_byte(&h->url, '\0');
	return rc;
}

int hnet_request(struct sim *s, struct sim_device *d, const struct lwm2m_op *op)
{
	struct hnet *h = s->http;
	struct http_request_view v;
	struct http_uplink extra;
	struct lwm2m_error err;
	struct lwm2m_buf storage;
	struct hxfer *x = NULL;
	int rc;

	memset(&extra, 0, sizeof(extra));
	extra.accept_cf = -1;
	if(op->kind != LWM2M_OP_REGISTER && op->kind != LWM2M_OP_BOOTSTRAP_REQUEST){
		/* Update and De-register name it in the path, Send in ?rid= */
		if(!d->has_reg_id) return -LWM2M_EINVAL;
		extra.has_reg_id = true;
		memcpy(extra.reg_id, d->reg_id, sizeof(extra.reg_id));
	}
	buf_init(&storage, 0);
	rc = http_codec_encode_uplink(op, &extra, &storage, &v, &err);
	if(rc) sim_log(s, d, "cannot encode %s: %s", op_kind_name(op->kind), err.msg);
	if(!rc) rc = build_url(h, &v);
	if(!rc){
		x = calloc(1, sizeof(*x));
		if(!x) rc = -LWM2M_ENOMEM;
	}
	if(!rc){
		x->h = h;
		x->dev = d->index;
		x->token = op->token;
		x->kind = op->kind;
		x->next = h->xfers;
		if(x->next) x->next->prev = x;
		h->xfers = x;
		x->easy = curl_easy_init();
		if(!x->easy || !set_options(h, x, &v) || curl_multi_add_handle(h->multi, x->easy) != CURLM_OK){
			xfer_free(x);
			sim_log(s, d, "cannot start %s", op_kind_name(op->kind));
			rc = -LWM2M_ENOMEM;
		}
	}
	buf_free(&storage);
	return rc;
}

/* An answer to Send: only counted (Send is not retried). */
static void send_done(struct sim *s, struct sim_device *d, CURLcode res, long status)
{
	if(res != CURLE_OK) s->st.publish_errors++;
	if(res == CURLE_OK && simh_uplink_result(LWM2M_OP_SEND, status) / 100 == 2){
		s->st.sends++;
		sim_log(s, d, "Send answered %ld", status);
	}else if(res == CURLE_OK){
		s->st.send_errors++;
		sim_log(s, d, "Send answered %ld", status);
	}else{
		s->st.send_errors++;
		sim_log(s, d, "Send: %s", curl_easy_strerror(res));
	}
}

/* The answer to Register, Update, De-register or Bootstrap-Request, back to proto.c as a
 * response op. */
static void request_done(struct sim *s, struct sim_device *d, struct hxfer *x, CURLcode res,
		long status)
{
	uint16_t result = res == CURLE_OK ? simh_uplink_result(x->kind, status) : 0;
	bool ours = d->has_pending && d->pending_token == x->token;
	char why[96];
	struct lwm2m_op op;

	if(res != CURLE_OK){
		s->st.publish_errors++;
		proto_request_failed(s, d, x->token, curl_easy_strerror(res));
		return;
	}
	if(!result){
		snprintf(why, sizeof(why), "HTTP status %ld is not an answer", status);
		proto_request_failed(s, d, x->token, why);
		return;
	}
	if(ours && x->kind == LWM2M_OP_REGISTER && result == 201){
		/* Update, De-register and Send need the id before proto.c hears of the success */
		if(simh_location_reg_id(x->location, d->reg_id) != 0){
			proto_request_failed(s, d, x->token, "the Register answer has no Location /rd/{id}");
			return;
		}
		d->has_reg_id = true;
	}
	op_init(&op);
	op.is_response = true;
	op.kind = x->kind;
	op.token = x->token;
	op.result = result;
	op.fields = LWM2M_F_TOKEN | LWM2M_F_RESULT;
	proto_on_result(s, d, &op);
}

static void xfer_done(struct hnet *h, struct hxfer *x, CURLcode res)
{
	struct sim *s = h->sim;
	struct sim_device *d = &s->devs[x->dev];
	long status = 0;

	if(res == CURLE_OK && curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK){
		res = CURLE_RECV_ERROR;
	}
	if(x->kind == LWM2M_OP_SEND) send_done(s, d, res, status);
	else request_done(s, d, x, res, status);
	xfer_free(x);
	net_after(s, d);
}

static void client_run(struct hnet *h)
{
	struct CURLMsg *msg;
	int running, left;

	curl_multi_perform(h->multi, &running);
	while((msg = curl_multi_info_read(h->multi, &left)) != NULL){
		struct hxfer *x = NULL;

		if(msg->msg != CURLMSG_DONE) continue;
		if(curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x) != CURLE_OK || !x){
			continue;
		}
		xfer_done(h, x, msg->data.result);
	}
}

/* ---- the devices' server ---- */

/* Device <ep-prefix><number> of this run, by its name. */
static struct sim_device *device_of(struct sim *s, struct lwm2m_view ep)
{
	size_t plen = strlen(s->cfg.ep_prefix);
	unsigned long number = 0;
	struct sim_device *d;

	if(ep.len <= plen || ep.len - plen > 10 || memcmp(ep.ptr, s->cfg.ep_prefix, plen) != 0) return NULL;
	if(ep.ptr[plen] == '0' && ep.len - plen > 1) return NULL;
	for(size_t i = plen; i < ep.len; i++){
		if(ep.ptr[i] < '0' || ep.ptr[i] > '9') return NULL;
		number = number * 10 + (unsigned long)(ep.ptr[i] - '0');
	}
	if(number < s->cfg.first || number - s->cfg.first >= s->n_devs) return NULL;
	d = &s->devs[number - s->cfg.first];
	return strlen(d->ep) == ep.len && memcmp(d->ep, ep.ptr, ep.len) == 0 ? d : NULL;
}

struct reply {
	unsigned status;
	const char *content_type;
	const void *body;
	size_t len;
	const char *location;
	const char *allow;
};

static enum MHD_Result send_reply(struct MHD_Connection *conn, const struct reply *r)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(r->len, (void *)r->body,
			MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;
	bool ok = true;

	if(!resp) return MHD_NO;
	if(r->content_type) ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type) == MHD_YES;
	if(r->location) ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location) == MHD_YES;
	if(r->allow) ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow) == MHD_YES;
	ret = ok ? MHD_queue_response(conn, r->status, resp) : MHD_NO;
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text,
		const char *allow)
{
	struct reply r = { status, "text/plain;charset=utf-8", text, strlen(text), NULL, allow };

	return send_reply(conn, &r);
}

/* Run the request on the device's tree (a Bootstrap-Server operation while the device
 * bootstraps) and send what it answered. */
static enum MHD_Result answer(struct sim *s, struct sim_device *d, struct MHD_Connection *conn,
		const struct lwm2m_op *op, bool bootstrap)
{
	struct sim_answer ans;
	struct reply r;
	enum MHD_Result ret;

	memset(&ans, 0, sizeof(ans));
	buf_init(&ans.payload, 0);
	s->answer = &ans;
	if(bootstrap) bs_handle_request(s, d, op);
	else proto_handle_request(s, d, op);
	s->answer = NULL;
	net_after(s, d);
	memset(&r, 0, sizeof(r));
	r.status = ans.done ? (unsigned)http_codec_status_for(op, ans.result) : 500u;
	if(ans.done && ans.has_payload){
		r.content_type = fmt_cf_media_type(ans.ct);
		r.body = ans.payload.data;
		r.len = ans.payload.len;
	}
	if(ans.location[0]) r.location = ans.location;
	ret = send_reply(conn, &r);
	buf_free(&ans.payload);
	return ret;
}

static enum MHD_Result serve(struct hnet *h, struct MHD_Connection *conn, struct hreq *q,
		const char *url, const char *method)
{
	struct sim *s = h->sim;
	struct simh_request req;
	struct lwm2m_error err;
	struct lwm2m_view ep;
	struct lwm2m_op op;
	struct sim_device *d = NULL;
	const char *qmark = strchr(q->uri, '?');
	uint16_t status;
	bool bootstrap;

	memset(&req, 0, sizeof(req));
	if(simh_split(url, &ep, &req.path) == 0) d = device_of(s, ep);
	if(!d) return reply_text(conn, 404, "no such device here", NULL);
	if(d->done || d->failed) return reply_text(conn, 503, "the device is off", NULL);
	if(q->too_big) return reply_text(conn, 413, "body too large", NULL);
	req.method = method;
	req.query = qmark ? qmark + 1 : NULL;
	req.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	req.accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	req.body = q->body.data;
	req.body_len = q->body.len;
	/* while it bootstraps the device serves the Bootstrap-Server alone */
	bootstrap = bs_in_progress(d);
	if((bootstrap ? simh_decode_bs(&req, &op, &status, &err) : simh_decode(&req, &op, &status, &err)) != 0){
		s->st.malformed++;
		s->st.answered++;
		sim_log(s, d, "%s %s: %u (%s)", method, req.path, status, err.msg);
		return reply_text(conn, status, err.msg, status == 405 ? SIMH_ALLOW : NULL);
	}
	return answer(s, d, conn, &op, bootstrap);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct hreq *q = calloc(1, sizeof(*q));
	(void)cls;
	(void)conn;

	if(!q) return NULL;
	q->uri = strdup(uri);
	if(!q->uri){
		free(q);
		return NULL;
	}
	buf_init(&q->body, MAX_BODY);
	return q;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
		const char *method, const char *version, const char *upload_data, size_t *upload_size,
		void **con_cls)
{
	struct hreq *q = *con_cls;
	(void)version;

	if(!q) return MHD_NO;   /* out of memory: drop the connection */
	if(!q->headers_seen){
		q->headers_seen = true;
		return MHD_YES;
	}
	if(*upload_size){
		if(!q->too_big && buf_append(&q->body, upload_data, *upload_size) != 0) q->too_big = true;
		*upload_size = 0;
		return MHD_YES;
	}
	return serve(cls, conn, q, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		enum MHD_RequestTerminationCode toe)
{
	struct hreq *q = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;

	if(!q) return;
	buf_free(&q->body);
	free(q->uri);
	free(q);
	*con_cls = NULL;
}

/* ---- setting up ---- */

/* Resolve --listen: "[v6]:port" or "host:port"; *host_len is the host as printed in URLs. */
static int listen_addr(const char *listen, struct sockaddr_storage *sa, size_t *host_len)
{
	const char *colon = strrchr(listen, ':');
	struct addrinfo hints, *ai = NULL;
	char host[256];
	size_t n = (size_t)(colon - listen);
	int rc;

	*host_len = n;
	if(listen[0] == '['){
		listen++;
		n -= 2;
	}
	if(n >= sizeof(host)) return -1;
	memcpy(host, listen, n);
	host[n] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if(rc != 0){
		fprintf(stderr, "sim: --listen %s: %s\n", host, gai_strerror(rc));
		return -1;
	}
	memset(sa, 0, sizeof(*sa));
	memcpy(sa, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
}

static int bound_port(struct MHD_Daemon *mhd)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_LISTEN_FD);
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if(!info || getsockname(info->listen_fd, (struct sockaddr *)&sa, &len) != 0) return -1;
	if(sa.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
	return ntohs(((struct sockaddr_in *)&sa)->sin_port);
}

static int start_server(struct sim *s, struct hnet *h)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage sa;
	struct epoll_event ev;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	size_t host_len;

	if(listen_addr(s->cfg.listen, &sa, &host_len) != 0) return -1;
	if(sa.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
			MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
			MHD_OPTION_CONNECTION_LIMIT, SERVER_CONNECTIONS,
			MHD_OPTION_END);
	if(!h->mhd){
		fprintf(stderr, "sim: cannot serve HTTP on %s\n", s->cfg.listen);
		return -1;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u32 = SIM_HTTP_TAG;
	if(!info || epoll_ctl(s->epfd, EPOLL_CTL_ADD, info->epoll_fd, &ev) != 0){
		fprintf(stderr, "sim: cannot watch the HTTP server\n");
		return -1;
	}
	return (int)host_len;
}

/* The line tests and scripts read: where the server reaches device {ep}. */
static int print_base_urls(struct sim *s, size_t host_len, int port)
{
	struct lwm2m_buf url;
	int rc = 0;

	printf("sim: device base URL http://%.*s:%d/{ep} ({ep} = %s%s%s)\n", (int)host_len,
			s->cfg.listen, port, s->devs[0].ep, s->n_devs > 1 ? " ... " : "",
			s->n_devs > 1 ? s->devs[s->n_devs - 1].ep : "");
	if(!s->cfg.verbose) return 0;
	buf_init(&url, 0);
	for(size_t i = 0; !rc && i < s->n_devs; i++){
		buf_reset(&url);
		rc = simh_append_segment(&url, s->devs[i].ep);
		if(!rc) rc = buf_append_byte(&url, '\0');
		if(!rc) sim_log(s, &s->devs[i], "base URL http://%.*s:%d/%s", (int)host_len, s->cfg.listen,
				port, (const char *)url.data);
	}
	buf_free(&url);
	return rc;
}

int hnet_init(struct sim *s)
{
	struct hnet *h = calloc(1, sizeof(*h));
	size_t n;
	int host_len, port;

	if(!h) return -1;
	s->http = h;
	h->sim = s;
	buf_init(&h->url, 0);
	h->server = strdup(s->cfg.http_url);
	if(!h->server) return -1;
	n = strlen(h->server);
	while(n > 0 && h->server[n - 1] == '/') h->server[--n] = '\0';
	h->curl_global = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
	h->multi = h->curl_global ? curl_multi_init() : NULL;
	if(!h->multi
			|| curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, MAX_CONNECTIONS) != CURLM_OK){
		fprintf(stderr, "sim: cannot set up the HTTP client\n");
		return -1;
	}
	host_len = start_server(s, h);
	if(host_len < 0) return -1;
	port = bound_port(h->mhd);
	if(port < 0){
		fprintf(stderr, "sim: cannot tell the HTTP server's port\n");
		return -1;
	}
	return print_base_urls(s, (size_t)host_len, port) == 0 ? 0 : -1;
}

void hnet_free(struct sim *s)
{
	struct hnet *h = s->http;

	if(!h) return;
	while(h->xfers) xfer_free(h->xfers);
	if(h->mhd) MHD_stop_daemon(h->mhd);   /* completes (frees) the requests still open */
	if(h->multi) curl_multi_cleanup(h->multi);
	if(h->curl_global) curl_global_cleanup();
	buf_free(&h->url);
	free(h->server);
	free(h);
	s->http = NULL;
}

/* ---- the loop ---- */

int hnet_wait(struct sim *s, struct epoll_event *evs, int max, int timeout_ms)
{
	struct hnet *h = s->http;
	struct curl_waitfd wfd = { s->epfd, CURL_WAIT_POLLIN, 0 };
	MHD_UNSIGNED_LONG_LONG mhd_ms;

	if(MHD_get_timeout(h->mhd, &mhd_ms) == MHD_YES && mhd_ms < (MHD_UNSIGNED_LONG_LONG)timeout_ms){
		timeout_ms = (int)mhd_ms;
	}
	if(curl_multi_poll(h->multi, &wfd, 1, timeout_ms, NULL) != CURLM_OK){
		return epoll_wait(s->epfd, evs, max, timeout_ms);
	}
	return epoll_wait(s->epfd, evs, max, 0);
}

void hnet_io(struct sim *s)
{
	struct hnet *h = s->http;

	MHD_run(h->mhd);
	client_run(h);
}
