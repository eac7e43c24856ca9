/* Requests the server sends on a device's session: decoded by binding/coap_codec.c into an
 * operation, sent to the device through the core, answered later as a separate response
 * (libcoap's async: an empty ACK now, the result as a CON with the same token).
 *
 * Requests for one device go one at a time, oldest first: the device sees them in the
 * server's order, and libcoap 4.3.1 keys large (Block2) responses by session and resource
 * rather than by path, so two large answers in flight on one session could mix. */
#include "upstream_internal.h"
#include "../binding/coap_codec.h"
#include "../objects/fmt.h"
#include "../objects/link_format.h"
#include "../objects/model.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_AGE_ASLEEP_S 60u          /* when to try a sleeping device again */
#define CON_EVERY_N 10u               /* one notification in N is confirmable ... */
#define CON_EVERY_MS 60000u           /* ... or one a minute, so an RST can end it */
#define REQUESTS_MAX_PER_DEVICE 64u

struct up_request {
	struct up_request *next;
	struct up_dev *d;
	coap_async_t *async;
	int64_t handle;               /* core_api_* handle while the device is asked */
	bool started;
	bool answered;
	/* The operation, its views pointing into `owned`. */
	struct lwm2m_op op;
	uint8_t *owned;
	bool has_accept;
	uint16_t accept;
	struct up_observer *observer; /* the observation this Observe starts */
	/* The answer, once known. */
	uint16_t code;                /* c*100+dd */
	bool has_ct;
	uint16_t ct;
	uint8_t *payload;
	size_t payload_len;
	char diag[160];
	bool observe_started;         /* answer with an Observe option */
	uint32_t created_instance;    /* Create: the instance the payload names */
};

struct up_observer {
	struct up_observer *next;
	struct up_dev *d;
	uint8_t token[8];
	size_t token_len;
	struct lwm2m_op op;           /* the Observe as sent: its views into owned */
	uint8_t *owned;
	char uri[64];                 /* for conversions of single-path observations */
	bool has_accept;
	uint16_t accept;
	uint32_t seq;                 /* Observe option value, rising */
	unsigned since_con;
	uint64_t last_con_ms;
	bool established;
};

static void start_next(struct up_dev *d);

/* ---- helpers ---- */

static coap_pdu_code_t code_of(uint16_t result)
{
	return (coap_pdu_code_t)COAP_RESPONSE_CODE(result);
}

static void add_uint_option(coap_pdu_t *pdu, uint16_t number, uint32_t v)
{
	uint8_t b[4];
	coap_add_option(pdu, number, coap_encode_var_safe(b, sizeof(b), v), b);
}

/* Answer with a code and a diagnostic payload (RFC 7252 5.5.2). */
static void answer_error(coap_pdu_t *response, uint16_t result, const char *diag)
{
	coap_pdu_set_code(response, code_of(result));
	if(diag && *diag) coap_add_data(response, strlen(diag), (const uint8_t *)diag);
}

/* Copies the op's views into one allocation the caller owns. */
static uint8_t *own_op(struct lwm2m_op *op)
{
	struct lwm2m_view *v[] = { &op->uri, &op->paths, &op->payload, &op->ep, &op->version, &op->binding,
		&op->sms, &op->pid };
	size_t total = 1, off = 0;
	uint8_t *mem;

	for(size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) total += v[i]->len;
	mem = malloc(total);
	if(!mem) return NULL;
	for(size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++){
		if(v[i]->len) memcpy(mem + off, v[i]->ptr, v[i]->len);
		v[i]->ptr = mem + off;
		off += v[i]->len;
	}
	return mem;
}

static const struct registration *registration_of(const struct up_dev *d)
{
	return registry_find(core_api_registry(d->u->c), d->prefix, d->endpoint);
}

static struct fmt_typer typer_of(const struct up_dev *d)
{
	return obj_registry_typer(core_api_model(d->u->c));
}

/* Converts a device's payload to what the server accepts; 0 = done (out filled),
 * otherwise a diagnostic in why. */
