/* The REST server: libmicrohttpd in external-epoll mode on the core's loop, routing,
 * authentication, and the registration listing. */
#include "rest_internal.h"
#include "../conf/endpoints.h"
#include "../objects/link_format.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- responses ---- */

void rest_add_headers(struct rest_server *s, struct MHD_Connection *conn,
		struct MHD_Response *resp)
{
	const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");

	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if(origin && s && s->cfg->cors_origins){
		/* Reflect the origin only when it is on the allow-list. */
		const char *list = s->cfg->cors_origins;
		size_t ol = strlen(origin);
		while(*list){
			size_t n = strcspn(list, ",");
			if((n == 1 && list[0] == '*') || (n == ol && !strncmp(list, origin, n))){
				MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
				MHD_add_response_header(resp, "Vary", "Origin");
				break;
			}
			list += n;
			if(*list == ',') list++;
		}
	}
}

/* When a JSON body cannot be built (no memory, text that is not UTF-8), the client still
 * gets an answer. */
static const char fallback_body[] = "{\"error\":\"the answer could not be encoded\",\"httpStatus\":500}";

static struct MHD_Response *json_response(json_t *body, unsigned *status)
{
	char *text = body ? json_dumps(body, JSON_COMPACT | REST_JSON_REAL_PRECISION) : NULL;
	struct MHD_Response *resp;

	if(!text){
		*status = 500;
		resp = MHD_create_response_from_buffer(sizeof(fallback_body) - 1, (void *)fallback_body,
				MHD_RESPMEM_PERSISTENT);
		if(resp) MHD_add_response_header(resp, "Content-Type", "application/json");
		return resp;
	}
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if(!resp){
		free(text);
		return NULL;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return resp;
}

enum MHD_Result rest_reply_json(struct rest_req *r, unsigned status, json_t *body)
{
	struct MHD_Response *resp = json_response(body, &status);
	enum MHD_Result rc;

