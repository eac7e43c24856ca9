/* What the core offers the edges that serve web clients (http/rest.c) and, later, the CoAP
 * forwarder: send an operation to a registered device and get its answer, watch events.
 * Every function here runs on the core thread only. */
#ifndef CORE_API_H
#define CORE_API_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <jansson.h>

#include "core.h"
#include "registry.h"
#include "../binding/op.h"
#include "../objects/model.h"

struct uv_loop_s;

/* How a request to a device ended. */
enum api_outcome {
	API_ANSWERED = 0,     /* the device answered: result, ct, payload are valid */
	API_TIMEOUT,          /* no answer within the timeout */
	API_BAD_RESPONSE,     /* the device's answer was malformed */
	API_GONE,             /* the device de-registered or expired while we waited */
};

struct api_result {
	enum api_outcome outcome;
	uint16_t result;            /* c*100+dd */
	bool has_ct;
	uint16_t content_format;
	const uint8_t *payload;     /* valid only during the callback */
	size_t payload_len;
	const char *detail;         /* why, for API_BAD_RESPONSE */
};

typedef void (*api_done_fn)(void *ctx, const struct api_result *res);

/* A watcher that takes every Notify of an observation as it came (the CoAP forwarder):
 * the content format and payload are valid only during the call. */
typedef void (*api_notify_fn)(void *ctx, uint16_t content_format, const uint8_t *payload, size_t len);
/* The observation ended for every watcher (the device registered again, de-registered,
 * refused the Observe ...): the tap is gone when this returns. */
typedef void (*api_notify_end_fn)(void *ctx, const char *why);

/* An operation for a device. The op's views must stay valid until core_api_send returns
 * (it encodes them at once). */
struct api_request {
	const char *prefix;         /* NULL = no topic prefix */
	const char *endpoint;
	struct lwm2m_op op;         /* kind, uri, paths, payload, ct, attrs, depth; token is set by the core */
	uint32_t timeout_ms;        /* 0 = the default */
	api_done_fn done;
	void *ctx;
	/* core_api_observe only: NULL for a web watcher (notifications become events), else
	 * a tap that gets each Notify's content; its identity is notify_ctx. */
	api_notify_fn notify;
	api_notify_end_fn notify_end;
	void *notify_ctx;
};

/* Sends the request. Returns a handle (> 0) for core_api_cancel, or a negative error:
 * -LWM2M_ENOENT (not registered), -LWM2M_EOFFLINE (the device is disconnected),
 * -LWM2M_ENOTSUP / -LWM2M_EINVAL (the transport cannot express it; why says what),
 * -LWM2M_ENOMEM. `done` is called exactly once, later, unless cancelled. */
int64_t core_api_send(struct core *c, const struct api_request *req, char *why, size_t why_size);
/* The requester is gone: `done` will not be called; a late answer is dropped. */
void core_api_cancel(struct core *c, int64_t handle);

/* Queue the request for a sleeping or offline device; it is delivered when the device is
 * next heard from. Returns the request id (> 0) or -LWM2M_ENOENT, -LWM2M_EFULL (the
 * device's queue is full; why says so), -LWM2M_ENOTSUP/-LWM2M_EINVAL (not expressible). */
int64_t core_api_enqueue(struct core *c, const struct api_request *req, char *why, size_t why_size);
/* A queued request's state and, once answered, its result; NULL when unknown. */
json_t *core_api_request_json(struct core *c, int64_t id);

/* Stored Send data with id > since, oldest first, at most limit:
 * {"items":[{"id","ep","time","contentFormat","values"}],"next":<last id>}. NULL with
 * -LWM2M_ENOTSUP in *rc without plugin_opt_state_db. */
json_t *core_api_sends_json(struct core *c, const char *endpoint, int64_t since, unsigned limit, int *rc);

/* Stored Send data with id > since of one endpoint, oldest first, at most limit, raw (the
 * forwarder's catch-up after a restart). -LWM2M_ENOTSUP without plugin_opt_state_db. */
struct stored_send;
int core_api_each_send(struct core *c, const char *endpoint, int64_t since, unsigned limit,
		void (*fn)(void *ctx, const struct stored_send *r), void *ctx);
/* A small durable number (a cursor) under a name of the caller's; def when none/no store. */
void core_api_set_u64(struct core *c, const char *name, uint64_t v);
uint64_t core_api_get_u64(struct core *c, const char *name, uint64_t def);

/* Observations shared by all web watchers: one per (endpoint, path). */
int64_t core_api_observe(struct core *c, const struct api_request *req, char *why, size_t why_size);
/* Drops one watcher of the observation that req (kind Observe with uri, or
 * Observe-Composite with paths) would create - the tap req->notify_ctx when req->notify is
 * set; the last one cancels it at the device (Cancel-Observe). -LWM2M_ENOENT when there is
 * none. */
int core_api_cancel_observation(struct core *c, const struct api_request *req);

/* Events (registration, update, de-registration, expiry, notification, online/offline):
 * JSON objects {"event": "...", "ep": "...", ...}. */
