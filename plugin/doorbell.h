/* The doorbell: the core thread's own MQTT connection to the broker. A 2-byte PINGREQ on
 * it makes the broker's loop wake up, run TICK and publish what the core queued - the
 * broker API offers no other way to wake its loop from another thread.
 * Used on the core thread only; never calls mosquitto_*. */
#ifndef PLUGIN_DOORBELL_H
#define PLUGIN_DOORBELL_H

#include <stdbool.h>
#include <stdint.h>

#include "../conf/options.h"

struct core;

struct doorbell {
	struct conf_addr addr;
	int fd;                     /* -1 when not connected */
	char client_id[48];         /* "lwm2m-doorbell-<random>" */
	char username[48];
	char password[48];          /* random per start; checked by the plugin's auth callback */
	uint64_t last_warning_ms;
	uint64_t retry_at_ms;       /* no connection attempt before this (0 = now) */
	uint64_t backoff_ms;
	uint64_t rings;
	uint64_t reconnects;
	struct core *core;          /* for log lines */
};

/* Fill credentials from /dev/urandom; false when no random bytes could be read. */
bool doorbell_init(struct doorbell *d, const struct conf_addr *addr);
void doorbell_ring(struct doorbell *d);
void doorbell_close(struct doorbell *d);

#endif
