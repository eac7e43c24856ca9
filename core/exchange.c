/* Requests in flight to devices (matched by token) and observations shared by watchers. */
#include "exchange.h"
#include "api.h"
#include "core_internal.h"
#include "events.h"
#include "protect.h"
#include "queue.h"
#include "values.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

struct observation;

struct pending {
	UT_hash_handle hh;          /* by token */
	uint64_t token;
	char *key;                  /* "prefix/endpoint" of the registration */
	enum lwm2m_op_kind kind;
	api_done_fn done;           /* NULL once cancelled */
	void *ctx;
	uv_timer_t timer;
	struct exchange *x;
	struct observation *obs;    /* the observation this Observe would establish */
};

/* A watcher that takes the raw notifications (the forwarder). */
struct obs_tap {
	struct obs_tap *next;
	api_notify_fn notify;
	api_notify_end_fn end;
	void *ctx;
};

struct observation {
	UT_hash_handle hh;          /* by token */
	UT_hash_handle hh_path;     /* by key + "|" + uri */
	uint64_t token;
	char *key;
	char *path_key;
	char *endpoint;
	char *uri;                  /* "" for Observe-Composite */
	unsigned watchers;          /* web watchers and taps */
	struct obs_tap *taps;
	bool established;           /* the device answered 2.05 */
};

struct exchange {
	struct core *c;
	struct pending *pending;
	struct observation *obs_by_token;
	struct observation *obs_by_path;
	uint64_t next_token;
};

static void observation_end(struct exchange *x, struct observation *obs, const char *why);
static void observation_destroy(struct observation *obs);

struct exchange *exchange_new(struct core *c)
{
	struct exchange *x = calloc(1, sizeof(*x));
	if(!x) return NULL;
	x->c = c;
	/* Tokens start from the clock; with plugin_opt_state_db the saved counter takes over
	 * (exchange_set_next_token), so a restart never reuses a token. */
	x->next_token = (uv_hrtime() & 0xffffffffu) << 20 | 1;
	return x;
}

/* ---- pending requests ---- */

static void pending_free_cb(uv_handle_t *h)
{
	struct pending *p = h->data;
	free(p->key);
	free(p);
}

static void pending_finish(struct pending *p, const struct api_result *res)
{
	struct exchange *x = p->x;
	api_done_fn done = p->done;

	HASH_DEL(x->pending, p);
	uv_timer_stop(&p->timer);
	uv_close((uv_handle_t *)&p->timer, pending_free_cb);
	if(done) done(p->ctx, res);
}

static void on_pending_timeout(uv_timer_t *t)
{
	struct pending *p = t->data;
	struct api_result res = { .outcome = API_TIMEOUT };
	struct observation *obs = p->obs;

	atomic_fetch_add(&p->x->c->stats.timeouts, 1);
	core_log(p->x->c, CORE_LOG_NOTICE, "lwm2m: '%s': %s (token %" PRIu64 ") timed out",
			p->key, op_kind_name(p->kind), p->token);
	if(obs && !obs->established){
		/* An observation the device never confirmed: forget it (a late 2.05 is then dropped). */
		observation_end(p->x, obs, "the device did not answer the Observe");
	}
	pending_finish(p, &res);
}

static struct pending *pending_add(struct exchange *x, const char *key, enum lwm2m_op_kind kind,
		uint64_t token, uint32_t timeout_ms, api_done_fn done, void *ctx)
{
	struct pending *p = calloc(1, sizeof(*p));
	if(!p) return NULL;
	p->key = strdup(key);
	if(!p->key){
		free(p);
		return NULL;
	}
	p->token = token;
	p->kind = kind;
	p->done = done;
	p->ctx = ctx;
	p->x = x;
	uv_timer_init(&x->c->loop, &p->timer);
	p->timer.data = p;
	uv_timer_start(&p->timer, on_pending_timeout, timeout_ms, 0);
	HASH_ADD(hh, x->pending, token, sizeof(p->token), p);
	return p;
}

static struct pending *pending_find(struct exchange *x, const char *key, uint64_t token)
{
	struct pending *p = NULL;
	HASH_FIND(hh, x->pending, &token, sizeof(token), p);
	/* A token answers only the device it was sent to. */
	return p && !strcmp(p->key, key) ? p : NULL;
}