static int convert(const struct up_dev *d, uint16_t from, uint16_t to, const uint8_t *p, size_t len,
		const struct lwm2m_view *uri, struct lwm2m_buf *out, char *why, size_t why_size)
{
	struct fmt_typer typer = typer_of(d);
	struct lwm2m_path path, *req = NULL;
	struct lwm2m_error err;

	if(uri->len && path_parse((const char *)uri->ptr, uri->len, &path, &err) == 0) req = &path;
	if(fmt_convert(from, to, p, len, req, &typer, NULL, out, &err) != 0){
		snprintf(why, why_size, "cannot convert content format %u to %u: %s", from, to, err.msg);
		return -1;
	}
	return 0;
}

/* ---- answering ---- */

static void request_free(struct up_request *r)
{
	free(r->owned);
	free(r->payload);
	free(r);
}

static void unlink_request(struct up_dev *d, struct up_request *r)
{
	for(struct up_request **pp = &d->requests; *pp; pp = &(*pp)->next){
		if(*pp == r){
			*pp = r->next;
			return;
		}
	}
}

/* The device answered (or not): keep the result and let libcoap call us again. */
static void complete(struct up_request *r, uint16_t code, const char *diag)
{
	r->answered = true;
	r->handle = 0;
	if(!r->code) r->code = code;
	if(diag) snprintf(r->diag, sizeof(r->diag), "%s", diag);
	coap_async_trigger(r->async);
	up_touch(r->d->u, r->d->session);
}

static void fill_answer(struct up_request *r, coap_resource_t *resource, coap_session_t *session,
		const coap_pdu_t *request, const coap_string_t *query, coap_pdu_t *response)
{
	struct lwm2m_buf conv;
	const uint8_t *body = r->payload;
	size_t len = r->payload_len;
	uint16_t ct = r->ct;
	bool has_ct = r->has_ct;
	char why[LWM2M_ERROR_MSG_MAX + 64];

	buf_init(&conv, 0);
	if(r->code / 100 == 2 && has_ct && r->has_accept && r->accept != ct && len){
		if(convert(r->d, ct, r->accept, body, len, &r->op.uri, &conv, why, sizeof(why)) != 0){
			answer_error(response, 406, why);
			buf_free(&conv);
			return;
		}
		body = conv.data;
		len = conv.len;
		ct = r->accept;
	}
	if(r->code / 100 != 2){
		answer_error(response, r->code, r->diag[0] ? r->diag : NULL);
		buf_free(&conv);
		return;
	}
	coap_pdu_set_code(response, code_of(r->code));
	if(r->observe_started && r->observer) add_uint_option(response, COAP_OPTION_OBSERVE, r->observer->seq++);
	if(r->op.kind == LWM2M_OP_CREATE){
		/* Location-Path O/I: the instance the server named in its payload. */
		char seg[8];
		int n = snprintf(seg, sizeof(seg), "%.*s", (int)r->op.uri.len - 1, (const char *)r->op.uri.ptr + 1);
		coap_add_option(response, COAP_OPTION_LOCATION_PATH, (size_t)n, (const uint8_t *)seg);
		n = snprintf(seg, sizeof(seg), "%u", r->created_instance);
		coap_add_option(response, COAP_OPTION_LOCATION_PATH, (size_t)n, (const uint8_t *)seg);
	}
	if(len){
		/* Block2 for an answer larger than one datagram; libcoap frees the copy. */
		uint8_t *copy = malloc(len);
		if(!copy){
			answer_error(response, 500, "out of memory");
		}else{
			memcpy(copy, body, len);
			/* libcoap leaves out a Content-Format of 0 (text/plain): say it ourselves. */
			if(has_ct && ct == 0) add_uint_option(response, COAP_OPTION_CONTENT_FORMAT, 0);
			if(!coap_add_data_large_response(resource, session, request, response, query,
					has_ct ? ct : COAP_MEDIATYPE_TEXT_PLAIN, -1, 0, len, copy, up_release_copy, copy)){
				answer_error(response, 500, "the answer could not be built");
			}
		}
	}else if(has_ct){
		add_uint_option(response, COAP_OPTION_CONTENT_FORMAT, ct);
	}
	buf_free(&conv);
}

