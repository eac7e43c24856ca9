/* The CoAP codec (LwM2M 1.2 Transport TS section 6, the CoAP binding) for the forwarder,
 * which registers every MQTT/HTTP device at a CoAP LwM2M server and plays the LwM2M client
 * there on the device's behalf. Pure: no I/O, no state, no libcoap. The forwarder turns
 * libcoap PDUs into struct coap_msg (and struct coap_answer / built coap_msgs back into
 * PDUs); this file does the LwM2M meaning.
 *
 * Four jobs:
 *   server request -> op       coap_codec_decode_request[_ex]
 *   op answer -> CoAP answer   coap_codec_encode_response
 *   registration toward the server: coap_codec_register_query / _update_query (Uri-Query
 *     lists), coap_codec_register_msg / _update_msg / _deregister_msg / _send_msg (whole
 *     requests), coap_codec_filter_links, coap_codec_parse_location
 *   helpers: option uints, CoAP code <-> LwM2M result (c*100+dd), "2.05" names
 *
 * Choices this codec makes where the specification leaves room:
 *
 *  - Options (RFC 7252 5.4): Uri-Path, Uri-Query, Accept, Content-Format and Observe are
 *    read; Uri-Host, Uri-Port, Block1 and Block2 are understood and ignored (the forwarder's
 *    CoAP stack does the block-wise transfer and hands over the whole body). Every other
 *    critical (odd) option, including If-Match, If-None-Match and OSCORE (the stack removes
 *    it after decrypting), is 4.02 Bad Option; Proxy-Uri and Proxy-Scheme are 5.05 Proxying
 *    Not Supported. Elective (even) options are ignored. A repeated non-repeatable critical
 *    option, an Accept longer than 2 bytes and a Uri-Path or Uri-Query longer than 255
 *    bytes are 4.02 (RFC 7252: treat like an unrecognised option); a repeated or oversized
 *    elective option (Content-Format above 2 bytes, Observe above 3) is ignored, the first
 *    well-formed occurrence counts.
 *  - Paths: Uri-Path segments after the device's alternate path (opts->alt_path; a request
 *    outside it is 4.04) must be decimal ids 0..65534 (65535 is reserved), at most 4 of
 *    them; one empty last segment (a trailing '/') is tolerated. A non-numeric FIRST
 *    segment is 4.04 (an alternate path or gateway prefix this device does not have); any
 *    other bad segment is 4.00. op->uri is the canonical "/o/i/r/ri" without the alternate
 *    path (HTTP codec convention), built in scratch.
 *  - Methods: GET, POST, PUT, DELETE, FETCH and iPATCH; PATCH and unknown 0.xx methods are
 *    4.05. A message that is not a request (class 2..7, or the empty 0.00) is refused with
 *    -LWM2M_EINVAL and answer 4.00 (the caller should not answer a response at all).
 *  - GET: Accept 40 = Discover (levels /o, /o/i, /o/i/r; query "depth=0..3" only); else
 *    Observe 0 = Observe, Observe 1 = Cancel-Observe, otherwise Read (levels /o ../o/i/r/ri;
 *    the root is 4.05). Observe on a Discover, and Observe values other than 0 and 1, are
 *    ignored (RFC 7641: the server answers without Observe, so the observer learns it is
 *    not observed). GET and DELETE with a payload are 4.00.
 *  - PUT with a Content-Format or a payload is Write (replace) on /o/i, /o/i/r or
 *    /o/i/r/ri (PUT /o is 4.05: object-level Write does not exist in CoAP); an empty payload
 *    with a Content-Format is an empty value (an empty string), not Write-Attributes. PUT
 *    with neither is Write-Attributes when it has Uri-Query options, else 4.00.
 *  - POST /o = Create, POST /o/i = Write (partial update), POST /o/i/r = Execute unless the
 *    Content-Format is a multi-value format (TLV, SenML JSON/CBOR, OMA JSON, LwM2M CBOR):
 *    then it is a partial update of a multi-instance resource (Core: "POST /o/i/r for a
 *    multi-instance resource"). POST / and POST /o/i/r/ri are 4.05.
 *  - DELETE on /o/i or /o/i/r/ri; other levels 4.05.
 *  - FETCH / = Read-Composite (Observe 0 = Observe-Composite, Observe 1 = Cancel-Observe);
 *    iPATCH / = Write-Composite; another path is 4.05. The FETCH body is a path list in
 *    SenML-ETCH JSON (320) or CBOR (322), or SenML JSON (110) / CBOR (112), names with the
 *    alternate path allowed; an LwM2M CBOR (11544) path list is 4.15 (not supported by the
 *    format library). The list is re-encoded into scratch as SenML-ETCH CBOR (what MQTT key
 *    6 carries); an empty list, a gateway prefix or an id 65535 is 4.00.
 *  - Content-Format: Write/partial Write/Create need one (missing = 4.15). Allowed: Write
 *    0, 42, 60, 110, 112, 11542, 11543, 11544; Create, Write partial 110, 112, 11542,
 *    11543, 11544; Execute none or 0; Write-Composite 110, 112, 320, 322, 11544; FETCH as
 *    above. Anything else is 4.15. Requests that take no body ignore a Content-Format.
 *  - Accept: Read/Observe 0, 42, 60, 110, 112, 11542, 11543, 11544; Read-Composite and
 *    Observe-Composite 110, 112, 11544; others 4.06. Other methods ignore Accept. Accept is
 *    reported in info (the op model has no Accept; the forwarder converts the answer).
 *  - Uri-Query: only Discover (depth) and Write-Attributes take any; elsewhere it is 4.00
 *    naming the parameter. Observe / Observe-Composite with attributes (allowed by CoAP
 *    1.2) is 4.00: the MQTT binding has no attributes on Observe and HTTP has no Observe.
 *    Each Uri-Query option is one "name[=value]" (no '&' splitting, no %-decoding: CoAP
 *    options are already decoded). Write-Attributes: names as objects/attributes.h, each
 *    once; the request's own attributes must be consistent (attr_validate: lt < gt,
 *    lt + 2*st < gt, pmin <= pmax, epmin <= epmax) and gt/lt/st/edge need a resource
 *    level. lt, con and value-less (unset) attributes are 4.00 because MQTT has no key for
 *    them, unless opts->full_attributes (an HTTP device can take them).
 *  - Execute arguments must follow the Core ABNF (arg *("," arg), arg = DIGIT
 *    ["=" "'" *CHAR "'"]), else 4.00; they go to op->payload without a Content-Format.
 *  - Create: info->create_iid tells whether the server named the new instance in the
 *    payload (TLV object-instance records, instance ids in SenML / LwM2M CBOR / OMA JSON
 *    names); an unreadable payload counts as "named none" (the device judges it).
 *  - Answers (coap_codec_encode_response): any 2.xx but 2.31 becomes the operation's own
 *    success code (Read 2.05, Create 2.01, Delete 2.02, Write 2.04 ...); 4.xx/5.xx pass
 *    through (dd above 31 becomes c.00); anything else (1xx, 2.31, 3xx, 6xx) is answered
 *    5.00. A 2.05 with a payload needs a content format (else 5.00). Observe and
 *    Observe-Composite successes ask for an Observe option; Cancel-Observe and errors do
 *    not. A Notify op is a notification: 2.05 + Observe. Create: Location-Path "o", "i"
 *    from resp->uri ("/3303/1", HTTP codec convention; MQTT devices may put it in key 5),
 *    else from the instance the server named; when the server named several, 2.01 without
 *    Location; when nobody named one, 4.00 "the device did not say which instance it
 *    created". Location-Path never carries the alternate path.
 *  - Registration queries: Register ep, lt, lwm2m, b, then Q, sms, pid when set. b is the
 *    forwarder's transport letter (U or T), never the device's M/H. Queue mode is the
 *    valueless Q (LwM2M 1.1+); for lwm2m=1.0 it is "b=UQ" / "b=TQ". Update carries only
 *    what changed: lt, b (+Q) when the transport or queue mode changed, sms and pid when
 *    changed to a value (a removed sms or pid cannot be said in an Update and is dropped).
 *    ep: 1..252 bytes of UTF-8 without control characters (the whole "ep=..." fits a
 *    255-byte option); lwm2m "1*DIGIT.1*DIGIT"; sms 1..15 digits; pid 1..251 printable
 *    ASCII bytes.
 *  - Link filter: drops every link whose path (after the alternate path, %-escapes decoded)
 *    is /0, /21, /23 or /24 or below them; keeps every other link byte for byte, including
 *    the root link, links with non-numeric paths and unknown attributes. Separators are
 *    rewritten as a bare ',' (whitespace after ',' is dropped). The input must parse with
 *    lf_parse (default mode).
 *  - Location (Register answer): 1..COAP_CODEC_LOCATION_MAX_SEGS Location-Path segments of
 *    1..255 RFC 3986 pchar bytes without '%' ("." and ".." refused); a Location-Query is
 *    refused (LwM2M never uses it and Update could not repeat it).
 */
