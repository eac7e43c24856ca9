/* Registrations: who is registered, with what parameters, until when.
 *
 * Pure bookkeeping driven by an explicit clock (monotonic milliseconds), so lifetimes are
 * tested with a fake clock. Keyed by (prefix, endpoint); an index by expiry time (binary
 * heap) gives the next registration to expire in O(1). */
#ifndef CORE_REGISTRY_H
#define CORE_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <uthash.h>

#include "../util/lwm2m_err.h"

#define REG_NO_EXPIRY UINT64_MAX

/* What a Register or Update says; a NULL string or !has_lifetime = "not given". */
struct reg_params {
	const char *prefix;          /* NULL = no topic prefix */
	const char *endpoint;
	const char *client_id;       /* the MQTT client that sent it (for online tracking) */
	const char *transport;       /* "mqtt", "http" */
	const char *reg_id;          /* HTTP: the registration id of /rd/{id} (Register); NULL = none */
	bool has_lifetime;
	uint64_t lifetime;           /* seconds; 0 = never expires */
	const char *version;
	const char *binding;
	const char *sms;
	const char *links;           /* CoRE link-format object list, NULL = unchanged */
	size_t links_len;
};

struct registration {
	UT_hash_handle hh;
	UT_hash_handle hh_id;        /* by reg_id, HTTP registrations only */
	char *key;                   /* "prefix/endpoint" or "/endpoint" */
	char *prefix;                /* NULL when none */
	char *endpoint;
	char *client_id;
	char *transport;
	char *reg_id;                /* HTTP: 32 hex digits; NULL for MQTT devices */
	char *version;
	char *binding;
	char *sms;
	char *links;                 /* NUL-terminated; may be "" */
	uint64_t lifetime;
	int64_t registered_wall_ms;  /* Unix time of Register */
	int64_t updated_wall_ms;     /* Unix time of the last Register/Update */
	uint64_t expires_mono_ms;    /* REG_NO_EXPIRY for lifetime 0 */
	size_t heap_index;
	bool online;
	bool queue_mode;             /* binding contains Q */
	uint64_t last_uplink_mono_ms;  /* when the device last sent anything */
	uint64_t rate_window_ms;     /* start of the current rate-limit window */
	uint32_t rate_count;
};

struct registry;

/* The key of a registration: "prefix/endpoint", or "/endpoint" without prefix (a prefix has
 * no '/'). malloc'd; NULL when out of memory. */
char *registry_key(const char *prefix, const char *endpoint);

/* grace_ms: added to every lifetime before expiry; max: most registrations kept. */
struct registry *registry_new(uint64_t grace_ms, size_t max);
void registry_free(struct registry *r);

/* Register (replacing any registration of the same (prefix, endpoint): *replaced = true).
 * -LWM2M_EFULL when `max` registrations exist already. */
int registry_register(struct registry *r, const struct reg_params *p, uint64_t now_mono_ms,
		int64_t now_wall_ms, struct registration **out, bool *replaced);
/* Update the given fields; -LWM2M_ENOENT when not registered. */
int registry_update(struct registry *r, const struct reg_params *p, uint64_t now_mono_ms,
		int64_t now_wall_ms, struct registration **out);
/* Put back a registration read from the store, with its times; it starts offline. */
int registry_restore(struct registry *r, const struct reg_params *p, int64_t registered_wall_ms,
		int64_t updated_wall_ms, uint64_t expires_mono_ms);
/* Remove and free; -LWM2M_ENOENT when not registered. */
int registry_deregister(struct registry *r, const char *prefix, const char *endpoint);

struct registration *registry_find(const struct registry *r, const char *prefix, const char *endpoint);
/* An HTTP registration by its id (/rd/{id}); NULL when unknown. */
struct registration *registry_find_id(const struct registry *r, const char *reg_id);
size_t registry_count(const struct registry *r);

/* Monotonic time of the next expiry, REG_NO_EXPIRY when none. */
uint64_t registry_next_expiry(const struct registry *r);
/* Removes the first registration whose expiry is <= now and returns it (the caller frees it
 * with registration_free); NULL when none is due. */
struct registration *registry_pop_expired(struct registry *r, uint64_t now_mono_ms);
void registration_free(struct registration *reg);

/* Record that reg now talks through MQTT client `client_id`. */
int registry_set_client(struct registry *r, struct registration *reg, const char *client_id);
/* The registrations of a client: *regs points into the registry (valid until it changes). */
size_t registry_client_registrations(const struct registry *r, const char *client_id,
		struct registration ***regs);
/* Mark every registration of a client online/offline; returns how many changed. */
size_t registry_set_client_online(struct registry *r, const char *client_id, bool online);

/* Counts one Register/Update in a one-minute window; false when it exceeds `per_minute`. */
bool registry_rate_ok(struct registration *reg, uint32_t per_minute, uint64_t now_mono_ms);

/* Iterate: for(reg = registry_first(r); reg; reg = reg->hh.next) */
struct registration *registry_first(const struct registry *r);

#endif
