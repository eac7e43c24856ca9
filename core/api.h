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

/* An operation for a device. The op's views must stay valid until core_api_send returns
 * (it encodes them at once). */
struct api_request {
	const char *prefix;         /* NULL = no topic prefix */
	const char *endpoint;
	struct lwm2m_op op;         /* kind, uri, paths, payload, ct, attrs, depth; token is set by the core */
	uint32_t timeout_ms;        /* 0 = the default */
	api_done_fn done;
	void *ctx;
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

/* Observations shared by all web watchers: one per (endpoint, path). */
int64_t core_api_observe(struct core *c, const struct api_request *req, char *why, size_t why_size);
/* Drops one watcher of the observation that req (kind Observe with uri, or
 * Observe-Composite with paths) would create; the last one cancels it at the device
 * (Cancel-Observe). -LWM2M_ENOENT when there is none. */
int core_api_cancel_observation(struct core *c, const struct api_request *req);

/* Events (registration, update, de-registration, expiry, notification, online/offline):
 * JSON objects {"event": "...", "ep": "...", ...}. */
typedef void (*api_event_fn)(void *ctx, const char *type, const char *endpoint, json_t *data);
int64_t core_api_watch(struct core *c, api_event_fn fn, void *ctx);
void core_api_unwatch(struct core *c, int64_t handle);

/* Reading the state. */
struct registry *core_api_registry(struct core *c);
const struct obj_registry *core_api_model(struct core *c);
const struct lwm2m_config *core_api_config(struct core *c);
struct uv_loop_s *core_api_loop(struct core *c);
/* A registration as JSON (endpoint, prefix, transport, lifetime, version, binding, queue
 * mode, times, online, objectLinks). */
json_t *core_api_registration_json(const struct registration *reg);
/* {"devices":..,"requests":..,...} */
json_t *core_api_status(struct core *c);

#endif
