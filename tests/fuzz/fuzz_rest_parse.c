/* Fuzz target: REST request interpretation (http/rest_parse.c).
 *
 * Input encoding:
 *   byte 0     bits 0-2: method (GET PUT POST DELETE OPTIONS PATCH HEAD get)
 *              bit 3: the body was too big; bit 4: no Content-Type header
 *   then       URL \0 query \0 Content-Type \0 body (the rest, NULs allowed)
 * The query is split as libmicrohttpd does: '&' between arguments, the first '=' between
 * name and value, no '=' = no value. Missing fields are empty.
 *
 * Checks that every answer is one the server may give and that what a valid request
 * carries is consistent (path levels, options in range, raw payloads equal to the body,
 * refusals carry nothing), and that parsing is deterministic. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/rest_parse.h"
#include "objects/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const methods[8] = { "GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "HEAD", "get" };

#define CHECK(cond) do { if(!(cond)) abort(); } while(0)

/* The object model's built-in definitions: made once, kept for the process. */
static const struct fmt_typer *model_typer(void)
{
	static struct obj_registry *reg;
	static struct fmt_typer typer;

	if(!reg){
		reg = obj_registry_new();
		if(!reg) abort();
		typer = obj_registry_typer(reg);
	}
	return &typer;
}

/* The next NUL-terminated field of [*p, end), or everything left; *p moves past it. */
static char *next_field(const uint8_t **p, const uint8_t *end, size_t *len)
{
	const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
	size_t n = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);

	if(!s) abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p = nul ? nul + 1 : end;
	if(len) *len = n;
	return s;
}

/* Splits query in place into args (at most one per byte, plus one). */
static size_t split_query(char *query, struct rest_arg *args)
{
	size_t n = 0;
	char *s = query;

	while(*s){
		char *amp = strchr(s, '&'), *eq;
		if(amp) *amp = '\0';
		eq = strchr(s, '=');
		if(eq) *eq = '\0';
		args[n].name = s;
		args[n].value = eq ? eq + 1 : NULL;
		n++;
		if(!amp) break;
		s = amp + 1;
	}
	return n;
}

static bool status_known(unsigned s)
{
	return s == 0 || s == 400 || s == 404 || s == 405 || s == 413 || s == 415 || s == 500 || s == 501;
}

static bool kind_on_path(enum lwm2m_op_kind k)
{
	return k == LWM2M_OP_READ || k == LWM2M_OP_DISCOVER || k == LWM2M_OP_WRITE
		|| k == LWM2M_OP_WRITE_PARTIAL || k == LWM2M_OP_WRITE_ATTRIBUTES || k == LWM2M_OP_EXECUTE
		|| k == LWM2M_OP_CREATE || k == LWM2M_OP_DELETE || k == LWM2M_OP_OBSERVE
		|| k == LWM2M_OP_CANCEL_OBSERVE;
}

static void check_refused(const struct rest_parsed *q)
{
	size_t n = strnlen(q->message, sizeof(q->message));

	CHECK(n > 0 && n < sizeof(q->message));
	CHECK(!q->has_payload && !q->from_json && q->payload.len == 0 && q->nodes.count == 0);
	CHECK(q->paths_etch.len == 0);
	if(q->status == 413) CHECK(q->route == REST_ROUTE_UNKNOWN);
}