bool exchange_on_result(struct exchange *x, const char *key, const struct lwm2m_op *op)
{
	struct pending *p = pending_find(x, key, op->token);
	struct api_result res = { .outcome = API_ANSWERED };

	if(!p) return false;
	res.result = op->result;
	res.has_ct = (op->fields & LWM2M_F_CT) != 0;
	res.content_format = op->content_format;
	res.payload = op->payload.ptr;
	res.payload_len = op->payload.len;
	if(p->obs){
		if(op->result / 100 == 2){
			p->obs->established = true;
		}else{
			observation_end(x, p->obs, "the device refused the Observe");
		}
	}
	pending_finish(p, &res);
	return true;
}

bool exchange_on_bad_result(struct exchange *x, const char *key, uint64_t token, const char *why)
{
	struct pending *p = pending_find(x, key, token);
	struct api_result res = { .outcome = API_BAD_RESPONSE, .detail = why };
	if(!p) return false;
	pending_finish(p, &res);
	return true;
}

/* ---- observations ---- */

/* Frees an observation that is in no table. */
static void observation_destroy(struct observation *obs)
{
	struct obs_tap *t, *next;
	for(t = obs->taps; t; t = next){
		next = t->next;
		free(t);
	}
	free(obs->key);
	free(obs->path_key);
	free(obs->endpoint);
	free(obs->uri);
	free(obs);
}

/* Takes an observation out of the tables and frees it. */
static void observation_free(struct exchange *x, struct observation *obs)
{
	struct pending *p, *tmp;
	HASH_ITER(hh, x->pending, p, tmp){
		if(p->obs == obs) p->obs = NULL;
	}
	HASH_DELETE(hh, x->obs_by_token, obs);
	HASH_DELETE(hh_path, x->obs_by_path, obs);
	observation_destroy(obs);
}

/* The observation ends for all its watchers: they are told by an event. */
static void observation_end(struct exchange *x, struct observation *obs, const char *why)
{
	json_t *data = json_pack("{s:s, s:s}", "path", obs->uri, "reason", why);
	struct obs_tap *t, *taps = obs->taps;

	obs->taps = NULL;
	events_emit(x->c->events, "OBSERVATION_ENDED", obs->endpoint, data);
	observation_free(x, obs);
	/* After the observation is gone, so a tap that starts a new one finds none. */
	for(t = taps; t; t = taps){
		taps = t->next;
		if(t->end) t->end(t->ctx, why);
		free(t);
	}
}

bool exchange_on_notify(struct exchange *x, const char *key, const struct lwm2m_op *op)
{
	struct observation *obs = NULL;
	json_t *data, *values;
	char why[LWM2M_ERROR_MSG_MAX + 64];

	HASH_FIND(hh, x->obs_by_token, &op->token, sizeof(op->token), obs);
	if(!obs || strcmp(obs->key, key)) return false;
	for(struct obs_tap *t = obs->taps; t; t = t->next){
		t->notify(t->ctx, op->content_format, op->payload.ptr, op->payload.len);
	}
	data = json_object();
	if(!data) return true;
	json_object_set_new(data, "path", json_string(obs->uri));
	json_object_set_new(data, "contentFormat", json_integer(op->content_format));
	values = values_to_json(x->c->model, op->content_format, op->payload.ptr, op->payload.len,
			obs->uri[0] ? obs->uri : NULL, why, sizeof(why));
	if(values) json_object_set_new(data, "values", values);
	else json_object_set_new(data, "error", json_string(why));
	events_emit(x->c->events, "NOTIFICATION", obs->endpoint, data);
	return true;
}

void exchange_observations_gone(struct exchange *x, const char *key)
{
	struct observation *obs, *otmp;

	HASH_ITER(hh, x->obs_by_token, obs, otmp){
		if(!strcmp(obs->key, key)) observation_end(x, obs, "the device registered again");
	}
}

void exchange_endpoint_gone(struct exchange *x, const char *key)
{
	struct pending *p, *ptmp;
	struct observation *obs, *otmp;
	struct api_result res = { .outcome = API_GONE };

	HASH_ITER(hh, x->pending, p, ptmp){
		if(!strcmp(p->key, key)) pending_finish(p, &res);
	}
	HASH_ITER(hh, x->obs_by_token, obs, otmp){
		if(!strcmp(obs->key, key)) observation_end(x, obs, "the registration ended");
	}
}

