/* The device's side of the HTTP binding (Transport TS 7) where binding/http_codec.h has no
 * function for it: the server's requests to the device's own HTTP server turned back into
 * the operation http_codec_encode_request made them from, the answers to the device's own
 * requests, and the pieces of URLs the simulator serves. Pure: no I/O, no state.
 *
 * Requests follow the codec's downlink conventions:
 *   GET /o[/i[/r[/ri]]]            Read (Accept picks the format)
 *   GET /o[/i[/r]][?depth=N]       Discover, when the Accept header asks for link-format
 *   PUT /o/i[/r[/ri]] + body       Write (replace); Content-Type required
 *   PUT /path?pmin=..&lt.. no body Write-Attributes
 *   POST /o                        Create (body and Content-Type required)
 *   POST /o/i + body               Write (partial update)
 *   POST /o/i/r                    Execute (no body, or text/plain arguments); with a body of
 *                                  another type a partial update of a multi-instance resource
 *   DELETE /o/i, /o/i/r/ri         Delete
 * Observe, Notify and the composite operations do not exist in the HTTP binding. */
#ifndef SIM_HTTP_REQ_H
#define SIM_HTTP_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "binding/http_codec.h"
#include "binding/op.h"
#include "util/buf.h"
#include "util/lwm2m_err.h"

#define SIMH_ALLOW "GET, PUT, POST, DELETE"

/* One request to the device, as its HTTP server received it. Strings are NUL-terminated,
 * NULL = absent. */
struct simh_request {
	const char *method;
	const char *path;           /* the LwM2M part after the device's prefix: "/3/0/1" */
	const char *query;          /* raw text after '?'; NULL or "" = none */
	const char *content_type;
	const char *accept;
	const uint8_t *body;
	size_t body_len;
};

/* The operation in req. On success 0 and op is filled, its views pointing into req's
 * strings and body (no token: HTTP has none). On failure a negative -LWM2M_E* code, err
 * says why and *status is the HTTP status to answer at once: 404 not an LwM2M path, 405 a
 * method the binding does not use (answer with Allow: SIMH_ALLOW), 406 an Accept naming no
 * format, 415 a body with a missing or unknown Content-Type, 400 anything else (a query,
 * body or path level the operation does not take, malformed attributes or depth). */
int simh_decode(const struct simh_request *req, struct lwm2m_op *op, uint16_t *status,
		struct lwm2m_error *err);

/* simh_decode for a device that bootstraps (the Bootstrap-Server's requests, as
 * http_codec_encode_request makes them):
 *   GET /[o]        with Accept: application/link-format   Bootstrap-Discover
 *   GET /o[/i]      (Accept, when it names a format: op->pct)  Bootstrap-Read
 *   PUT /o[/i[/r]] + body (Content-Type required)          Bootstrap-Write
 *   DELETE /[o[/i]]                                         Bootstrap-Delete
 *   POST /bs                                                Bootstrap-Finish
 * No query anywhere. Failures and *status as simh_decode (POST elsewhere: 400). */
int simh_decode_bs(const struct simh_request *req, struct lwm2m_op *op, uint16_t *status,
		struct lwm2m_error *err);

/* The content format an Accept header asks for: the item of highest q (the first of equal
 * ones) among the LwM2M media types, application/link-format and the wildcards (all types,
 * all application types: *cf = -1, "anything"). 0 and *cf = -1 when accept is NULL or
 * blank. -LWM2M_ENOTSUP when no item is acceptable (406). */
int simh_accept(const char *accept, int *cf);

/* Split a URL path "/{ep}/rest" into the endpoint segment and the rest ("" when the path
 * is just "/{ep}", else starting with '/'). -LWM2M_ENOENT when there is no non-empty first
 * segment. */
int simh_split(const char *path, struct lwm2m_view *ep, const char **rest);

/* The LwM2M result of the server's answer to a device request of kind (Register, Update,
 * De-register, Send): any 2xx is the operation's success (op_success_result: 2.01, 2.04,
 * 2.02), 4xx/5xx the same c.dd (c.00 when dd > 31). 0 for anything else (1xx, 3xx, out of
 * range): not a final answer the binding defines. */
uint16_t simh_uplink_result(enum lwm2m_op_kind kind, long http_status);

/* The registration id a Register answer's Location names: "/rd/{id}" (behind any path
 * prefix, or in an absolute URL; a query or fragment after it is ignored), id being
 * HTTP_CODEC_REG_ID_LEN lowercase hex digits. 0, or -LWM2M_EINVAL when location is
 * NULL or does not end that way. */
int simh_location_reg_id(const char *location, char out[HTTP_CODEC_REG_ID_LEN + 1]);

/* Append s as one URL path segment: unreserved bytes (RFC 3986) as they are, every other
 * byte as %XX. */
int simh_append_segment(struct lwm2m_buf *b, const char *s);

#endif
