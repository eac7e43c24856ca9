/* The HTTP binding codec (LwM2M 1.2 Transport TS section 7): HTTP method, URI, query,
 * headers and status to and from struct lwm2m_op. Pure: no I/O, no state, no heap (encoders
 * grow only the caller's lwm2m_buf).
 *
 * Four directions:
 *   uplink request   device -> server   http_codec_decode_request (the listener), and
 *                                       http_codec_encode_uplink (a device, the simulator)
 *   uplink answer    server -> device   http_codec_status_for + http_codec_format_location
 *   downlink request server -> device   http_codec_encode_request (the HTTP client)
 *   downlink answer  device -> server   http_codec_decode_response
 *
 * Choices this codec makes where the specification leaves room (spec/lwm2m-bindings.md 2):
 *
 *  - Uplink URIs: POST /rd (Register), POST /rd/{id} (Update), DELETE /rd/{id}
 *    (De-register), POST /dp (Send), POST /bs (Bootstrap-Request), GET /bspack
 *    (Bootstrap-Pack-Request). Paths compare byte for byte (no trailing '/', no
 *    percent-decoding: nothing here needs any). Methods are case-sensitive (RFC 9110).
 *    Any other path: 404. A known path with another method: 405 + Allow.
 *  - Registration ids: the server answers Register with "Location: /rd/{id}", id = 128
 *    random bits written as 32 lowercase hex digits. /rd/{anything else} is 404 (no such
 *    registration) before the core is asked.
 *  - Query: '&'-separated, names exact and case-sensitive, values percent-decoded ("%3A").
 *    '+' is a literal plus (RFC 3986), not a space. Empty items ("a=1&&b=2", a trailing
 *    '&') are skipped. Every unknown name, a name not allowed for the operation, a repeated
 *    name, a value on the valueless "Q", a missing value elsewhere, a bad %-escape, a
 *    decoded control byte and every malformed value is a 400 naming the parameter.
 *  - Parameters per operation: Register ep, lt, lwm2m, b, Q, sms, pid (lt and lwm2m
 *    required); Update lt, b, Q, sms, pid (pid accepted, A-9); Bootstrap-Request ep, pct;
 *    Bootstrap-Pack-Request ep, acc; Send ep and rid (the registration id: on plain HTTP,
 *    without a TLS identity, the sender names itself by both - a development-only
 *    deviation); De-register none. ep is optional everywhere
 *    (Core 6.2.1: a client authenticated by its TLS identity may leave it out): without
 *    LWM2M_F_EP the listener uses the TLS identity or answers 400 itself.
 *  - Values: ep 1..255 bytes of UTF-8 without control bytes, and, because the registry and
 *    the REST paths are shared with the MQTT binding, a valid MQTT endpoint name (no '/',
 *    '+', '#', no leading '$'); lt an unsigned decimal (64 bits); lwm2m "1*DIGIT.1*DIGIT"
 *    (whether the version is supported, 412, is the core's check); b letters of U M H T S N
 *    Q each at most once; sms 1..15 digits (MSISDN, no '+'); pid per the Core ABNF
 *    (suite:hex, oma:x, v:x, or a quoted comma list of them); pct a content-format number
 *    or media type, and a format that is not SenML JSON/CBOR, LwM2M CBOR or TLV is 415;
 *    acc a CoRE link list of instance paths without parameters ("</0/0>,</21/0>").
 *  - Queue mode: the Q flag, or a 'Q' inside b, sets LWM2M_F_QUEUE; b is kept as sent (the
 *    core must look at LWM2M_F_QUEUE, HTTP has no single carrier for it).
 *  - Bodies: Register needs the object list (400 when empty); Register/Update bodies must be
 *    application/link-format (415 otherwise or when Content-Type is missing); the list's
 *    content is checked by the core (validate_registration). Send needs a body (400) typed
 *    LwM2M CBOR, SenML CBOR or SenML JSON (415). De-register, Bootstrap-Request and
 *    Bootstrap-Pack-Request take no body (400). A body above max_body is 413; a query above
 *    HTTP_CODEC_QUERY_MAX bytes is 414.
 *  - Bootstrap-Pack-Request: acc goes to op->payload (like MQTT key 7, Content-Format 40).
 *    The Accept header picks the Pack's format (highest q among SenML CBOR, SenML JSON,
 *    LwM2M CBOR; the wildcard ranges of all types or all application types = any):
 *    extra->accept_cf; nothing acceptable is 406.
 *  - Checks run in this order, the first failure answers: route (404/405), body size (413),
 *    query (414/400, 415 for pct), Accept (406), body and Content-Type (415/400).
 *  - Uplink answers: Register 201, Update / De-register / Send 204, Bootstrap-Request and
 *    Bootstrap-Pack-Request 200. Downlink answers (spec 2.3): Read, Discover, Execute,
 *    Bootstrap-Read, Bootstrap-Discover 200; Create 201; every other success 204. Errors:
 *    the CoAP c.dd as HTTP cdd, except those whose HTTP number means something else: 4.02
 *    Bad Option and 4.08 Request Entity Incomplete -> 400, 5.05 Proxying Not Supported ->
 *    502; 4.xx/5.xx with dd above 31 -> c00; 2.31, 3.xx and codes outside 2.00..5.99 -> 500.
 *  - Downlink requests: the server's alternate path (for example "/lwm2m") prefixes DM
 *    requests, never Bootstrap ones; op->uri is re-written canonically ("3/0/1/" ->
 *    "/3/0/1"). A request without payload carrying LWM2M_F_CT (Read, Bootstrap-Read) sends
 *    that format as Accept. Execute arguments go as text/plain. Create answers may carry the
 *    new instance in Location ("/3303/1", also behind an alternate path or in an absolute
 *    URL); it must name the object created in.
 *  - Downlink answers: Content-Type maps to a content format with the IANA media types,
 *    tolerating application/json (OMA JSON 11543, old Zephyr), the pre-IANA
 *    application/vnd.oma.lwm2m+text / +opaque names and bare decimal numbers, including the
 *    legacy 1541 (text), 1542 (TLV), 1543 (OMA JSON) and 1544 (opaque, Zephyr).
 */
