/* The Bootstrap-Server engine: what to send a device after its Bootstrap-Request, one
 * request at a time, and the Bootstrap-Pack for a Bootstrap-Pack-Request. It knows nothing
 * of MQTT or HTTP: the router hands it the device's requests and gives it a struct
 * bootstrap_io that delivers its operations and reports their answers. Core thread only.
 *
 * The sequence of a session (the order docs/endpoints-file.md promises):
 *   Bootstrap-Discover "/"        when the entry's `discover` is true
 *   Bootstrap-Read                each `read` path (/1, /1/i, /2, /2/i)
 *   Bootstrap-Delete              each `delete` path (/, /o, /o/i)
 *   Bootstrap-Write /o/i          each `write` instance, in the file's order
 *   Bootstrap-Finish
 * Every request waits for the previous answer, with step_timeout_ms each.
 *
 * Write payloads: in the device's pct when it is one of TLV, SenML JSON, SenML CBOR,
 * LwM2M CBOR and that format can carry the instance; else in the entry's `format`; else
 * SenML CBOR. "Can carry" = the payload decodes back to the configured values (SenML has no
 * record for an empty multi-instance resource); when no format of the list can, the first
 * one that encodes is used and a warning says so. A pct that is not a Bootstrap format (the
 * ETS int-19 client sends pct 60) is not refused with 4.15: the writes just come in the next
 * format of the list. The payloads are encoded when the Bootstrap-Request is accepted.
 *
 * How answers are judged (any 2.xx is success, HTTP devices answer 200/204):
 *   - Write, Finish: anything else fails the session;
 *   - Delete: 4.04 counts as done (the instance is absent, which is what was asked);
 *     anything else fails the session;
 *   - Discover, Read: an error answer is recorded and the sequence goes on (they only
 *     inform); a 2.xx whose payload cannot be read (link-format, resp. the data format)
 *     is a malformed answer;
 *   - no answer within the timeout, a malformed answer, the device gone, or a request
 *     that cannot be sent fail the session.
 * A failed session sends nothing more, Bootstrap-Finish included: Finish tells the device
 * to commit what it was given, and a half-written configuration must not be committed.
 * The device then considers the bootstrap failed when no Finish comes within
 * EXCHANGE_LIFETIME (Core 6.1.3.3 / 6.1.6) and retries, and its next Bootstrap-Request
 * runs the whole sequence again.
 *
 * A Bootstrap-Request for an endpoint whose session is running restarts it: the old one is
 * cancelled and recorded as failed ("superseded by a new Bootstrap-Request"). A device
 * retries Bootstrap-Request when it thinks the bootstrap failed (it rebooted, or its own
 * timer ran out), so refusing it until the old session times out would only delay it.
 *
 * Events (io->emit; type, endpoint, data):
 *   BOOTSTRAP_STARTED   {"prefix","transport","steps":n,"contentFormat":cf[,"pct":n]}
 *   BOOTSTRAP_STEP      {"op","path","result"(number|null)[,"contentFormat"][,"detail"]
 *                        [,"links": Discover answer text][,"values": Read answer nodes]}
 *   BOOTSTRAP_FINISHED  {"steps":n,"durationMs":ms}
 *   BOOTSTRAP_FAILED    {"reason","step"(the operation and path, or null)}
 * Log lines start with "bootstrap <endpoint>: ". */
#ifndef CORE_BOOTSTRAP_H
#define CORE_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api.h"
#include "../binding/op.h"
#include "../conf/endpoints.h"
#include "../objects/model.h"
#include "../util/buf.h"

#define BOOTSTRAP_HISTORY_MAX 32u       /* finished/failed sessions kept for bootstrap_sessions_json */
#define BOOTSTRAP_RUNNING_MAX 1024u     /* sessions at once; more Bootstrap-Requests get 503 */
#define BOOTSTRAP_DEFAULT_TIMEOUT_MS 30000u

struct bootstrap_io {
	void *ctx;
	/* Send one bootstrap operation (kind Bootstrap-Write/Read/Discover/Delete/Finish with
	 * uri, payload and ct; the token is the transport's business) to the device on its
	 * bootstrap interface. The op's views are valid during the call only. `done` is called
	 * exactly once, unless cancel was called for the handle (normally later; an answer
	 * given from inside send is taken too). Returns a handle > 0, or a negative lwm2m
	 * error (the session then fails). */
	int64_t (*send)(void *ctx, const char *prefix, const char *endpoint, const char *transport,
			const struct lwm2m_op *op, uint32_t timeout_ms, api_done_fn done, void *done_ctx);
	void (*cancel)(void *ctx, int64_t handle);
	/* An event; data is taken. */
	void (*emit)(void *ctx, const char *type, const char *endpoint, json_t *data);
	/* level: enum core_log_level (core/core.h). */
	void (*log)(void *ctx, int level, const char *line);
	int64_t (*now_wall_ms)(void *ctx);
};