#ifndef BINDING_COAP_CODEC_H
#define BINDING_COAP_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "op.h"
#include "../objects/path.h"
#include "../util/buf.h"
#include "../util/lwm2m_err.h"

/* ---- The neutral message ---- */

#define COAP_CODEC_MAX_OPTS 40

enum coap_codec_opt_number {
	COAP_CODEC_OPT_IF_MATCH = 1,
	COAP_CODEC_OPT_URI_HOST = 3,
	COAP_CODEC_OPT_ETAG = 4,
	COAP_CODEC_OPT_IF_NONE_MATCH = 5,
	COAP_CODEC_OPT_OBSERVE = 6,
	COAP_CODEC_OPT_URI_PORT = 7,
	COAP_CODEC_OPT_LOCATION_PATH = 8,
	COAP_CODEC_OPT_OSCORE = 9,
	COAP_CODEC_OPT_URI_PATH = 11,
	COAP_CODEC_OPT_CONTENT_FORMAT = 12,
	COAP_CODEC_OPT_MAX_AGE = 14,
	COAP_CODEC_OPT_URI_QUERY = 15,
	COAP_CODEC_OPT_ACCEPT = 17,
	COAP_CODEC_OPT_LOCATION_QUERY = 20,
	COAP_CODEC_OPT_BLOCK2 = 23,
	COAP_CODEC_OPT_BLOCK1 = 27,
	COAP_CODEC_OPT_SIZE2 = 28,
	COAP_CODEC_OPT_PROXY_URI = 35,
	COAP_CODEC_OPT_PROXY_SCHEME = 39,
	COAP_CODEC_OPT_SIZE1 = 60,
};

