/* Who answers a device message: decoding, refusals, and the registration interface. */
#include "core_internal.h"
#include "events.h"
#include "bootstrap.h"
#include "exchange.h"
#include "protect.h"
#include "../binding/http_codec.h"
#include "queue.h"
#include "validate.h"
#include "values.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Everything known about the message being handled, for answers and log lines. */
struct msg_ctx {
	struct core *c;
	const struct core_in *in;  /* MQTT only */
	struct mqtt_topic topic;
	char prefix[129];          /* "" when none */
	char endpoint[256];
	char key[129 + 256];       /* "prefix/endpoint": the registration's key */
	const char *client_id;
	const char *transport;     /* "mqtt", "http" */
	/* Gives the device its answer (an op result with the request's token). */
	void (*reply)(struct msg_ctx *m, const struct lwm2m_op *resp);
	const struct core_uplink *uplink;   /* other transports: who to answer */
	char reg_id[HTTP_CODEC_REG_ID_LEN + 1];   /* HTTP Register: the new registration's id */
	bool protected;            /* the device's rd traffic is COSE-protected (key) ... */
	bool clear;                /* ... but this answer goes in clear */
	struct cose_key cose;
};

static const char *prefix_or_null(const struct msg_ctx *m)
{
	return m->topic.has_prefix ? m->prefix : NULL;
}

#define LOG_EP(m, level, fmt, ...) \
	core_log((m)->c, level, "lwm2m: endpoint '%s' (client '%s'%s%s): " fmt, (m)->endpoint, \
			(m)->client_id ? (m)->client_id : "?", (m)->topic.has_prefix ? ", prefix " : "", \
			(m)->topic.has_prefix ? (m)->prefix : "", __VA_ARGS__)

static void send_op(struct msg_ctx *m, const struct lwm2m_op *op)
{
	struct lwm2m_buf out;
	struct lwm2m_error err;

	buf_init(&out, 0);
	if(mqtt_codec_encode(op, m->topic.iface, &out, &err) != 0){
		LOG_EP(m, CORE_LOG_ERR, "cannot encode %s: %s", op_kind_name(op->kind), err.msg);
	}else if(m->protected && !m->clear){
		struct lwm2m_buf sealed;
		buf_init(&sealed, 0);
		if(protect_wrap(&m->cose, out.data, out.len, &sealed) == 0){
			core_publish(m->c, m->in->topic, sealed.data, sealed.len, 1);
		}else{
			LOG_EP(m, CORE_LOG_ERR, "cannot protect %s", op->is_response ? "a result" : op_kind_name(op->kind));
		}
		buf_free(&sealed);
	}else{
		core_publish(m->c, m->in->topic, out.data, out.len, 1);
		if(m->c->cfg->debug){
			LOG_EP(m, CORE_LOG_DEBUG, "sent %s %u, token %" PRIu64,
					op->is_response ? "result" : op_kind_name(op->kind),
					op->is_response ? op->result : 0, op->token);
		}
	}
	buf_free(&out);
}

static void answer(struct msg_ctx *m, uint64_t token, uint16_t result)
{
	struct lwm2m_op op;

	op_init(&op);
	op.is_response = true;
	op.result = result;
	op.token = token;
	op.fields = LWM2M_F_TOKEN | LWM2M_F_RESULT;
	m->reply(m, &op);
}

static void ignore(struct msg_ctx *m, const char *why);

static void refuse(struct msg_ctx *m, const struct lwm2m_op *op, uint16_t result, const char *why)
{
	if(op->kind == LWM2M_OP_NOTIFY){
		/* The spec gives Notify no result; one with its token would answer a Cancel-Observe. */
		ignore(m, why);
		return;
	}
	atomic_fetch_add(&m->c->stats.refused, 1);
	LOG_EP(m, CORE_LOG_NOTICE, "%s refused with %u (%s): %s", op_kind_name(op->kind), result,
			op_result_name(result), why);
	answer(m, op->token, result);
}

static void ignore(struct msg_ctx *m, const char *why)
{
	atomic_fetch_add(&m->c->stats.ignored, 1);
	LOG_EP(m, CORE_LOG_NOTICE, "message dropped: %s", why);
}

/* ---- registration interface ---- */