void exchange_free(struct exchange *x)
{
	struct pending *p, *ptmp;
	struct observation *obs, *otmp;
	if(!x) return;
	HASH_ITER(hh, x->pending, p, ptmp){
		p->done = NULL;
		HASH_DEL(x->pending, p);
		uv_timer_stop(&p->timer);
		uv_close((uv_handle_t *)&p->timer, pending_free_cb);
	}
	HASH_ITER(hh, x->obs_by_token, obs, otmp){
		observation_free(x, obs);
	}
	free(x);
}

uint64_t exchange_next_token(const struct exchange *x)
{
	return x->next_token;
}

void exchange_set_next_token(struct exchange *x, uint64_t token)
{
	if(token > x->next_token) x->next_token = token;
}

size_t exchange_pending_count(const struct exchange *x)
{
	return HASH_COUNT(x->pending);
}

size_t exchange_observation_count(const struct exchange *x)
{
	return HASH_COUNT(x->obs_by_token);
}

/* ---- the API ---- */


static int encode_request(struct exchange *x, struct lwm2m_op *op, uint64_t token,
		struct lwm2m_buf *out, char *why, size_t why_size)
{
	struct lwm2m_error err;

	op->token = token ? token : x->next_token++;
	op->fields |= LWM2M_F_TOKEN;
	if(mqtt_codec_encode(op, LWM2M_IFACE_RD, out, &err) != 0){
		if(why) snprintf(why, why_size, "%s", err.msg);
		return -err.code;
	}
	return 0;
}

int exchange_encode(struct exchange *x, struct lwm2m_op *op, struct lwm2m_buf *out, char *why, size_t why_size)
{
	return encode_request(x, op, 0, out, why, why_size);
}

static int publish_encoded(struct exchange *x, const struct registration *reg, const uint8_t *msg, size_t len)
{
	struct lwm2m_buf topic, sealed;
	struct cose_key key;
	int rc;

	buf_init(&topic, 0);
	buf_init(&sealed, 0);
	rc = mqtt_topic_format(&topic, reg->prefix, LWM2M_IFACE_RD, reg->endpoint, strlen(reg->endpoint));
	/* A device whose traffic is COSE-protected gets its requests protected too. */
	if(rc == 0 && protect_key(x->c, reg->endpoint, &key)){
		rc = protect_wrap(&key, msg, len, &sealed);
		msg = sealed.data;
		len = sealed.len;
		cose_key_wipe(&key);
	}
	if(rc == 0){
		core_publish(x->c, (const char *)topic.data, msg, len, 1);
		atomic_fetch_add(&x->c->stats.requests, 1);
	}
	buf_free(&topic);
	buf_free(&sealed);
	return rc;
}

static bool is_http(const struct registration *reg)
{
	return reg->transport && !strcmp(reg->transport, "http");
}

/* What the HTTP binding has no way to say (Transport TS 7: no Observe, no composites). */
static int http_refuses(const struct lwm2m_op *op, char *why, size_t why_size)
{
	switch(op->kind){
		case LWM2M_OP_OBSERVE: case LWM2M_OP_OBSERVE_COMPOSITE: case LWM2M_OP_CANCEL_OBSERVE:
		case LWM2M_OP_READ_COMPOSITE: case LWM2M_OP_WRITE_COMPOSITE:
			if(why) snprintf(why, why_size, "%s is not possible with a device on the HTTP binding",
					op_kind_name(op->kind));
			return -LWM2M_ENOTSUP;
		default:
			return 0;
	}
}

static int downlink_http(struct exchange *x, const struct registration *reg, const struct lwm2m_op *op,
		char *why, size_t why_size)
{
	const struct core_downlink *d = &x->c->http_downlink;
	int rc = http_refuses(op, why, why_size);

	if(rc) return rc;
	if(!d->send){
		if(why) snprintf(why, why_size, "the HTTP binding is not enabled (plugin_opt_http_binding_listen)");
		return -LWM2M_ENOTSUP;
	}
	rc = d->send(d->ctx, reg->endpoint, op, x->c->cfg->request_timeout_s * 1000u, why, why_size);
	if(rc == 0) atomic_fetch_add(&x->c->stats.requests, 1);
	return rc;
}