/* ---- the device's answer ---- */

static void on_device_answer(void *ctx, const struct api_result *res)
{
	struct up_request *r = ctx;
	struct up_dev *d = r->d;

	switch(res->outcome){
		case API_ANSWERED:
			r->code = res->result;
			r->has_ct = res->has_ct;
			r->ct = res->content_format;
			if(res->payload_len){
				r->payload = malloc(res->payload_len);
				if(!r->payload){
					r->code = 500;
					break;
				}
				memcpy(r->payload, res->payload, res->payload_len);
				r->payload_len = res->payload_len;
			}
			if(r->observer && res->result / 100 == 2){
				r->observer->established = true;
				r->observe_started = true;
			}
			break;
		case API_TIMEOUT:
			r->code = 504;
			snprintf(r->diag, sizeof(r->diag), "the device did not answer within %u s",
					d->u->cfg->request_timeout_s);
			break;
		case API_BAD_RESPONSE:
			r->code = 502;
			snprintf(r->diag, sizeof(r->diag), "the device's answer was malformed: %s",
					res->detail ? res->detail : "?");
			break;
		case API_GONE:
			r->code = 404;
			snprintf(r->diag, sizeof(r->diag), "the device de-registered");
			break;
	}
	complete(r, r->code, NULL);
	start_next(d);
}

/* ---- observations ---- */

static void observer_unlink(struct up_dev *d, struct up_observer *o)
{
	for(struct up_observer **pp = &d->observers; *pp; pp = &(*pp)->next){
		if(*pp == o){
			*pp = o->next;
			return;
		}
	}
}

static void observer_free(struct up_observer *o)
{
	free(o->owned);
	free(o);
}

static uint64_t now_ms(void)
{
	return uv_hrtime() / 1000000u;
}

/* A Notify from the device becomes a 2.05 with the observer's token and the next
 * sequence number. */
static void on_notify(void *ctx, uint16_t cf, const uint8_t *payload, size_t len)
{
	struct up_observer *o = ctx;
	struct up_dev *d = o->d;
	struct lwm2m_buf conv;
	coap_pdu_t *pdu;
	bool con;
	char why[LWM2M_ERROR_MSG_MAX + 64];

	if(!d->session || !o->established) return;
	buf_init(&conv, 0);
	if(o->has_accept && o->accept != cf && len){
		if(convert(d, cf, o->accept, payload, len, &o->op.uri, &conv, why, sizeof(why)) != 0){
			up_log(d->u, CORE_LOG_NOTICE, "endpoint '%s': notification not forwarded: %s", d->endpoint, why);
			buf_free(&conv);
			return;
		}
		payload = conv.data;
		len = conv.len;
		cf = o->accept;
	}
	con = ++o->since_con >= CON_EVERY_N || now_ms() - o->last_con_ms >= CON_EVERY_MS;
	pdu = coap_pdu_init(con ? COAP_MESSAGE_CON : COAP_MESSAGE_NON, COAP_RESPONSE_CODE(205),
			coap_new_message_id(d->session), coap_session_max_pdu_size(d->session));
	if(pdu && coap_add_token(pdu, o->token_len, o->token)){
		add_uint_option(pdu, COAP_OPTION_OBSERVE, o->seq++ & 0xffffff);
		add_uint_option(pdu, COAP_OPTION_CONTENT_FORMAT, cf);
		if(len && !coap_add_data(pdu, len, payload)){
			up_log(d->u, CORE_LOG_NOTICE, "endpoint '%s': notification of %zu bytes does not fit one datagram; dropped",
					d->endpoint, len);
			coap_delete_pdu(pdu);
			pdu = NULL;
		}
		up_touch(d->u, d->session);
		if(pdu && coap_send(d->session, pdu) != COAP_INVALID_MID && con){
			o->since_con = 0;
			o->last_con_ms = now_ms();
		}
	}else if(pdu){
		coap_delete_pdu(pdu);
	}
	buf_free(&conv);
}

