/* GET /api/event[?ep=NAME]: Server-Sent Events. Each stream buffers what it has not sent;
 * when idle its connection is suspended and events resume it. */
#include "rest_internal.h"
#include "../util/buf.h"

#include <stdlib.h>
#include <string.h>

#define SSE_MAX_BACKLOG (4 * 1024 * 1024)

struct sse_stream {
	struct rest_server *srv;
	struct MHD_Connection *conn;
	int64_t watch;
	char *filter_ep;            /* NULL = every endpoint */
	struct lwm2m_buf buf;       /* bytes not yet sent start at `sent` */
	size_t sent;
	bool suspended;
	bool closed;
	struct sse_stream *next, *prev;
};

static void stream_unlink(struct sse_stream *st)
{
	struct rest_server *s = st->srv;
	if(st->prev) st->prev->next = st->next;
	else if(s->streams == st) s->streams = st->next;
	if(st->next) st->next->prev = st->prev;
	st->next = st->prev = NULL;
}

static void wake(struct sse_stream *st)
{
	if(st->suspended){
		st->suspended = false;
		MHD_resume_connection(st->conn);
		rest_kick(st->srv);
	}
}

static void on_event(void *ctx, const char *type, const char *endpoint, json_t *data)
{
	struct sse_stream *st = ctx;
	char *text;

	if(st->closed) return;
	if(st->filter_ep && (!endpoint || strcmp(endpoint, st->filter_ep))) return;
	text = json_dumps(data, JSON_COMPACT | REST_JSON_REAL_PRECISION);
	if(!text) return;
	if(st->buf.len - st->sent > SSE_MAX_BACKLOG){
		/* A client that does not read is dropped rather than allowed to grow without end. */
		st->closed = true;
	}else if(buf_printf(&st->buf, "event: %s\ndata: %s\n\n", type, text) != 0){
		st->closed = true;
	}
	free(text);
	wake(st);
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct sse_stream *st = cls;
	size_t n;
	(void)pos;

	if(st->sent < st->buf.len){
		n = st->buf.len - st->sent;
		if(n > max) n = max;
		memcpy(out, st->buf.data + st->sent, n);
		st->sent += n;
		if(st->sent == st->buf.len){
			buf_reset(&st->buf);
			st->sent = 0;
		}
		return (ssize_t)n;
	}
	if(st->closed) return MHD_CONTENT_READER_END_OF_STREAM;
	st->suspended = true;
	MHD_suspend_connection(st->conn);
	return 0;
}

static void stream_free(void *cls)
{
	struct sse_stream *st = cls;
	if(st->srv->core) core_api_unwatch(st->srv->core, st->watch);
	stream_unlink(st);
	buf_free(&st->buf);
	free(st->filter_ep);
	free(st);
}

enum MHD_Result rest_events(struct rest_req *r)
{
	struct rest_server *s = r->srv;
	const char *ep = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "ep");
	struct sse_stream *st = calloc(1, sizeof(*st));
	struct MHD_Response *resp;
	enum MHD_Result rc;

	if(!st) return MHD_NO;
	st->srv = s;
	st->conn = r->conn;
	buf_init(&st->buf, 0);
	if(ep && !(st->filter_ep = strdup(ep))){
		free(st);
		return MHD_NO;
	}
	st->watch = core_api_watch(s->core, on_event, st);
	if(st->watch < 0 || buf_printf(&st->buf, ": connected\n\n") != 0){
		if(st->watch >= 0) core_api_unwatch(s->core, st->watch);
		buf_free(&st->buf);
		free(st->filter_ep);
		free(st);
		return rest_reply_error(r, 500, "cannot open the event stream");
	}
	st->next = s->streams;
	if(s->streams) s->streams->prev = st;
	s->streams = st;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, st, stream_free);
	if(!resp){
		stream_free(st);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	rest_add_headers(s, r->conn, resp);
	rc = MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	r->state = REQ_DONE;
	return rc;
}

void rest_events_close_all(struct rest_server *s)
{
	for(struct sse_stream *st = s->streams; st; st = st->next){
		if(s->core) core_api_unwatch(s->core, st->watch);
		st->watch = -1;
		st->closed = true;
		wake(st);
	}
}
