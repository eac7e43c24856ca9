/* Device operations under /api/clients/{ep}/...: each becomes one MQTT-binding request
 * (rest_parse worked out which), and the suspended HTTP request resumes with the device's
 * answer. */
#include "rest_internal.h"
#include "../core/values.h"
#include "../objects/path.h"

#include <stdio.h>
#include <string.h>

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

/* The device sleeps or is offline: the request waits (persisted) for its next uplink. */
static enum MHD_Result enqueue(struct rest_req *r, struct api_request *req)
{
	char why[LWM2M_ERROR_MSG_MAX];
	int64_t id;

	why[0] = '\0';
	id = core_api_enqueue(r->srv->core, req, why, sizeof(why));
	if(id == -LWM2M_EFULL) return rest_reply_error(r, 503, "endpoint '%s' is asleep or offline and %s", r->endpoint, why);
	if(id == -LWM2M_ENOTSUP || id == -LWM2M_EINVAL){
		return rest_reply_error(r, 400, "the MQTT binding cannot carry this request: %s", why);
	}
	if(id < 0) return rest_reply_error(r, 500, "cannot queue the request: %s", lwm2m_strerror((int)id));
	{
		char location[64];
		snprintf(location, sizeof(location), "/api/requests/%lld", (long long)id);
		return rest_reply_json(r, 202, json_pack("{s:I, s:s, s:s, s:s}", "requestId", (json_int_t)id,
				"state", "queued", "endpoint", r->endpoint, "location", location));
	}
}

static enum MHD_Result send_request(struct rest_req *r, struct api_request *req, const char *uri,
		bool observe)
{
	char why[LWM2M_ERROR_MSG_MAX];
	int64_t h;

	why[0] = '\0';
	req->prefix = r->has_prefix ? r->prefix : NULL;
	req->endpoint = r->endpoint;
	req->done = on_done;
	req->ctx = r;
	snprintf(r->uri, sizeof(r->uri), "%s", uri);
	h = observe ? core_api_observe(r->srv->core, req, why, sizeof(why))
		: core_api_send(r->srv->core, req, why, sizeof(why));
	if(h == -LWM2M_ENOENT) return rest_reply_error(r, 404, "no registration for endpoint '%s'", r->endpoint);
	if(h == -LWM2M_EOFFLINE && observe){
		return rest_reply_error(r, 503, "endpoint '%s' is asleep or offline: observations are not queued", r->endpoint);
	}
	if(h == -LWM2M_EOFFLINE) return enqueue(r, req);
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

/* The op for a parsed request. Its views point into q and uri, which outlive the send (the
 * core encodes them at once). */
static void build_request(struct api_request *req, const struct rest_parsed *q, char *uri, size_t uri_size)
{
	struct lwm2m_op *op = &req->op;

	memset(req, 0, sizeof(*req));
	op_init(op);
	op->kind = q->kind;
	req->timeout_ms = q->timeout_ms;
	uri[0] = '\0';
	if(q->has_path){
		path_format(&q->path, uri, uri_size);
		op->uri = op_view_str(uri);
		op->fields |= LWM2M_F_URI;
	}
	if(q->has_depth){
		op->depth = q->depth;
		op->fields |= LWM2M_F_DEPTH;
	}
	if(q->kind == LWM2M_OP_WRITE_ATTRIBUTES){
		op->attrs = q->attrs;
		op->fields |= LWM2M_F_ATTRS;
	}
	if(q->kind == LWM2M_OP_READ_COMPOSITE || q->kind == LWM2M_OP_OBSERVE_COMPOSITE){
		op->paths.ptr = q->paths_etch.data;
		op->paths.len = q->paths_etch.len;
		op->fields |= LWM2M_F_PATHS;
	}
	if(q->has_payload){
		op->payload.ptr = q->payload.data;
		op->payload.len = q->payload.len;
		op->fields |= LWM2M_F_PAYLOAD;
		if(q->has_ct){
			op->content_format = q->content_format;
			op->fields |= LWM2M_F_CT;
		}
	}
}

/* ---- the operations ---- */

static enum MHD_Result cancel_observe(struct rest_req *r, const struct lwm2m_path *path)
{
	char uri[LWM2M_PATH_STR_MAX + 1];
	struct api_request req;
	int rc;

	path_format(path, uri, sizeof(uri));
	memset(&req, 0, sizeof(req));
	req.prefix = r->has_prefix ? r->prefix : NULL;
	req.endpoint = r->endpoint;
	op_init(&req.op);
	req.op.kind = LWM2M_OP_OBSERVE;
	req.op.uri = op_view_str(uri);
	req.op.fields = LWM2M_F_URI;
	rc = core_api_cancel_observation(r->srv->core, &req);
	if(rc == -LWM2M_ENOENT) return rest_reply_error(r, 404, "no observation of %s on '%s'", uri, r->endpoint);
	if(rc) return rest_reply_error(r, 500, "%s", lwm2m_strerror(rc));
	return rest_reply_json(r, 200, json_pack("{s:b, s:s}", "success", 1, "cancelled", uri));
}

static enum MHD_Result cancel_composite(struct rest_req *r, struct api_request *req)
{
	int rc;

	req->prefix = r->has_prefix ? r->prefix : NULL;
	req->endpoint = r->endpoint;
	rc = core_api_cancel_observation(r->srv->core, req);
	if(rc == -LWM2M_ENOENT) return rest_reply_error(r, 404, "no composite observation of these paths on '%s'", r->endpoint);
	if(rc) return rest_reply_error(r, 500, "%s", lwm2m_strerror(rc));
	return rest_reply_json(r, 200, json_pack("{s:b, s:s}", "success", 1, "cancelled", "composite"));
}

enum MHD_Result rest_device_op(struct rest_req *r, const struct rest_parsed *q)
{
	struct api_request req;
	char uri[LWM2M_PATH_STR_MAX + 1];

	if(q->kind == LWM2M_OP_CANCEL_OBSERVE) return cancel_observe(r, &q->path);
	build_request(&req, q, uri, sizeof(uri));
	if(q->cancel) return cancel_composite(r, &req);
	return send_request(r, &req, uri, q->kind == LWM2M_OP_OBSERVE || q->kind == LWM2M_OP_OBSERVE_COMPOSITE);
}