/* Encodes and publishes op to the registered device; with token 0 it gets a fresh one. */
static int publish_request(struct exchange *x, const struct registration *reg, struct lwm2m_op *op,
		uint64_t token, char *why, size_t why_size)
{
	struct lwm2m_buf out;
	int rc;

	if(is_http(reg)){
		op->token = token ? token : x->next_token++;
		op->fields |= LWM2M_F_TOKEN;
		return downlink_http(x, reg, op, why, why_size);
	}
	buf_init(&out, 0);
	rc = encode_request(x, op, token, &out, why, why_size);
	if(rc == 0) rc = publish_encoded(x, reg, out.data, out.len);
	buf_free(&out);
	return rc;
}


int64_t exchange_send_encoded(struct exchange *x, const struct registration *reg,
		enum lwm2m_op_kind kind, uint64_t token, const uint8_t *msg, size_t len,
		uint32_t timeout_ms, api_done_fn done, void *ctx)
{
	struct pending *p;
	int rc;

	if(is_http(reg)){
		/* Queued as an MQTT message (the queue's one format): read it back into an op. */
		struct lwm2m_op op;
		struct lwm2m_error err;
		char why[LWM2M_ERROR_MSG_MAX + 64];
		rc = mqtt_codec_decode(msg, len, LWM2M_IFACE_RD, &x->c->limits, &op, &err);
		if(rc == 0) rc = downlink_http(x, reg, &op, why, sizeof(why));
	}else{
		rc = publish_encoded(x, reg, msg, len);
	}
	if(rc) return rc;
	p = pending_add(x, reg->key, kind, token, timeout_ms, done, ctx);
	return p ? (int64_t)p->token : -LWM2M_ENOMEM;
}

static const struct registration *reachable(struct core *c, const struct api_request *req, int *rc)
{
	const struct registration *reg = registry_find(c->registry, req->prefix, req->endpoint);
	if(!reg){
		*rc = -LWM2M_ENOENT;
		return NULL;
	}
	if(!core_device_awake(c, reg) || queue_busy(c->queue, reg->key)){
		*rc = -LWM2M_EOFFLINE;
		return NULL;
	}
	*rc = 0;
	return reg;
}

static uint32_t timeout_of(const struct core *c, const struct api_request *req)
{
	return req->timeout_ms ? req->timeout_ms : c->cfg->request_timeout_s * 1000u;
}

int64_t core_api_send(struct core *c, const struct api_request *req, char *why, size_t why_size)
{
	struct exchange *x = c->exchange;
	struct lwm2m_op op = req->op;
	const struct registration *reg;
	struct pending *p;
	char *key;
	int rc;

	reg = reachable(c, req, &rc);
	if(!reg) return rc;
	rc = publish_request(x, reg, &op, 0, why, why_size);
	if(rc) return rc;
	key = registry_key(req->prefix, req->endpoint);
	p = key ? pending_add(x, key, op.kind, op.token, timeout_of(c, req), req->done, req->ctx) : NULL;
	free(key);
	if(!p) return -LWM2M_ENOMEM;
	return (int64_t)p->token;
}

void core_api_cancel(struct core *c, int64_t handle)
{
	struct pending *p = NULL;
	uint64_t token = (uint64_t)handle;
	HASH_FIND(hh, c->exchange->pending, &token, sizeof(token), p);
	if(p) p->done = NULL;
}

static char *path_key_of(const char *key, const char *uri)
{
	size_t kl = strlen(key), ul = strlen(uri);
	char *pk = malloc(kl + ul + 2);
	if(!pk) return NULL;
	memcpy(pk, key, kl);
	pk[kl] = '|';
	memcpy(pk + kl + 1, uri, ul + 1);
	return pk;
}

static struct observation *observation_new(struct exchange *x, const char *key, const char *pk,
		const char *endpoint, const char *uri)
{
	struct observation *obs = calloc(1, sizeof(*obs));
	if(!obs) return NULL;
	obs->key = strdup(key);
	obs->path_key = strdup(pk);
	obs->endpoint = strdup(endpoint);
	obs->uri = strdup(uri);
	if(!obs->key || !obs->path_key || !obs->endpoint || !obs->uri){
		observation_destroy(obs);
		return NULL;
	}
	return obs;
}

/* What an observation watches, as text: the path, or the composite's path list. */
static int observation_target(const struct lwm2m_op *op, struct lwm2m_buf *out)
{
	int rc = 0;

	if(op->kind == LWM2M_OP_OBSERVE_COMPOSITE){
		rc = buf_printf(out, "composite:");
		for(size_t i = 0; rc == 0 && i < op->paths.len; i++) rc = buf_printf(out, "%02x", op->paths.ptr[i]);
	}else{
		rc = buf_printf(out, "%.*s", (int)op->uri.len, (const char *)op->uri.ptr);
	}
	return rc;
}