	json_decref(body);
	if(!resp) return MHD_NO;
	rest_add_headers(r->srv, r->conn, resp);
	rc = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

enum MHD_Result rest_reply_error(struct rest_req *r, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Messages may quote the request; JSON needs valid UTF-8: keep plain ASCII only. */
	for(char *c = msg; *c; c++){
		if((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
	}
	return rest_reply_json(r, status, json_pack("{s:s, s:i}", "error", msg, "httpStatus", (int)status));
}

void rest_waiting_add(struct rest_req *r)
{
	r->prev = NULL;
	r->next = r->srv->waiting;
	if(r->next) r->next->prev = r;
	r->srv->waiting = r;
}

void rest_waiting_remove(struct rest_req *r)
{
	if(r->prev) r->prev->next = r->next;
	else if(r->srv->waiting == r) r->srv->waiting = r->next;
	if(r->next) r->next->prev = r->prev;
	r->next = r->prev = NULL;
}

void rest_complete(struct rest_req *r, unsigned status, json_t *body)
{
	struct MHD_Response *resp = json_response(body, &status);

	json_decref(body);
	rest_waiting_remove(r);
	r->state = REQ_DONE;
	if(resp){
		rest_add_headers(r->srv, r->conn, resp);
		MHD_queue_response(r->conn, status, resp);
		MHD_destroy_response(resp);
	}
	MHD_resume_connection(r->conn);
	rest_kick(r->srv);
}

void rest_kick(struct rest_server *s)
{
	mhd_uv_kick(&s->mhd);
}

/* ---- routing ---- */

static bool authorised(struct rest_server *s, struct MHD_Connection *conn)
{
	const char *auth;
	size_t n;

	if(!s->cfg->api_token) return true;
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	if(!auth || strncasecmp(auth, "Bearer ", 7)) return false;
	auth += 7;
	n = strlen(s->cfg->api_token);
	/* Length first, then every byte: no early exit that times the token. */
	if(strlen(auth) != n) return false;
	unsigned char diff = 0;
	for(size_t i = 0; i < n; i++) diff |= (unsigned char)(auth[i] ^ s->cfg->api_token[i]);
	return diff == 0;
}

static json_t *client_list(struct rest_server *s, long offset, long limit)
{
	struct registry *reg = core_api_registry(s->core);
	struct registration *r;
	json_t *items = json_array();
	long i = 0;

	for(r = registry_first(reg); r && (long)json_array_size(items) < limit; r = r->hh.next, i++){
		if(i >= offset) json_array_append_new(items, core_api_registration_json(s->core, r));
	}
	return json_pack("{s:I, s:I, s:I, s:o}", "total", (json_int_t)registry_count(reg),
			"offset", (json_int_t)offset, "limit", (json_int_t)limit, "clients", items);
}

/* One client, or an operation on it: an unknown endpoint is a 404 before anything else. */
static enum MHD_Result route_client(struct rest_req *r, const struct rest_parsed *q)
{
	const struct registration *reg;

	snprintf(r->endpoint, sizeof(r->endpoint), "%s", q->endpoint);
	snprintf(r->prefix, sizeof(r->prefix), "%s", q->prefix);
	r->has_prefix = q->has_prefix;
	reg = registry_find(core_api_registry(r->srv->core), r->has_prefix ? r->prefix : NULL, r->endpoint);
	if(!reg) return rest_reply_error(r, 404, "no registration for endpoint '%s'", r->endpoint);
	if(q->status) return rest_reply_error(r, q->status, "%s", q->message);
	if(q->route == REST_ROUTE_CLIENT) return rest_reply_json(r, 200, core_api_registration_json(r->srv->core, reg));
	return rest_device_op(r, q);
}

/* The first LwM2M Server instance (/1/x) the device registered: its resource 9 is the
 * Bootstrap-Request Trigger. -1 when it has none. */
static int server_instance(const struct registration *reg)
{
	struct lf_object_list list;
	struct lwm2m_error err;
	int inst = -1;

	if(!reg->links || lf_parse_object_list(reg->links, strlen(reg->links), &list, &err) != 0) return -1;
	for(size_t i = 0; i < list.count && inst < 0; i++){
		if(list.items[i].obj == 1 && list.items[i].has_inst) inst = list.items[i].inst;
	}
	lf_object_list_free(&list);
	return inst;
}

/* Server-initiated bootstrap: Execute /1/x/9; the device then bootstraps as usual. */
static enum MHD_Result bootstrap_trigger(struct rest_req *r, const struct rest_parsed *q)
{
	const struct registration *reg;
	struct rest_parsed exec = *q;
	int inst;

	snprintf(r->endpoint, sizeof(r->endpoint), "%s", q->endpoint);
	snprintf(r->prefix, sizeof(r->prefix), "%s", q->prefix);
	r->has_prefix = q->has_prefix;
	reg = registry_find(core_api_registry(r->srv->core), r->has_prefix ? r->prefix : NULL, r->endpoint);
	if(!reg) return rest_reply_error(r, 404, "no registration for endpoint '%s'", r->endpoint);
	inst = server_instance(reg);
	if(inst < 0) return rest_reply_error(r, 409, "'%s' registered no LwM2M Server instance (/1/x) to trigger", r->endpoint);
	/* Only the fields rest_device_op reads for an Execute without arguments. */
	exec.route = REST_ROUTE_DEVICE_OP;
	exec.kind = LWM2M_OP_EXECUTE;
	exec.path.len = 3;
	exec.path.ids[0] = 1;
	exec.path.ids[1] = (uint16_t)inst;
	exec.path.ids[2] = 9;
	exec.has_path = true;
	exec.has_payload = false;
	exec.has_depth = false;
	return rest_device_op(r, &exec);
}

static enum MHD_Result dispatch(struct rest_req *r, const struct rest_parsed *q)
{
	struct rest_server *s = r->srv;

	if(q->status && !rest_route_needs_device(q->route)) return rest_reply_error(r, q->status, "%s", q->message);
	switch(q->route){
		case REST_ROUTE_CLIENT_LIST:
			return rest_reply_json(r, 200, client_list(s, q->offset, q->limit));
		case REST_ROUTE_CLIENT:
		case REST_ROUTE_DEVICE_OP:
		case REST_ROUTE_COMPOSITE:
			return route_client(r, q);
		case REST_ROUTE_EVENTS:
			return rest_events(r);
		case REST_ROUTE_STATUS:
			return rest_reply_json(r, 200, core_api_status(s->core));
		case REST_ROUTE_SEND: {
			int rc;
			json_t *j = core_api_sends_json(s->core, q->endpoint[0] ? q->endpoint : NULL, q->since,
					(unsigned)q->limit, &rc);
			if(rc == -LWM2M_ENOTSUP) return rest_reply_error(r, 501, "stored Send data needs plugin_opt_state_db");
			if(!j) return rest_reply_error(r, 500, "cannot read the stored Send data");
			return rest_reply_json(r, 200, j);
		}
		case REST_ROUTE_REQUEST: {
			json_t *j = core_api_request_json(s->core, q->request_id);
			if(!j) return rest_reply_error(r, 404, "no request %lld (unknown, or forgotten after completion)", (long long)q->request_id);
			return rest_reply_json(r, 200, j);
		}
		case REST_ROUTE_BOOTSTRAP_SESSIONS:
			return rest_reply_json(r, 200, core_api_bootstrap_sessions(s->core));
		case REST_ROUTE_BOOTSTRAP_TRIGGER:
			return bootstrap_trigger(r, q);
		case REST_ROUTE_ENDPOINTS_RELOAD: {
			struct lwm2m_error err;
			if(core_api_reload_endpoints(s->core, &err) != 0) return rest_reply_error(r, 400, "%s", err.msg);
			return rest_reply_json(r, 200, json_pack("{s:b, s:I}", "success", 1, "entries",
					(json_int_t)endpoints_count(core_api_endpoints(s->core))));
		}
		case REST_ROUTE_UNKNOWN:
		case REST_ROUTE_PREFLIGHT:
			break;
	}
	return rest_reply_error(r, 500, "unexpected route");
}

struct arg_list {
	struct rest_arg *items;
	size_t count, cap;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct arg_list *l = cls;

	(void)kind;
	if(l->count == l->cap) return MHD_NO;
	l->items[l->count].name = key;
	l->items[l->count].value = value;
	l->count++;
	return MHD_YES;
}

/* The request as rest_parse sees it; the strings stay MHD's. Returns the argument array
 * to free() after parsing, NULL on allocation failure. */
static struct rest_arg *read_input(struct rest_req *r, const char *method, const char *url,
		struct rest_input *in)
{
	int n = MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, NULL, NULL);
	struct arg_list l = { NULL, 0, n > 0 ? (size_t)n : 0 };

	l.items = calloc(l.cap ? l.cap : 1, sizeof(*l.items));
	if(!l.items) return NULL;
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &l);
	memset(in, 0, sizeof(*in));
	in->method = method;
	in->url = url;
	in->args = l.items;
	in->nargs = l.count;
	in->content_type = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
	in->body = (const uint8_t *)r->body;
	in->body_len = r->body_len;
	in->body_too_big = r->body_too_big;
	return l.items;
}

static enum MHD_Result route(struct rest_req *r, const char *method, const char *url)
{
	struct rest_server *s = r->srv;
	struct fmt_typer typer;
	struct rest_input in;
	struct rest_parsed q;
	struct rest_arg *args;
	enum MHD_Result rc;