/* The observation ended at the device (it registered again, refused, ...). */
static void on_notify_end(void *ctx, const char *why)
{
	struct up_observer *o = ctx;
	struct up_dev *d = o->d;

	up_log(d->u, CORE_LOG_DEBUG, "endpoint '%s': observation ended: %s", d->endpoint, why);
	/* The request that was starting it holds a pointer: forget it there. */
	for(struct up_request *r = d->requests; r; r = r->next){
		if(r->observer == o) r->observer = NULL;
	}
	observer_unlink(d, o);
	observer_free(o);
}

static struct up_observer *observer_find(struct up_dev *d, const uint8_t *token, size_t len)
{
	for(struct up_observer *o = d->observers; o; o = o->next){
		if(o->token_len == len && memcmp(o->token, token, len) == 0) return o;
	}
	return NULL;
}

/* A core request carrying op toward d's device; with an observer, one that it taps (the
 * tap is also what names an observation to cancel). */
static void device_request(struct api_request *req, const struct up_dev *d,
	const struct lwm2m_op *op, struct up_observer *o)
{
	memset(req, 0, sizeof(*req));
	req->prefix = d->prefix;
	req->endpoint = d->endpoint;
	req->op = *op;
	if(o){
		req->notify = on_notify;
		req->notify_ctx = o;
	}
}

static void cancel_observer(struct up_dev *d, struct up_observer *o)
{
	struct api_request req;

	device_request(&req, d, &o->op, o);
	observer_unlink(d, o);
	core_api_cancel_observation(d->u->c, &req);
	for(struct up_request *r = d->requests; r; r = r->next){
		if(r->observer == o) r->observer = NULL;
	}
	observer_free(o);
}

void up_observer_rst(struct up_dev *d, const coap_pdu_t *sent)
{
	coap_bin_const_t t = coap_pdu_get_token(sent);
	struct up_observer *o = observer_find(d, t.s, t.length);

	if(!o) return;
	up_log(d->u, CORE_LOG_DEBUG, "endpoint '%s': the server reset a notification: observation cancelled", d->endpoint);
	cancel_observer(d, o);
}

/* ---- sending to the device ---- */

static int64_t send_to_device(struct up_request *r, char *why, size_t why_size)
{
	struct up_dev *d = r->d;
	struct api_request req;

	device_request(&req, d, &r->op, r->observer);
	req.done = on_device_answer;
	req.ctx = r;
	if(r->observer){
		req.notify_end = on_notify_end;
		return core_api_observe(d->u->c, &req, why, why_size);
	}
	return core_api_send(d->u->c, &req, why, why_size);
}

/* The CoAP answer to a request the core refused before it left. */
static uint16_t refusal_code(const struct lwm2m_op *op, int64_t h)
{
	bool observe = op->kind == LWM2M_OP_OBSERVE || op->kind == LWM2M_OP_OBSERVE_COMPOSITE;

	switch(-h){
		case LWM2M_EOFFLINE: return 503;
		case LWM2M_ENOENT: return 404;
		/* A device that cannot be observed (HTTP binding): the method is not allowed. */
		case LWM2M_ENOTSUP: return observe ? 405 : 400;
		case LWM2M_EINVAL: return 400;
		default: return 500;
	}
}

/* Starts the oldest request not yet started, unless one is with the device now. Answered
 * requests stay listed until libcoap's second pass has sent their answer. */
static void start_next(struct up_dev *d)
{
	struct up_request *r;
	char why[LWM2M_ERROR_MSG_MAX + 64];
	int64_t h;

	for(r = d->requests; r; r = r->next){
		if(r->started && !r->answered) return;
	}
	for(r = d->requests; r && r->started; r = r->next){
	}
	while(r && !r->started){
		r->started = true;
		why[0] = '\0';
		h = send_to_device(r, why, sizeof(why));
		if(h > 0){
			r->handle = h;
			return;
		}
		/* Refused before it left: answer now, and go on with the next one. */
		complete(r, refusal_code(&r->op, h), why[0] ? why : lwm2m_strerror((int)-h));
		if(r->observer){
			observer_unlink(d, r->observer);
			observer_free(r->observer);
			r->observer = NULL;
		}
		r = r->next;
	}
}