struct bootstrap;

/* io is copied; model (borrowed, must outlive the engine) types the write payloads.
 * step_timeout_ms 0 = BOOTSTRAP_DEFAULT_TIMEOUT_MS. NULL on allocation failure or when
 * io lacks send or cancel. */
struct bootstrap *bootstrap_new(const struct bootstrap_io *io, const struct obj_registry *model,
		uint32_t step_timeout_ms);
/* Cancels every request in flight; no callback, event or log line comes after. Accepts NULL. */
void bootstrap_free(struct bootstrap *bs);

/* The configuration (borrowed: keep it alive until the next call or bootstrap_free).
 * NULL = none. A session copies what it needs (the encoded writes, the paths) when its
 * Bootstrap-Request is accepted, so sessions in progress are not affected by a swap. */
void bootstrap_set_endpoints(struct bootstrap *bs, const struct endpoints *eps);

/* A Bootstrap-Request (req may be NULL; its pct, LWM2M_F_PCT, is the format the device
 * prefers; its ep, LWM2M_F_EP, must be `endpoint` when present) from (prefix or NULL,
 * endpoint, transport "mqtt" | "http"). Returns the result code to answer:
 *   204  a session is prepared; answer, then call bootstrap_start();
 *   400  the endpoint has no entry with a "bootstrap" section (exact, pattern or "*"), or
 *        req's ep is another endpoint: nothing will be sent;
 *   500  a configured write cannot be encoded in any format;
 *   503  BOOTSTRAP_RUNNING_MAX sessions are running.
 * why (may be NULL) says why on an error, "" otherwise. A session of the same endpoint that
 * was prepared or running is cancelled (see above) when 204 is returned. */
uint16_t bootstrap_request(struct bootstrap *bs, const char *prefix, const char *endpoint,
		const char *transport, const struct lwm2m_op *req, char *why, size_t why_size);

/* Sends the first request of the session bootstrap_request prepared for endpoint (after
 * the 204 went out, so that the device sees the answer first). Nothing happens when no
 * session of that endpoint and prefix waits to start. Call it after every 204: a prepared
 * session counts as running until it ends or the endpoint's next Bootstrap-Request. */
void bootstrap_start(struct bootstrap *bs, const char *prefix, const char *endpoint);

/* A Bootstrap-Pack-Request: the entry's writes as one pack addressed to "/".
 * Format: accept_cf when not 0; else req's pct (LWM2M_F_PCT) when given; else the entry's
 * format when it is a Pack format; else SenML CBOR. Pack formats: SenML CBOR, SenML JSON,
 * LwM2M CBOR. req's payload (LWM2M_F_PAYLOAD, MQTT key 7 / HTTP ?acc=) lists the device's
 * Bootstrap-Server account instances as links ("</0/0>,</24/0>"): the device keeps those
 * (Core 6.1.7.7), so configured writes to the same instances are left out of the pack
 * (with a warning in the log). A format that cannot carry everything (SenML and an empty
 * multi-instance resource) is still used, with a warning.
 * Returns 205 with the pack appended to out and its format in *ct, or:
 *   400  no entry with a bootstrap section; req's ep is another endpoint; acc malformed;
 *   405  the configuration cannot be given as a pack: nothing left to write, or a
 *        delete the pack cannot express (a pack replaces the instances of the objects it
 *        carries and deletes nothing else: "/" and objects without writes). The device
 *        then falls back to Bootstrap-Request (Core 6.1.3.3), which runs the deletes;
 *   406  the requested format is not a Pack format;
 *   500  the writes cannot be encoded.
 * why as for bootstrap_request. Discover and read paths have no meaning in a pack. */
uint16_t bootstrap_pack(struct bootstrap *bs, const char *endpoint, const struct lwm2m_op *req,
		uint16_t accept_cf, struct lwm2m_buf *out, uint16_t *ct, char *why, size_t why_size);

/* {"sessions":[{"ep","prefix","transport","state":"running|finished|failed","step",
 *   "stepsTotal","contentFormat","startedAt","finishedAt","reason",
 *   "steps":[{"op","path","result"[,"contentFormat"][,"detail"]}]}]}
 * Running sessions first (oldest first), then the last BOOTSTRAP_HISTORY_MAX finished or
 * failed ones, newest first. "step" is the operation and path in flight (running), the
 * last one answered (finished/failed), null before the first request is sent. "result" is
 * the device's code, null while in flight or when no answer came ("detail" says why).
 * Times are wall-clock milliseconds; finishedAt and reason are null when not applicable.
 * NULL on allocation failure. */
json_t *bootstrap_sessions_json(const struct bootstrap *bs);

#endif
