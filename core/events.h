/* Event fan-out to watchers (SSE clients): private to core/. */
#ifndef CORE_EVENTS_H
#define CORE_EVENTS_H

#include <jansson.h>

#include "api.h"

struct events;

struct events *events_new(void);
void events_free(struct events *e);
int64_t events_watch(struct events *e, api_event_fn fn, void *ctx);
void events_unwatch(struct events *e, int64_t handle);
/* Emits `data` (reference stolen; NULL = {}) as event `type` for `endpoint`. */
void events_emit(struct events *e, const char *type, const char *endpoint, json_t *data);
/* Registration JSON shared by events and GET /api/clients. */
json_t *events_registration_json(const struct registration *reg, bool with_links);

#endif