static void check_device(const struct rest_input *in, const struct rest_parsed *q)
{
	size_t ep = strlen(q->endpoint);

	CHECK(ep > 0 && ep <= REST_ENDPOINT_MAX && !strchr(q->endpoint, '/'));
	CHECK(!q->has_prefix || strlen(q->prefix) <= REST_PREFIX_MAX);
	CHECK(q->timeout_ms % 1000 == 0 && q->timeout_ms <= 3600000u);
	CHECK(!q->has_depth || q->depth <= 3);
	if(q->route == REST_ROUTE_CLIENT){
		CHECK(!strcmp(in->method, "GET") && q->kind == LWM2M_OP_NONE);
		return;
	}
	if(q->route == REST_ROUTE_DEVICE_OP){
		CHECK(q->has_path && q->path.len >= 1 && q->path.len <= LWM2M_PATH_MAX_DEPTH);
		CHECK(kind_on_path(q->kind));
	}else{
		CHECK(!q->has_path && q->npaths <= REST_MAX_COMPOSITE_PATHS);
		CHECK(q->kind == LWM2M_OP_READ_COMPOSITE || q->kind == LWM2M_OP_OBSERVE_COMPOSITE
				|| q->kind == LWM2M_OP_WRITE_COMPOSITE);
		if(q->kind != LWM2M_OP_WRITE_COMPOSITE) CHECK(q->paths_etch.len > 0);
	}
	switch(q->kind){
		case LWM2M_OP_WRITE: case LWM2M_OP_WRITE_PARTIAL: case LWM2M_OP_CREATE: case LWM2M_OP_WRITE_COMPOSITE:
			CHECK(q->has_payload && q->has_ct && in->body_len > 0);
			if(!q->from_json){
				CHECK(q->payload.len == in->body_len && !memcmp(q->payload.data, in->body, in->body_len));
			}
			if(q->kind == LWM2M_OP_WRITE || q->kind == LWM2M_OP_WRITE_PARTIAL) CHECK(q->path.len >= 2);
			break;
		case LWM2M_OP_EXECUTE:
			CHECK(q->path.len == 3 && !q->has_ct && !q->from_json);
			CHECK(q->has_payload == (in->body_len > 0));
			if(q->has_payload) CHECK(q->payload.len == in->body_len && !memcmp(q->payload.data, in->body, in->body_len));
			break;
		case LWM2M_OP_WRITE_ATTRIBUTES:
			CHECK(q->attrs.set && !q->attrs.unset);
			CHECK(!(q->attrs.set & (LWM2M_ATTR_BIT(LWM2M_ATTR_LT) | LWM2M_ATTR_BIT(LWM2M_ATTR_CON))));
			CHECK(attr_validate(&q->attrs, NULL) == 0);
			break;
		case LWM2M_OP_CANCEL_OBSERVE:
			CHECK(!q->has_depth && q->timeout_ms == 0 && !strcmp(in->method, "DELETE"));
			break;
		default:
			CHECK(!q->has_payload);
			break;
	}
}

static void check(const struct rest_input *in, int rc, const struct rest_parsed *q)
{
	CHECK(status_known(q->status));
	CHECK((rc < 0) == (q->status == 500));
	if(q->status){
		check_refused(q);
		return;
	}
	switch(q->route){
		case REST_ROUTE_UNKNOWN:
			abort();
		case REST_ROUTE_PREFLIGHT:
			CHECK(!strcmp(in->method, "OPTIONS"));
			break;
		case REST_ROUTE_CLIENT_LIST:
			CHECK(q->offset >= 0 && q->limit >= 1 && q->limit <= 10000);
			break;
		case REST_ROUTE_EVENTS:
		case REST_ROUTE_STATUS:
		case REST_ROUTE_BOOTSTRAP_SESSIONS:
			CHECK(!strcmp(in->method, "GET"));
			break;
		case REST_ROUTE_ENDPOINTS_RELOAD:
			CHECK(!strcmp(in->method, "POST"));
			break;
		case REST_ROUTE_BOOTSTRAP_TRIGGER:
			CHECK(!strcmp(in->method, "POST") && q->endpoint[0] && !strchr(q->endpoint, '/'));
			break;
		case REST_ROUTE_SEND:
			CHECK(!strcmp(in->method, "GET") && q->since >= 0 && q->limit >= 1 && q->limit <= 10000);
			break;
		case REST_ROUTE_REQUEST:
			CHECK(!strcmp(in->method, "GET") && q->request_id > 0);
			break;
		case REST_ROUTE_CLIENT:
		case REST_ROUTE_DEVICE_OP:
		case REST_ROUTE_COMPOSITE:
			check_device(in, q);
			break;
	}
}

static bool same(const struct rest_parsed *a, const struct rest_parsed *b)
{
	return a->route == b->route && a->status == b->status && !strcmp(a->message, b->message)
		&& a->kind == b->kind && a->payload.len == b->payload.len
		&& (!a->payload.len || !memcmp(a->payload.data, b->payload.data, a->payload.len))
		&& a->paths_etch.len == b->paths_etch.len && a->nodes.count == b->nodes.count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1, *end = data + size;
	struct rest_input in;
	struct rest_parsed q, again;
	struct rest_arg *args;
	char *url, *query, *ctype;
	int rc;

	if(size < 1) return 0;
	memset(&in, 0, sizeof(in));
	in.method = methods[data[0] & 7];
	in.body_too_big = data[0] & 8;
	url = next_field(&p, end, NULL);
	query = next_field(&p, end, NULL);
	ctype = next_field(&p, end, NULL);
	args = malloc((strlen(query) + 1) * sizeof(*args));
	if(!args) abort();
	in.url = url;
	in.args = args;
	in.nargs = split_query(query, args);
	in.content_type = (data[0] & 16) ? NULL : ctype;
	in.body = p;
	in.body_len = (size_t)(end - p);

	rc = rest_parse(&in, model_typer(), &q);
	check(&in, rc, &q);
	rc = rest_parse(&in, model_typer(), &again);
	CHECK(same(&q, &again));
	rest_parsed_free(&again);
	rest_parsed_free(&q);
	free(args);
	free(url);
	free(query);
	free(ctype);
	return 0;
}
