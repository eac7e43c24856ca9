/* Durable state in SQLite (WAL mode): registrations and the token counter survive a broker
 * restart. Writes are batched: the first write of a loop turn opens a transaction and
 * store_flush() at the end of the turn commits it, so the core never waits on one fsync per
 * message. Core thread only. */
#ifndef CORE_STORE_H
#define CORE_STORE_H

#include <stdint.h>

#include "registry.h"
#include "../util/lwm2m_err.h"

struct store;

int store_open(const char *path, struct store **out, struct lwm2m_error *err);
void store_close(struct store *s);        /* commits what is pending; accepts NULL */

/* Registration written as it is now; expires_wall_ms is when it will expire (0 = never). */
void store_put_registration(struct store *s, const struct registration *reg, int64_t expires_wall_ms);
void store_delete_registration(struct store *s, const char *key);

struct stored_registration {
	struct reg_params params;
	int64_t registered_wall_ms;
	int64_t updated_wall_ms;
	int64_t expires_wall_ms;   /* 0 = never */
};

/* Calls fn for every stored registration; the strings live during the call only. */
int store_load_registrations(struct store *s,
		void (*fn)(void *ctx, const struct stored_registration *r), void *ctx, struct lwm2m_error *err);

/* Requests queued for sleeping devices, with their outcome once known. */
struct stored_request {
	int64_t id;
	const char *key;           /* registration key "prefix/endpoint" */
	const char *endpoint;
	const char *prefix;        /* NULL = none */
	int kind;                  /* enum lwm2m_op_kind */
	const uint8_t *message;    /* the MQTT request as encoded when queued */
	size_t message_len;
	int state;                 /* enum queue_state (core/queue.h) */
	int64_t created_wall_ms;
	int64_t updated_wall_ms;
	int result;                /* c*100+dd, 0 = none yet */
	int content_format;        /* -1 = none */
	const uint8_t *payload;
	size_t payload_len;
	const char *detail;        /* why it failed, NULL = nothing to say */
};
void store_put_request(struct store *s, const struct stored_request *r);
void store_delete_request(struct store *s, int64_t id);
int store_load_requests(struct store *s, void (*fn)(void *ctx, const struct stored_request *r),
		void *ctx, struct lwm2m_error *err);

/* Send data (op 24 / POST /dp), kept before it is acknowledged. Returns the id (> 0), or
 * a negative error. */
int64_t store_put_send(struct store *s, const char *endpoint, const char *prefix, int64_t received_wall_ms,
		uint16_t content_format, const uint8_t *payload, size_t len);
struct stored_send {
	int64_t id;
	const char *endpoint;
	const char *prefix;
	int64_t received_wall_ms;
	uint16_t content_format;
	const uint8_t *payload;
	size_t payload_len;
};
/* Sends with id > since (of one endpoint, or all when endpoint is NULL), oldest first. */
int store_list_sends(struct store *s, const char *endpoint, int64_t since, unsigned limit,
		void (*fn)(void *ctx, const struct stored_send *r), void *ctx);
/* Forget Send data received before `before_wall_ms`. */
void store_prune_sends(struct store *s, int64_t before_wall_ms);

void store_set_u64(struct store *s, const char *name, uint64_t v);
uint64_t store_get_u64(struct store *s, const char *name, uint64_t def);

/* Run WAL checkpoints on loop's thread pool instead of inside commits (core thread). */
struct uv_loop_s;
void store_set_loop(struct store *s, struct uv_loop_s *loop);

/* Commit the transaction of this loop turn (no-op when nothing was written). */
int store_flush(struct store *s);

/* Statistics for /api/status. */
uint64_t store_commits(const struct store *s);
uint64_t store_errors(const struct store *s);

#endif