/* An HTTP registration's id: 128 random bits, written as the HTTP codec reads them. */
static int new_reg_id(char out[HTTP_CODEC_REG_ID_LEN + 1])
{
	uint8_t b[HTTP_CODEC_REG_ID_BYTES];
	if(uv_random(NULL, NULL, b, sizeof(b), 0, NULL) != 0) return -1;
	http_codec_reg_id_text(b, out);
	return 0;
}

static void stats_count(struct core *c)
{
	atomic_store(&c->stats.registrations, registry_count(c->registry));
}

static bool rate_limited(struct msg_ctx *m)
{
	struct registration *reg = registry_find(m->c->registry, prefix_or_null(m), m->endpoint);
	return reg && !registry_rate_ok(reg, m->c->cfg->register_rate, core_now_mono_ms());
}

static void on_register(struct msg_ctx *m, const struct lwm2m_op *op, bool is_update)
{
	struct reg_strings s;
	struct reg_params p;
	struct registration *reg = NULL;
	uint16_t code;
	char why[LWM2M_ERROR_MSG_MAX];
	bool replaced = false;
	int rc;

	code = validate_registration(op, is_update, m->c->cfg, &s, why, sizeof(why));
	if(code){
		refuse(m, op, code, why);
		return;
	}
	/* HTTP says queue mode with a separate Q; the registry reads it from the binding. */
	if((op->fields & LWM2M_F_QUEUE) && !strchr(s.binding, 'Q') && strlen(s.binding) + 1 < sizeof(s.binding)){
		if(!s.binding[0]) strcpy(s.binding, "H");
		strcat(s.binding, "Q");
	}
	if(rate_limited(m)){
		refuse(m, op, 503, "too many Register/Update messages (plugin_opt_register_rate)");
		return;
	}
	memset(&p, 0, sizeof(p));
	p.prefix = prefix_or_null(m);
	p.endpoint = m->endpoint;
	p.client_id = m->client_id;
	p.transport = m->transport;
	if(!is_update && !strcmp(m->transport, "http")){
		if(new_reg_id(m->reg_id) != 0){
			refuse(m, op, 500, "no random bytes for a registration id");
			return;
		}
		p.reg_id = m->reg_id;
	}
	p.has_lifetime = (op->fields & LWM2M_F_LIFETIME) != 0;
	p.lifetime = op->lifetime;
	p.version = s.version[0] ? s.version : NULL;
	p.binding = s.binding[0] ? s.binding : NULL;
	p.sms = (op->fields & LWM2M_F_SMS) ? s.sms : NULL;
	if(op->fields & LWM2M_F_PAYLOAD){
		p.links = (const char *)op->payload.ptr;
		p.links_len = op->payload.len;
	}else if(!is_update){
		p.links = "";
	}
	if(is_update){
		rc = registry_update(m->c->registry, &p, core_now_mono_ms(), core_now_wall_ms(), &reg);
	}else{
		rc = registry_register(m->c->registry, &p, core_now_mono_ms(), core_now_wall_ms(), &reg, &replaced);
	}
	if(rc == -LWM2M_ENOENT){
		refuse(m, op, 404, "not registered");
		return;
	}
	if(rc == -LWM2M_EFULL){
		refuse(m, op, 503, "registration table full (plugin_opt_max_registrations)");
		return;
	}
	if(rc){
		refuse(m, op, 500, lwm2m_strerror(rc));
		return;
	}
	stats_count(m->c);
	core_store_registration(m->c, reg);
	if(replaced) exchange_observations_gone(m->c->exchange, m->key);
	events_emit(m->c->events, is_update ? "UPDATED" : "REGISTRATION", reg->endpoint,
			events_registration_json(reg, true));
	if(is_update){
		LOG_EP(m, CORE_LOG_DEBUG, "updated (lifetime %" PRIu64 " s)", reg->lifetime);
	}else{
		LOG_EP(m, CORE_LOG_INFO, "%s (lwm2m %s, lifetime %" PRIu64 " s, binding %s)",
				replaced ? "registered again" : "registered", reg->version ? reg->version : "?",
				reg->lifetime, reg->binding ? reg->binding : "U");
	}
	answer(m, op->token, is_update ? 204 : 201);
	if(is_update && m->c->listener.updated){
		m->c->listener.updated(m->c->listener.ctx, reg, (op->fields & LWM2M_F_PAYLOAD) != 0);
	}else if(!is_update && m->c->listener.registered){
		m->c->listener.registered(m->c->listener.ctx, reg, replaced);
	}
}

