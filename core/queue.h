/* Requests for sleeping or offline devices: kept (and persisted) until the device is heard
 * from, then delivered in order, one at a time, each with its own timeout. Private to core/. */
#ifndef CORE_QUEUE_H
#define CORE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum queue_state {
	QUEUE_WAITING = 0,   /* waiting for the device to wake */
	QUEUE_SENT,          /* delivered, waiting for the answer */
	QUEUE_DONE,          /* answered (result holds the device's code) */
	QUEUE_FAILED,        /* timed out or the answer was malformed */
	QUEUE_EXPIRED,       /* older than plugin_opt_queue_max_age, or the device de-registered */
};

struct core;
struct queue;

struct queue *queue_new(struct core *c);
void queue_free(struct queue *q);
/* Reload from the store (requests that were in flight are sent again, same token). */
int queue_restore(struct queue *q);
/* The device behind `key` was heard from: deliver the next queued request. */
void queue_device_awake(struct queue *q, const char *key);
/* The registration ended: its waiting requests expire. */
void queue_endpoint_gone(struct queue *q, const char *key);
/* Expire requests older than the maximum age (called from a timer). */
void queue_expire_old(struct queue *q);
size_t queue_waiting_count(const struct queue *q);
/* True while the device behind `key` has queued requests waiting or one in flight: a new
 * request must queue behind them, to keep the order. */
bool queue_busy(struct queue *q, const char *key);
const char *queue_state_name(enum queue_state s);

#endif
