/* The core: all LwM2M state, on its own thread with a libuv loop.
 *
 * The broker thread hands device messages in through core_post() (a bounded inbox) and
 * takes what the core wants published or logged with core_take_outbox() (a bounded
 * outbox). The core never calls into the broker: it asks the edge to ring the doorbell,
 * which makes the broker run its loop (and TICK) at once. */
#ifndef CORE_CORE_H
#define CORE_CORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "mailbox.h"
#include "../conf/options.h"
#include "../util/lwm2m_err.h"

enum core_in_kind {
	CORE_IN_MQTT_MESSAGE = 0,   /* a PUBLISH on an LwM2M topic */
	CORE_IN_CLIENT_GONE,        /* a client disconnected */
	CORE_IN_CLIENT_SEEN,        /* a client showed activity (subscribe) */
};

/* One allocation: the struct followed by its strings and payload. */
struct core_in {
	struct mailbox_item link;
	enum core_in_kind kind;
	const char *client_id;
	const char *identity;       /* endpoint name the client is bound to (NULL: any) */
	const char *topic;
	const uint8_t *payload;
	size_t payload_len;
};

enum core_out_kind {
	CORE_OUT_PUBLISH = 0,
	CORE_OUT_LOG,
};

enum core_log_level {
	CORE_LOG_DEBUG = 0,
	CORE_LOG_INFO,
	CORE_LOG_NOTICE,
	CORE_LOG_WARNING,
	CORE_LOG_ERR,
};

/* One allocation: the struct followed by topic/text and payload. */
struct core_out {
	struct mailbox_item link;
	enum core_out_kind kind;
	enum core_log_level level;  /* CORE_OUT_LOG */
	const char *text;           /* topic (PUBLISH) or log line (LOG) */
	const uint8_t *payload;
	size_t payload_len;
	int qos;
};

/* What the core asks of the edge that hosts it. Called on the core thread. */
struct core_edges {
	void *ctx;
	/* Make the broker drain the outbox soon. */
	void (*ring)(void *ctx);
	/* Called once on the core thread before its loop starts / after it ends. */
	void (*thread_start)(void *ctx);
	void (*thread_stop)(void *ctx);
};

struct core_stats {
	atomic_uint_fast64_t received;        /* device messages taken from the inbox */
	atomic_uint_fast64_t published;       /* messages handed to the outbox */
	atomic_uint_fast64_t inbox_dropped;   /* inbox full */
	atomic_uint_fast64_t outbox_dropped;  /* outbox full */
	atomic_uint_fast64_t refused;         /* malformed or forbidden requests answered with 4.xx */
	atomic_uint_fast64_t ignored;         /* messages dropped without an answer */
	atomic_uint_fast64_t registrations;   /* current count */
	atomic_uint_fast64_t core_busy_ns;    /* time spent handling messages */
	atomic_uint_fast64_t requests;        /* requests sent to devices */
	atomic_uint_fast64_t timeouts;        /* of which unanswered in time */
};

struct core;

struct core *core_new(const struct lwm2m_config *cfg, const struct core_edges *edges,
		struct lwm2m_error *err);
/* Starts the core thread (all signals blocked in it). */
int core_start(struct core *c, struct lwm2m_error *err);
/* Stops and joins the thread; everything queued is freed. */
void core_stop(struct core *c);
void core_free(struct core *c);

/* Broker thread: build an inbox message (one allocation, strings copied). */
struct core_in *core_in_new(enum core_in_kind kind, const char *client_id, const char *identity,
		const char *topic, const void *payload, size_t payload_len);
void core_in_free(struct core_in *m);
/* Broker thread: queue a message for the core; false (message not taken) when full. */
bool core_post(struct core *c, struct core_in *m);

/* Broker thread: take everything the core produced, oldest first. */
struct core_out *core_take_outbox(struct core *c);
void core_out_free(struct core_out *o);
/* Broker thread: call before draining, so a ring after the drain is not lost. */
void core_ring_clear(struct core *c);

const struct core_stats *core_stats(const struct core *c);

/* Core thread (the core and the edges it drives): queue a log line for the broker thread
 * to write. Debug lines only with plugin_opt_debug. */
void core_log(struct core *c, enum core_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