static void on_deregister(struct msg_ctx *m, const struct lwm2m_op *op)
{
	struct registration *reg = registry_find(m->c->registry, prefix_or_null(m), m->endpoint);

	if(reg && m->c->listener.gone) m->c->listener.gone(m->c->listener.ctx, reg, false);
	if(registry_deregister(m->c->registry, prefix_or_null(m), m->endpoint) != 0){
		refuse(m, op, 404, "not registered");
		return;
	}
	stats_count(m->c);
	core_store_removal(m->c, m->key);
	exchange_endpoint_gone(m->c->exchange, m->key);
	queue_endpoint_gone(m->c->queue, m->key);
	events_emit(m->c->events, "DEREGISTRATION", m->endpoint, NULL);
	LOG_EP(m, CORE_LOG_INFO, "%s", "de-registered");
	answer(m, op->token, 202);
}

/* No observation exists yet for any token: tell the device to stop, as a CoAP RST would. */
static void on_notify(struct msg_ctx *m, const struct lwm2m_op *op)
{
	struct lwm2m_op cancel;

	if(exchange_on_notify(m->c->exchange, m->key, op)) return;

	op_init(&cancel);
	cancel.kind = LWM2M_OP_CANCEL_OBSERVE;
	cancel.token = op->token;
	cancel.fields = LWM2M_F_TOKEN;
	LOG_EP(m, CORE_LOG_NOTICE, "Notify for unknown observation (token %" PRIu64 "): cancelling it", op->token);
	send_op(m, &cancel);
}

/* Send: the values go to the event watchers, then the device gets its 2.04. */
static void on_send(struct msg_ctx *m, const struct lwm2m_op *op)
{
	char why[LWM2M_ERROR_MSG_MAX + 64];
	json_t *values, *data;
	int64_t stored_id = 0;

	if(op->content_format != 110 && op->content_format != 112 && op->content_format != 11544){
		refuse(m, op, 415, "Send must carry SenML JSON, SenML CBOR or LwM2M CBOR");
		return;
	}
	values = values_to_json(m->c->model, op->content_format, op->payload.ptr, op->payload.len,
			NULL, why, sizeof(why));
	if(!values){
		refuse(m, op, 400, why);
		return;
	}
	data = json_object();
	if(!data){
		json_decref(values);
		refuse(m, op, 500, "out of memory");
		return;
	}
	if(m->c->store){
		/* Kept before it is acknowledged: the 2.04 leaves only after this turn's commit. */
		int64_t id = store_put_send(m->c->store, m->endpoint, prefix_or_null(m), core_now_wall_ms(),
				op->content_format, op->payload.ptr, op->payload.len);
		if(id < 0){
			json_decref(values);
			json_decref(data);
			refuse(m, op, 500, "the Send data could not be stored");
			return;
		}
		json_object_set_new(data, "id", json_integer(id));
		stored_id = id;
	}
	json_object_set_new(data, "contentFormat", json_integer(op->content_format));
	json_object_set_new(data, "values", values);
	events_emit(m->c->events, "SEND", m->endpoint, data);
	if(m->c->listener.send){
		struct registration *reg = registry_find(m->c->registry, prefix_or_null(m), m->endpoint);
		m->c->listener.send(m->c->listener.ctx, reg, stored_id, op->content_format,
				op->payload.ptr, op->payload.len);
	}
	LOG_EP(m, CORE_LOG_DEBUG, "Send with %zu values", json_array_size(values));
	answer(m, op->token, 204);
}

/* ---- bootstrap interface ---- */

static void on_bootstrap_request(struct msg_ctx *m, const struct lwm2m_op *op)
{
	char why[LWM2M_ERROR_MSG_MAX + 64];
	uint16_t code = bootstrap_request(m->c->bootstrap, prefix_or_null(m), m->endpoint, m->transport,
			op, why, sizeof(why));

	if(code / 100 != 2){
		refuse(m, op, code, why);
		return;
	}
	LOG_EP(m, CORE_LOG_INFO, "%s", "Bootstrap-Request accepted");
	/* The device gets its answer first, then the sequence starts. */
	answer(m, op->token, code);
	bootstrap_start(m->c->bootstrap, prefix_or_null(m), m->endpoint);
}

