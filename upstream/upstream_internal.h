/* The forwarder's private state, shared by the files of upstream/ only. Core thread only:
 * libcoap 4.3.1 is not thread-safe, and every call into it happens on the core loop. */
#ifndef UPSTREAM_UPSTREAM_INTERNAL_H
#define UPSTREAM_UPSTREAM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <coap3/coap.h>
#include <uthash.h>
#include <uv.h>

#include "upstream.h"
#include "../conf/options.h"
#include "../core/api.h"
#include "../util/buf.h"

/* Where a device stands at the upstream server. */
enum up_state {
	UP_IDLE = 0,          /* nothing sent yet (waiting for a slot) */
	UP_REGISTERING,       /* Register in flight */
	UP_REGISTERED,        /* the server has it: location known */
	UP_BACKOFF,           /* the last attempt failed; the next one is timed */
	UP_REFUSED,           /* the server refused it for good (4.03 ...); retried slowly */
	UP_DEREGISTERING,     /* De-register in flight; the device is gone */
};

/* What a device's session should do next, in this order of precedence. */
enum up_want {
	UP_WANT_NOTHING = 0,
	UP_WANT_UPDATE,
	UP_WANT_REGISTER,
	UP_WANT_DEREGISTER,
};

struct endpoints;
struct up_request;
struct up_block1;
struct up_observer;
struct up_send;

struct up_dev {
	UT_hash_handle hh;            /* by key */
	struct upstream *u;
	char *key;                    /* the registration's key "prefix/endpoint" */
	char *endpoint;
	char *prefix;                 /* NULL = none */
	coap_session_t *session;      /* NULL until the first attempt, and after a failure */
	enum up_state state;
	enum up_want want;
	bool update_links;            /* the pending Update carries the object list */
	bool busy;                    /* a registration-interface request is in flight */
	bool waiting;                 /* in the slot queue */
	struct up_dev *wait_next;
	bool gone;                    /* the device's registration ended */
	enum up_want sent_kind;       /* what the request in flight is */
	char location[128];           /* "rd/5a3f" (Location-Path segments joined by '/') */
	unsigned version_idx;         /* index into the fallback list of versions tried */
	uint8_t token[8];             /* of the registration request in flight */
	size_t token_len;
	uint32_t backoff_ms;
	int64_t next_attempt_wall_ms; /* UP_BACKOFF / UP_REFUSED */
	uint16_t last_code;           /* the server's last refusal (c*100+dd), 0 = none */
	char reason[LWM2M_ERROR_MSG_MAX + 64];   /* why the last attempt failed */
	uint64_t lifetime_s;          /* as registered upstream */
	uv_timer_t timer;             /* next Update (registered) or next attempt (backoff) */
	bool timer_open;

	struct up_request *requests;  /* server requests for this device, oldest first */
	struct up_block1 *block1;     /* a large request body being received */
	struct up_observer *observers;
	struct up_send *sends;        /* Send data waiting to go upstream, oldest first */
	struct up_send *sends_tail;
	bool send_busy;               /* a POST /dp is in flight */
	bool send_hold;               /* the last one went unanswered: wait for the registration */
	uint8_t send_token[8];
	size_t send_token_len;
	int64_t send_cursor;          /* the last stored Send id the server accepted */
};

/* One libcoap context with its own epoll fd on the core loop: coap_io_prepare_epoll and
 * coap_io_process walk every session of a context, so many devices are spread over several
 * contexts of at most plugin_opt_coap_sessions_per_context sessions. */
struct up_shard {
	struct upstream *u;
	coap_context_t *ctx;
	uv_poll_t poll;
	uv_timer_t timer;                    /* libcoap's next due time */
	unsigned sessions;
	bool dirty;                          /* touched this turn: prepare it again */
	unsigned open_handles;
};

struct upstream {
	struct core *c;
	const struct lwm2m_config *cfg;
	coap_address_t server;
	coap_proto_t proto;
	struct up_shard **shards;
	size_t n_shards, cap_shards;
	uv_check_t check;                    /* after each loop turn: arm the touched shards */
	struct up_dev *devs;                 /* by key */
	struct up_dev *wait_head, *wait_tail;
	unsigned inflight;
	unsigned open_handles;               /* uv handles not yet closed; the last close frees */
	bool stopping;
	coap_session_t **retired;            /* released after libcoap's callbacks return */
	size_t n_retired, cap_retired;
};

/* upstream.c */
void up_log(struct upstream *u, enum core_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void up_emit_state(struct up_dev *d);
struct up_dev *up_dev_of_session(coap_session_t *session);
int64_t up_now_wall_ms(void);
/* The context a new session goes into (a new shard when all are full); NULL on failure. */
coap_context_t *up_context_for_new_session(struct upstream *u);
struct up_shard *up_shard_of(struct upstream *u, const coap_session_t *session);
/* Something was sent on session: its context's timer must be prepared again. */
void up_touch(struct upstream *u, const coap_session_t *session);
void sh_on_timer_cb(uv_timer_t *t);
/* Detach a session from its device and release it once libcoap is not inside a callback
 * (releasing the session a callback runs for would free it under libcoap's feet). */
void up_session_retire(struct upstream *u, coap_session_t *session);

/* up_creds.c: a client session toward the server, with the endpoint's credentials from
 * plugin_opt_endpoints_file for coaps://. NULL with why set when there are none. */
coap_session_t *up_creds_session(struct upstream *u, const char *endpoint, char *why, size_t why_size);

/* up_register.c: the registration interface toward the server. */
struct up_dev *up_dev_get(struct upstream *u, const struct registration *reg);
void up_dev_want(struct up_dev *d, enum up_want want, bool links);
void up_dev_gone(struct up_dev *d);
void up_dev_free(struct up_dev *d);
coap_response_t up_register_response(struct up_dev *d, const coap_pdu_t *received);
void up_register_nack(struct up_dev *d, const coap_pdu_t *sent, coap_nack_reason_t reason);
void up_session_failed(struct up_dev *d, const char *why);
bool up_token_is(const coap_pdu_t *pdu, const uint8_t *token, size_t len);
const char *up_state_name(enum up_state s);
/* libcoap's release callback for a malloc'd body given to coap_add_data_large_*. */
void up_release_copy(coap_session_t *session, void *app_ptr);
/* Sends every De-register (shutdown with plugin_opt_coap_shutdown deregister). */
size_t up_deregister_all(struct upstream *u);

/* up_requests.c: requests from the server to devices, and notifications. */
void up_handle_request(coap_resource_t *resource, coap_session_t *session, const coap_pdu_t *request,
		const coap_string_t *query, coap_pdu_t *response);
void up_requests_drop(struct up_dev *d, const char *why);
void up_observer_rst(struct up_dev *d, const coap_pdu_t *sent);
void up_block1_free(struct up_dev *d);

/* up_send.c: Send data forwarded as POST /dp. */
void up_send_add(struct up_dev *d, int64_t id, uint16_t cf, const uint8_t *payload, size_t len);
void up_send_load(struct up_dev *d);
void up_send_pump(struct up_dev *d);
/* The registration is confirmed: what waited goes now. */
void up_send_resume(struct up_dev *d);
coap_response_t up_send_response(struct up_dev *d, const coap_pdu_t *received);
void up_send_nack(struct up_dev *d);
void up_sends_free(struct up_dev *d);

#endif