typedef void (*api_event_fn)(void *ctx, const char *type, const char *endpoint, json_t *data);
int64_t core_api_watch(struct core *c, api_event_fn fn, void *ctx);
void core_api_unwatch(struct core *c, int64_t handle);
/* Emit an event of one's own (the forwarder's state changes); data is taken (may be NULL). */
void core_api_emit(struct core *c, const char *type, const char *endpoint, json_t *data);

/* What a forwarder learns about registrations, on the core thread. One listener at a
 * time; every member may be NULL. A registration pointer is valid only during the call. */
struct core_listener {
	void *ctx;
	/* Registered (replaced: it was registered already). Registrations that exist when the
	 * listener is set (restored from the store) are the listener's to walk. */
	void (*registered)(void *ctx, const struct registration *reg, bool replaced);
	/* Updated; links_changed when the Update carried an object list. */
	void (*updated)(void *ctx, const struct registration *reg, bool links_changed);
	/* De-registered or expired: the registration is freed after the call. */
	void (*gone)(void *ctx, const struct registration *reg, bool expired);
	/* Any message from the device (it is awake now). */
	void (*uplink)(void *ctx, const struct registration *reg);
	/* A Send, stored under send_id (0 without plugin_opt_state_db). */
	void (*send)(void *ctx, const struct registration *reg, int64_t send_id, uint16_t content_format,
			const uint8_t *payload, size_t len);
	/* Adds the forwarder's view of a registration to its JSON (the "upstream" member). */
	void (*describe)(void *ctx, const struct registration *reg, json_t *out);
};
void core_api_set_listener(struct core *c, const struct core_listener *l);

/* A device message that came by another transport than MQTT (the HTTP binding listener,
 * which has already checked the sender's identity): Register (endpoint given), Update,
 * De-register and Send (reg_id given; endpoint, when given, must match it). `done` is
 * called before core_api_uplink returns, with the answer (result 201, 204, 400, 404, 412 ...;
 * a Bootstrap-Pack-Request's pack as payload and content format) and, for a Register, the
 * new registration's id. Bootstrap-Request and Bootstrap-Pack-Request take the endpoint. */
typedef void (*core_uplink_done_fn)(void *ctx, const struct lwm2m_op *resp, const char *reg_id);
struct core_uplink {
	const char *transport;      /* "http" */
	const char *endpoint;
	const char *reg_id;
	core_uplink_done_fn done;
	void *ctx;
};
void core_api_uplink(struct core *c, const struct core_uplink *u, const struct lwm2m_op *op);

/* How requests reach devices of a transport other than MQTT (the HTTP binding's client).
 * send: deliver op (a request with its token set) to the device; the answer comes back
 * through core_api_device_answer with that token. Returns 0 or a negative error with why.
 * Operations the transport cannot carry (Observe, composites over HTTP) are refused by the
 * core before send is called. */
struct core_downlink {
	void *ctx;
	/* endpoint: the device (HTTP devices have no topic prefix; it may be bootstrapping, so
	 * not registered). */
	int (*send)(void *ctx, const char *endpoint, const struct lwm2m_op *op, uint32_t timeout_ms,
			char *why, size_t why_size);
};
void core_api_set_downlink(struct core *c, const char *transport, const struct core_downlink *d);
/* The device's answer to a request sent through a downlink: resp->token is the request's. */
void core_api_device_answer(struct core *c, const char *endpoint, const struct lwm2m_op *resp);
/* The request could not be answered (connection failed, malformed answer): why says what. */
void core_api_device_failed(struct core *c, const char *endpoint, uint64_t token, const char *why);

/* The per-endpoint settings (plugin_opt_endpoints_file): the core owns them; a reload
 * replaces them between two loop turns (users look them up again, never keep them). */
struct endpoints;
void core_api_set_endpoints(struct core *c, struct endpoints *eps);
const struct endpoints *core_api_endpoints(struct core *c);
/* Re-reads plugin_opt_endpoints_file; on error the old settings stay and err says why. */
int core_api_reload_endpoints(struct core *c, struct lwm2m_error *err);
/* The bootstrap sessions: {"sessions":[...]}. */
json_t *core_api_bootstrap_sessions(struct core *c);

/* Reading the state. */
struct registry *core_api_registry(struct core *c);
const struct obj_registry *core_api_model(struct core *c);
const struct lwm2m_config *core_api_config(struct core *c);
struct uv_loop_s *core_api_loop(struct core *c);
/* A registration as JSON (endpoint, prefix, transport, lifetime, version, binding, queue
 * mode, times, online, objectLinks, and the forwarder's "upstream" state when there is one). */
json_t *core_api_registration_json(struct core *c, const struct registration *reg);
/* Whether a request can go to the device now (connected; a queue-mode device within its
 * awake window) and, if not, the seconds until it is expected awake again (0 = unknown). */
bool core_api_device_awake(struct core *c, const struct registration *reg);
/* {"devices":..,"requests":..,...} */
json_t *core_api_status(struct core *c);

#endif
