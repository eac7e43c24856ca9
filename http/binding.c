/* The HTTP binding listener and its client toward devices. Core thread, except open/free. */
#include "binding.h"
#include "client.h"
#include "mhd_uv.h"
#include "../binding/http_codec.h"
#include "../conf/endpoints.h"
#include "../objects/fmt.h"
#include "../core/api.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct downlink;

struct binding_server {
	const struct lwm2m_config *cfg;
	struct mhd_uv mhd;
	char *tls_cert, *tls_key, *tls_ca;   /* PEM text; tls_ca: client certificates required */
	struct core *core;
	struct http_client *client;
	struct downlink *downlinks;          /* requests in flight to devices */
	uint64_t log_window;                 /* second (uv_now / 1000) of the refusals logged */
	unsigned log_count;                  /* refusals logged in it */
	unsigned long log_suppressed;        /* and not logged */
};

#define REFUSALS_LOGGED_PER_S 20u   /* anyone who reaches the listener could flood the log */

static void log_refusal(struct binding_server *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_refusal(struct binding_server *b, const char *fmt, ...)
{
	uint64_t now = uv_now(core_api_loop(b->core)) / 1000;
	char line[400];
	va_list ap;

	if(now != b->log_window){
		if(b->log_suppressed){
			core_log(b->core, CORE_LOG_NOTICE, "lwm2m: http: %lu more refused requests were not logged", b->log_suppressed);
		}
		b->log_window = now;
		b->log_count = 0;
		b->log_suppressed = 0;
	}
	if(b->log_count >= REFUSALS_LOGGED_PER_S){
		b->log_suppressed++;
		return;
	}
	b->log_count++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	core_log(b->core, CORE_LOG_NOTICE, "lwm2m: http: %s", line);
}

/* One device request being received. */
struct up_req {
	struct binding_server *b;
	char *uri;                 /* raw request target: path and query */
	struct lwm2m_buf body;
	bool too_big;
	bool headers_seen;         /* MHD's first call carries the headers only */
};

/* One request to a device, until its answer. */
struct downlink {
	struct downlink *next, *prev;
	struct binding_server *b;
	int64_t handle;
	char *endpoint;            /* the device (HTTP devices have no topic prefix) */
	struct lwm2m_op req;       /* kind, token and uri (into uri) for decoding the answer */
	char uri[64];
};

/* ---- answering the device ---- */

/* One answer: a body of media_type (or none), and the Location / Allow headers when given. */
static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const void *body, size_t len,
		const char *media_type, const char *location, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if(!r) return MHD_NO;
	if(location) MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
	if(allow) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if(len && media_type) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, media_type);
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* An answer with an optional diagnostic text. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *location,
		const char *allow, const char *text)
{
	return respond(conn, status, text, text ? strlen(text) : 0, "text/plain; charset=utf-8", location, allow);
}

/* ---- the sender's TLS identity ---- */

/* The CN of a verified client certificate into out; false without one. */
static bool tls_identity(struct MHD_Connection *conn, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t session;
	const gnutls_datum_t *certs;
	unsigned n = 0, status = 1;
	gnutls_x509_crt_t crt;
	size_t len = size;
	bool ok = false;

	if(!ci || !ci->tls_session) return false;
	session = (gnutls_session_t)ci->tls_session;
	if(gnutls_certificate_verify_peers2(session, &status) != 0 || status != 0) return false;
	certs = gnutls_certificate_get_peers(session, &n);
	if(!certs || n == 0 || gnutls_x509_crt_init(&crt) != 0) return false;
	if(gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0
			&& gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, out, &len) == 0){
		ok = len > 0 && len < size;
	}
	gnutls_x509_crt_deinit(crt);
	return ok;
}

/* ---- device requests ---- */

struct answer {
	struct MHD_Connection *conn;
	const struct lwm2m_op *req;
	enum MHD_Result rc;
	bool answered;
};

/* The core's answer, sent at once (a Bootstrap-Pack carries a body that lives only now). */
static void on_core_answer(void *ctx, const struct lwm2m_op *resp, const char *reg_id)
{
	struct answer *a = ctx;
	unsigned status = (unsigned)http_codec_status_for(a->req, resp->result);
	char location[48];

	a->answered = true;
	if(a->req->kind == LWM2M_OP_REGISTER && resp->result == 201 && reg_id){
		snprintf(location, sizeof(location), "/rd/%s", reg_id);
		a->rc = reply(a->conn, status, location, NULL, NULL);
	}else if(resp->fields & LWM2M_F_PAYLOAD){
		a->rc = respond(a->conn, status, resp->payload.ptr, resp->payload.len,
				(resp->fields & LWM2M_F_CT) ? fmt_cf_media_type(resp->content_format) : NULL, NULL, NULL);
	}else{
		a->rc = reply(a->conn, status, NULL, NULL, NULL);
	}
}

