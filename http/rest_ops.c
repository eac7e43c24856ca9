/* Device operations under /api/clients/{ep}/...: each becomes one MQTT-binding request,
 * and the suspended HTTP request resumes with the device's answer. */
#include "rest_internal.h"
#include "../core/values.h"
#include "../objects/attributes.h"
#include "../objects/fmt.h"
#include "../objects/fmt_senml.h"
#include "../objects/node_json.h"
#include "../objects/path.h"
#include "../util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_COMPOSITE_PATHS 64

/* What the handler prepared; it owns the encoded bytes the op's views point to. */
struct prepared {
	struct api_request req;
	struct lwm2m_buf payload;
	struct lwm2m_buf paths;
	char uri[LWM2M_PATH_STR_MAX + 1];
};

static const char *arg(struct rest_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

static const char *status_word(uint16_t result)
{
	return op_result_name(result);
}

/* ---- answers ---- */

static json_t *answer_json(struct rest_req *r, const struct api_result *res)
{
	json_t *j = json_object();
	char why[LWM2M_ERROR_MSG_MAX + 64];

	json_object_set_new(j, "code", json_integer(res->result));
	json_object_set_new(j, "status", json_string(status_word(res->result)));
	json_object_set_new(j, "success", json_boolean(res->result / 100 == 2));
	if(res->has_ct) json_object_set_new(j, "contentFormat", json_integer(res->content_format));
	if(res->has_ct && res->payload_len){
		const char *uri = r->uri[0] ? r->uri : NULL;
		json_t *values = values_to_json(core_api_model(r->srv->core), res->content_format,
				res->payload, res->payload_len, uri, why, sizeof(why));
		if(values && res->content_format == LWM2M_CF_LINK) json_object_set_new(j, "links", values);
		else if(values) json_object_set_new(j, "values", values);
		else json_object_set_new(j, "decodeError", json_string(why));
	}
	return j;
}

static void on_done(void *ctx, const struct api_result *res)
{
	struct rest_req *r = ctx;

	switch(res->outcome){
		case API_ANSWERED:
			rest_complete(r, 200, answer_json(r, res));
			break;
		case API_TIMEOUT:
			rest_complete(r, 504, json_pack("{s:s, s:i}", "error",
					"the device did not answer in time", "httpStatus", 504));
			break;
		case API_BAD_RESPONSE:
			rest_complete(r, 502, json_pack("{s:s, s:s?, s:i}", "error", "the device's answer is malformed",
					"detail", res->detail, "httpStatus", 502));
			break;
		case API_GONE:
			rest_complete(r, 404, json_pack("{s:s, s:i}", "error",
					"the device de-registered while the request waited", "httpStatus", 404));
			break;
	}
}

/* ---- sending ---- */

static enum MHD_Result send_prepared(struct rest_req *r, struct prepared *p, bool observe)
{
	char why[LWM2M_ERROR_MSG_MAX];
	const char *timeout = arg(r, "timeout");
	int64_t h;

	why[0] = '\0';
	p->req.prefix = r->has_prefix ? r->prefix : NULL;
	p->req.endpoint = r->endpoint;
	p->req.done = on_done;
	p->req.ctx = r;
	if(timeout){
		char *end;
		long t = strtol(timeout, &end, 10);
		if(*end || t < 1 || t > 3600) return rest_reply_error(r, 400, "timeout must be 1..3600 seconds");
		p->req.timeout_ms = (uint32_t)t * 1000u;
	}
	snprintf(r->uri, sizeof(r->uri), "%s", p->uri);
	h = observe ? core_api_observe(r->srv->core, &p->req, why, sizeof(why))
		: core_api_send(r->srv->core, &p->req, why, sizeof(why));
	buf_free(&p->payload);
	buf_free(&p->paths);
	if(h == -LWM2M_ENOENT) return rest_reply_error(r, 404, "no registration for endpoint '%s'", r->endpoint);
	if(h == -LWM2M_EOFFLINE) return rest_reply_error(r, 503, "endpoint '%s' is offline", r->endpoint);
	if(h == -LWM2M_ENOTSUP || h == -LWM2M_EINVAL){
		return rest_reply_error(r, 400, "the MQTT binding cannot carry this request: %s", why);
	}
	if(h < 0) return rest_reply_error(r, 500, "cannot send the request: %s", lwm2m_strerror((int)h));
	r->handle = h;
	r->state = REQ_WAITING;
	rest_waiting_add(r);
	MHD_suspend_connection(r->conn);
	return MHD_YES;
}

static void prepare(struct prepared *p, enum lwm2m_op_kind kind, const struct lwm2m_path *path)
{
	memset(p, 0, sizeof(*p));
	buf_init(&p->payload, 0);
	buf_init(&p->paths, 0);
	op_init(&p->req.op);
	p->req.op.kind = kind;
	if(path){
		path_format(path, p->uri, sizeof(p->uri));
		p->req.op.uri = op_view_str(p->uri);
		p->req.op.fields |= LWM2M_F_URI;
	}
}

static void set_payload(struct prepared *p, uint16_t ct)
{
	p->req.op.payload.ptr = p->payload.data;
	p->req.op.payload.len = p->payload.len;
	p->req.op.fields |= LWM2M_F_PAYLOAD | LWM2M_F_CT;
	p->req.op.content_format = ct;
}

/* ---- bodies: typed JSON values, or raw bytes in a named content format ---- */

/* Fills in "type" from the object model where a JSON node has none. */
static void add_model_types(struct rest_req *r, json_t *nodes)
{
	struct fmt_typer typer = obj_registry_typer(core_api_model(r->srv->core));
	size_t i;
	json_t *n;

	json_array_foreach(nodes, i, n){
		struct lwm2m_path path;
		const char *ps = json_string_value(json_object_get(n, "path"));
		if(!json_is_object(n) || json_object_get(n, "type") || !ps) continue;
		if(path_parse(ps, strlen(ps), &path, NULL) == 0 && path.len >= 3){
			enum lwm2m_type t = typer.type_of(typer.ctx, NULL, &path);
			if(t != LWM2M_TYPE_NONE) json_object_set_new(n, "type", json_string(lwm2m_type_name(t)));
		}
	}
}

static int format_param(struct rest_req *r, int def)
{
	const char *f = arg(r, "format");
	return f ? fmt_cf_parse(f) : def;
}

/* The request body as the payload of op, in content format `def_cf` unless ?format= says
 * otherwise. Returns 0 or an HTTP status with the message in why. */
static unsigned body_to_payload(struct rest_req *r, struct prepared *p, const struct lwm2m_path *req_path,
		int def_cf, char *why, size_t why_size)
{
	const char *ctype = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
	struct lwm2m_nodes nodes;
	struct lwm2m_error err;
	struct fmt_typer typer = obj_registry_typer(core_api_model(r->srv->core));
	json_error_t jerr;
	json_t *doc, *arr;
	int cf;

	if(!r->body_len){
		snprintf(why, why_size, "the request needs a body");
		return 400;
	}
	if(ctype && strncasecmp(ctype, "application/json", 16)){
		cf = fmt_cf_from_media_type(ctype);
		if(cf < 0){
			snprintf(why, why_size, "unsupported Content-Type '%s' (application/json or an LwM2M media type)", ctype);
			return 415;
		}
		if(buf_append(&p->payload, r->body, r->body_len)) return 500;
		set_payload(p, (uint16_t)cf);
		return 0;
	}
	cf = format_param(r, def_cf);
	if(cf < 0){
		snprintf(why, why_size, "unknown format '%s'", arg(r, "format"));
		return 400;
	}
	doc = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, &jerr);
	if(!doc){
		snprintf(why, why_size, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return 400;
	}
	arr = json_is_object(doc) ? json_object_get(doc, "values") : doc;
	if(!json_is_array(arr)){
		json_decref(doc);
		snprintf(why, why_size, "expected a JSON array of {\"path\",\"value\"[,\"type\"]} nodes, or {\"values\": [...]}");
		return 400;
	}
	add_model_types(r, arr);
	nodes_init(&nodes);
	if(node_json_to_nodes(arr, &nodes, &err) != 0
			|| fmt_encode((uint16_t)cf, &nodes, req_path, &typer, NULL, &p->payload, &err) != 0){
		snprintf(why, why_size, "%s", err.msg);
		nodes_free(&nodes);
		json_decref(doc);
		return 400;
	}
	nodes_free(&nodes);
	json_decref(doc);
	set_payload(p, (uint16_t)cf);
	return 0;
}

/* ---- the operations ---- */

static enum MHD_Result op_with_body(struct rest_req *r, enum lwm2m_op_kind kind,
		const struct lwm2m_path *path, int def_cf)
{
	struct prepared p;
	char why[256];
	unsigned status;

	prepare(&p, kind, path);
	status = body_to_payload(r, &p, path, def_cf, why, sizeof(why));
	if(status){
		buf_free(&p.payload);
		return rest_reply_error(r, status, "%s", why);
	}
	return send_prepared(r, &p, false);
}

static enum MHD_Result op_execute(struct rest_req *r, const struct lwm2m_path *path)
{
	struct prepared p;

	prepare(&p, LWM2M_OP_EXECUTE, path);
	if(r->body_len){
		if(buf_append(&p.payload, r->body, r->body_len)) return MHD_NO;
		set_payload(&p, LWM2M_CF_TEXT);
		p.req.op.fields &= ~LWM2M_F_CT;
	}
	return send_prepared(r, &p, false);
}

static enum MHD_Result op_simple(struct rest_req *r, enum lwm2m_op_kind kind, const struct lwm2m_path *path)
{
	struct prepared p;
	const char *depth = arg(r, "depth");

	prepare(&p, kind, path);
	if(depth){
		if(strlen(depth) != 1 || depth[0] < '0' || depth[0] > '3'){
			return rest_reply_error(r, 400, "depth must be 0..3");
		}
		p.req.op.depth = (uint8_t)(depth[0] - '0');
		p.req.op.fields |= LWM2M_F_DEPTH;
	}
	return send_prepared(r, &p, kind == LWM2M_OP_OBSERVE);
}

struct query_builder {
	struct lwm2m_buf buf;
	bool failed;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query_builder *q = cls;
	(void)kind;
	if(!strcmp(key, "timeout") || !strcmp(key, "prefix")) return MHD_YES;
	if(q->buf.len && buf_append_byte(&q->buf, '&')) q->failed = true;
	if(buf_printf(&q->buf, "%s", key)) q->failed = true;
	if(value && buf_printf(&q->buf, "=%s", value)) q->failed = true;
	return MHD_YES;
}

static enum MHD_Result op_write_attributes(struct rest_req *r, const struct lwm2m_path *path)
{
	struct query_builder q;
	struct prepared p;
	struct lwm2m_error err;
	int rc;

	buf_init(&q.buf, 4096);
	q.failed = false;
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_arg, &q);
	prepare(&p, LWM2M_OP_WRITE_ATTRIBUTES, path);
	rc = q.failed ? -LWM2M_ETOOBIG : attr_parse_query((const char *)q.buf.data, q.buf.len, &p.req.op.attrs, &err);
	buf_free(&q.buf);
	if(rc) return rest_reply_error(r, 400, "attributes: %s", q.failed ? "query too long" : err.msg);
	if(p.req.op.attrs.set & (LWM2M_ATTR_BIT(LWM2M_ATTR_LT) | LWM2M_ATTR_BIT(LWM2M_ATTR_CON))){
		return rest_reply_error(r, 400, "the MQTT binding has no key for 'lt' or 'con'");
	}
	if(p.req.op.attrs.unset){
		return rest_reply_error(r, 400, "the MQTT binding cannot express an attribute without value (unset)");
	}
	if(!p.req.op.attrs.set) return rest_reply_error(r, 400, "no attribute given (pmin, pmax, gt, st, epmin, epmax, edge, hqmax)");
	p.req.op.fields |= LWM2M_F_ATTRS;
	return send_prepared(r, &p, false);
}