static void on_bootstrap_pack(struct msg_ctx *m, const struct lwm2m_op *op)
{
	char why[LWM2M_ERROR_MSG_MAX + 64];
	struct lwm2m_buf pack;
	struct lwm2m_op resp;
	uint16_t ct = 0, code;

	buf_init(&pack, m->c->cfg->max_payload);
	code = bootstrap_pack(m->c->bootstrap, m->endpoint, op, (op->fields & LWM2M_F_PCT) ? op->pct : 0,
			&pack, &ct, why, sizeof(why));
	if(code / 100 != 2){
		refuse(m, op, code, why);
	}else{
		op_init(&resp);
		resp.is_response = true;
		resp.result = code;
		resp.token = op->token;
		resp.content_format = ct;
		resp.payload.ptr = pack.data;
		resp.payload.len = pack.len;
		resp.fields = LWM2M_F_TOKEN | LWM2M_F_RESULT | LWM2M_F_CT | LWM2M_F_PAYLOAD;
		LOG_EP(m, CORE_LOG_INFO, "Bootstrap-Pack of %zu bytes", pack.len);
		m->reply(m, &resp);
	}
	buf_free(&pack);
}

static void dispatch_request(struct msg_ctx *m, const struct lwm2m_op *op)
{
	bool registered = registry_find(m->c->registry, prefix_or_null(m), m->endpoint) != NULL;

	switch(op->kind){
		case LWM2M_OP_REGISTER:
			on_register(m, op, false);
			break;
		case LWM2M_OP_UPDATE:
			on_register(m, op, true);
			break;
		case LWM2M_OP_DEREGISTER:
			on_deregister(m, op);
			break;
		case LWM2M_OP_NOTIFY:
			on_notify(m, op);
			break;
		case LWM2M_OP_SEND:
			if(!registered) refuse(m, op, 404, "Send from an endpoint that is not registered");
			else on_send(m, op);
			break;
		case LWM2M_OP_BOOTSTRAP_REQUEST:
			on_bootstrap_request(m, op);
			break;
		case LWM2M_OP_BOOTSTRAP_PACK_REQUEST:
			on_bootstrap_pack(m, op);
			break;
		default:
			refuse(m, op, 400, "operation not handled");
			break;
	}
}

/* ---- entry points ---- */

/* Any message from a device shows it is connected, possibly through a new client id. */
static void mark_online(struct msg_ctx *m)
{
	struct registration *reg = registry_find(m->c->registry, prefix_or_null(m), m->endpoint);
	bool was_online;

	if(!reg) return;
	was_online = reg->online;
	reg->online = true;
	reg->last_uplink_mono_ms = core_now_mono_ms();
	if(m->client_id) registry_set_client(m->c->registry, reg, m->client_id);
	if(!was_online) events_emit(m->c->events, "ONLINE", reg->endpoint, NULL);
	if(m->c->listener.uplink) m->c->listener.uplink(m->c->listener.ctx, reg);
}

static bool copy_view(char *dst, size_t size, struct lwm2m_view v)
{
	if(v.len >= size) return false;
	memcpy(dst, v.ptr, v.len);
	dst[v.len] = '\0';
	return true;
}

static void handle_mqtt_message(struct core *c, const struct core_in *in, struct msg_ctx *m);
static void handle_protected(struct core *c, const struct core_in *in, struct msg_ctx *m);
static void handle_decoded(struct core *c, const uint8_t *payload, size_t len, struct msg_ctx *m);

static void handle_mqtt(struct core *c, const struct core_in *in)
{
	struct msg_ctx m;

	memset(&m, 0, sizeof(m));
	handle_mqtt_message(c, in, &m);
	/* After the device's own message is answered: what waited for it goes out now. */
	if(m.key[0]) queue_device_awake(c->queue, m.key);
}

static void mqtt_reply(struct msg_ctx *m, const struct lwm2m_op *resp)
{
	send_op(m, resp);
}

