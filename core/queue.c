#include "queue.h"
#include "api.h"
#include "core_internal.h"
#include "events.h"
#include "exchange.h"
#include "store.h"
#include "values.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#define MAX_FINISHED_KEPT 10000   /* finished requests kept for GET /api/requests/{id} */

struct queued {
	UT_hash_handle hh;            /* by id */
	int64_t id;
	char *key;
	char *endpoint;
	char *prefix;
	enum lwm2m_op_kind kind;
	uint64_t token;
	uint8_t *message;             /* the encoded MQTT request, token included */
	char uri[LWM2M_PATH_STR_MAX + 1];   /* its target path, "" when none (decodes the answer) */
	size_t message_len;
	enum queue_state state;
	int64_t created_wall_ms;
	int64_t updated_wall_ms;
	uint16_t result;
	int content_format;           /* -1 = none */
	uint8_t *payload;
	size_t payload_len;
	char *detail;
	struct queued *next;          /* next waiting request of the same device */
	struct queue *q;
};

/* One device's waiting requests, oldest first. */
struct devq {
	UT_hash_handle hh;
	char *key;
	struct queued *head, *tail;
	size_t count;
	bool in_flight;
};

struct queue {
	struct core *c;
	struct queued *by_id;
	struct devq *devs;
	int64_t next_id;
	size_t finished;
};

const char *queue_state_name(enum queue_state s)
{
	switch(s){
		case QUEUE_WAITING: return "queued";
		case QUEUE_SENT: return "sent";
		case QUEUE_DONE: return "done";
		case QUEUE_FAILED: return "failed";
		case QUEUE_EXPIRED: return "expired";
	}
	return "?";
}

struct queue *queue_new(struct core *c)
{
	struct queue *q = calloc(1, sizeof(*q));
	if(!q) return NULL;
	q->c = c;
	q->next_id = 1;
	return q;
}

static void queued_free(struct queued *r)
{
	free(r->key);
	free(r->endpoint);
	free(r->prefix);
	free(r->message);
	free(r->payload);
	free(r->detail);
	free(r);
}

void queue_free(struct queue *q)
{
	struct queued *r, *rt;
	struct devq *d, *dt;
	if(!q) return;
	HASH_ITER(hh, q->by_id, r, rt){
		HASH_DEL(q->by_id, r);
		queued_free(r);
	}
	HASH_ITER(hh, q->devs, d, dt){
		HASH_DEL(q->devs, d);
		free(d->key);
		free(d);
	}
	free(q);
}

/* ---- persistence and events ---- */

static void persist(struct queue *q, const struct queued *r)
{
	struct stored_request s = {
		.id = r->id, .key = r->key, .endpoint = r->endpoint, .prefix = r->prefix,
		.kind = (int)r->kind, .message = r->message, .message_len = r->message_len,
		.state = (int)r->state, .created_wall_ms = r->created_wall_ms,
		.updated_wall_ms = r->updated_wall_ms, .result = r->result,
		.content_format = r->content_format, .payload = r->payload,
		.payload_len = r->payload_len, .detail = r->detail,
	};
	store_put_request(q->c->store, &s);
}

static json_t *request_json(const struct queue *q, const struct queued *r)
{
	json_t *j = json_object();
	char why[LWM2M_ERROR_MSG_MAX + 64];

	if(!j) return NULL;
	json_object_set_new(j, "id", json_integer(r->id));
	json_object_set_new(j, "endpoint", json_string(r->endpoint));
	json_object_set_new(j, "operation", json_string(op_kind_name(r->kind)));
	json_object_set_new(j, "state", json_string(queue_state_name(r->state)));
	json_object_set_new(j, "created", json_integer(r->created_wall_ms));
	json_object_set_new(j, "updated", json_integer(r->updated_wall_ms));
	if(r->detail) json_object_set_new(j, "detail", json_string(r->detail));
	if(r->state == QUEUE_DONE){
		json_object_set_new(j, "code", json_integer(r->result));
		json_object_set_new(j, "status", json_string(op_result_name(r->result)));
		json_object_set_new(j, "success", json_boolean(r->result / 100 == 2));
		if(r->content_format >= 0){
			json_t *values = values_to_json(q->c->model, (uint16_t)r->content_format, r->payload,
					r->payload_len, r->uri[0] ? r->uri : NULL, why, sizeof(why));
			json_object_set_new(j, "contentFormat", json_integer(r->content_format));
			if(values) json_object_set_new(j, r->content_format == 40 ? "links" : "values", values);
			else json_object_set_new(j, "decodeError", json_string(why));
		}
	}
	return j;
}

static void changed(struct queue *q, struct queued *r, enum queue_state state)
{
	r->state = state;
	r->updated_wall_ms = core_now_wall_ms();
	persist(q, r);
	events_emit(q->c->events, "REQUEST", r->endpoint, request_json(q, r));
}

/* ---- per-device FIFO ---- */