/* The endpoint is allowed when the endpoints file has an entry for it with an http
 * section: that is also where its base URL comes from. */
static bool allowed(const struct binding_server *b, const char *endpoint)
{
	const struct endpoint_conf *conf = endpoints_find(core_api_endpoints(b->core), endpoint);
	return conf && conf->http.url;
}

static enum MHD_Result handle(struct up_req *u, struct MHD_Connection *conn, const char *method)
{
	struct binding_server *b = u->b;
	struct http_request_view v;
	struct http_uplink x;
	struct lwm2m_error err;
	struct lwm2m_op op;
	struct answer a = { conn, NULL, MHD_NO, false };
	struct core_uplink cu = { .transport = "http", .done = on_core_answer, .ctx = &a };
	char identity[256], endpoint[HTTP_CODEC_EP_MAX + 1] = "";
	char *q = strchr(u->uri, '?');
	bool has_identity = b->tls_ca && tls_identity(conn, identity, sizeof(identity));

	if(q) *q++ = '\0';
	memset(&v, 0, sizeof(v));
	v.method = method;
	v.path = u->uri;
	v.query = q;
	v.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	v.accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	v.body = u->body.data;
	v.body_len = u->too_big ? b->cfg->max_payload + 1 : u->body.len;
	v.max_body = b->cfg->max_payload;
	if(http_codec_decode_request(&v, &op, &x, &err) != 0){
		log_refusal(b, "%s %s refused with %u: %s", method, u->uri, x.status, err.msg);
		return reply(conn, x.status, NULL, x.allow, err.msg);
	}
	if(op.fields & LWM2M_F_EP) snprintf(endpoint, sizeof(endpoint), "%.*s", (int)op.ep.len, (const char *)op.ep.ptr);
	if(has_identity && endpoint[0] && strcmp(endpoint, identity)){
		return reply(conn, 400, NULL, NULL, "the endpoint name does not match the TLS client certificate");
	}
	if(has_identity && !endpoint[0]) snprintf(endpoint, sizeof(endpoint), "%s", identity);
	if(b->tls_ca && !has_identity){
		return reply(conn, 400, NULL, NULL, "a verified TLS client certificate is required");
	}
	switch(op.kind){
		case LWM2M_OP_REGISTER:
			if(!endpoint[0]) return reply(conn, 400, NULL, NULL, "Register without ep and without a TLS identity");
			if(!allowed(b, endpoint)){
				log_refusal(b, "endpoint '%s' refused: no entry with an http section in plugin_opt_endpoints_file",
						endpoint);
				return reply(conn, 403, NULL, NULL, "endpoint not allowed");
			}
			cu.endpoint = endpoint;
			break;
		case LWM2M_OP_UPDATE:
		case LWM2M_OP_DEREGISTER:
			cu.reg_id = x.reg_id;
			cu.endpoint = has_identity ? identity : NULL;
			break;
		case LWM2M_OP_SEND:
			if(!has_identity && (!endpoint[0] || !x.has_reg_id)){
				return reply(conn, 400, NULL, NULL, "Send over plain HTTP names its sender: ?ep=..&rid=..");
			}
			cu.endpoint = endpoint;
			cu.reg_id = x.has_reg_id ? x.reg_id : NULL;
			break;
		case LWM2M_OP_BOOTSTRAP_REQUEST:
		case LWM2M_OP_BOOTSTRAP_PACK_REQUEST:
			if(!endpoint[0]) return reply(conn, 400, NULL, NULL, "a bootstrap request names its endpoint (?ep=)");
			cu.endpoint = endpoint;
			if(op.kind == LWM2M_OP_BOOTSTRAP_PACK_REQUEST && x.accept_cf >= 0){
				op.pct = (uint16_t)x.accept_cf;
				op.fields |= LWM2M_F_PCT;
			}
			break;
		default:
			return reply(conn, 400, NULL, NULL, "not a device request");
	}
	a.req = &op;
	core_api_uplink(b->core, &cu, &op);
	return a.answered ? a.rc : reply(conn, 500, NULL, NULL, "no answer");
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct binding_server *b = cls;
	struct up_req *u = calloc(1, sizeof(*u));
	(void)conn;