/* ?paths=/3/0/1,/3/0/2 as a SenML-ETCH CBOR path list (MQTT key 6). */
static enum MHD_Result composite(struct rest_req *r, const char *method, bool observe)
{
	const char *list = arg(r, "paths");
	struct lwm2m_path paths[MAX_COMPOSITE_PATHS];
	struct lwm2m_error err;
	struct prepared p;
	size_t n = 0;

	if(!strcmp(method, "PUT") && !observe) return op_with_body(r, LWM2M_OP_WRITE_COMPOSITE, NULL, LWM2M_CF_SENML_CBOR);
	if(!list) return rest_reply_error(r, 400, "missing ?paths=/o/i/r,/o/i/r");
	while(*list){
		size_t len = strcspn(list, ",");
		if(n == MAX_COMPOSITE_PATHS) return rest_reply_error(r, 400, "more than %d paths", MAX_COMPOSITE_PATHS);
		if(path_parse(list, len, &paths[n], &err) != 0) return rest_reply_error(r, 400, "path %zu: %s", n + 1, err.msg);
		n++;
		list += len;
		if(*list == ',') list++;
	}
	if(!strcmp(method, "DELETE") && observe){
		return rest_reply_error(r, 501, "cancelling a composite observation is not supported yet");
	}
	prepare(&p, observe ? LWM2M_OP_OBSERVE_COMPOSITE : LWM2M_OP_READ_COMPOSITE, NULL);
	if(senml_etch_paths_encode(LWM2M_CF_SENML_ETCH_CBOR, paths, n, &p.paths, &err) != 0){
		return rest_reply_error(r, 400, "paths: %s", err.msg);
	}
	p.req.op.paths.ptr = p.paths.data;
	p.req.op.paths.len = p.paths.len;
	p.req.op.fields |= LWM2M_F_PATHS;
	return send_prepared(r, &p, observe);
}