static char *observation_key(const char *prefix, const char *endpoint, const struct lwm2m_op *op)
{
	struct lwm2m_buf target;
	char *key = registry_key(prefix, endpoint), *pk = NULL;

	buf_init(&target, 0);
	if(key && observation_target(op, &target) == 0) pk = path_key_of(key, (const char *)target.data);
	buf_free(&target);
	free(key);
	return pk;
}

static int add_tap(struct observation *obs, const struct api_request *req)
{
	struct obs_tap *t;
	if(!req->notify) return 0;
	t = calloc(1, sizeof(*t));
	if(!t) return -LWM2M_ENOMEM;
	t->notify = req->notify;
	t->end = req->notify_end;
	t->ctx = req->notify_ctx;
	t->next = obs->taps;
	obs->taps = t;
	return 0;
}

/* Removes the tap of ctx; false when there is none. */
static bool remove_tap(struct observation *obs, void *ctx)
{
	for(struct obs_tap **pt = &obs->taps; *pt; pt = &(*pt)->next){
		if((*pt)->ctx == ctx){
			struct obs_tap *t = *pt;
			*pt = t->next;
			free(t);
			return true;
		}
	}
	return false;
}

/* A further watcher of an existing observation gets the current value by a Read. */
static int64_t share_observation(struct core *c, const struct registration *reg, struct observation *obs,
		const struct api_request *req, char *why, size_t why_size)
{
	struct lwm2m_op op = req->op;
	struct pending *p;
	int rc;

	op.kind = op.kind == LWM2M_OP_OBSERVE_COMPOSITE ? LWM2M_OP_READ_COMPOSITE : LWM2M_OP_READ;
	rc = publish_request(c->exchange, reg, &op, 0, why, why_size);
	if(rc) return rc;
	p = pending_add(c->exchange, reg->key, op.kind, op.token, timeout_of(c, req), req->done, req->ctx);
	if(!p || add_tap(obs, req) != 0) return -LWM2M_ENOMEM;
	obs->watchers++;
	return (int64_t)p->token;
}

void core_api_set_downlink(struct core *c, const char *transport, const struct core_downlink *d)
{
	if(!strcmp(transport, "http")){
		if(d) c->http_downlink = *d;
		else memset(&c->http_downlink, 0, sizeof(c->http_downlink));
	}
}

/* The key of an HTTP device: it has no topic prefix. */
static void http_key(const char *endpoint, char *key, size_t size)
{
	snprintf(key, size, "/%s", endpoint);
}

void core_api_device_answer(struct core *c, const char *endpoint, const struct lwm2m_op *resp)
{
	char key[300];
	http_key(endpoint, key, sizeof(key));
	exchange_on_result(c->exchange, key, resp);
}

void core_api_device_failed(struct core *c, const char *endpoint, uint64_t token, const char *why)
{
	char key[300];
	http_key(endpoint, key, sizeof(key));
	exchange_on_bad_result(c->exchange, key, token, why);
}

/* A bootstrap operation for a device that need not be registered: on its bs topic (MQTT)
 * or to its HTTP server. */
int64_t exchange_send_bootstrap(struct exchange *x, const char *prefix, const char *endpoint,
		const char *transport, const struct lwm2m_op *req, uint32_t timeout_ms, api_done_fn done, void *ctx)
{
	struct lwm2m_op op = *req;
	struct lwm2m_buf out, topic;
	struct lwm2m_error err;
	struct pending *p;
	char *key = registry_key(prefix, endpoint);
	char why[LWM2M_ERROR_MSG_MAX + 64];
	int rc;

	if(!key) return -LWM2M_ENOMEM;
	op.token = x->next_token++;
	op.fields |= LWM2M_F_TOKEN;
	if(!strcmp(transport, "http")){
		const struct core_downlink *d = &x->c->http_downlink;
		rc = d->send ? d->send(d->ctx, endpoint, &op, timeout_ms, why, sizeof(why)) : -LWM2M_ENOTSUP;
	}else{
		buf_init(&out, 0);
		buf_init(&topic, 0);
		rc = mqtt_codec_encode(&op, LWM2M_IFACE_BS, &out, &err);
		if(rc == 0) rc = mqtt_topic_format(&topic, prefix, LWM2M_IFACE_BS, endpoint, strlen(endpoint));
		if(rc == 0){
			core_publish(x->c, (const char *)topic.data, out.data, out.len, 1);
			atomic_fetch_add(&x->c->stats.requests, 1);
		}
		buf_free(&out);
		buf_free(&topic);
	}
	p = rc == 0 ? pending_add(x, key, op.kind, op.token, timeout_ms, done, ctx) : NULL;
	free(key);
	if(rc) return rc;
	return p ? (int64_t)p->token : -LWM2M_ENOMEM;
}