static struct devq *devq_get(struct queue *q, const char *key, bool create)
{
	struct devq *d = NULL;
	HASH_FIND_STR(q->devs, key, d);
	if(d || !create) return d;
	d = calloc(1, sizeof(*d));
	if(!d || !(d->key = strdup(key))){
		free(d);
		return NULL;
	}
	HASH_ADD_KEYPTR(hh, q->devs, d->key, strlen(d->key), d);
	return d;
}

static void devq_push(struct devq *d, struct queued *r)
{
	r->next = NULL;
	if(d->tail) d->tail->next = r;
	else d->head = r;
	d->tail = r;
	d->count++;
}

static struct queued *devq_pop(struct devq *d)
{
	struct queued *r = d->head;
	if(!r) return NULL;
	d->head = r->next;
	if(!d->head) d->tail = NULL;
	d->count--;
	r->next = NULL;
	return r;
}

/* Forget the oldest finished requests beyond what is kept. */
static void prune_finished(struct queue *q)
{
	struct queued *r, *tmp;
	if(q->finished <= MAX_FINISHED_KEPT) return;
	HASH_ITER(hh, q->by_id, r, tmp){
		if(r->state >= QUEUE_DONE){
			HASH_DEL(q->by_id, r);
			store_delete_request(q->c->store, r->id);
			queued_free(r);
			if(--q->finished <= MAX_FINISHED_KEPT) break;
		}
	}
}

static void finish(struct queue *q, struct queued *r, enum queue_state state)
{
	changed(q, r, state);
	q->finished++;
	prune_finished(q);
}

/* ---- delivery ---- */

static void deliver_next(struct queue *q, struct devq *d);

static void on_answer(void *ctx, const struct api_result *res)
{
	struct queued *r = ctx;
	struct queue *q = r->q;
	struct devq *d = devq_get(q, r->key, false);

	switch(res->outcome){
		case API_ANSWERED:
			r->result = res->result;
			r->content_format = res->has_ct ? res->content_format : -1;
			if(res->payload_len && (r->payload = malloc(res->payload_len)) != NULL){
				memcpy(r->payload, res->payload, res->payload_len);
				r->payload_len = res->payload_len;
			}
			finish(q, r, QUEUE_DONE);
			break;
		case API_TIMEOUT:
			r->detail = strdup("the device did not answer in time");
			finish(q, r, QUEUE_FAILED);
			break;
		case API_BAD_RESPONSE:
			r->detail = strdup(res->detail ? res->detail : "malformed answer");
			finish(q, r, QUEUE_FAILED);
			break;
		case API_GONE:
			r->detail = strdup("the device's registration ended");
			finish(q, r, QUEUE_EXPIRED);
			break;
	}
	if(d){
		d->in_flight = false;
		if(res->outcome != API_GONE) deliver_next(q, d);
	}
}

static bool too_old(const struct queue *q, const struct queued *r)
{
	return core_now_wall_ms() - r->created_wall_ms > (int64_t)q->c->cfg->queue_max_age_s * 1000;
}

static void deliver_next(struct queue *q, struct devq *d)
{
	const struct registration *reg;
	struct queued *r;

	while(!d->in_flight && d->head){
		reg = registry_find(q->c->registry, d->head->prefix, d->head->endpoint);
		if(!reg || !core_device_awake(q->c, reg)) return;
		r = devq_pop(d);
		if(too_old(q, r)){
			r->detail = strdup("older than plugin_opt_queue_max_age");
			finish(q, r, QUEUE_EXPIRED);
			continue;
		}
		if(exchange_send_encoded(q->c->exchange, reg, r->kind, r->token, r->message, r->message_len,
					q->c->cfg->request_timeout_s * 1000u, on_answer, r) < 0){
			r->detail = strdup("could not be sent");
			finish(q, r, QUEUE_FAILED);
			continue;
		}
		d->in_flight = true;
		changed(q, r, QUEUE_SENT);
	}
}

void queue_device_awake(struct queue *q, const char *key)
{
	struct devq *d = devq_get(q, key, false);
	if(d) deliver_next(q, d);
}

void queue_endpoint_gone(struct queue *q, const char *key)
{
	struct devq *d = devq_get(q, key, false);
	struct queued *r;

	if(!d) return;
	while((r = devq_pop(d)) != NULL){
		r->detail = strdup("the device's registration ended");
		finish(q, r, QUEUE_EXPIRED);
	}
}

void queue_expire_old(struct queue *q)
{
	struct devq *d, *dt;
	HASH_ITER(hh, q->devs, d, dt){
		while(d->head && too_old(q, d->head)){
			struct queued *r = devq_pop(d);
			r->detail = strdup("older than plugin_opt_queue_max_age");
			finish(q, r, QUEUE_EXPIRED);
		}
	}
}

bool queue_busy(struct queue *q, const char *key)
{
	struct devq *d = devq_get(q, key, false);
	return d && (d->count > 0 || d->in_flight);
}