static enum MHD_Result cancel_observe(struct rest_req *r, const struct lwm2m_path *path)
{
	char uri[LWM2M_PATH_STR_MAX + 1];
	int rc;

	path_format(path, uri, sizeof(uri));
	rc = core_api_cancel_observation(r->srv->core, r->has_prefix ? r->prefix : NULL, r->endpoint, uri);
	if(rc == -LWM2M_ENOENT) return rest_reply_error(r, 404, "no observation of %s on '%s'", uri, r->endpoint);
	if(rc) return rest_reply_error(r, 500, "%s", lwm2m_strerror(rc));
	return rest_reply_json(r, 200, json_pack("{s:b, s:s}", "success", 1, "cancelled", uri));
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

enum MHD_Result rest_device_op(struct rest_req *r, const char *method, const char *rest_of_path)
{
	struct lwm2m_path path;
	struct lwm2m_error err;
	const char *verb;

	if(!strcmp(rest_of_path, "/composite")) return composite(r, method, false);
	if(!strcmp(rest_of_path, "/composite/observe")) return composite(r, method, true);
	if(split_path(rest_of_path, &path, &verb, &err) != 0){
		return rest_reply_error(r, 400, "bad path '%s': %s", rest_of_path, err.msg);
	}
	if(path.len == 0) return rest_reply_error(r, 400, "an operation needs an object path");
	if(!strcmp(verb, "discover")){
		if(strcmp(method, "GET")) return rest_reply_error(r, 405, "use GET for discover");
		return op_simple(r, LWM2M_OP_DISCOVER, &path);
	}
	if(!strcmp(verb, "attributes")){
		if(strcmp(method, "PUT")) return rest_reply_error(r, 405, "use PUT for attributes");
		return op_write_attributes(r, &path);
	}
	if(!strcmp(verb, "observe")){
		if(!strcmp(method, "POST")) return op_simple(r, LWM2M_OP_OBSERVE, &path);
		if(!strcmp(method, "DELETE")) return cancel_observe(r, &path);
		return rest_reply_error(r, 405, "use POST or DELETE for observe");
	}
	if(!strcmp(method, "GET")) return op_simple(r, LWM2M_OP_READ, &path);
	if(!strcmp(method, "DELETE")) return op_simple(r, LWM2M_OP_DELETE, &path);
	if(!strcmp(method, "PUT")){
		const char *replace = arg(r, "replace");
		bool partial = replace && !strcmp(replace, "false");
		if(path.len < 2) return rest_reply_error(r, 400, "Write needs an instance, resource or resource instance path");
		return op_with_body(r, partial ? LWM2M_OP_WRITE_PARTIAL : LWM2M_OP_WRITE, &path, LWM2M_CF_SENML_CBOR);
	}
	if(!strcmp(method, "POST")){
		if(path.len == 1) return op_with_body(r, LWM2M_OP_CREATE, &path, LWM2M_CF_SENML_CBOR);
		if(path.len == 3) return op_execute(r, &path);
		if(path.len == 2) return op_with_body(r, LWM2M_OP_WRITE_PARTIAL, &path, LWM2M_CF_SENML_CBOR);
		return rest_reply_error(r, 400, "POST on a resource instance is not an LwM2M operation");
	}
	return rest_reply_error(r, 405, "method %s not allowed here", method);
}