static void handle_mqtt_message(struct core *c, const struct core_in *in, struct msg_ctx *m)
{
	struct lwm2m_error err;

	memset(m, 0, sizeof(*m));
	m->c = c;
	m->in = in;
	m->client_id = in->client_id;
	m->transport = "mqtt";
	m->reply = mqtt_reply;
	if(mqtt_topic_parse(in->topic, strlen(in->topic), &m->topic, &err) != 0
			|| !copy_view(m->endpoint, sizeof(m->endpoint), m->topic.endpoint)
			|| (m->topic.has_prefix && !copy_view(m->prefix, sizeof(m->prefix), m->topic.prefix))){
		atomic_fetch_add(&c->stats.ignored, 1);
		core_log(c, CORE_LOG_NOTICE, "lwm2m: client '%s': message on '%s' dropped: not an LwM2M topic",
				in->client_id ? in->client_id : "?", in->topic);
		return;
	}
	if(c->cfg->identity != CONF_IDENTITY_ANY && (!in->identity || strcmp(in->identity, m->endpoint))){
		ignore(m, "endpoint does not match the client's identity");
		return;
	}

	/* The same form as registry_key(), in a buffer of our own. */
	snprintf(m->key, sizeof(m->key), "%s/%s", m->topic.has_prefix ? m->prefix : "", m->endpoint);
	mark_online(m);

	m->protected = m->topic.iface == LWM2M_IFACE_RD && protect_key(c, m->endpoint, &m->cose);
	if(m->protected){
		handle_protected(c, in, m);
		return;
	}
	handle_decoded(c, in->payload, in->payload_len, m);
}

/* A device whose rd traffic must be COSE-protected: unwrap, or refuse in clear. */
static void handle_protected(struct core *c, const struct core_in *in, struct msg_ctx *m)
{
	struct lwm2m_buf plain;
	struct lwm2m_error err;
	struct lwm2m_op op;
	char why[LWM2M_ERROR_MSG_MAX + 32];

	if(!cose_looks_protected(in->payload, in->payload_len)){
		uint16_t code = 0;
		if(mqtt_codec_decode(in->payload, in->payload_len, m->topic.iface, &c->limits, &op, &err) == 0
				&& !op.is_response){
			code = cose_unprotected_answer(op.kind);
		}
		m->clear = true;
		if(code) refuse(m, &op, code, "an unprotected message where COSE protection is required");
		else ignore(m, "an unprotected message where COSE protection is required");
		return;
	}
	buf_init(&plain, c->cfg->max_payload);
	if(protect_unwrap(&m->cose, in->payload, in->payload_len, &plain, &err) != 0){
		/* Its token is inside what did not authenticate: nothing can be answered. */
		snprintf(why, sizeof(why), "COSE: %s", err.msg);
		ignore(m, why);
	}else{
		handle_decoded(c, plain.data, plain.len, m);
	}
	buf_free(&plain);
}

static void handle_decoded(struct core *c, const uint8_t *payload, size_t len, struct msg_ctx *m)
{
	struct lwm2m_op op;
	struct lwm2m_error err;
	int rc;

	rc = mqtt_codec_decode(payload, len, m->topic.iface, &c->limits, &op, &err);
	if(rc != 0){
		if(op.is_response && (op.fields & LWM2M_F_TOKEN)
				&& exchange_on_bad_result(c->exchange, m->key, op.token, err.msg)){
			LOG_EP(m, CORE_LOG_NOTICE, "malformed result for token %" PRIu64 ": %s", op.token, err.msg);
		}else if(!op.is_response && (op.fields & LWM2M_F_TOKEN)){
			refuse(m, &op, rc == -LWM2M_ETOOBIG ? 413 : 400, err.msg);
		}else{
			char why[LWM2M_ERROR_MSG_MAX + 32];
			snprintf(why, sizeof(why), "malformed %s: %s", op.is_response ? "response" : "message", err.msg);
			ignore(m, why);
		}
		return;
	}
	if(c->cfg->debug){
		LOG_EP(m, CORE_LOG_DEBUG, "received %s, token %" PRIu64,
				op.is_response ? "result" : op_kind_name(op.kind), op.token);
	}
	if(op.is_response){
		char why[96];
		if(exchange_on_result(c->exchange, m->key, &op)) return;
		snprintf(why, sizeof(why), "result %u with token %" PRIu64 " answers no pending request",
				op.result, op.token);
		ignore(m, why);
		return;
	}
	if(!op_kind_from_device(op.kind)){
		refuse(m, &op, 400, "a device may not send this operation");
		return;
	}
	if((op.fields & LWM2M_F_EP) && !(op.ep.len == strlen(m->endpoint)
				&& memcmp(op.ep.ptr, m->endpoint, op.ep.len) == 0)){
		refuse(m, &op, 400, "key 3 (ep) differs from the endpoint in the topic");
		return;
	}
	dispatch_request(m, &op);
}

