/* Requests in flight to devices, and observations: private to core/. */
#ifndef CORE_EXCHANGE_H
#define CORE_EXCHANGE_H

#include <stdbool.h>

#include "api.h"
#include "../binding/op.h"
#include "../util/buf.h"

struct core;
struct exchange;

struct exchange *exchange_new(struct core *c);
/* Fails every pending request with API_GONE (without calling back when stopping). */
void exchange_free(struct exchange *x);

/* A device's result: true when it answered one of our requests. */
bool exchange_on_result(struct exchange *x, const char *key, const struct lwm2m_op *op);
/* A device's result that failed to decode but had a readable token: the pending request
 * (if any) fails with API_BAD_RESPONSE. */
bool exchange_on_bad_result(struct exchange *x, const char *key, uint64_t token, const char *why);
/* A Notify: true when it belongs to a live observation (then an event is emitted). */
bool exchange_on_notify(struct exchange *x, const char *key, const struct lwm2m_op *op);
/* The registration behind `key` ended (de-register, expiry): pending requests fail with
 * API_GONE and its observations end. */
void exchange_endpoint_gone(struct exchange *x, const char *key);
/* The device registered again: its observations are void (Core TS), but requests in flight
 * may still be answered. */
void exchange_observations_gone(struct exchange *x, const char *key);

/* Gives op a fresh token and encodes it as an MQTT request (why: the reason on failure). */
int exchange_encode(struct exchange *x, struct lwm2m_op *op, struct lwm2m_buf *out, char *why, size_t why_size);
/* Publishes an encoded request to the device and waits for the answer to `token`. Returns
 * the handle (the token) or a negative error. */
int64_t exchange_send_encoded(struct exchange *x, const struct registration *reg,
		enum lwm2m_op_kind kind, uint64_t token, const uint8_t *msg, size_t len,
		uint32_t timeout_ms, api_done_fn done, void *ctx);

/* A bootstrap operation (Bootstrap-Write/Read/Discover/Delete/Finish) for a device that need
 * not be registered: on its bs topic for "mqtt", through the HTTP downlink for "http". */
int64_t exchange_send_bootstrap(struct exchange *x, const char *prefix, const char *endpoint,
		const char *transport, const struct lwm2m_op *op, uint32_t timeout_ms, api_done_fn done, void *ctx);

/* The token counter, so a restart never reuses a token a device may still answer. */
uint64_t exchange_next_token(const struct exchange *x);
void exchange_set_next_token(struct exchange *x, uint64_t token);

size_t exchange_pending_count(const struct exchange *x);
size_t exchange_observation_count(const struct exchange *x);

#endif
