/* The MQTT binding codec (LwM2M 1.2 Transport TS section 8): topic grammar and the CBOR
 * map carried in every PUBLISH, to and from struct lwm2m_op. Pure: no I/O, no state, no
 * heap (the encoder grows only the caller's lwm2m_buf).
 *
 * Choices this codec makes where the specification leaves room:
 *
 *  - Topic: [PREFIX "/"] "lwm2m/" ("rd" | "bs") "/" ENDPOINT. PREFIX is exactly ONE topic
 *    level (a tenant or server id without '/'); a multi-level prefix is rejected. PREFIX is
 *    non-empty, valid UTF-8, without '+', '#', NUL, and does not start with '$' (reserved
 *    for the broker). ENDPOINT follows mqtt_endpoint_name_valid().
 *  - Unknown integer keys (including negative ones) are ignored for forward compatibility,
 *    but their values must be well-formed CBOR and nest no deeper than max_depth. A key
 *    that is not an integer is an error. Duplicate keys are detected for keys 0..63 (which
 *    covers every defined key); a repeated key beyond that range is ignored like any
 *    unknown key.
 *  - Indefinite-length maps are accepted (top level and nested). Indefinite-length strings
 *    are rejected in every known key (a view must point at contiguous bytes); inside the
 *    value of an unknown key they are well-formed CBOR and are skipped.
 *  - Text strings of keys 3, 5, 9, 10, 11 must be valid UTF-8. The payload (key 7) may be a
 *    bstr or a tstr (the spec's own example uses a tstr); it is taken as bytes either way.
 *  - gt/st (keys 14, 15) accept any CBOR number (uint, negint, half, single, double) but
 *    must be finite. pct/ct must fit 16 bits, edge is 0/1, depth is 0..3, result is
 *    100..699.
 *  - Binding (key 10) containing 'Q' also sets LWM2M_F_QUEUE on decode (MQTT has no
 *    separate queue key); on encode LWM2M_F_QUEUE appends 'Q' to the binding (or sends
 *    "MQ" when the op has no binding).
 *  - Required keys per operation follow the spec tables strictly. Notify (23) needs ct (19)
 *    and payload (7) like Send: a Notify without them is an error, reported with the kind
 *    and the token so the caller can still match (or cancel) the observation.
 *  - Depth counts containers from the outermost map (= level 1); the unprotected COSE
 *    wrapper is level 1 and the message inside it level 2.
 *  - The unprotected COSE wrapper {1: null, 2: {...}} is unwrapped. A wrapper whose key 1
 *    is a bstr (a real COSE structure) fails with -LWM2M_ENOTSUP "COSE-protected message".
 *    A top-level map is taken as a wrapper when its key 2 holds a map.
 *  - max_payload limits key 7 (payload) and key 6 (paths), in bytes.
 */
#ifndef BINDING_MQTT_CODEC_H
#define BINDING_MQTT_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "op.h"
#include "../util/buf.h"
#include "../util/lwm2m_err.h"

/* ---- Topics ---- */

struct mqtt_topic {
	struct lwm2m_view prefix;     /* valid when has_prefix; one topic level */
	bool has_prefix;
	enum lwm2m_iface iface;       /* "rd" or "bs" */
	struct lwm2m_view endpoint;   /* the last level */
};

/* Parse topic[0..len) (no NUL needed). Views point into topic. -LWM2M_EINVAL (with the
 * reason and byte offset in err) for anything outside the grammar above. */
int mqtt_topic_parse(const char *topic, size_t len, struct mqtt_topic *out,
	struct lwm2m_error *err);

/* Whether a parsed prefix is acceptable: a topic without prefix is allowed when allow_none,
 * a prefix when it equals one of allowed[0..n_allowed) byte for byte. */
bool mqtt_prefix_allowed(struct lwm2m_view prefix, bool has_prefix,
	const char *const *allowed, size_t n_allowed, bool allow_none);

/* Append "[prefix/]lwm2m/{rd|bs}/{endpoint}" to out, NUL-terminated in the buffer (the NUL
 * is not counted in out->len). prefix NULL = none. -LWM2M_EINVAL for an invalid prefix or
 * endpoint; out is left as it was on error. */
int mqtt_topic_format(struct lwm2m_buf *out, const char *prefix, enum lwm2m_iface iface,
	const char *endpoint, size_t ep_len);

/* An endpoint name usable as a topic level: non-empty, at most 255 bytes, valid UTF-8,
 * none of '/', '+', '#', NUL, and not starting with '$'. */
bool mqtt_endpoint_name_valid(const char *ep, size_t len);

/* ---- Messages ---- */

#define MQTT_CODEC_DEFAULT_MAX_DEPTH 8u   /* used when lim is NULL or lim->max_depth is 0 */
#define MQTT_CODEC_MAX_DEPTH_CAP     64u  /* larger max_depth values are clamped to this */

struct mqtt_codec_limits {
	size_t max_payload;   /* bytes of key 7 / key 6; 0 = unlimited (the default) */
	unsigned max_depth;   /* container nesting; 0 = MQTT_CODEC_DEFAULT_MAX_DEPTH */
};

/* Decode one MQTT payload (one CBOR map, optionally in the unprotected COSE wrapper)
 * received on interface iface into op. Views in op point into buf. lim may be NULL.
 *
 * Returns 0, or:
 *   -LWM2M_EINVAL   malformed CBOR, wrong type/range, missing required key, duplicate key,
 *                   trailing bytes, both or neither of keys 1 and 18, nesting too deep;
 *   -LWM2M_ENOTSUP  operation code not valid on this interface, or a COSE-protected message;
 *   -LWM2M_ETOOBIG  payload or paths above lim->max_payload.
 * err->msg names the key and the byte offset. On error op holds only what the caller needs
 * to answer: LWM2M_F_TOKEN + token when key 2 was a readable uint, kind (requests whose op
 * code is valid on iface) and is_response (messages with key 18 and without key 1). */
int mqtt_codec_decode(const uint8_t *buf, size_t len, enum lwm2m_iface iface,
	const struct mqtt_codec_limits *lim, struct lwm2m_op *op, struct lwm2m_error *err);

/* Append the CBOR map for op to out: a request {1: code, 2: token, ...} or, when
 * op->is_response, a response {2: token, ?7: payload, 18: result, ?19: ct}. Keys in
 * ascending order, payload as bstr, token always written, gt/st as the shortest exact of
 * uint/negint/half/single/double. Refuses what MQTT cannot express (-LWM2M_ENOTSUP):
 * attributes lt or con, any unset attribute, a pid, an operation of the other interface.
 * Refuses (-LWM2M_EINVAL) what the decoder would reject: missing required keys,
 * out-of-range values, non-finite gt/st. out is left as it was on error. */
int mqtt_codec_encode(const struct lwm2m_op *op, enum lwm2m_iface iface,
	struct lwm2m_buf *out, struct lwm2m_error *err);

/* Wire operation code (0..24) of a request kind; -1 for LWM2M_OP_NONE and out-of-range
 * kinds. Bootstrap-Pack-Request and Register both give 6. */
int mqtt_codec_wire_op(enum lwm2m_op_kind kind);

/* The request kind of a wire code on an interface (bs: 0..6, rd: 6..24 but 19);
 * LWM2M_OP_NONE when the code is not valid there. */
enum lwm2m_op_kind mqtt_codec_kind(int code, enum lwm2m_iface iface);

#endif
