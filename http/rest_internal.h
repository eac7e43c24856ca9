/* Shared by the files of the REST server. Core thread only. */
#ifndef HTTP_REST_INTERNAL_H
#define HTTP_REST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>
#include <uv.h>

#include "mhd_uv.h"
#include "rest.h"
#include "rest_parse.h"
#include "../core/api.h"

/* Floats for people: 15 significant digits print 24.19 as 24.19, and every decimal of up
 * to 15 digits comes back as written. */
#define REST_JSON_REAL_PRECISION JSON_REAL_PRECISION(15)

struct sse_stream;

struct rest_server {
	const struct lwm2m_config *cfg;
	struct mhd_uv mhd;              /* the daemon on the core loop */
	char *tls_cert;                 /* PEM text for HTTPS (the daemon reads it), NULL = HTTP */
	char *tls_key;
	struct core *core;
	unsigned long requests;
	struct sse_stream *streams;     /* open event streams */
	struct rest_req *waiting;       /* requests suspended for a device */
};

enum req_state {
	REQ_READING = 0,   /* body arriving */
	REQ_WAITING,       /* suspended, waiting for a device */
	REQ_DONE,          /* response queued */
};

struct rest_req {
	struct rest_server *srv;
	struct MHD_Connection *conn;
	enum req_state state;
	char *body;
	size_t body_len;
	bool body_too_big;
	int64_t handle;            /* core request handle while REQ_WAITING */
	enum lwm2m_op_kind kind;
	char uri[64];
	char endpoint[256];
	char prefix[129];
	bool has_prefix;
	struct rest_req *next, *prev;   /* in srv->waiting while REQ_WAITING */
};

/* Responses. */
enum MHD_Result rest_reply_json(struct rest_req *r, unsigned status, json_t *body);
enum MHD_Result rest_reply_error(struct rest_req *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Cache-Control, and CORS for an allowed Origin. */
void rest_add_headers(struct rest_server *s, struct MHD_Connection *conn, struct MHD_Response *resp);
/* For a suspended request: queue the response and resume it. */
void rest_complete(struct rest_req *r, unsigned status, json_t *body);
void rest_kick(struct rest_server *s);

/* Routes under /api/clients/{ep}/...: device operations (rest_ops.c). */
enum MHD_Result rest_device_op(struct rest_req *r, const struct rest_parsed *q);
/* GET /api/event (rest_events.c). */
enum MHD_Result rest_events(struct rest_req *r);
/* Ends every event stream (at shutdown). */
void rest_events_close_all(struct rest_server *s);

/* The list of requests waiting for a device. */
void rest_waiting_add(struct rest_req *r);
void rest_waiting_remove(struct rest_req *r);

#endif