size_t queue_waiting_count(const struct queue *q)
{
	size_t n = 0;
	const struct devq *d;
	for(d = q->devs; d; d = d->hh.next) n += d->count;
	return n;
}

/* ---- adding ---- */

static void set_uri(struct queued *r, const struct lwm2m_op *op)
{
	size_t n = (op->fields & LWM2M_F_URI) ? op->uri.len : 0;
	if(n >= sizeof(r->uri)) n = 0;
	memcpy(r->uri, op->uri.ptr, n);
	r->uri[n] = '\0';
}

static struct queued *queued_new(struct queue *q, const char *key, const char *endpoint,
		const char *prefix, const uint8_t *msg, size_t len)
{
	struct queued *r = calloc(1, sizeof(*r));
	if(!r) return NULL;
	r->q = q;
	r->content_format = -1;
	r->key = strdup(key);
	r->endpoint = strdup(endpoint);
	r->prefix = prefix ? strdup(prefix) : NULL;
	r->message = malloc(len ? len : 1);
	if(!r->key || !r->endpoint || (prefix && !r->prefix) || !r->message){
		queued_free(r);
		return NULL;
	}
	memcpy(r->message, msg, len);
	r->message_len = len;
	return r;
}

int64_t core_api_enqueue(struct core *c, const struct api_request *req, char *why, size_t why_size)
{
	struct queue *q = c->queue;
	const struct registration *reg = registry_find(c->registry, req->prefix, req->endpoint);
	struct lwm2m_op op = req->op;
	struct lwm2m_buf msg;
	struct queued *r;
	struct devq *d;
	int rc;

	if(!reg) return -LWM2M_ENOENT;
	d = devq_get(q, reg->key, true);
	if(!d) return -LWM2M_ENOMEM;
	if(d->count >= c->cfg->queue_max_length){
		snprintf(why, why_size, "%zu requests already queued for this device (plugin_opt_queue_max_length)", d->count);
		return -LWM2M_EFULL;
	}
	buf_init(&msg, 0);
	rc = exchange_encode(c->exchange, &op, &msg, why, why_size);
	r = rc ? NULL : queued_new(q, reg->key, reg->endpoint, reg->prefix, msg.data, msg.len);
	buf_free(&msg);
	if(rc) return rc;
	if(!r) return -LWM2M_ENOMEM;
	r->id = q->next_id++;
	r->kind = op.kind;
	r->token = op.token;
	set_uri(r, &op);
	r->created_wall_ms = core_now_wall_ms();
	HASH_ADD(hh, q->by_id, id, sizeof(r->id), r);
	devq_push(d, r);
	changed(q, r, QUEUE_WAITING);
	store_set_u64(c->store, "next_request_id", (uint64_t)q->next_id);
	deliver_next(q, d);   /* it may have woken meanwhile */
	store_flush(c->store);   /* the 202 leaves at once, before the end of this turn: commit first */
	return r->id;
}

json_t *core_api_request_json(struct core *c, int64_t id)
{
	struct queued *r = NULL;
	HASH_FIND(hh, c->queue->by_id, &id, sizeof(id), r);
	return r ? request_json(c->queue, r) : NULL;
}

/* ---- restart ---- */

static void restore_one(void *ctx, const struct stored_request *s)
{
	struct queue *q = ctx;
	struct queued *r = queued_new(q, s->key, s->endpoint, s->prefix, s->message, s->message_len);
	struct lwm2m_op op;
	struct devq *d;

	if(!r) return;
	r->id = s->id;
	r->kind = (enum lwm2m_op_kind)s->kind;
	r->state = (enum queue_state)s->state;
	r->created_wall_ms = s->created_wall_ms;
	r->updated_wall_ms = s->updated_wall_ms;
	r->result = (uint16_t)s->result;
	r->content_format = s->content_format;
	if(s->detail) r->detail = strdup(s->detail);
	if(s->payload_len && (r->payload = malloc(s->payload_len)) != NULL){
		memcpy(r->payload, s->payload, s->payload_len);
		r->payload_len = s->payload_len;
	}
	/* The token travels inside the stored message: resending it lets the device recognise
	 * a request it already answered before the restart. */
	if(mqtt_codec_decode(r->message, r->message_len, LWM2M_IFACE_RD, NULL, &op, NULL) == 0){
		r->token = op.token;
		set_uri(r, &op);
	}
	HASH_ADD(hh, q->by_id, id, sizeof(r->id), r);
	if(r->id >= q->next_id) q->next_id = r->id + 1;
	if(r->state == QUEUE_SENT) r->state = QUEUE_WAITING;
	if(r->state == QUEUE_WAITING && (d = devq_get(q, r->key, true)) != NULL){
		devq_push(d, r);
	}else{
		q->finished++;
	}
}

int queue_restore(struct queue *q)
{
	struct lwm2m_error err;
	if(!q->c->store) return 0;
	q->next_id = (int64_t)store_get_u64(q->c->store, "next_request_id", 1);
	return store_load_requests(q->c->store, restore_one, q, &err);
}