	if(!u) return NULL;
	u->b = b;
	u->uri = strdup(uri);
	buf_init(&u->body, b->cfg->max_payload);
	if(!u->uri){
		free(u);
		return NULL;
	}
	return u;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
		const char *method, const char *version, const char *upload_data, size_t *upload_size,
		void **con_cls)
{
	struct up_req *u = *con_cls;
	(void)cls;
	(void)url;
	(void)version;

	if(!u) return MHD_NO;
	if(!u->headers_seen){
		u->headers_seen = true;
		return MHD_YES;
	}
	if(*upload_size){
		if(buf_append(&u->body, upload_data, *upload_size) != 0) u->too_big = true;
		*upload_size = 0;
		return MHD_YES;
	}
	if(!u->b->core) return reply(conn, 503, NULL, NULL, "the server is starting or stopping");
	return handle(u, conn, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		enum MHD_RequestTerminationCode toe)
{
	struct up_req *u = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;

	if(!u) return;
	buf_free(&u->body);
	free(u->uri);
	free(u);
	*con_cls = NULL;
}

/* ---- requests to devices ---- */

static void downlink_unlink(struct binding_server *b, struct downlink *d)
{
	if(d->prev) d->prev->next = d->next;
	else b->downlinks = d->next;
	if(d->next) d->next->prev = d->prev;
}

static void downlink_free(struct downlink *d)
{
	free(d->endpoint);
	free(d);
}

static void on_device_answer(void *ctx, const struct http_response *res)
{
	struct downlink *d = ctx;
	struct binding_server *b = d->b;
	struct lwm2m_op resp;
	struct lwm2m_error err;
	char why[LWM2M_ERROR_MSG_MAX + 64];

	downlink_unlink(b, d);
	if(!b->core || res->outcome == HTTP_CLIENT_CANCELLED){
		downlink_free(d);
		return;
	}
	if(res->outcome != HTTP_CLIENT_OK){
		snprintf(why, sizeof(why), "the device's HTTP server: %s", res->error ? res->error : "no answer");
		core_api_device_failed(b->core, d->endpoint, d->req.token, why);
	}else if(http_codec_decode_response(&d->req, (unsigned)res->status, res->content_type, res->location,
			res->body, res->body_len, &resp, &err) != 0){
		snprintf(why, sizeof(why), "the device's answer (HTTP %ld): %s", res->status, err.msg);
		core_api_device_failed(b->core, d->endpoint, d->req.token, why);
	}else{
		core_api_device_answer(b->core, d->endpoint, &resp);
	}
	downlink_free(d);
}

/* The device's base URL: "{ep}" in the configured URL stands for the endpoint name, so one
 * pattern entry ("sensor-*") can serve many devices. */
static int base_url(struct lwm2m_buf *url, const char *pattern, const char *endpoint)
{
	const char *p = pattern, *hit;
	int rc = 0;

	while(rc == 0 && (hit = strstr(p, "{ep}")) != NULL){
		rc = buf_append(url, p, (size_t)(hit - p));
		if(rc == 0) rc = buf_append(url, endpoint, strlen(endpoint));
		p = hit + 4;
	}
	return rc ? rc : buf_append(url, p, strlen(p));
}

static int send_to_device(void *ctx, const char *endpoint, const struct lwm2m_op *op,
		uint32_t timeout_ms, char *why, size_t why_size)
{
	struct binding_server *b = ctx;
	const struct endpoint_conf *conf = endpoints_find(core_api_endpoints(b->core), endpoint);
	struct lwm2m_buf pq, url;
	struct lwm2m_error err;
	struct http_request hr;
	struct downlink *d;
	const char *method = NULL, *ct = NULL, *accept = NULL;
	int rc;

	if(!conf || !conf->http.url){
		snprintf(why, why_size, "no base URL for '%s' in plugin_opt_endpoints_file", endpoint);
		return -LWM2M_ENOENT;
	}
	buf_init(&pq, 0);
	buf_init(&url, 0);
	rc = http_codec_encode_request(op, NULL, &pq, &method, &ct, &accept, &err);
	if(rc == 0) rc = base_url(&url, conf->http.url, endpoint);
	if(rc == 0) rc = buf_printf(&url, "%s", (const char *)pq.data);
	else snprintf(why, why_size, "%s", err.msg);
	d = rc == 0 ? calloc(1, sizeof(*d)) : NULL;
	if(d){
		d->b = b;
		d->endpoint = strdup(endpoint);
		d->req = *op;
		snprintf(d->uri, sizeof(d->uri), "%.*s", (int)op->uri.len, (const char *)op->uri.ptr);
		d->req.uri = op_view_str(d->uri);
		/* The answer is decoded against the request: nothing else of it is needed. */
		d->req.payload.ptr = NULL;
		d->req.payload.len = 0;
		d->req.paths = d->req.payload;
		memset(&hr, 0, sizeof(hr));
		hr.method = method;
		hr.url = (const char *)url.data;
		hr.content_type = ct;
		hr.accept = accept;
		hr.body = (op->fields & LWM2M_F_PAYLOAD) ? op->payload.ptr : NULL;
		hr.body_len = (op->fields & LWM2M_F_PAYLOAD) ? op->payload.len : 0;
		hr.timeout_ms = timeout_ms;
		hr.max_response = b->cfg->max_payload;
		d->handle = d->endpoint ? http_client_send(b->client, &hr, on_device_answer, d) : -LWM2M_ENOMEM;
		if(d->handle <= 0){
			snprintf(why, why_size, "the request to %s could not be started", (const char *)url.data);
			rc = d->handle < 0 ? (int)d->handle : -LWM2M_ENOMEM;
			downlink_free(d);
		}else{
			d->next = b->downlinks;
			if(d->next) d->next->prev = d;
			b->downlinks = d;
		}
	}else if(rc == 0){
		rc = -LWM2M_ENOMEM;
	}
	buf_free(&pq);
	buf_free(&url);
	return rc;
}

/* ---- life cycle ---- */

static struct MHD_Daemon *start_daemon(struct binding_server *b, const struct sockaddr_storage *sa)
{
	struct mhd_uv_listen l = {
		.addr = (const struct sockaddr *)sa,
		.on_request = on_request,
		.on_completed = on_completed,
		.on_uri = on_uri,
		.cls = b,
		.connection_timeout = 30,
		.connection_limit = 10000,
		.tls_cert = b->tls_cert,
		.tls_key = b->tls_key,
		.tls_trust = b->tls_ca,
	};

	return mhd_uv_start(&l);
}

static void server_free(struct binding_server *b)
{
	free(b->tls_cert);
	free(b->tls_key);
	free(b->tls_ca);
	free(b);
}

static int read_tls(struct binding_server *b, const struct lwm2m_config *cfg, struct lwm2m_error *err)
{
	if(!cfg->tls_cert) return 0;
	b->tls_cert = mhd_uv_read_pem("tls_cert", cfg->tls_cert, err);
	b->tls_key = b->tls_cert ? mhd_uv_read_pem("tls_key", cfg->tls_key, err) : NULL;
	if(!b->tls_key) return -1;
	if(cfg->tls_ca){
		b->tls_ca = mhd_uv_read_pem("tls_ca", cfg->tls_ca, err);
		if(!b->tls_ca) return -1;
	}
	return 0;
}

struct binding_server *binding_open(const struct lwm2m_config *cfg, struct lwm2m_error *err)
{
	struct binding_server *b;
	struct sockaddr_storage sa;
	socklen_t sa_len;

	if(mhd_uv_parse_listen("http_binding_listen", cfg->http_binding_listen, &sa, &sa_len, err) != 0) return NULL;
	b = calloc(1, sizeof(*b));
	if(!b){
		lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
		return NULL;
	}
	b->cfg = cfg;
	if(read_tls(b, cfg, err) != 0){
		server_free(b);
		return NULL;
	}
	b->mhd.daemon = start_daemon(b, &sa);
	if(!b->mhd.daemon){
		server_free(b);
		lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_http_binding_listen: cannot listen on %s (in use, not an "
				"address of this host%s)", cfg->http_binding_listen,
				cfg->tls_cert ? ", or the TLS files do not match" : "");
		return NULL;
	}
	return b;
}

int binding_attach(struct binding_server *b, struct core *c)
{
	struct core_downlink dl = { .ctx = b, .send = send_to_device };
	struct lwm2m_error err;

	b->client = http_client_new(core_api_loop(c), NULL, &err);
	if(!b->client){
		core_log(c, CORE_LOG_ERR, "lwm2m: http: the client toward devices could not start: %s", err.msg);
		return -LWM2M_ENOMEM;
	}
	b->core = c;
	core_api_set_downlink(c, "http", &dl);
	return mhd_uv_attach(&b->mhd, core_api_loop(c));
}

void binding_detach(struct binding_server *b)
{
	if(!b || !b->core) return;
	core_api_set_downlink(b->core, "http", NULL);
	while(b->downlinks){
		struct downlink *d = b->downlinks;
		downlink_unlink(b, d);
		http_client_cancel(b->client, d->handle);
		downlink_free(d);
	}
	http_client_close(b->client, NULL, NULL);
	b->client = NULL;
	mhd_uv_detach(&b->mhd);
	b->core = NULL;
}

void binding_free(struct binding_server *b)
{
	if(!b) return;
	MHD_stop_daemon(b->mhd.daemon);
	server_free(b);
}