/* Request method codes (class 0). */
enum coap_codec_method {
	COAP_CODEC_GET = 1,
	COAP_CODEC_POST = 2,
	COAP_CODEC_PUT = 3,
	COAP_CODEC_DELETE = 4,
	COAP_CODEC_FETCH = 5,
	COAP_CODEC_PATCH = 6,
	COAP_CODEC_IPATCH = 7,
};

struct coap_opt_view {
	uint16_t number;
	struct lwm2m_view value;
};

struct coap_msg {
	uint8_t code;                       /* (class << 5) | detail; methods 1..7 */
	struct coap_opt_view opts[COAP_CODEC_MAX_OPTS];
	size_t n_opts;                      /* any order; repeated options in message order */
	struct lwm2m_view payload;
};

/* ---- Codes and option values ---- */

/* The CoAP code byte of c.dd. */
#define COAP_CODEC_CODE(c, dd) ((uint8_t)(((c) << 5) | (dd)))

/* The code byte of an op-model result (205 -> 0x45); -1 unless result is c*100+dd with
 * c 0..7 and dd 0..31. */
int coap_codec_code_of_result(uint16_t result);

/* The op-model result of a code byte (0x45 -> 205); every byte has one. */
uint16_t coap_codec_result_of_code(uint8_t code);

/* "c.dd" text of a code byte ("2.05", "0.01"); returns out. */
#define COAP_CODEC_CODE_TEXT_SIZE 5
const char *coap_codec_code_text(uint8_t code, char out[COAP_CODEC_CODE_TEXT_SIZE]);

/* A uint option value (RFC 7252 3.2: big-endian, 0 bytes = 0, leading zeros tolerated) of
 * at most max_len bytes (max_len above 4 counts as 4). -LWM2M_ERANGE when longer. */
int coap_codec_opt_uint(struct lwm2m_view value, size_t max_len, uint32_t *out);

/* The shortest uint option value of v into out; returns its length (0..4). */
size_t coap_codec_uint_bytes(uint32_t v, uint8_t out[4]);

/* The first option with this number, or NULL. */
const struct coap_opt_view *coap_codec_find_opt(const struct coap_msg *m, uint16_t number);

/* Append an option; -LWM2M_EFULL when m already holds COAP_CODEC_MAX_OPTS. */
int coap_codec_add_opt(struct coap_msg *m, uint16_t number, struct lwm2m_view value);