void up_requests_drop(struct up_dev *d, const char *why)
{
	struct up_request *r;
	struct up_observer *o;

	while((r = d->requests) != NULL){
		d->requests = r->next;
		if(r->handle > 0) core_api_cancel(d->u->c, r->handle);
		/* The server still gets an answer: the second pass finds no request and says why. */
		coap_async_set_app_data(r->async, NULL);
		if(!r->answered) coap_async_trigger(r->async);
		up_touch(d->u, d->session);
		request_free(r);
	}
	while((o = d->observers) != NULL){
		cancel_observer(d, o);
	}
	(void)why;
}

/* ---- the server's request ---- */

static int msg_of_pdu(const coap_pdu_t *pdu, const uint8_t *body, size_t len, struct coap_msg *m)
{
	coap_opt_iterator_t it;
	coap_opt_t *opt;

	memset(m, 0, sizeof(*m));
	m->code = (uint8_t)coap_pdu_get_code(pdu);
	coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
	while((opt = coap_option_next(&it)) != NULL){
		struct lwm2m_view v = { coap_opt_value(opt), coap_opt_length(opt) };
		if(coap_codec_add_opt(m, (uint16_t)it.number, v) != 0) return -1;
	}
	m->payload.ptr = body;
	m->payload.len = len;
	return 0;
}

/* Block1: the pieces of a large request body, until the last one arrives. Only one
 * transfer per device at a time (the server sends them one after the other). */
struct up_block1 {
	struct lwm2m_buf body;
	uint8_t code;
	char key[96];              /* method and Uri-Path of the transfer */
};

static void block1_key(const coap_pdu_t *pdu, char *out, size_t size)
{
	coap_opt_iterator_t it;
	coap_opt_t *opt;
	size_t n = (size_t)snprintf(out, size, "%u", coap_pdu_get_code(pdu));

	coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
	while((opt = coap_option_next(&it)) != NULL && n + 2 < size){
		if(it.number != COAP_OPTION_URI_PATH) continue;
		n += (size_t)snprintf(out + n, size - n, "/%.*s", (int)coap_opt_length(opt), (const char *)coap_opt_value(opt));
	}
}

/* Returns the whole body (true), or false after answering an intermediate block. */
static bool gather_body(struct up_dev *d, const coap_pdu_t *request, coap_pdu_t *response,
		const uint8_t **body, size_t *len)
{
	size_t offset = 0, total = 0;
	const uint8_t *data = NULL;
	char key[96];

	*body = NULL;
	*len = 0;
	if(!coap_get_data_large(request, len, &data, &offset, &total)){
		*len = 0;
		return true;
	}
	*body = data;
	if(offset == 0 && *len >= total) return true;   /* one block: the common case */
	block1_key(request, key, sizeof(key));
	if(!d->block1){
		d->block1 = calloc(1, sizeof(*d->block1));
		if(!d->block1){
			answer_error(response, 500, "out of memory");
			return false;
		}
		buf_init(&d->block1->body, d->u->cfg->max_payload);
	}
	if(offset == 0){
		buf_reset(&d->block1->body);
		snprintf(d->block1->key, sizeof(d->block1->key), "%s", key);
	}
	if(strcmp(d->block1->key, key) || offset != d->block1->body.len){
		answer_error(response, 408, "block out of order");
		return false;
	}
	if(buf_append(&d->block1->body, data, *len) != 0){
		answer_error(response, 413, "the request body is larger than plugin_opt_max_payload");
		buf_reset(&d->block1->body);
		return false;
	}
	if(d->block1->body.len < total){
		/* libcoap turns this into 2.31 Continue for an intermediate block. */
		coap_pdu_set_code(response, COAP_RESPONSE_CODE(204));
		return false;
	}
	*body = d->block1->body.data;
	*len = d->block1->body.len;
	return true;
}