static void set_client_online(struct core *c, const char *client_id, bool online)
{
	struct registration **regs, *reg;
	size_t n;

	if(!client_id) return;
	n = registry_client_registrations(c->registry, client_id, &regs);
	for(size_t i = 0; i < n; i++){
		reg = regs[i];
		if(reg->online != online){
			reg->online = online;
			if(online) reg->last_uplink_mono_ms = core_now_mono_ms();
			events_emit(c->events, online ? "ONLINE" : "OFFLINE", reg->endpoint, NULL);
			if(online) queue_device_awake(c->queue, reg->key);
			core_log(c, CORE_LOG_DEBUG, "lwm2m: endpoint '%s' (client '%s') %s", reg->endpoint,
					client_id, online ? "online" : "offline");
		}
	}
}

/* ---- other transports (the HTTP binding) ---- */

static void uplink_reply(struct msg_ctx *m, const struct lwm2m_op *resp)
{
	const struct core_uplink *u = m->uplink;
	u->done(u->ctx, resp, m->reg_id[0] ? m->reg_id : NULL);
}

void core_api_uplink(struct core *c, const struct core_uplink *u, const struct lwm2m_op *op)
{
	struct msg_ctx m;
	struct registration *reg = NULL;

	memset(&m, 0, sizeof(m));
	m.c = c;
	m.transport = u->transport;
	m.reply = uplink_reply;
	m.uplink = u;
	if(u->reg_id){
		reg = registry_find_id(c->registry, u->reg_id);
		if(!reg || (u->endpoint && strcmp(reg->endpoint, u->endpoint))){
			struct lwm2m_op resp;
			op_init(&resp);
			resp.is_response = true;
			resp.result = 404;
			resp.fields = LWM2M_F_RESULT;
			u->done(u->ctx, &resp, NULL);
			return;
		}
		snprintf(m.endpoint, sizeof(m.endpoint), "%s", reg->endpoint);
	}else{
		snprintf(m.endpoint, sizeof(m.endpoint), "%s", u->endpoint ? u->endpoint : "");
	}
	snprintf(m.key, sizeof(m.key), "/%s", m.endpoint);
	atomic_fetch_add(&c->stats.received, 1);
	if(reg) mark_online(&m);
	dispatch_request(&m, op);
	if(registry_find(c->registry, NULL, m.endpoint)) queue_device_awake(c->queue, m.key);
}

void router_handle(struct core *c, struct core_in *in)
{
	switch(in->kind){
		case CORE_IN_MQTT_MESSAGE:
			handle_mqtt(c, in);
			break;
		case CORE_IN_CLIENT_GONE:
			set_client_online(c, in->client_id, false);
			break;
		case CORE_IN_CLIENT_SEEN:
			set_client_online(c, in->client_id, true);
			break;
	}
}

void router_expire(struct core *c)
{
	uint64_t now = core_now_mono_ms(), next;
	struct registration *reg;

	while((reg = registry_pop_expired(c->registry, now)) != NULL){
		core_log(c, CORE_LOG_NOTICE, "lwm2m: endpoint '%s'%s%s: registration expired (lifetime %" PRIu64 " s)",
				reg->endpoint, reg->prefix ? ", prefix " : "", reg->prefix ? reg->prefix : "",
				reg->lifetime);
		core_store_removal(c, reg->key);
		exchange_endpoint_gone(c->exchange, reg->key);
		queue_endpoint_gone(c->queue, reg->key);
		events_emit(c->events, "EXPIRED", reg->endpoint, NULL);
		if(c->listener.gone) c->listener.gone(c->listener.ctx, reg, true);
		registration_free(reg);
	}
	stats_count(c);
	next = registry_next_expiry(c->registry);
	if(next == REG_NO_EXPIRY){
		uv_timer_stop(&c->expiry_timer);
	}else{
		uv_timer_start(&c->expiry_timer, core_on_expiry_timer, next > now ? next - now : 0, 0);
	}
}