/* ---- Server request -> op ---- */

struct coap_decode_opts {
	const char *alt_path;    /* the device's alternate path ("/lwm2m"); NULL, "" or "/" = none */
	bool full_attributes;    /* pass lt, con and unset attributes (the device is not MQTT) */
};

#define COAP_CODEC_OBSERVE_NONE (-1)
#define COAP_CODEC_OBSERVE_REGISTER 0
#define COAP_CODEC_OBSERVE_DEREGISTER 1

#define COAP_CODEC_IID_NONE (-1)   /* Create: the server named no instance (the device picks) */
#define COAP_CODEC_IID_MANY (-2)   /* Create: the server named several instances */

/* What a server request says besides the op, and how to refuse it. */
struct coap_request_info {
	uint8_t answer_code;       /* 0 after success; after a failure the code to answer */
	bool has_accept;
	uint16_t accept;           /* Accept option (17) */
	bool has_content_format;
	uint16_t content_format;   /* Content-Format option (12) */
	int observe;               /* COAP_CODEC_OBSERVE_*: what the op does with Observe */
	struct lwm2m_path path;    /* the target without the alternate path (root: composites) */
	int32_t create_iid;        /* Create: 0..65534 or COAP_CODEC_IID_*; else IID_NONE */
};

/* Decode a request of the CoAP server into op (a request, no token: the forwarder keeps
 * the CoAP token) and info; m, op, info and scratch are required, err may be NULL. op
 * views point into m's option values and payload or into scratch (appended to: the op's
 * uri text and a composite's SenML-ETCH CBOR path list): keep m's buffers and scratch
 * unchanged while op is used.
 *
 * Returns 0 (info->answer_code 0) or a negative code with err->msg saying exactly why (send
 * it as the diagnostic payload) and info->answer_code:
 *   4.00 -LWM2M_EINVAL   malformed path, query, Execute arguments or path list; a query
 *                        or payload the operation does not take; attributes MQTT cannot
 *                        carry; not a request
 *   4.02 -LWM2M_ENOTSUP  unsupported critical option (and malformed critical options)
 *   4.04 -LWM2M_ENOENT   outside the alternate path, non-numeric first segment
 *   4.05 -LWM2M_ENOTSUP  method not allowed on that path level, PATCH, unknown method
 *   4.06 -LWM2M_ENOTSUP  Accept names a format the operation cannot answer in
 *   4.13 -LWM2M_ETOOBIG  scratch is full (its limit)
 *   4.15 -LWM2M_ENOTSUP  Content-Format missing where needed or not allowed
 *   5.00 -LWM2M_ENOMEM   out of memory
 *   5.05 -LWM2M_ENOTSUP  Proxy-Uri / Proxy-Scheme
 * On failure op holds only the kind when the method and path were recognised, scratch is
 * left as it was. */
int coap_codec_decode_request(const struct coap_msg *m, struct lwm2m_op *op,
	struct coap_request_info *info, struct lwm2m_buf *scratch, struct lwm2m_error *err);

/* The same with options (NULL = none: no alternate path, MQTT's attribute limits). */
int coap_codec_decode_request_ex(const struct coap_msg *m, const struct coap_decode_opts *opts,
	struct lwm2m_op *op, struct coap_request_info *info, struct lwm2m_buf *scratch,
	struct lwm2m_error *err);

/* ---- Op answer -> CoAP answer ---- */

#define COAP_CODEC_ID_TEXT_SIZE 6   /* "65534" + NUL */

struct coap_answer {
	uint8_t code;
	bool has_content_format;
	uint16_t content_format;
	struct lwm2m_view payload;     /* resp->payload, or after a failure err->msg; never NULL */
	bool observe;                  /* add an Observe option (the forwarder's sequence number) */
	size_t n_location;             /* 0, or 2 for a Create: Location-Path object, instance */
	char location[2][COAP_CODEC_ID_TEXT_SIZE];
};

/* The CoAP answer to a server request of request_kind whose device answer is resp (an op
 * response, or a Notify op = the next notification of an observation). info is the
 * decoded request's (may be NULL: then a Create answer needs resp->uri and its object is
 * not checked). Returns 0, or a negative code with a->code the code to answer instead
 * (4.00 for a Create whose instance nobody named, 5.00 for a device answer CoAP cannot
 * carry) and a->payload pointing at err->msg (empty when err is NULL). */