void up_block1_free(struct up_dev *d)
{
	if(!d->block1) return;
	buf_free(&d->block1->body);
	free(d->block1);
	d->block1 = NULL;
}

/* The device's content formats, from its registration's root link (</>;ct=...). */
static bool device_takes(const struct registration *reg, uint16_t cf, uint16_t *preferred)
{
	struct lf_object_list list;
	struct lwm2m_error err;
	bool takes = true;

	if(!reg || !reg->links || lf_parse_object_list(reg->links, strlen(reg->links), &list, &err) != 0) return true;
	if(list.n_ct){
		takes = false;
		*preferred = list.cts[0];
		for(size_t i = 0; i < list.n_ct; i++){
			if(list.cts[i] == cf) takes = true;
		}
	}
	lf_object_list_free(&list);
	return takes;
}

/* A body in a format the device did not advertise is converted to its first one. */
static int adapt_body(struct up_request *r, const struct registration *reg, struct lwm2m_buf *conv,
		char *why, size_t why_size)
{
	uint16_t preferred = 0;

	if(!(r->op.fields & LWM2M_F_CT) || !r->op.payload.len) return 0;
	if(r->op.kind == LWM2M_OP_EXECUTE) return 0;
	if(device_takes(reg, r->op.content_format, &preferred)) return 0;
	if(convert(r->d, r->op.content_format, preferred, r->op.payload.ptr, r->op.payload.len, &r->op.uri,
			conv, why, why_size) != 0){
		return -1;
	}
	r->op.payload.ptr = conv->data;
	r->op.payload.len = conv->len;
	r->op.content_format = preferred;
	return 0;
}

static size_t request_count(const struct up_dev *d)
{
	size_t n = 0;
	for(const struct up_request *r = d->requests; r; r = r->next) n++;
	return n;
}

static struct up_observer *observer_new(struct up_dev *d, const coap_pdu_t *request, const struct lwm2m_op *op,
		const struct coap_request_info *info)
{
	coap_bin_const_t t = coap_pdu_get_token(request);
	struct up_observer *o = calloc(1, sizeof(*o));

	if(!o) return NULL;
	o->d = d;
	o->token_len = t.length > sizeof(o->token) ? sizeof(o->token) : t.length;
	memcpy(o->token, t.s, o->token_len);
	o->op = *op;
	o->owned = own_op(&o->op);
	if(!o->owned){
		free(o);
		return NULL;
	}
	o->has_accept = info->has_accept;
	o->accept = info->accept;
	o->seq = 2;   /* the first answer carries 2; RFC 7641 wants only a rising value */
	o->last_con_ms = now_ms();
	o->next = d->observers;
	d->observers = o;
	return o;
}