#ifndef BINDING_HTTP_CODEC_H
#define BINDING_HTTP_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "op.h"
#include "../util/buf.h"
#include "../util/lwm2m_err.h"

#define HTTP_CODEC_QUERY_MAX    2048u  /* longest raw query accepted, bytes (414 above) */
#define HTTP_CODEC_REG_ID_BYTES 16u    /* registration id: 128 random bits */
#define HTTP_CODEC_REG_ID_LEN   32u    /* ... written as 32 lowercase hex digits */
#define HTTP_CODEC_EP_MAX       255u   /* longest endpoint name, bytes */

/* One received HTTP request, as the listener saw it. Strings are NUL-terminated; NULL means
 * "absent". Nothing is copied: the op views point into query and body. */
struct http_request_view {
	const char *method;        /* "POST", "GET", "DELETE" ... */
	const char *path;          /* "/rd/0f3c...", without '?' and query */
	const char *query;         /* raw, still percent-encoded text after '?'; NULL or "" = none */
	const char *content_type;  /* Content-Type header value */
	const char *accept;        /* Accept header value */
	const uint8_t *body;
	size_t body_len;
	size_t max_body;           /* 0 = no limit; above it the answer is 413 */
};

/* What an uplink request says that struct lwm2m_op has no field for, and the answer to give
 * when it is refused. op views may point into scratch: keep this struct where it is (do not
 * copy it) for as long as the op is used. */
struct http_uplink {
	uint16_t status;                          /* after a failure: the HTTP status to answer */
	const char *allow;                        /* with 405: the Allow header value */
	bool has_reg_id;                          /* Update, De-register; Send with ?rid= */
	char reg_id[HTTP_CODEC_REG_ID_LEN + 1];   /* the {id} of /rd/{id}, NUL-terminated */
	int accept_cf;                            /* Bootstrap-Pack-Request: -1 = any */
	char scratch[HTTP_CODEC_QUERY_MAX];       /* percent-decoded query values */
};

/* ---- uplink: device -> server ---- */

/* Recognise the request in req (Register, Update, De-register, Send, Bootstrap-Request,
 * Bootstrap-Pack-Request) and fill op and extra (both required; err may be NULL). On
 * success returns 0 and extra->status is 0. op has no token (HTTP has none); for
 * Register/Update with a body op carries the payload and LWM2M_F_CT 40, for Send the
 * payload and its content format.
 *
 * On failure returns a negative -LWM2M_E* with err->msg naming the problem (the parameter,
 * the byte offset in the query) and extra->status the HTTP status to answer at once:
 *   404 -LWM2M_ENOENT   unknown path, malformed registration id
 *   405 -LWM2M_ENOTSUP  method not allowed on that path (extra->allow says which are)
 *   406 -LWM2M_ENOTSUP  Bootstrap-Pack-Request whose Accept names no Pack format
 *   413 -LWM2M_ETOOBIG  body above req->max_body
 *   414 -LWM2M_ETOOBIG  query above HTTP_CODEC_QUERY_MAX
 *   415 -LWM2M_ENOTSUP  Content-Type missing or not allowed, pct not a bootstrap format
 *   400 -LWM2M_EINVAL   everything else (query parameters, bodies, NULL method or path)
 * On failure op holds only the kind, when the route was recognised (for the log line). */
