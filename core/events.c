#include "events.h"
#include "../objects/link_format.h"

#include <stdlib.h>
#include <string.h>

struct watcher {
	int64_t handle;
	api_event_fn fn;
	void *ctx;
	bool removed;
};

struct events {
	struct watcher *w;
	size_t n, cap;
	int64_t next_handle;
	unsigned emitting;      /* nesting depth of events_emit: removal is deferred meanwhile */
};

struct events *events_new(void)
{
	struct events *e = calloc(1, sizeof(*e));
	if(e) e->next_handle = 1;
	return e;
}

void events_free(struct events *e)
{
	if(!e) return;
	free(e->w);
	free(e);
}

int64_t events_watch(struct events *e, api_event_fn fn, void *ctx)
{
	if(e->n == e->cap){
		size_t cap = e->cap ? e->cap * 2 : 8;
		struct watcher *w = realloc(e->w, cap * sizeof(*w));
		if(!w) return -LWM2M_ENOMEM;
		e->w = w;
		e->cap = cap;
	}
	e->w[e->n] = (struct watcher){ .handle = e->next_handle++, .fn = fn, .ctx = ctx };
	return e->w[e->n++].handle;
}

static void compact(struct events *e)
{
	size_t j = 0;
	for(size_t i = 0; i < e->n; i++){
		if(!e->w[i].removed) e->w[j++] = e->w[i];
	}
	e->n = j;
}

void events_unwatch(struct events *e, int64_t handle)
{
	for(size_t i = 0; i < e->n; i++){
		if(e->w[i].handle == handle) e->w[i].removed = true;
	}
	if(!e->emitting) compact(e);
}

void events_emit(struct events *e, const char *type, const char *endpoint, json_t *data)
{
	if(!data) data = json_object();
	if(!data) return;
	json_object_set_new(data, "event", json_string(type));
	if(endpoint) json_object_set_new(data, "ep", json_string(endpoint));
	e->emitting++;
	for(size_t i = 0; i < e->n; i++){
		if(!e->w[i].removed) e->w[i].fn(e->w[i].ctx, type, endpoint, data);
	}
	e->emitting--;
	if(!e->emitting) compact(e);
	json_decref(data);
}

static json_t *links_json(const char *links)
{
	struct lf_links parsed;
	json_t *arr = json_array();

	if(!arr || lf_parse(links, strlen(links), NULL, &parsed, NULL) != 0) return arr;
	for(size_t i = 0; i < parsed.count; i++){
		json_t *link = json_object(), *attrs = json_object();
		for(size_t k = 0; k < parsed.items[i].n_attrs; k++){
			const struct lf_attr *a = &parsed.items[i].attrs[k];
			json_object_set_new(attrs, a->name, a->value ? json_string(a->value) : json_null());
		}
		json_object_set_new(link, "url", json_string(parsed.items[i].uri));
		json_object_set_new(link, "attributes", attrs);
		json_array_append_new(arr, link);
	}
	lf_links_free(&parsed);
	return arr;
}

json_t *events_registration_json(const struct registration *reg, bool with_links)
{
	json_t *j = json_object();
	if(!j) return NULL;
	json_object_set_new(j, "endpoint", json_string(reg->endpoint));
	json_object_set_new(j, "prefix", reg->prefix ? json_string(reg->prefix) : json_null());
	json_object_set_new(j, "transport", json_string(reg->transport ? reg->transport : "mqtt"));
	json_object_set_new(j, "lifetime", json_integer((json_int_t)reg->lifetime));
	json_object_set_new(j, "lwm2mVersion", json_string(reg->version ? reg->version : "1.0"));
	json_object_set_new(j, "binding", json_string(reg->binding ? reg->binding : "U"));
	json_object_set_new(j, "queueMode", json_boolean(reg->queue_mode));
	if(reg->sms) json_object_set_new(j, "sms", json_string(reg->sms));
	json_object_set_new(j, "registrationTime", json_integer(reg->registered_wall_ms));
	json_object_set_new(j, "lastUpdate", json_integer(reg->updated_wall_ms));
	json_object_set_new(j, "online", json_boolean(reg->online));
	if(with_links){
		json_object_set_new(j, "objectLinks", links_json(reg->links ? reg->links : ""));
	}
	return j;
}