/* The first pass: decode, check, queue for the device, answer later. */
static void first_pass(struct up_dev *d, coap_session_t *session, const coap_pdu_t *request,
		coap_pdu_t *response)
{
	const struct registration *reg = registration_of(d);
	struct coap_decode_opts opts = { 0 };
	struct coap_request_info info;
	struct lwm2m_buf scratch, conv;
	struct lwm2m_error err;
	struct lwm2m_op op;
	struct coap_msg m;
	struct up_request *r;
	const uint8_t *body;
	size_t len;
	char why[LWM2M_ERROR_MSG_MAX + 64];

	if(!reg){
		answer_error(response, 404, "the device is not registered");
		return;
	}
	if(!gather_body(d, request, response, &body, &len)) return;
	if(msg_of_pdu(request, body, len, &m) != 0){
		answer_error(response, 402, "too many options");
		return;
	}
	buf_init(&scratch, d->u->cfg->max_payload);
	buf_init(&conv, d->u->cfg->max_payload);
	op_init(&op);
	if(coap_codec_decode_request_ex(&m, &opts, &op, &info, &scratch, &err) != 0){
		answer_error(response, coap_codec_result_of_code(info.answer_code), err.msg);
		goto out;
	}
	if(info.observe == COAP_CODEC_OBSERVE_DEREGISTER){
		/* RFC 7641 3.6: a GET with Observe 1 ends the observation and is an ordinary read. */
		coap_bin_const_t t = coap_pdu_get_token(request);
		struct up_observer *o = observer_find(d, t.s, t.length);
		if(o) cancel_observer(d, o);
		op.kind = op.kind == LWM2M_OP_CANCEL_OBSERVE && op.paths.len ? LWM2M_OP_READ_COMPOSITE : LWM2M_OP_READ;
	}
	if(op.kind == LWM2M_OP_CREATE && info.create_iid < 0){
		answer_error(response, 400, info.create_iid == COAP_CODEC_IID_MANY
				? "Create with several instances cannot be carried over MQTT"
				: "the MQTT binding cannot report which instance a device creates: name the new instance in the payload");
		goto out;
	}
	if(!core_api_device_awake(d->u->c, reg)){
		/* Asleep or offline: the server tries again; its queue is flushed by our Update. */
		coap_pdu_set_code(response, COAP_RESPONSE_CODE(503));
		add_uint_option(response, COAP_OPTION_MAXAGE, MAX_AGE_ASLEEP_S);
		coap_add_data(response, 21, (const uint8_t *)"the device is asleep");
		goto out;
	}
	if(request_count(d) >= REQUESTS_MAX_PER_DEVICE){
		answer_error(response, 503, "too many requests waiting for this device");
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if(!r){
		answer_error(response, 500, "out of memory");
		goto out;
	}
	r->d = d;
	r->op = op;
	r->has_accept = info.has_accept;
	r->accept = info.accept;
	r->created_instance = info.create_iid >= 0 ? (uint32_t)info.create_iid : 0;
	if(adapt_body(r, reg, &conv, why, sizeof(why)) != 0){
		answer_error(response, 415, why);
		free(r);
		goto out;
	}
	r->owned = own_op(&r->op);
	if(r->owned && (op.kind == LWM2M_OP_OBSERVE || op.kind == LWM2M_OP_OBSERVE_COMPOSITE)){
		r->observer = observer_new(d, request, &r->op, &info);
		if(!r->observer){
			request_free(r);
			r = NULL;
		}
	}
	if(!r || !r->owned){
		if(r) request_free(r);
		answer_error(response, 500, "out of memory");
		goto out;
	}
	/* An empty ACK now; libcoap calls us again when complete() triggers it. */
	r->async = coap_register_async(session, request, 0);
	if(!r->async){
		if(r->observer){
			observer_unlink(d, r->observer);
			observer_free(r->observer);
		}
		request_free(r);
		answer_error(response, 503, "the same request is in progress");
		goto out;
	}
	coap_async_set_app_data(r->async, r);
	/* Appended: the device gets requests in the server's order. */
	{
		struct up_request **pp = &d->requests;
		while(*pp) pp = &(*pp)->next;
		*pp = r;
	}
	start_next(d);
out:
	buf_free(&scratch);
	buf_free(&conv);
}

void up_handle_request(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *request,
		const coap_string_t *query, coap_pdu_t *response)
{
	struct up_dev *d = up_dev_of_session(session);
	coap_async_t *async = coap_find_async(session, coap_pdu_get_token(request));
	struct up_request *r;

	if(!async){
		if(!d){
			answer_error(response, 404, "no device behind this session");
			return;
		}
		first_pass(d, session, request, response);
		return;
	}
	/* The second pass: the answer is known (libcoap frees the async when we return). */
	r = coap_async_get_app_data(async);
	coap_async_set_app_data(async, NULL);
	if(!r){
		answer_error(response, 404, "the device is gone");
		return;
	}
	fill_answer(r, resource, session, request, query, response);
	if(d) unlink_request(d, r);
	if(r->observer && !r->observe_started){
		/* Refused or failed: no observation (on_notify_end cleaned up if it ended). */
		r->observer = NULL;
	}
	request_free(r);
	if(d) start_next(d);
}