int coap_codec_encode_response(const struct lwm2m_op *resp, enum lwm2m_op_kind request_kind,
	const struct coap_request_info *info, struct coap_answer *a, struct lwm2m_error *err);

/* ---- Registration toward the server ---- */

#define COAP_CODEC_LOCATION_MAX_SEGS 8
#define COAP_CODEC_LOCATION_MAX 512    /* enough for any location parse_location accepts */

/* What the forwarder tells the server about one device. Views are not NUL-terminated;
 * an empty sms or pid means none. */
struct coap_reg_state {
	struct lwm2m_view ep;          /* the endpoint name given to the server */
	uint64_t lifetime;
	struct lwm2m_view version;     /* "1.2" */
	char transport;                /* 'U' or 'T'; 0 = 'U' */
	bool queue;
	struct lwm2m_view sms;
	struct lwm2m_view pid;
};

/* Apply a device's Register (every parameter; ep and transport kept when the op has none)
 * or Update (only those present) onto s. Queue mode: LWM2M_F_QUEUE; an Update with a
 * binding and without it turns queue mode off. s views then point into op's buffers. */
void coap_codec_reg_state_apply(struct coap_reg_state *s, const struct lwm2m_op *op);

/* Append the Register Uri-Query values to out as consecutive NUL-terminated strings
 * ("ep=dev1\0lt=300\0lwm2m=1.2\0b=U\0Q\0") and set *count. -LWM2M_EINVAL (out as it was)
 * for a value the rules above refuse. */
int coap_codec_register_query(const struct coap_reg_state *s, struct lwm2m_buf *out,
	size_t *count, struct lwm2m_error *err);

/* The same for an Update from old to now: only what changed (*count may be 0). */
int coap_codec_update_query(const struct coap_reg_state *old, const struct coap_reg_state *now,
	struct lwm2m_buf *out, size_t *count, struct lwm2m_error *err);

/* Walk a query list: the string at *pos (advanced past its NUL), NULL at q->len. */
const char *coap_codec_query_next(const struct lwm2m_buf *q, size_t *pos);

/* Append links[0..len) to out without the objects a server must never see (/0 Security,
 * /21 OSCORE, /23 COSE, /24 MQTT Server, and their instances), NUL-terminated in the
 * buffer (not counted). -LWM2M_EINVAL when lf_parse refuses the input; out as it was. */
int coap_codec_filter_links(const char *links, size_t len, struct lwm2m_buf *out,
	struct lwm2m_error *err);

/* The registration location of a Register answer: its Location-Path segments joined by
 * '/' ("rd/5a3f"), NUL-terminated, into out[size]. -LWM2M_EINVAL when missing or
 * invalid, -LWM2M_ETOOBIG when out is too small; out is "" then. */
int coap_codec_parse_location(const struct coap_msg *m, char *out, size_t size,
	struct lwm2m_error *err);

/* Whole requests toward the server, ready for the forwarder to copy into a PDU: method,
 * options (Uri-Path, Content-Format, Uri-Query in that order) and payload. Option values
 * point into storage (appended to), string constants or the given payloads: keep them
 * unchanged while m is used. On failure m is empty and storage as it was.
 *   Register:    POST /rd?ep&lt&lwm2m&b[&Q][&sms][&pid], links filtered, Content-Format
 *                40 when the filtered list is not empty
 *   Update:      POST /{location}?{what changed}; links NULL = no object list (else
 *                filtered, Content-Format 40 when not empty)
 *   De-register: DELETE /{location}
 *   Send:        POST /dp, op->content_format (11544, 112 or 110) and op->payload */
int coap_codec_register_msg(const struct coap_reg_state *s, const char *links, size_t len,
	struct coap_msg *m, struct lwm2m_buf *storage, struct lwm2m_error *err);
int coap_codec_update_msg(const char *location, const struct coap_reg_state *old,
	const struct coap_reg_state *now, const char *links, size_t len, struct coap_msg *m,
	struct lwm2m_buf *storage, struct lwm2m_error *err);
int coap_codec_deregister_msg(const char *location, struct coap_msg *m,
	struct lwm2m_buf *storage, struct lwm2m_error *err);
int coap_codec_send_msg(const struct lwm2m_op *send, struct coap_msg *m,
	struct lwm2m_buf *storage, struct lwm2m_error *err);

#endif