int64_t core_api_observe(struct core *c, const struct api_request *req, char *why, size_t why_size)
{
	struct exchange *x = c->exchange;
	struct lwm2m_op op = req->op;
	const struct registration *reg;
	struct observation *obs = NULL;
	struct pending *p;
	char uri[LWM2M_PATH_STR_MAX + 1], *pk;
	int rc;

	reg = reachable(c, req, &rc);
	if(!reg) return rc;
	if(is_http(reg)) return http_refuses(&op, why, why_size);
	pk = observation_key(req->prefix, req->endpoint, &op);
	if(!pk) return -LWM2M_ENOMEM;
	HASH_FIND(hh_path, x->obs_by_path, pk, strlen(pk), obs);
	if(obs){
		free(pk);
		return share_observation(c, reg, obs, req, why, why_size);
	}
	/* A composite observation has no single path: its events carry the values' own paths. */
	snprintf(uri, sizeof(uri), "%.*s", op.kind == LWM2M_OP_OBSERVE ? (int)op.uri.len : 0, (const char *)op.uri.ptr);
	obs = observation_new(x, reg->key, pk, req->endpoint, uri);
	free(pk);
	if(!obs) return -LWM2M_ENOMEM;
	rc = publish_request(x, reg, &op, 0, why, why_size);
	if(rc){
		observation_destroy(obs);
		return rc;
	}
	obs->token = op.token;
	obs->watchers = 1;
	if(add_tap(obs, req) != 0){
		observation_destroy(obs);
		return -LWM2M_ENOMEM;
	}
	HASH_ADD(hh, x->obs_by_token, token, sizeof(obs->token), obs);
	HASH_ADD_KEYPTR(hh_path, x->obs_by_path, obs->path_key, strlen(obs->path_key), obs);
	p = pending_add(x, reg->key, op.kind, op.token, timeout_of(c, req), req->done, req->ctx);
	if(!p){
		observation_free(x, obs);
		return -LWM2M_ENOMEM;
	}
	p->obs = obs;
	return (int64_t)p->token;
}

int core_api_cancel_observation(struct core *c, const struct api_request *req)
{
	struct exchange *x = c->exchange;
	struct observation *obs = NULL;
	const struct registration *reg;
	struct lwm2m_op op;
	const char *prefix = req->prefix, *endpoint = req->endpoint;
	char *pk = observation_key(prefix, endpoint, &req->op);

	if(!pk) return -LWM2M_ENOMEM;
	HASH_FIND(hh_path, x->obs_by_path, pk, strlen(pk), obs);
	free(pk);
	if(!obs) return -LWM2M_ENOENT;
	if(req->notify && !remove_tap(obs, req->notify_ctx)) return -LWM2M_ENOENT;
	if(--obs->watchers > 0) return 0;
	reg = registry_find(c->registry, prefix, endpoint);
	/* A sleeping device is not disturbed: its next Notify for the forgotten token gets a
	 * Cancel-Observe from the router anyway. */
	if(reg && core_device_awake(c, reg)){
		uint64_t token = obs->token;
		op_init(&op);
		op.kind = LWM2M_OP_CANCEL_OBSERVE;
		op.fields = LWM2M_F_TOKEN;
		/* Cancel-Observe carries the observation's token, not a fresh one; its answer is
		 * expected (silently) unless the Observe itself is still unanswered. */
		if(publish_request(x, reg, &op, token, NULL, 0) == 0 && !pending_find(x, reg->key, token)){
			pending_add(x, reg->key, op.kind, token, c->cfg->request_timeout_s * 1000u, NULL, NULL);
		}
	}
	observation_free(x, obs);
	return 0;
}
