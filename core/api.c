#include "api.h"
#include "bootstrap.h"
#include "../conf/endpoints.h"
#include "core_internal.h"
#include "events.h"
#include "exchange.h"
#include "store.h"
#include "values.h"

#include <string.h>

int64_t core_api_watch(struct core *c, api_event_fn fn, void *ctx)
{
	return events_watch(c->events, fn, ctx);
}

void core_api_unwatch(struct core *c, int64_t handle)
{
	events_unwatch(c->events, handle);
}

void core_api_emit(struct core *c, const char *type, const char *endpoint, json_t *data)
{
	events_emit(c->events, type, endpoint, data);
}

void core_api_set_listener(struct core *c, const struct core_listener *l)
{
	if(l) c->listener = *l;
	else memset(&c->listener, 0, sizeof(c->listener));
}

json_t *core_api_registration_json(struct core *c, const struct registration *reg)
{
	json_t *j = events_registration_json(reg, true);
	if(j && c->listener.describe) c->listener.describe(c->listener.ctx, reg, j);
	return j;
}

bool core_api_device_awake(struct core *c, const struct registration *reg)
{
	return core_device_awake(c, reg);
}

struct registry *core_api_registry(struct core *c)
{
	return c->registry;
}

const struct obj_registry *core_api_model(struct core *c)
{
	return c->model;
}

const struct lwm2m_config *core_api_config(struct core *c)
{
	return c->cfg;
}

struct uv_loop_s *core_api_loop(struct core *c)
{
	return &c->loop;
}

static json_t *u64(atomic_uint_fast64_t *v)
{
	return json_integer((json_int_t)atomic_load(v));
}

json_t *core_api_status(struct core *c)
{
	json_t *j = json_object();
	if(!j) return NULL;
	json_object_set_new(j, "devices", json_integer((json_int_t)registry_count(c->registry)));
	json_object_set_new(j, "pendingRequests", json_integer((json_int_t)exchange_pending_count(c->exchange)));
	json_object_set_new(j, "observations", json_integer((json_int_t)exchange_observation_count(c->exchange)));
	json_object_set_new(j, "messagesReceived", u64(&c->stats.received));
	json_object_set_new(j, "messagesPublished", u64(&c->stats.published));
	json_object_set_new(j, "requestsSent", u64(&c->stats.requests));
	json_object_set_new(j, "requestTimeouts", u64(&c->stats.timeouts));
	json_object_set_new(j, "refused", u64(&c->stats.refused));
	json_object_set_new(j, "dropped", u64(&c->stats.ignored));
	json_object_set_new(j, "inboxDropped", u64(&c->stats.inbox_dropped));
	json_object_set_new(j, "outboxDropped", u64(&c->stats.outbox_dropped));
	json_object_set_new(j, "inboxDepth", json_integer((json_int_t)mailbox_count(&c->inbox)));
	json_object_set_new(j, "outboxDepth", json_integer((json_int_t)mailbox_count(&c->outbox)));
	json_object_set_new(j, "inboxHighWater", json_integer((json_int_t)mailbox_high_water(&c->inbox)));
	return j;
}

struct sends_ctx {
	struct core *c;
	json_t *items;
	int64_t last;
};

static void add_send(void *ctx, const struct stored_send *r)
{
	struct sends_ctx *sc = ctx;
	char why[LWM2M_ERROR_MSG_MAX + 64];
	json_t *item = json_object(), *values;

	if(!item) return;
	json_object_set_new(item, "id", json_integer(r->id));
	json_object_set_new(item, "ep", json_string(r->endpoint));
	if(r->prefix) json_object_set_new(item, "prefix", json_string(r->prefix));
	json_object_set_new(item, "time", json_integer(r->received_wall_ms));
	json_object_set_new(item, "contentFormat", json_integer(r->content_format));
	values = values_to_json(sc->c->model, r->content_format, r->payload, r->payload_len, NULL, why, sizeof(why));
	if(values) json_object_set_new(item, "values", values);
	else json_object_set_new(item, "decodeError", json_string(why));
	json_array_append_new(sc->items, item);
	sc->last = r->id;
}

json_t *core_api_sends_json(struct core *c, const char *endpoint, int64_t since, unsigned limit, int *rc)
{
	struct sends_ctx sc = { c, json_array(), since };

	if(!c->store){
		json_decref(sc.items);
		*rc = -LWM2M_ENOTSUP;
		return NULL;
	}
	*rc = store_list_sends(c->store, endpoint, since, limit, add_send, &sc);
	if(*rc){
		json_decref(sc.items);
		return NULL;
	}
	return json_pack("{s:o, s:I}", "items", sc.items, "next", (json_int_t)sc.last);
}

int core_api_each_send(struct core *c, const char *endpoint, int64_t since, unsigned limit,
		void (*fn)(void *ctx, const struct stored_send *r), void *ctx)
{
	if(!c->store) return -LWM2M_ENOTSUP;
	return store_list_sends(c->store, endpoint, since, limit, fn, ctx);
}

void core_api_set_u64(struct core *c, const char *name, uint64_t v)
{
	if(c->store) store_set_u64(c->store, name, v);
}

uint64_t core_api_get_u64(struct core *c, const char *name, uint64_t def)
{
	return c->store ? store_get_u64(c->store, name, def) : def;
}

void core_api_set_endpoints(struct core *c, struct endpoints *eps)
{
	endpoints_free(c->endpoints);
	c->endpoints = eps;
	if(c->bootstrap) bootstrap_set_endpoints(c->bootstrap, eps);
}

const struct endpoints *core_api_endpoints(struct core *c)
{
	return c->endpoints;
}

int core_api_reload_endpoints(struct core *c, struct lwm2m_error *err)
{
	struct endpoints *eps;

	if(!c->cfg->endpoints_file){
		return lwm2m_fail(err, LWM2M_ENOENT, -1, "plugin_opt_endpoints_file is not set");
	}
	eps = endpoints_load_file(c->cfg->endpoints_file, c->model, err);
	if(!eps) return -(err ? err->code : LWM2M_EINVAL);
	core_api_set_endpoints(c, eps);
	core_log(c, CORE_LOG_INFO, "lwm2m: %s re-read: %zu entries", c->cfg->endpoints_file, endpoints_count(eps));
	return 0;
}

json_t *core_api_bootstrap_sessions(struct core *c)
{
	return bootstrap_sessions_json(c->bootstrap);
}