int http_codec_decode_request(const struct http_request_view *req, struct lwm2m_op *op,
	struct http_uplink *extra, struct lwm2m_error *err);

/* The HTTP status for the answer to a request of req->kind whose LwM2M outcome is result
 * (CoAP numbering, 205 = 2.05): the pinned uplink statuses and the downlink table above.
 * Always a status between 200 and 599. */
int http_codec_status_for(const struct lwm2m_op *req, uint16_t lwm2m_result);

/* The id text of a registration: 32 lowercase hex digits and a NUL. */
void http_codec_reg_id_text(const uint8_t id[HTTP_CODEC_REG_ID_BYTES],
	char out[HTTP_CODEC_REG_ID_LEN + 1]);

/* Append the Register answer's Location value "/rd/{id}" to out, NUL-terminated in the
 * buffer (the NUL is not counted in out->len). -LWM2M_ENOMEM / -LWM2M_ETOOBIG from the
 * buffer; out is left as it was on error. */
int http_codec_format_location(const uint8_t id[HTTP_CODEC_REG_ID_BYTES], struct lwm2m_buf *out);

/* The device side of http_codec_decode_request, for a simulator or a test client: build the
 * request for op (Register, Update, De-register, Send, Bootstrap-Request,
 * Bootstrap-Pack-Request). extra supplies reg_id (Update, De-register) and accept_cf
 * (Bootstrap-Pack-Request); it may be NULL otherwise. out->path and out->query point into
 * storage (appended to; valid until storage changes), out->body is op->payload, the other
 * strings are static. The values are percent-encoded where needed; decoding the result
 * gives back op. Refuses (-LWM2M_EINVAL, storage left as it was) what the decoder would
 * refuse, -LWM2M_ENOTSUP for any other kind. */
int http_codec_encode_uplink(const struct lwm2m_op *op, const struct http_uplink *extra,
	struct lwm2m_buf *storage, struct http_request_view *out, struct lwm2m_error *err);

/* ---- downlink: server -> device ---- */

/* Build the request for op (Read, Discover, Write, Write-Partial, Write-Attributes, Execute,
 * Create, Delete, Bootstrap-Write/Read/Delete/Discover/Finish) to send to the device's own
 * HTTP server: appends "[alt_path]/o/i/r[?query]" to path_and_query (NUL-terminated in the
 * buffer, not counted), sets *method and *content_type / *accept (static strings or NULL).
 * The body to send is op->payload (when LWM2M_F_PAYLOAD). alt_path: NULL, "" or "/" for
 * none, else "/seg[/seg...]" without a numeric segment. Returns 0, -LWM2M_ENOTSUP for what
 * HTTP cannot carry (Observe, Cancel-Observe, composites, Notify, device operations) and
 * -LWM2M_EINVAL for a missing or malformed field; path_and_query is left as it was on
 * error. */
int http_codec_encode_request(const struct lwm2m_op *op, const char *alt_path,
	struct lwm2m_buf *path_and_query, const char **method, const char **content_type,
	const char **accept, struct lwm2m_error *err);

/* Translate the device's answer to req into resp: any 2xx to req's LwM2M success (2.05
 * GET, 2.02 DELETE, 2.01 Create with the new instance path from location in resp->uri,
 * 2.04 otherwise), 4xx/5xx to c.dd (c.00 when dd > 31). resp->kind = req->kind,
 * is_response, the token copied when req has one. A body becomes resp->payload; on success
 * it must come with a known Content-Type (-LWM2M_EINVAL when missing, -LWM2M_ENOTSUP when
 * unknown); on an error status it is kept as diagnostic text, typed only when recognised.
 * -LWM2M_EINVAL also for a status outside 200..599 or a 3xx, and for a Create Location
 * that does not end in /{object}/{instance} of the requested object. Views point into
 * location and body. */
int http_codec_decode_response(const struct lwm2m_op *req, unsigned http_status,
	const char *content_type, const char *location, const uint8_t *body, size_t len,
	struct lwm2m_op *resp, struct lwm2m_error *err);

/* Content format of a Content-Type header value with the tolerances above; -1 if unknown. */
int http_codec_cf_from_content_type(const char *content_type);

#endif
