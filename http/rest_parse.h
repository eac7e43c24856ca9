/* What a REST request asks for, worked out without libmicrohttpd and without the core:
 * method, URL path, query arguments, Content-Type and body in; the route, the endpoint, the
 * LwM2M operation with its path, options and ready-to-send payload out, or the HTTP status
 * and message the server refuses the request with.
 *
 * Routes (Leshan 2.x paths):
 *   GET  /api/clients[/][?offset=&limit=]        client list
 *   GET  /api/clients/{ep}[/][?prefix=]          one client
 *        /api/clients/{ep}/{path}[/discover|/attributes|/observe][?depth=&timeout=&...]
 *        /api/clients/{ep}/composite[/observe][?paths=/3/0/1,/3/0/2]
 *   GET  /api/event                              Server-Sent Events
 *   GET  /api/status
 *   OPTIONS on any path                          CORS preflight */
#ifndef HTTP_REST_PARSE_H
#define HTTP_REST_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../binding/op.h"
#include "../objects/attributes.h"
#include "../objects/fmt.h"
#include "../objects/node.h"
#include "../objects/path.h"
#include "../util/buf.h"

#define REST_MAX_BODY (1024 * 1024)
#define REST_MAX_COMPOSITE_PATHS 64
#define REST_ENDPOINT_MAX 255          /* bytes of an endpoint name */
#define REST_PREFIX_MAX 128            /* bytes of a ?prefix= */
#define REST_MESSAGE_MAX 512           /* refusal message, NUL included (longer ones are cut) */

/* One query argument, as the HTTP server decoded it: "?a=1&b&c=" gives ("a","1"),
 * ("b",NULL), ("c",""). */
struct rest_arg {
	const char *name;
	const char *value;            /* NULL when the argument had no '=' */
};

struct rest_input {
	const char *method;           /* "GET", "PUT" ... (compared exactly, case matters) */
	const char *url;              /* path only, percent-decoded, no query string */
	const struct rest_arg *args;  /* in request order; names are matched ignoring ASCII case
	                               * and the first match wins, as libmicrohttpd looks them up */
	size_t nargs;
	const char *content_type;     /* NULL when the request has none */
	const uint8_t *body;          /* may hold NULs; need not be NUL-terminated */
	size_t body_len;
	bool body_too_big;            /* the body exceeded REST_MAX_BODY and was dropped */
};

enum rest_route {
	REST_ROUTE_UNKNOWN = 0,       /* no such resource (404), or refused before routing (413) */
	REST_ROUTE_PREFLIGHT,         /* OPTIONS: answered before authentication */
	REST_ROUTE_CLIENT_LIST,
	REST_ROUTE_CLIENT,            /* one registration; also invalid endpoint names and prefixes */
	REST_ROUTE_DEVICE_OP,         /* an operation on {path} */
	REST_ROUTE_COMPOSITE,         /* a composite operation */
	REST_ROUTE_EVENTS,
	REST_ROUTE_STATUS,
	REST_ROUTE_REQUEST,           /* GET /api/requests/{id}: a queued request */
	REST_ROUTE_SEND,              /* GET /api/send?ep=&since=&limit=: stored Send data */
	REST_ROUTE_BOOTSTRAP_SESSIONS,  /* GET /api/bootstrap/sessions */
	REST_ROUTE_BOOTSTRAP_TRIGGER,   /* POST /api/bootstrap/{ep}: execute its /1/x/9 */
	REST_ROUTE_ENDPOINTS_RELOAD,    /* POST /api/endpoints/reload: re-read the endpoints file */
};

/* What the request asks for. Owns its payload, path list and nodes (rest_parsed_free);
 * points into nothing of the input. */
struct rest_parsed {
	enum rest_route route;
	unsigned status;              /* 0: valid; else the HTTP status to refuse it with */
	int64_t request_id;           /* REQUEST */
	int64_t since;                /* SEND: items with a larger id */
	char message[REST_MESSAGE_MAX];   /* why, when status != 0 */

	/* CLIENT_LIST: the page asked for (offset >= 0, limit 1..10000, default 0 and 1000). */
	long offset, limit;

	/* CLIENT, DEVICE_OP, COMPOSITE: set whenever these routes are valid so far. */
	char endpoint[REST_ENDPOINT_MAX + 1];
	char prefix[REST_PREFIX_MAX + 1];
	bool has_prefix;

	/* DEVICE_OP and COMPOSITE. kind: READ, DISCOVER, WRITE, WRITE_PARTIAL, WRITE_ATTRIBUTES,
	 * EXECUTE, CREATE, DELETE, OBSERVE, CANCEL_OBSERVE on path; READ_COMPOSITE,
	 * OBSERVE_COMPOSITE, WRITE_COMPOSITE without one. */
	enum lwm2m_op_kind kind;
	struct lwm2m_path path;       /* DEVICE_OP: at least an object */
	bool has_path;
	bool has_depth;               /* ?depth=0..3, Discover only */
	bool cancel;                  /* COMPOSITE observe: DELETE cancels the observation */
	uint8_t depth;
	uint32_t timeout_ms;          /* ?timeout= in ms; 0 = the core's default */
	struct lwm2m_attrs attrs;     /* WRITE_ATTRIBUTES: at least one set, none unset */
	struct lwm2m_path paths[REST_MAX_COMPOSITE_PATHS];   /* READ/OBSERVE_COMPOSITE */
	size_t npaths;
	struct lwm2m_buf paths_etch;  /* the same list as SenML-ETCH CBOR (MQTT key 6) */

	/* The payload: the raw body (a non-JSON Content-Type, or Execute arguments) or the
	 * JSON body's nodes encoded in content_format (default SenML CBOR, or ?format=). */
	bool has_payload;
	bool has_ct;                  /* false for Execute: its arguments carry no format */
	uint16_t content_format;
	struct lwm2m_buf payload;
	bool from_json;
	struct lwm2m_nodes nodes;     /* from_json: the nodes, "type" filled from the typer */
};

/* Works out `in` into `out` (which needs no initialisation; free it with rest_parsed_free
 * whatever the result). typer (may be NULL) gives the type of JSON nodes that have none
 * and serves the encoder. Every refusal is a status + message in `out`, with the statuses
 * and words the server answers: 400 malformed, 404 no such resource, 405 wrong method,
 * 413 body too big, 415 unknown Content-Type, 501 not supported. Returns 0, or
 * -LWM2M_ENOMEM (then status is 500). */
int rest_parse(const struct rest_input *in, const struct fmt_typer *typer, struct rest_parsed *out);

void rest_parsed_free(struct rest_parsed *p);     /* accepts NULL; leaves p empty */

/* Routes whose refusal the server answers only after it found the endpoint registered (an
 * operation on an unknown endpoint is a 404 whatever else is wrong with it). Every other
 * refusal is answered at once. */
bool rest_route_needs_device(enum rest_route route);

/* The value of the first argument called `name` (ASCII case ignored); NULL when there is
 * none or it has no value. */
const char *rest_arg_get(const struct rest_input *in, const char *name);

#endif