	if(!strcmp(method, "OPTIONS")){
		struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		if(!resp) return MHD_NO;
		rest_add_headers(s, r->conn, resp);
		MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, PUT, POST, DELETE, OPTIONS");
		MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Authorization, Content-Type");
		rc = MHD_queue_response(r->conn, 204, resp);
		MHD_destroy_response(resp);
		return rc;
	}
	if(!authorised(s, r->conn)){
		return rest_reply_error(r, 401, "missing or wrong bearer token (Authorization: Bearer ...)");
	}
	/* Only now, for an authorised request, the body is looked at. */
	args = read_input(r, method, url, &in);
	if(!args) return MHD_NO;
	typer = obj_registry_typer(core_api_model(s->core));
	rest_parse(&in, &typer, &q);
	free(args);
	rc = dispatch(r, &q);
	rest_parsed_free(&q);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
		const char *method, const char *version, const char *upload_data, size_t *upload_size,
		void **con_cls)
{
	struct rest_server *s = cls;
	struct rest_req *r = *con_cls;
	(void)version;

	if(!r){
		r = calloc(1, sizeof(*r));
		if(!r) return MHD_NO;
		r->srv = s;
		r->conn = conn;
		*con_cls = r;
		s->requests++;
		return MHD_YES;
	}
	if(r->state != REQ_READING) return MHD_YES;   /* resumed: the response is queued */
	if(*upload_size){
		if(r->body_len + *upload_size > REST_MAX_BODY){
			r->body_too_big = true;
		}else{
			char *b = realloc(r->body, r->body_len + *upload_size + 1);
			if(!b) return MHD_NO;
			memcpy(b + r->body_len, upload_data, *upload_size);
			r->body = b;
			r->body_len += *upload_size;
			r->body[r->body_len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return route(r, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		enum MHD_RequestTerminationCode toe)
{
	struct rest_server *s = cls;
	struct rest_req *r = *con_cls;
	(void)conn;
	(void)toe;

	if(!r) return;
	if(r->state == REQ_WAITING){
		if(s->core) core_api_cancel(s->core, r->handle);
		rest_waiting_remove(r);
	}
	free(r->body);
	free(r);
	*con_cls = NULL;
}

/* ---- life cycle ---- */

static struct MHD_Daemon *start_daemon(struct rest_server *s, const struct sockaddr_storage *sa)
{
	struct mhd_uv_listen l = {
		.flags = MHD_ALLOW_SUSPEND_RESUME,
		.addr = (const struct sockaddr *)sa,
		.on_request = on_request,
		.on_completed = on_completed,
		.cls = s,
		.connection_timeout = 60,
		.connection_limit = 1000,
		.tls_cert = s->tls_cert,
		.tls_key = s->tls_key,
	};

	return mhd_uv_start(&l);
}

static void server_free(struct rest_server *s)
{
	free(s->tls_cert);
	free(s->tls_key);
	free(s);
}

struct rest_server *rest_open(const struct lwm2m_config *cfg, struct lwm2m_error *err)
{
	struct rest_server *s;
	struct sockaddr_storage sa;
	socklen_t sa_len;

	if(mhd_uv_parse_listen("http_listen", cfg->http_listen, &sa, &sa_len, err) != 0) return NULL;
	if(!cfg->api_token && !mhd_uv_is_loopback((struct sockaddr *)&sa)){
		lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_http_listen: %s is not a loopback address: set plugin_opt_api_token too",
				cfg->http_listen);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if(!s){
		lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
		return NULL;
	}
	s->cfg = cfg;
	if(cfg->tls_cert){
		s->tls_cert = mhd_uv_read_pem("tls_cert", cfg->tls_cert, err);
		s->tls_key = s->tls_cert ? mhd_uv_read_pem("tls_key", cfg->tls_key, err) : NULL;
		if(!s->tls_key){
			server_free(s);
			return NULL;
		}
	}
	s->mhd.daemon = start_daemon(s, &sa);
	if(!s->mhd.daemon){
		server_free(s);
		lwm2m_fail(err, LWM2M_EINVAL, -1, "plugin_opt_http_listen: cannot listen on %s (in use, not an address of this host%s)",
				cfg->http_listen, cfg->tls_cert ? ", or the TLS certificate and key do not match" : "");
		return NULL;
	}
	return s;
}

int rest_attach(struct rest_server *s, struct core *c)
{
	s->core = c;
	return mhd_uv_attach(&s->mhd, core_api_loop(c));
}

void rest_detach(struct rest_server *s)
{
	if(!s || !s->mhd.attached) return;
	/* Nothing may stay suspended: the daemon is stopped later, off this thread. */
	while(s->waiting){
		struct rest_req *r = s->waiting;
		core_api_cancel(s->core, r->handle);
		rest_complete(r, 503, json_pack("{s:s, s:i}", "error", "the server is shutting down", "httpStatus", 503));
	}
	rest_events_close_all(s);
	/* The answers just queued get a chance to leave before the daemon stops. */
	mhd_uv_detach(&s->mhd);
	/* Completion callbacks from MHD_stop_daemon (broker thread) must not reach the core. */
	s->core = NULL;
}

void rest_free(struct rest_server *s)
{
	if(!s) return;
	MHD_stop_daemon(s->mhd.daemon);
	server_free(s);
}
