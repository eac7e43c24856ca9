/* Interpreting a REST request: routing, operation, options and body, with no server and no
 * core behind it. The statuses, messages and the order in which problems are found are the
 * server's contract (tests/unit/test_rest_parse.c). */
#include "rest_parse.h"
#include "../objects/fmt_senml.h"
#include "../objects/node_json.h"
#include "../objects/types.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The Write-Attributes query rebuilt from the arguments may not grow beyond this. */
#define ATTR_QUERY_MAX 4096
/* Body refusals echo the Content-Type or ?format=; the server has always cut them here. */
#define BODY_MESSAGE_MAX 256

/* Records a refusal and returns its status, so that callers can `return refuse(...)`. */
static unsigned refuse(struct rest_parsed *p, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static unsigned refuse(struct rest_parsed *p, unsigned status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
	va_end(ap);
	p->status = status;
	return status;
}

/* ---- arguments ---- */

static bool same_name_ascii_caseless(const char *a, const char *b)
{
	for(;; a++, b++){
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
		if(x >= 'A' && x <= 'Z') x = (unsigned char)(x - 'A' + 'a');
		if(y >= 'A' && y <= 'Z') y = (unsigned char)(y - 'A' + 'a');
		if(x != y) return false;
		if(!x) return true;
	}
}

const char *rest_arg_get(const struct rest_input *in, const char *name)
{
	for(size_t i = 0; i < in->nargs; i++){
		if(in->args[i].name && same_name_ascii_caseless(in->args[i].name, name)) return in->args[i].value;
	}
	return NULL;
}

bool rest_route_needs_device(enum rest_route route)
{
	return route == REST_ROUTE_DEVICE_OP || route == REST_ROUTE_COMPOSITE;
}

/* ---- options ---- */

/* ?timeout=1..3600 (seconds); absent = the core's default. */
static unsigned parse_timeout(const struct rest_input *in, struct rest_parsed *p)
{
	const char *t = rest_arg_get(in, "timeout");
	char *end;
	long v;

	if(!t) return 0;
	v = strtol(t, &end, 10);
	if(*end || v < 1 || v > 3600) return refuse(p, 400, "timeout must be 1..3600 seconds");
	p->timeout_ms = (uint32_t)v * 1000u;
	return 0;
}

/* ?depth=0..3 (one digit). */
static unsigned parse_depth(const struct rest_input *in, struct rest_parsed *p)
{
	const char *depth = rest_arg_get(in, "depth");

	if(!depth) return 0;
	if(strlen(depth) != 1 || depth[0] < '0' || depth[0] > '3') return refuse(p, 400, "depth must be 0..3");
	p->depth = (uint8_t)(depth[0] - '0');
	p->has_depth = true;
	return 0;
}

/* ---- bodies ---- */

static unsigned raw_payload(const struct rest_input *in, struct rest_parsed *p, uint16_t cf, bool has_ct)
{
	if(buf_append(&p->payload, in->body, in->body_len)) return refuse(p, 500, "out of memory");
	p->has_payload = true;
	p->has_ct = has_ct;
	p->content_format = cf;
	return 0;
}

/* Fills in "type" where a node has none and the typer knows its resource. */
static void add_types(json_t *nodes, const struct fmt_typer *typer)
{
	size_t i;
	json_t *n;

	json_array_foreach(nodes, i, n){
		const char *ps = json_string_value(json_object_get(n, "path"));
		struct lwm2m_path path;
		enum lwm2m_type t;

		if(!json_is_object(n) || json_object_get(n, "type") || !ps) continue;
		if(path_parse(ps, strlen(ps), &path, NULL) != 0 || path.len < 3) continue;
		t = fmt_type_of(typer, NULL, &path);
		if(t != LWM2M_TYPE_NONE) json_object_set_new(n, "type", json_string(lwm2m_type_name(t)));
	}
}

/* A JSON array of nodes, or {"values": [...]}, encoded in cf for a request on req_path. */
static unsigned json_payload(const struct rest_input *in, const struct fmt_typer *typer,
		struct rest_parsed *p, const struct lwm2m_path *req_path, uint16_t cf)
{
	struct lwm2m_error err;
	json_error_t jerr;
	json_t *doc, *arr;
	unsigned status = 0;

	doc = json_loadb((const char *)in->body, in->body_len, JSON_DECODE_ANY, &jerr);
	if(!doc) return refuse(p, 400, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	arr = json_is_object(doc) ? json_object_get(doc, "values") : doc;
	if(!json_is_array(arr)){
		status = refuse(p, 400, "expected a JSON array of {\"path\",\"value\"[,\"type\"]} nodes, or {\"values\": [...]}");
	}else{
		add_types(arr, typer);
		if(json_array_size(arr) == 0){
			status = refuse(p, 400, "no values to write (empty node list)");
		}else if(node_json_to_nodes(arr, &p->nodes, &err) != 0
				|| fmt_encode(cf, &p->nodes, req_path, typer, NULL, &p->payload, &err) != 0){
			status = refuse(p, 400, "%s", err.msg);
		}
	}
	json_decref(doc);
	if(status) return status;
	p->has_payload = true;
	p->has_ct = true;
	p->content_format = cf;
	p->from_json = true;
	return 0;
}

/* The body of a Write, Create or Write-Composite: raw bytes in the format a non-JSON
 * Content-Type names, or JSON nodes encoded in ?format= (default def_cf). */
static unsigned parse_body(const struct rest_input *in, const struct fmt_typer *typer,
		struct rest_parsed *p, const struct lwm2m_path *req_path, uint16_t def_cf)
{
	const char *ctype = in->content_type, *format;
	int cf;

	if(!in->body_len) return refuse(p, 400, "the request needs a body");
	if(ctype && strncasecmp(ctype, "application/json", 16)){
		cf = fmt_cf_from_media_type(ctype);
		if(cf < 0){
			return refuse(p, 415, "unsupported Content-Type '%s' (application/json or an LwM2M media type)", ctype);
		}
		return raw_payload(in, p, (uint16_t)cf, true);
	}
	format = rest_arg_get(in, "format");
	cf = format ? fmt_cf_parse(format) : def_cf;
	if(cf < 0) return refuse(p, 400, "unknown format '%s'", format);
	return json_payload(in, typer, p, req_path, (uint16_t)cf);
}

/* ---- operations ---- */

static unsigned op_with_body(const struct rest_input *in, const struct fmt_typer *typer,
		struct rest_parsed *p, enum lwm2m_op_kind kind, const struct lwm2m_path *req_path)
{
	unsigned status;

	p->kind = kind;
	status = parse_body(in, typer, p, req_path, LWM2M_CF_SENML_CBOR);
	if(status){
		p->message[BODY_MESSAGE_MAX - 1] = '\0';
		return status;
	}
	return parse_timeout(in, p);
}

static unsigned op_simple(const struct rest_input *in, struct rest_parsed *p, enum lwm2m_op_kind kind)
{
	unsigned status = 0;

	p->kind = kind;
	if(kind == LWM2M_OP_DISCOVER){
		status = parse_depth(in, p);
	}else if(rest_arg_get(in, "depth")){
		status = refuse(p, 400, "depth applies to discover only");
	}
	return status ? status : parse_timeout(in, p);
}

/* Execute arguments travel as they came, without a content format. */
static unsigned op_execute(const struct rest_input *in, struct rest_parsed *p)
{
	unsigned status;

	p->kind = LWM2M_OP_EXECUTE;
	if(in->body_len){
		status = raw_payload(in, p, LWM2M_CF_TEXT, false);
		if(status) return status;
	}
	return parse_timeout(in, p);
}

/* Every argument but timeout and prefix is an attribute, in the order given. */
static unsigned op_write_attributes(const struct rest_input *in, struct rest_parsed *p)
{
	struct lwm2m_buf q;
	struct lwm2m_error err;
	bool too_long = false;
	int rc;

	p->kind = LWM2M_OP_WRITE_ATTRIBUTES;
	buf_init(&q, ATTR_QUERY_MAX);
	for(size_t i = 0; i < in->nargs; i++){
		const struct rest_arg *a = &in->args[i];
		if(!a->name || !strcmp(a->name, "timeout") || !strcmp(a->name, "prefix")) continue;
		if(q.len && buf_append_byte(&q, '&')) too_long = true;
		if(buf_printf(&q, "%s", a->name)) too_long = true;
		if(a->value && buf_printf(&q, "=%s", a->value)) too_long = true;
	}
	rc = too_long ? -LWM2M_ETOOBIG : attr_parse_query((const char *)q.data, q.len, &p->attrs, &err);
	buf_free(&q);
	if(rc) return refuse(p, 400, "attributes: %s", too_long ? "query too long" : err.msg);
	if(p->attrs.set & (LWM2M_ATTR_BIT(LWM2M_ATTR_LT) | LWM2M_ATTR_BIT(LWM2M_ATTR_CON))){
		return refuse(p, 400, "the MQTT binding has no key for 'lt' or 'con'");
	}
	if(p->attrs.unset){
		return refuse(p, 400, "the MQTT binding cannot express an attribute without value (unset)");
	}
	if(!p->attrs.set) return refuse(p, 400, "no attribute given (pmin, pmax, gt, st, epmin, epmax, edge, hqmax)");
	return parse_timeout(in, p);
}

/* /composite: GET reads ?paths=/3/0/1,/3/0/2, PUT writes the body.
 * /composite/observe: POST observes ?paths=, DELETE cancels that observation. */
static unsigned op_composite(const struct rest_input *in, const struct fmt_typer *typer,
		struct rest_parsed *p, bool observe)
{
	const char *list = rest_arg_get(in, "paths"), *m = in->method;
	struct lwm2m_error err;

	p->route = REST_ROUTE_COMPOSITE;
	if(!observe && !strcmp(m, "PUT")) return op_with_body(in, typer, p, LWM2M_OP_WRITE_COMPOSITE, NULL);
	if(!observe && strcmp(m, "GET")) return refuse(p, 405, "use GET (Read-Composite) or PUT (Write-Composite) on composite");
	if(observe && strcmp(m, "POST") && strcmp(m, "DELETE")){
		return refuse(p, 405, "use POST or DELETE on composite/observe");
	}
	if(!list || !*list) return refuse(p, 400, "missing ?paths=/o/i/r,/o/i/r");
	if(list[strlen(list) - 1] == ',') return refuse(p, 400, "the path list ends with an empty path");
	while(*list){
		size_t len = strcspn(list, ",");
		if(len == 0) return refuse(p, 400, "path %zu is empty", p->npaths + 1);
		if(p->npaths == REST_MAX_COMPOSITE_PATHS){
			return refuse(p, 400, "more than %d paths", REST_MAX_COMPOSITE_PATHS);
		}
		if(path_parse(list, len, &p->paths[p->npaths], &err) != 0){
			return refuse(p, 400, "path %zu: %s", p->npaths + 1, err.msg);
		}
		p->npaths++;
		list += len;
		if(*list == ',') list++;
	}
	p->kind = observe ? LWM2M_OP_OBSERVE_COMPOSITE : LWM2M_OP_READ_COMPOSITE;
	p->cancel = observe && !strcmp(m, "DELETE");
	if(senml_etch_paths_encode(LWM2M_CF_SENML_ETCH_CBOR, p->paths, p->npaths, &p->paths_etch, &err) != 0){
		return refuse(p, 400, "paths: %s", err.msg);
	}
	return parse_timeout(in, p);
}

/* Splits "/3/0/1/observe" into the path and the verb after it ("" when none). */
static int split_path(const char *s, struct lwm2m_path *path, const char **verb, struct lwm2m_error *err)
{
	static const char *const verbs[] = { "discover", "attributes", "observe", NULL };
	const char *last = strrchr(s, '/');

	*verb = "";
	if(last){
		for(size_t i = 0; verbs[i]; i++){
			if(!strcmp(last + 1, verbs[i])){
				*verb = verbs[i];
				return path_parse(s, (size_t)(last - s), path, err);
			}
		}
	}
	return path_parse(s, strlen(s), path, err);
}

/* /{path}[/discover|/attributes|/observe] by method. */
static unsigned op_on_path(const struct rest_input *in, const struct fmt_typer *typer,
		struct rest_parsed *p, const char *rest)
{
	const char *m = in->method, *verb;
	struct lwm2m_error err;

	p->route = REST_ROUTE_DEVICE_OP;
	if(split_path(rest, &p->path, &verb, &err) != 0) return refuse(p, 400, "bad path '%s': %s", rest, err.msg);
	if(p->path.len == 0) return refuse(p, 400, "an operation needs an object path");
	p->has_path = true;
	if(!strcmp(verb, "discover")){
		if(strcmp(m, "GET")) return refuse(p, 405, "use GET for discover");
		return op_simple(in, p, LWM2M_OP_DISCOVER);
	}
	if(!strcmp(verb, "attributes")){
		if(strcmp(m, "PUT")) return refuse(p, 405, "use PUT for attributes");
		return op_write_attributes(in, p);
	}
	if(!strcmp(verb, "observe")){
		if(!strcmp(m, "POST")) return op_simple(in, p, LWM2M_OP_OBSERVE);
		if(!strcmp(m, "DELETE")){
			p->kind = LWM2M_OP_CANCEL_OBSERVE;   /* the core's own business: no options */
			return 0;
		}
		return refuse(p, 405, "use POST or DELETE for observe");
	}
	if(!strcmp(m, "GET")) return op_simple(in, p, LWM2M_OP_READ);
	if(!strcmp(m, "DELETE")) return op_simple(in, p, LWM2M_OP_DELETE);
	if(!strcmp(m, "PUT")){
		const char *replace = rest_arg_get(in, "replace");
		bool partial = replace && !strcmp(replace, "false");
		if(p->path.len < 2) return refuse(p, 400, "Write needs an instance, resource or resource instance path");
		return op_with_body(in, typer, p, partial ? LWM2M_OP_WRITE_PARTIAL : LWM2M_OP_WRITE, &p->path);
	}
	if(!strcmp(m, "POST")){
		if(p->path.len == 1) return op_with_body(in, typer, p, LWM2M_OP_CREATE, &p->path);
		if(p->path.len == 3) return op_execute(in, p);
		if(p->path.len == 2) return op_with_body(in, typer, p, LWM2M_OP_WRITE_PARTIAL, &p->path);
		return refuse(p, 400, "POST on a resource instance is not an LwM2M operation");
	}
	return refuse(p, 405, "method %s not allowed here", m);
}

/* ---- routes ---- */

static unsigned request_id(const struct rest_input *in, struct rest_parsed *p, const char *id)
{
	char *end;
	long long v;

	p->route = REST_ROUTE_REQUEST;
	if(strcmp(in->method, "GET")) return refuse(p, 405, "use GET on a request");
	if(*id < '1' || *id > '9') return refuse(p, 400, "a request id is a positive number");
	v = strtoll(id, &end, 10);
	if(*end || v <= 0) return refuse(p, 400, "a request id is a positive number");
	p->request_id = v;
	return 0;
}

static unsigned get_only(const struct rest_input *in, struct rest_parsed *p, enum rest_route route,
		const char *what)
{
	p->route = route;
	if(strcmp(in->method, "GET")) return refuse(p, 405, "use GET on %s", what);
	return 0;
}

static unsigned post_only(const struct rest_input *in, struct rest_parsed *p, enum rest_route route,
		const char *what)
{
	p->route = route;
	if(strcmp(in->method, "POST")) return refuse(p, 405, "use POST on %s", what);
	return 0;
}

/* POST /api/bootstrap/{ep}[?prefix=]: the endpoint whose Bootstrap-Request Trigger runs. */
static unsigned bootstrap_trigger(const struct rest_input *in, struct rest_parsed *p, const char *ep)
{
	const char *prefix = rest_arg_get(in, "prefix");
	unsigned status = post_only(in, p, REST_ROUTE_BOOTSTRAP_TRIGGER, "/api/bootstrap/{ep}");

	if(status) return status;
	if(!*ep || strlen(ep) > REST_ENDPOINT_MAX || strchr(ep, '/')) return refuse(p, 400, "missing or invalid endpoint name");
	strcpy(p->endpoint, ep);
	if(prefix){
		if(strlen(prefix) > REST_PREFIX_MAX) return refuse(p, 400, "prefix too long");
		strcpy(p->prefix, prefix);
		p->has_prefix = true;
	}
	return 0;
}

/* ?ep=NAME (optional) &since=ID (default 0) &limit=N (1..10000, default 1000) */
static unsigned send_list(const struct rest_input *in, struct rest_parsed *p)
{
	const char *ep = rest_arg_get(in, "ep"), *since = rest_arg_get(in, "since"), *limit = rest_arg_get(in, "limit");
	unsigned status = get_only(in, p, REST_ROUTE_SEND, "/api/send");
	char *end;

	if(status) return status;
	if(ep){
		if(!*ep || strlen(ep) >= sizeof(p->endpoint)) return refuse(p, 400, "bad endpoint name in ?ep=");
		strcpy(p->endpoint, ep);
	}
	p->since = 0;
	if(since){
		p->since = strtoll(since, &end, 10);
		if(!*since || *end || p->since < 0) return refuse(p, 400, "since must be a Send id (0 or more)");
	}
	p->limit = 1000;
	if(limit){
		p->limit = strtol(limit, &end, 10);
		if(!*limit || *end || p->limit < 1 || p->limit > 10000) return refuse(p, 400, "limit must be 1..10000");
	}
	return 0;
}

static unsigned client_list(const struct rest_input *in, struct rest_parsed *p)
{
	const char *offset = rest_arg_get(in, "offset"), *limit = rest_arg_get(in, "limit");
	unsigned status = get_only(in, p, REST_ROUTE_CLIENT_LIST, "/api/clients");

	if(status) return status;
	p->offset = offset ? strtol(offset, NULL, 10) : 0;
	p->limit = limit ? strtol(limit, NULL, 10) : 1000;
	if(p->offset < 0) p->offset = 0;
	if(p->limit <= 0 || p->limit > 10000) p->limit = 1000;
	return 0;
}

/* After "/api/clients/": "{ep}", "{ep}/" or "{ep}/...". */
static unsigned clients(const struct rest_input *in, const struct fmt_typer *typer,
		struct rest_parsed *p, const char *path)
{
	const char *slash = strchr(path, '/');
	size_t ep_len = slash ? (size_t)(slash - path) : strlen(path);
	const char *prefix = rest_arg_get(in, "prefix");

	p->route = REST_ROUTE_CLIENT;
	if(ep_len == 0 || ep_len > REST_ENDPOINT_MAX) return refuse(p, 400, "missing or invalid endpoint name");
	memcpy(p->endpoint, path, ep_len);
	p->endpoint[ep_len] = '\0';
	if(prefix){
		if(strlen(prefix) > REST_PREFIX_MAX) return refuse(p, 400, "prefix too long");
		strcpy(p->prefix, prefix);
		p->has_prefix = true;
	}
	if(!slash || slash[1] == '\0') return get_only(in, p, REST_ROUTE_CLIENT, "a client");
	if(!strcmp(slash, "/composite")) return op_composite(in, typer, p, false);
	if(!strcmp(slash, "/composite/observe")) return op_composite(in, typer, p, true);
	return op_on_path(in, typer, p, slash);
}

static unsigned route(const struct rest_input *in, const struct fmt_typer *typer, struct rest_parsed *p)
{
	const char *url = in->url;

	if(!strcmp(in->method, "OPTIONS")){
		p->route = REST_ROUTE_PREFLIGHT;
		return 0;
	}
	if(in->body_too_big) return refuse(p, 413, "request body above %d bytes", REST_MAX_BODY);
	if(!strcmp(url, "/api/clients") || !strcmp(url, "/api/clients/")) return client_list(in, p);
	if(!strncmp(url, "/api/clients/", 13)) return clients(in, typer, p, url + 13);
	if(!strcmp(url, "/api/event")) return get_only(in, p, REST_ROUTE_EVENTS, "/api/event");
	if(!strcmp(url, "/api/status")) return get_only(in, p, REST_ROUTE_STATUS, "/api/status");
	if(!strncmp(url, "/api/requests/", 14)) return request_id(in, p, url + 14);
	if(!strcmp(url, "/api/send")) return send_list(in, p);
	if(!strcmp(url, "/api/bootstrap/sessions")){
		return get_only(in, p, REST_ROUTE_BOOTSTRAP_SESSIONS, "/api/bootstrap/sessions");
	}
	if(!strncmp(url, "/api/bootstrap/", 15)) return bootstrap_trigger(in, p, url + 15);
	if(!strcmp(url, "/api/endpoints/reload")) return post_only(in, p, REST_ROUTE_ENDPOINTS_RELOAD, "/api/endpoints/reload");
	return refuse(p, 404, "no such resource: %s", url);
}

static void parsed_init(struct rest_parsed *p)
{
	memset(p, 0, sizeof(*p));
	buf_init(&p->paths_etch, 0);
	buf_init(&p->payload, 0);
	nodes_init(&p->nodes);
}

int rest_parse(const struct rest_input *in, const struct fmt_typer *typer, struct rest_parsed *out)
{
	parsed_init(out);
	if(!in->method || !in->url){
		refuse(out, 400, "no method or URL");
		return 0;
	}
	if(route(in, typer, out) != 0){
		/* A refused request carries nothing to send. */
		buf_free(&out->payload);
		buf_free(&out->paths_etch);
		nodes_free(&out->nodes);
		out->has_payload = out->from_json = false;
	}
	return out->status == 500 ? -LWM2M_ENOMEM : 0;
}

void rest_parsed_free(struct rest_parsed *p)
{
	if(!p) return;
	buf_free(&p->payload);
	buf_free(&p->paths_etch);
	nodes_free(&p->nodes);
	p->has_payload = p->from_json = false;
}
