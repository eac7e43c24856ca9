/* The core's private state, shared by the files of core/ only. Everything here is touched
 * on the core thread alone, except the mailboxes, the stats and ring_pending. */
#ifndef CORE_CORE_INTERNAL_H
#define CORE_CORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <uv.h>

#include "core.h"
#include "api.h"
#include "registry.h"
#include "../objects/model.h"
#include "../binding/mqtt_codec.h"
#include "../binding/op.h"

struct exchange;
struct events;
struct store;
struct queue;

struct core {
	const struct lwm2m_config *cfg;     /* owned by the plugin; outlives the core */
	struct core_edges edges;
	struct mailbox inbox;               /* struct core_in, broker -> core */
	struct mailbox outbox;              /* struct core_out, core -> broker */
	struct mailbox_item *turn_head;     /* output of the current loop turn, released */
	struct mailbox_item *turn_tail;     /*   to the outbox after the turn's commit */
	atomic_bool ring_pending;
	atomic_bool stopping;
	struct core_stats stats;

	pthread_t thread;
	bool thread_running;
	bool loop_done;                     /* the loop ran and closed all its handles */
	uv_loop_t loop;
	uv_async_t wake;
	uv_timer_t expiry_timer;

	struct registry *registry;
	struct store *store;                /* NULL without plugin_opt_state_db */
	uv_prepare_t turn_prepare;          /* end of a loop turn: ring, commit */
	uv_check_t turn_check;
	uint64_t token_saved;               /* tokens below this are reserved in the store */
	struct exchange *exchange;
	struct queue *queue;
	uv_timer_t queue_timer;             /* expires old queued requests */
	struct events *events;
	struct obj_registry *model;
	struct mqtt_codec_limits limits;
	struct core_listener listener;      /* the forwarder's hooks; zeroed when none */
	struct core_downlink http_downlink; /* the HTTP binding's client; send NULL when none */
	struct endpoints *endpoints;        /* plugin_opt_endpoints_file, owned; NULL = none */
	struct bootstrap *bootstrap;        /* the Bootstrap-Server role */
};

uint64_t core_now_mono_ms(void);
int64_t core_now_wall_ms(void);

/* Queue a publish for the broker thread (core thread). */
void core_publish(struct core *c, const char *topic, const uint8_t *payload, size_t len, int qos);


/* Persist a registration as it is now / its removal (no-ops without a store). */
void core_store_registration(struct core *c, const struct registration *reg);
void core_store_removal(struct core *c, const char *key);

/* Whether a request can go to the device now: connected, and for a queue-mode device,
 * heard from within plugin_opt_queue_awake_window. */
bool core_device_awake(const struct core *c, const struct registration *reg);

/* The expiry timer's callback (core.c). */
void core_on_expiry_timer(uv_timer_t *t);

/* router.c: handle one inbox message. */
void router_handle(struct core *c, struct core_in *m);
/* router.c: expire due registrations and re-arm the timer. */
void router_expire(struct core *c);

#endif
