/* Interpreting REST requests (http/rest_parse.c): every route, operation, option and body
 * form the server accepts, and every refusal with its status and message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/rest_parse.h"

#define MAX_ARGS 100

/* ---- a typer for /3/0: 0, 14 strings, 9 integer, 7 multiple integer ---- */

static enum lwm2m_type fake_type_of(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	(void)ctx;
	(void)prefix;
	if(p->len < 3 || p->ids[0] != 3 || p->ids[1] != 0) return LWM2M_TYPE_NONE;
	switch(p->ids[2]){
		case 0: case 14: return LWM2M_TYPE_STRING;
		case 7: case 9: return LWM2M_TYPE_INTEGER;
		default: return LWM2M_TYPE_NONE;
	}
}

static int fake_is_multiple(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	(void)ctx;
	(void)prefix;
	if(p->len < 3 || p->ids[0] != 3 || p->ids[1] != 0) return -1;
	return p->ids[2] == 7;
}

static const struct fmt_typer typer = { fake_type_of, fake_is_multiple, NULL };

/* ---- running the parser on a request written as strings ---- */

struct call {
	char *query;                 /* split in place into args */
	struct rest_arg args[MAX_ARGS];
	struct rest_input in;
	struct rest_parsed out;
};

/* query: "a=1&b&c=" as libmicrohttpd splits it (NULL = no query string). */
static struct call *run_full(const char *method, const char *url, const char *query,
		const char *ctype, const char *body, bool too_big)
{
	struct call *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->in.method = method;
	c->in.url = url;
	c->in.args = c->args;
	if(query){
		char *save = NULL, *tok;
		c->query = strdup(query);
		assert_non_null(c->query);
		for(tok = strtok_r(c->query, "&", &save); tok; tok = strtok_r(NULL, "&", &save)){
			char *eq = strchr(tok, '=');
			assert_true(c->in.nargs < MAX_ARGS);
			if(eq) *eq = '\0';
			c->args[c->in.nargs].name = tok;
			c->args[c->in.nargs].value = eq ? eq + 1 : NULL;
			c->in.nargs++;
		}
	}
	c->in.content_type = ctype;
	c->in.body = (const uint8_t *)body;
	c->in.body_len = body ? strlen(body) : 0;
	c->in.body_too_big = too_big;
	assert_int_equal(rest_parse(&c->in, &typer, &c->out), 0);
	return c;
}

static struct call *run(const char *method, const char *url, const char *query,
		const char *ctype, const char *body)
{
	return run_full(method, url, query, ctype, body, false);
}

static void done(struct call *c)
{
	rest_parsed_free(&c->out);
	rest_parsed_free(&c->out);   /* twice is harmless */
	free(c->query);
	free(c);
}

/* The request is valid, on `route`. */
static struct call *accepted(enum rest_route route, const char *method, const char *url,
		const char *query, const char *ctype, const char *body)
{
	struct call *c = run(method, url, query, ctype, body);

	if(c->out.status) fail_msg("%s %s?%s: refused %u: %s", method, url, query ? query : "", c->out.status, c->out.message);
	assert_int_equal(c->out.route, route);
	return c;
}

/* The request is refused with exactly this status and message. */
static void refused(unsigned status, const char *message, const char *method, const char *url,
		const char *query, const char *ctype, const char *body)
{
	struct call *c = run(method, url, query, ctype, body);

	assert_int_equal(c->out.status, status);
	assert_string_equal(c->out.message, message);
	assert_false(c->out.has_payload);
	assert_int_equal(c->out.payload.len, 0);
	assert_int_equal(c->out.nodes.count, 0);
	done(c);
}

/* Refused with this status and a message that starts with `start`. */
static void refused_start(unsigned status, const char *start, const char *method, const char *url,
		const char *query, const char *ctype, const char *body)
{
	struct call *c = run(method, url, query, ctype, body);

	assert_int_equal(c->out.status, status);
	if(strncmp(c->out.message, start, strlen(start))) fail_msg("message '%s' does not start with '%s'", c->out.message, start);
	assert_true(strlen(c->out.message) > strlen(start));
	done(c);
}

static char *repeat(char ch, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

static void assert_path(const struct lwm2m_path *p, const char *text)
{
	struct lwm2m_path want;
	assert_int_equal(path_parse(text, strlen(text), &want, NULL), 0);
	assert_int_equal(p->len, want.len);
	assert_memory_equal(p->ids, want.ids, sizeof(want.ids[0]) * want.len);
}

#define EP "/api/clients/dev1"

/* ---- arguments ---- */

static void test_bootstrap_routes(void **state)
{
	struct call *c;
	(void)state;

	done(accepted(REST_ROUTE_BOOTSTRAP_SESSIONS, "GET", "/api/bootstrap/sessions", NULL, NULL, NULL));
	refused(405, "use GET on /api/bootstrap/sessions", "POST", "/api/bootstrap/sessions", NULL, NULL, NULL);
	c = accepted(REST_ROUTE_BOOTSTRAP_TRIGGER, "POST", "/api/bootstrap/dev-7", "prefix=t1", NULL, NULL);
	assert_string_equal(c->out.endpoint, "dev-7");
	assert_true(c->out.has_prefix);
	assert_string_equal(c->out.prefix, "t1");
	done(c);
	refused(405, "use POST on /api/bootstrap/{ep}", "GET", "/api/bootstrap/dev-7", NULL, NULL, NULL);
	refused(400, "missing or invalid endpoint name", "POST", "/api/bootstrap/a/b", NULL, NULL, NULL);
	refused(400, "missing or invalid endpoint name", "POST", "/api/bootstrap/", NULL, NULL, NULL);
	done(accepted(REST_ROUTE_ENDPOINTS_RELOAD, "POST", "/api/endpoints/reload", NULL, NULL, NULL));
	refused(405, "use POST on /api/endpoints/reload", "GET", "/api/endpoints/reload", NULL, NULL, NULL);
}

static void test_arg_lookup(void **state)
{
	struct rest_arg args[] = { { "Depth", "1" }, { "depth", "2" }, { "flag", NULL }, { "flag", "x" }, { "e", "" } };
	struct rest_input in = { .method = "GET", .url = "/", .args = args, .nargs = 5 };
	(void)state;

	assert_string_equal(rest_arg_get(&in, "depth"), "1");     /* ASCII case ignored, first wins */
	assert_string_equal(rest_arg_get(&in, "DEPTH"), "1");
	assert_null(rest_arg_get(&in, "flag"));                   /* the first has no value */
	assert_string_equal(rest_arg_get(&in, "e"), "");
	assert_null(rest_arg_get(&in, "absent"));
	assert_null(rest_arg_get(&in, "dept"));
	assert_null(rest_arg_get(&in, "depthx"));
}

static void test_route_kinds(void **state)
{
	(void)state;
	assert_true(rest_route_needs_device(REST_ROUTE_DEVICE_OP));
	assert_true(rest_route_needs_device(REST_ROUTE_COMPOSITE));
	assert_false(rest_route_needs_device(REST_ROUTE_CLIENT));
	assert_false(rest_route_needs_device(REST_ROUTE_CLIENT_LIST));
	assert_false(rest_route_needs_device(REST_ROUTE_UNKNOWN));
	assert_false(rest_route_needs_device(REST_ROUTE_EVENTS));
	assert_false(rest_route_needs_device(REST_ROUTE_STATUS));
	assert_false(rest_route_needs_device(REST_ROUTE_PREFLIGHT));
}

/* ---- routes ---- */

static void test_client_list(void **state)
{
	struct call *c;
	(void)state;

	c = accepted(REST_ROUTE_CLIENT_LIST, "GET", "/api/clients", NULL, NULL, NULL);
	assert_int_equal(c->out.offset, 0);
	assert_int_equal(c->out.limit, 1000);
	done(c);
	c = accepted(REST_ROUTE_CLIENT_LIST, "GET", "/api/clients/", "offset=5&limit=20", NULL, NULL);
	assert_int_equal(c->out.offset, 5);
	assert_int_equal(c->out.limit, 20);
	done(c);
	c = accepted(REST_ROUTE_CLIENT_LIST, "GET", "/api/clients", "OFFSET=-3&limit=0", NULL, NULL);
	assert_int_equal(c->out.offset, 0);
	assert_int_equal(c->out.limit, 1000);
	done(c);
	c = accepted(REST_ROUTE_CLIENT_LIST, "GET", "/api/clients", "offset=7x&limit=10001", NULL, NULL);
	assert_int_equal(c->out.offset, 7);
	assert_int_equal(c->out.limit, 1000);
	done(c);
	c = accepted(REST_ROUTE_CLIENT_LIST, "GET", "/api/clients", "limit=10000&offset", NULL, NULL);
	assert_int_equal(c->out.offset, 0);
	assert_int_equal(c->out.limit, 10000);
	done(c);
	refused(405, "use GET on /api/clients", "POST", "/api/clients", NULL, NULL, NULL);
	refused(405, "use GET on /api/clients", "get", "/api/clients/", NULL, NULL, NULL);
}

static void test_events_status_preflight(void **state)
{
	struct call *c;
	(void)state;

	done(accepted(REST_ROUTE_EVENTS, "GET", "/api/event", "ep=dev1", NULL, NULL));
	done(accepted(REST_ROUTE_STATUS, "GET", "/api/status", NULL, NULL, NULL));
	refused(405, "use GET on /api/event", "PUT", "/api/event", NULL, NULL, NULL);
	refused(405, "use GET on /api/status", "DELETE", "/api/status", NULL, NULL, NULL);
	/* OPTIONS is a preflight anywhere, whatever comes with it. */
	done(accepted(REST_ROUTE_PREFLIGHT, "OPTIONS", "/nowhere", NULL, NULL, NULL));
	c = run_full("OPTIONS", EP "/3/0", NULL, NULL, NULL, true);
	assert_int_equal(c->out.status, 0);
	assert_int_equal(c->out.route, REST_ROUTE_PREFLIGHT);
	done(c);
}

static void test_unknown_and_too_big(void **state)
{
	struct call *c;
	(void)state;

	refused(404, "no such resource: /nope", "GET", "/nope", NULL, NULL, NULL);
	refused(404, "no such resource: /api/clientsX", "GET", "/api/clientsX", NULL, NULL, NULL);
	refused(404, "no such resource: /api/events", "GET", "/api/events", NULL, NULL, NULL);
	refused(404, "no such resource: /api/status/", "GET", "/api/status/", NULL, NULL, NULL);
	refused(404, "no such resource: ", "GET", "", NULL, NULL, NULL);
	/* A dropped body is refused before routing, on every URL. */
	c = run_full("PUT", EP "/3/0/14", NULL, NULL, NULL, true);
	assert_int_equal(c->out.status, 413);
	assert_string_equal(c->out.message, "request body above 1048576 bytes");
	assert_int_equal(c->out.route, REST_ROUTE_UNKNOWN);
	assert_false(rest_route_needs_device(c->out.route));
	done(c);
	c = run_full("GET", "/api/status", NULL, NULL, NULL, true);
	assert_int_equal(c->out.status, 413);
	done(c);
}

static void test_missing_method_or_url(void **state)
{
	struct rest_input in = { .method = NULL, .url = "/api/status" };
	struct rest_parsed out;
	(void)state;

	assert_int_equal(rest_parse(&in, NULL, &out), 0);
	assert_int_equal(out.status, 400);
	rest_parsed_free(&out);
	in.method = "GET";
	in.url = NULL;
	assert_int_equal(rest_parse(&in, NULL, &out), 0);
	assert_int_equal(out.status, 400);
	rest_parsed_free(&out);
}

static void test_one_client(void **state)
{
	struct call *c;
	char url[400], *ep;
	(void)state;

	c = accepted(REST_ROUTE_CLIENT, "GET", EP, NULL, NULL, NULL);
	assert_string_equal(c->out.endpoint, "dev1");
	assert_false(c->out.has_prefix);
	done(c);
	c = accepted(REST_ROUTE_CLIENT, "GET", EP "/", "prefix=gw1", NULL, NULL);
	assert_string_equal(c->out.endpoint, "dev1");
	assert_true(c->out.has_prefix);
	assert_string_equal(c->out.prefix, "gw1");
	done(c);
	c = accepted(REST_ROUTE_CLIENT, "GET", EP, "Prefix=", NULL, NULL);
	assert_true(c->out.has_prefix);
	assert_string_equal(c->out.prefix, "");
	done(c);
	c = accepted(REST_ROUTE_CLIENT, "GET", "/api/clients/a b:c", "prefix", NULL, NULL);
	assert_string_equal(c->out.endpoint, "a b:c");
	assert_false(c->out.has_prefix);     /* ?prefix without a value is no prefix */
	done(c);
	c = run("PUT", EP, NULL, NULL, NULL);
	assert_int_equal(c->out.status, 405);
	assert_string_equal(c->out.message, "use GET on a client");
	assert_int_equal(c->out.route, REST_ROUTE_CLIENT);   /* answered before the lookup */
	done(c);

	/* Endpoint names: 1..255 bytes. */
	ep = repeat('e', 255);
	snprintf(url, sizeof(url), "/api/clients/%s/3/0", ep);
	c = accepted(REST_ROUTE_DEVICE_OP, "GET", url, NULL, NULL, NULL);
	assert_string_equal(c->out.endpoint, ep);
	done(c);
	snprintf(url, sizeof(url), "/api/clients/%se", ep);
	refused(400, "missing or invalid endpoint name", "GET", url, NULL, NULL, NULL);
	free(ep);
	c = run("GET", "/api/clients//3/0", NULL, NULL, NULL);
	assert_int_equal(c->out.status, 400);
	assert_string_equal(c->out.message, "missing or invalid endpoint name");
	assert_int_equal(c->out.route, REST_ROUTE_CLIENT);   /* answered at once */
	done(c);

	/* Prefixes: up to 128 bytes. */
	ep = repeat('p', 128);
	snprintf(url, sizeof(url), "prefix=%s", ep);
	c = accepted(REST_ROUTE_DEVICE_OP, "GET", EP "/3", url, NULL, NULL);
	assert_string_equal(c->out.prefix, ep);
	done(c);
	snprintf(url, sizeof(url), "prefix=%sp", ep);
	c = run("GET", EP "/3", url, NULL, NULL);
	assert_int_equal(c->out.status, 400);
	assert_string_equal(c->out.message, "prefix too long");
	assert_false(rest_route_needs_device(c->out.route));
	done(c);
	free(ep);
}

/* ---- operations without a body ---- */

static void test_read_discover_delete(void **state)
{
	struct call *c;
	(void)state;

	c = accepted(REST_ROUTE_DEVICE_OP, "GET", EP "/3/0", NULL, NULL, NULL);
	assert_int_equal(c->out.kind, LWM2M_OP_READ);
	assert_true(c->out.has_path);
	assert_path(&c->out.path, "/3/0");
	assert_false(c->out.has_depth);
	assert_int_equal(c->out.timeout_ms, 0);
	assert_false(c->out.has_payload);
	done(c);
	c = accepted(REST_ROUTE_DEVICE_OP, "GET", EP "/3/0/7/1", "timeout=1", NULL, NULL);
	assert_path(&c->out.path, "/3/0/7/1");
	assert_false(c->out.has_depth);
	assert_int_equal(c->out.timeout_ms, 1000);
	done(c);
	c = accepted(REST_ROUTE_DEVICE_OP, "GET", EP "/3/0/discover", "depth=3&timeout=3600", NULL, NULL);
	assert_path(&c->out.path, "/3/0");
	assert_int_equal(c->out.depth, 3);
	assert_int_equal(c->out.timeout_ms, 3600000);
	done(c);
	c = accepted(REST_ROUTE_DEVICE_OP, "GET", EP "/3/0/discover", "depth=0", NULL, NULL);
	assert_true(c->out.has_depth);
	assert_int_equal(c->out.depth, 0);
	done(c);
	c = accepted(REST_ROUTE_DEVICE_OP, "GET", EP "/3/discover", "DEPTH=2&Timeout=+5", NULL, NULL);
	assert_int_equal(c->out.kind, LWM2M_OP_DISCOVER);
	assert_path(&c->out.path, "/3");
	assert_int_equal(c->out.depth, 2);
	assert_int_equal(c->out.timeout_ms, 5000);
	done(c);
	c = accepted(REST_ROUTE_DEVICE_OP, "DELETE", EP "/3/1", NULL, NULL, NULL);
	assert_int_equal(c->out.kind, LWM2M_OP_DELETE);
	done(c);
	/* Depth is a Discover parameter only. */
	refused(400, "depth applies to discover only", "DELETE", EP "/3/1", "depth=1", NULL, NULL);
	refused(400, "depth applies to discover only", "GET", EP "/3/0/7/1", "depth=0", NULL, NULL);
	/* The first of repeated arguments counts, even without a value. */
	c = accepted(REST_ROUTE_DEVICE_OP, "GET", EP "/3/discover", "timeout&timeout=x&depth=1&depth=9", NULL, NULL);
	assert_int_equal(c->out.timeout_ms, 0);
	assert_int_equal(c->out.depth, 1);
	done(c);
	/* A body on a Read is ignored. */
	c = accepted(REST_ROUTE_DEVICE_OP, "GET", EP "/3", NULL, "image/png", "x");
	assert_false(c->out.has_payload);
	done(c);

	refused(405, "use GET for discover", "POST", EP "/3/0/discover", NULL, NULL, NULL);
	refused(405, "method PATCH not allowed here", "PATCH", EP "/3/0", NULL, NULL, NULL);
	refused(405, "method get not allowed here", "get", EP "/3/0", NULL, NULL, NULL);
}

static void test_depth_and_timeout_refusals(void **state)
{
	static const char *const depths[] = { "depth=4", "depth=12", "depth=", "depth=-1", "depth=a", "depth" };
	static const char *const timeouts[] = { "timeout=0", "timeout=3601", "timeout=5s", "timeout=",
		"timeout=abc", "timeout=-5", "timeout=99999999999999999999", "timeout=5 " };
	(void)state;

	for(size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++){
		if(!strcmp(depths[i], "depth")){
			/* no value: as if absent */
			done(accepted(REST_ROUTE_DEVICE_OP, "GET", EP "/3/discover", depths[i], NULL, NULL));
			continue;
		}
		refused(400, "depth must be 0..3", "GET", EP "/3/discover", depths[i], NULL, NULL);
	}
	for(size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++){
		refused(400, "timeout must be 1..3600 seconds", "GET", EP "/3", timeouts[i], NULL, NULL);
		refused(400, "timeout must be 1..3600 seconds", "POST", EP "/3/0/4", timeouts[i], NULL, NULL);
	}
	/* depth is checked before timeout */
	refused(400, "depth must be 0..3", "GET", EP "/3/discover", "timeout=0&depth=9", NULL, NULL);
}

static void test_observe(void **state)
{
	struct call *c;
	(void)state;

	refused(400, "depth applies to discover only", "POST", EP "/3/0/9/observe", "depth=1", NULL, NULL);
	c = accepted(REST_ROUTE_DEVICE_OP, "POST", EP "/3/0/9/observe", "timeout=60", NULL, NULL);
	assert_int_equal(c->out.kind, LWM2M_OP_OBSERVE);
	assert_path(&c->out.path, "/3/0/9");
	assert_false(c->out.has_depth);
	assert_int_equal(c->out.timeout_ms, 60000);
	done(c);
	/* Cancelling takes no options: wrong ones do not matter. */
	c = accepted(REST_ROUTE_DEVICE_OP, "DELETE", EP "/3/0/9/observe", "depth=9&timeout=0", NULL, NULL);
	assert_int_equal(c->out.kind, LWM2M_OP_CANCEL_OBSERVE);
	assert_path(&c->out.path, "/3/0/9");
	assert_false(c->out.has_depth);
	assert_int_equal(c->out.timeout_ms, 0);
	done(c);
	refused(405, "use POST or DELETE for observe", "GET", EP "/3/0/9/observe", NULL, NULL, NULL);
	refused(405, "use POST or DELETE for observe", "PUT", EP "/3/observe", NULL, NULL, NULL);
}

static void test_execute(void **state)
{
	struct call *c;
	(void)state;

	c = accepted(REST_ROUTE_DEVICE_OP, "POST", EP "/3/0/4", "timeout=10", NULL, NULL);
	assert_int_equal(c->out.kind, LWM2M_OP_EXECUTE);
	assert_path(&c->out.path, "/3/0/4");
	assert_false(c->out.has_payload);
	assert_int_equal(c->out.timeout_ms, 10000);
	done(c);
	/* Arguments go as they came, whatever the Content-Type, with no format. */
	c = accepted(REST_ROUTE_DEVICE_OP, "POST", EP "/3/0/4", NULL, "image/png", "0='a',1");
	assert_true(c->out.has_payload);
	assert_false(c->out.has_ct);
	assert_false(c->out.from_json);
	assert_int_equal(c->out.payload.len, 7);
	assert_memory_equal(c->out.payload.data, "0='a',1", 7);
	done(c);
	refused(400, "POST on a resource instance is not an LwM2M operation", "POST", EP "/3/0/4/0", NULL, NULL, "x");
}

static void test_write_attributes(void **state)
{
	struct call *c;
	char *big, *q;
	(void)state;

	c = accepted(REST_ROUTE_DEVICE_OP, "PUT", EP "/3/0/9/attributes",
			"pmin=10&timeout=5&pmax=60&prefix=gw&gt=50.5&st=1&epmin=1&epmax=2&edge=1&hqmax=3", NULL, NULL);
	assert_int_equal(c->out.kind, LWM2M_OP_WRITE_ATTRIBUTES);
	assert_path(&c->out.path, "/3/0/9");
	assert_int_equal(c->out.timeout_ms, 5000);
	assert_string_equal(c->out.prefix, "gw");
	assert_int_equal(c->out.attrs.set, LWM2M_ATTR_BIT(LWM2M_ATTR_PMIN) | LWM2M_ATTR_BIT(LWM2M_ATTR_PMAX)
			| LWM2M_ATTR_BIT(LWM2M_ATTR_GT) | LWM2M_ATTR_BIT(LWM2M_ATTR_ST)
			| LWM2M_ATTR_BIT(LWM2M_ATTR_EPMIN) | LWM2M_ATTR_BIT(LWM2M_ATTR_EPMAX)
			| LWM2M_ATTR_BIT(LWM2M_ATTR_EDGE) | LWM2M_ATTR_BIT(LWM2M_ATTR_HQMAX));
	assert_int_equal(c->out.attrs.unset, 0);
	assert_int_equal(c->out.attrs.pmin, 10);
	assert_int_equal(c->out.attrs.pmax, 60);
	assert_true(c->out.attrs.gt == 50.5);
	assert_int_equal(c->out.attrs.edge, 1);
	assert_int_equal(c->out.attrs.hqmax, 3);
	done(c);

	refused(405, "use PUT for attributes", "GET", EP "/3/0/9/attributes", "pmin=1", NULL, NULL);
	refused(405, "use PUT for attributes", "POST", EP "/3/0/9/attributes", "pmin=1", NULL, NULL);
	refused(400, "the MQTT binding has no key for 'lt' or 'con'", "PUT", EP "/3/0/9/attributes", "lt=5", NULL, NULL);
	refused(400, "the MQTT binding has no key for 'lt' or 'con'", "PUT", EP "/3/0/9/attributes", "pmin=1&con=1", NULL, NULL);
	refused(400, "the MQTT binding cannot express an attribute without value (unset)", "PUT",
			EP "/3/0/9/attributes", "pmin=1&pmax", NULL, NULL);
	refused(400, "no attribute given (pmin, pmax, gt, st, epmin, epmax, edge, hqmax)", "PUT",
			EP "/3/0/9/attributes", NULL, NULL, NULL);
	refused(400, "no attribute given (pmin, pmax, gt, st, epmin, epmax, edge, hqmax)", "PUT",
			EP "/3/0/9/attributes", "timeout=5&prefix=x", NULL, NULL);
	refused_start(400, "attributes: ", "PUT", EP "/3/0/9/attributes", "foo=1", NULL, NULL);
	refused_start(400, "attributes: ", "PUT", EP "/3/0/9/attributes", "pmin=1&pmin=2", NULL, NULL);
	refused_start(400, "attributes: ", "PUT", EP "/3/0/9/attributes", "pmin=20&pmax=10", NULL, NULL);
	refused_start(400, "attributes: ", "PUT", EP "/3/0/9/attributes", "pmin=x", NULL, NULL);
	/* timeout and prefix are left out by their exact names only */
	refused_start(400, "attributes: ", "PUT", EP "/3/0/9/attributes", "pmin=1&Timeout=5", NULL, NULL);
	/* attributes are checked before the timeout */
	refused(400, "the MQTT binding has no key for 'lt' or 'con'", "PUT", EP "/3/attributes", "timeout=0&lt=1", NULL, NULL);
	refused(400, "timeout must be 1..3600 seconds", "PUT", EP "/3/attributes", "timeout=0&pmin=1", NULL, NULL);

	/* The rebuilt query may not reach 4096 bytes. */
	big = repeat('1', 4000);
	q = malloc(8200);
	assert_non_null(q);
	snprintf(q, 8200, "pmin=%s&pmax=%s", big, big);
	refused(400, "attributes: query too long", "PUT", EP "/3/attributes", q, NULL, NULL);
	free(q);
	free(big);
}

/* ---- operations with a body ---- */

static void test_write_json(void **state)
{
	struct call *c;
	(void)state;

	/* "type" comes from the typer where the node has none. */
	c = accepted(REST_ROUTE_DEVICE_OP, "PUT", EP "/3/0/14", "format=text&timeout=7", NULL,
			"[{\"path\":\"/3/0/14\",\"value\":\"+02\"}]");
	assert_int_equal(c->out.kind, LWM2M_OP_WRITE);
	assert_true(c->out.has_payload);
	assert_true(c->out.has_ct);
	assert_true(c->out.from_json);
	assert_int_equal(c->out.content_format, LWM2M_CF_TEXT);
	assert_int_equal(c->out.payload.len, 3);
	assert_memory_equal(c->out.payload.data, "+02", 3);
	assert_int_equal(c->out.nodes.count, 1);
	assert_int_equal(c->out.nodes.items[0].value.type, LWM2M_TYPE_STRING);
	assert_int_equal(c->out.timeout_ms, 7000);
	done(c);

	/* {"values": [...]} in the default format, SenML CBOR: an array of one record. */
	c = accepted(REST_ROUTE_DEVICE_OP, "PUT", EP "/3/0", "replace=false", "application/json; charset=utf-8",
			"{\"values\":[{\"path\":\"/3/0/9\",\"value\":42}]}");
	assert_int_equal(c->out.kind, LWM2M_OP_WRITE_PARTIAL);
	assert_int_equal(c->out.content_format, LWM2M_CF_SENML_CBOR);
	assert_true(c->out.payload.len > 1);
	assert_int_equal(c->out.payload.data[0], 0x81);
	assert_int_equal(c->out.nodes.count, 1);
	assert_int_equal(c->out.nodes.items[0].value.type, LWM2M_TYPE_INTEGER);
	assert_int_equal(c->out.nodes.items[0].value.v.i, 42);
	done(c);

	/* An explicit type is kept; replace=true (or anything but "false") is a replace. */
	c = accepted(REST_ROUTE_DEVICE_OP, "PUT", EP "/3/0/9", "replace=true&format=TEXT", "APPLICATION/JSON",
			"[{\"path\":\"/3/0/9\",\"type\":\"string\",\"value\":\"7\"}]");
	assert_int_equal(c->out.kind, LWM2M_OP_WRITE);
	assert_int_equal(c->out.nodes.items[0].value.type, LWM2M_TYPE_STRING);
	assert_memory_equal(c->out.payload.data, "7", 1);
	done(c);

	/* A numeric ?format= */
	c = accepted(REST_ROUTE_DEVICE_OP, "PUT", EP "/3/0/14", "format=0", NULL, "[{\"path\":\"/3/0/14\",\"value\":\"x\"}]");
	assert_int_equal(c->out.content_format, LWM2M_CF_TEXT);
	done(c);

	/* Create on an object, partial update on an instance. */
	c = accepted(REST_ROUTE_DEVICE_OP, "POST", EP "/3", NULL, NULL, "[{\"path\":\"/3/0/9\",\"value\":1}]");
	assert_int_equal(c->out.kind, LWM2M_OP_CREATE);
	assert_path(&c->out.path, "/3");
	done(c);
	c = accepted(REST_ROUTE_DEVICE_OP, "POST", EP "/3/0", NULL, NULL, "[{\"path\":\"/3/0/9\",\"value\":1}]");
	assert_int_equal(c->out.kind, LWM2M_OP_WRITE_PARTIAL);
	done(c);
	c = accepted(REST_ROUTE_DEVICE_OP, "PUT", EP "/3/0/7/1", NULL, NULL, "[{\"path\":\"/3/0/7/1\",\"value\":1}]");
	assert_int_equal(c->out.kind, LWM2M_OP_WRITE);
	done(c);
}

static void test_write_raw(void **state)
{
	static const struct { const char *ctype; uint16_t cf; } types[] = {
		{ "text/plain", LWM2M_CF_TEXT },
		{ "text/plain;charset=utf-8", LWM2M_CF_TEXT },
		{ "application/octet-stream", LWM2M_CF_OPAQUE },
		{ "application/vnd.oma.lwm2m+tlv", LWM2M_CF_TLV },
		{ "Application/SenML+CBOR", LWM2M_CF_SENML_CBOR },
		{ "application/senml+json", LWM2M_CF_SENML_JSON },
		{ "application/vnd.oma.lwm2m+cbor", LWM2M_CF_LWM2M_CBOR },
	};
	struct call *c;
	(void)state;

	for(size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++){
		c = accepted(REST_ROUTE_DEVICE_OP, "PUT", EP "/3/0/14", "format=bogus", types[i].ctype, "not json");
		assert_int_equal(c->out.kind, LWM2M_OP_WRITE);
		assert_true(c->out.has_payload);
		assert_true(c->out.has_ct);
		assert_false(c->out.from_json);
		assert_int_equal(c->out.content_format, types[i].cf);
		assert_int_equal(c->out.payload.len, 8);
		assert_memory_equal(c->out.payload.data, "not json", 8);
		assert_int_equal(c->out.nodes.count, 0);
		done(c);
	}
}

static void test_body_refusals(void **state)
{
	char *ct, *want;
	(void)state;

	refused(400, "Write needs an instance, resource or resource instance path", "PUT", EP "/3", NULL, NULL, "[]");
	refused(400, "the request needs a body", "PUT", EP "/3/0/14", NULL, NULL, NULL);
	refused(400, "the request needs a body", "POST", EP "/3", NULL, "text/plain", "");
	refused(415, "unsupported Content-Type 'image/png' (application/json or an LwM2M media type)",
			"PUT", EP "/3/0/14", NULL, "image/png", "x");
	refused(415, "unsupported Content-Type '' (application/json or an LwM2M media type)",
			"PUT", EP "/3/0/14", NULL, "", "x");
	refused(400, "unknown format 'bogus'", "PUT", EP "/3/0/14", "format=bogus", NULL, "[]");
	refused(400, "unknown format '65536'", "PUT", EP "/3/0/14", "format=65536", NULL, "[]");
	refused_start(400, "invalid JSON at line 1 column ", "PUT", EP "/3/0/14", NULL, NULL, "[");
	refused_start(400, "invalid JSON at line 2 column ", "PUT", EP "/3/0/14", NULL, "application/json", "[\n}");
	refused(400, "expected a JSON array of {\"path\",\"value\"[,\"type\"]} nodes, or {\"values\": [...]}",
			"PUT", EP "/3/0/14", NULL, NULL, "5");
	refused(400, "expected a JSON array of {\"path\",\"value\"[,\"type\"]} nodes, or {\"values\": [...]}",
			"PUT", EP "/3/0/14", NULL, NULL, "{\"value\":[]}");
	/* nodes the node model or the encoder refuse */
	refused_start(400, "", "PUT", EP "/3/0/14", NULL, NULL, "[{\"value\":1}]");
	refused_start(400, "", "PUT", EP "/3/0/14", NULL, NULL, "[{\"path\":\"/3/0/x\",\"type\":\"integer\",\"value\":1}]");
	refused_start(400, "", "PUT", EP "/3/0/5", "format=text", NULL, "[{\"path\":\"/3/0/5\",\"value\":1}]");
	refused_start(400, "", "PUT", EP "/3/0/9", "format=text", NULL,
			"[{\"path\":\"/3/0/9\",\"value\":1},{\"path\":\"/3/0/14\",\"value\":\"x\"}]");
	/* the body is checked before the timeout */
	refused(400, "the request needs a body", "PUT", EP "/3/0/14", "timeout=0", NULL, NULL);
	refused(400, "timeout must be 1..3600 seconds", "PUT", EP "/3/0/14", "timeout=0", "text/plain", "x");

	/* Body messages are cut at 255 bytes. */
	ct = repeat('t', 300);
	want = malloc(600);
	assert_non_null(want);
	snprintf(want, 256, "unsupported Content-Type '%s' (application/json or an LwM2M media type)", ct);
	assert_int_equal(strlen(want), 255);
	refused(415, want, "PUT", EP "/3/0/14", NULL, ct, "x");
	free(want);
	free(ct);
}

/* ---- composite ---- */

static void test_composite(void **state)
{
	struct call *c;
	char q[1024];
	size_t n;
	(void)state;

	c = accepted(REST_ROUTE_COMPOSITE, "GET", EP "/composite", "paths=/3/0/1,/1/0&timeout=9&depth=7", NULL, NULL);
	assert_int_equal(c->out.kind, LWM2M_OP_READ_COMPOSITE);
	assert_false(c->out.has_path);
	assert_false(c->out.has_depth);           /* depth means nothing here */
	assert_int_equal(c->out.npaths, 2);
	assert_path(&c->out.paths[0], "/3/0/1");
	assert_path(&c->out.paths[1], "/1/0");
	assert_int_equal(c->out.timeout_ms, 9000);
	/* SenML-ETCH CBOR: an array of two records */
	assert_true(c->out.paths_etch.len > 2);
	assert_int_equal(c->out.paths_etch.data[0], 0x82);
	done(c);
	refused(405, "use GET (Read-Composite) or PUT (Write-Composite) on composite", "POST", EP "/composite",
			"paths=/3/0/1", NULL, NULL);
	refused(405, "use GET (Read-Composite) or PUT (Write-Composite) on composite", "DELETE", EP "/composite",
			"paths=/3/0/1", NULL, NULL);
	c = accepted(REST_ROUTE_COMPOSITE, "POST", EP "/composite/observe", "paths=/3/0/9", NULL, NULL);
	assert_int_equal(c->out.kind, LWM2M_OP_OBSERVE_COMPOSITE);
	assert_int_equal(c->out.npaths, 1);
	assert_false(c->out.cancel);
	done(c);
	c = accepted(REST_ROUTE_COMPOSITE, "DELETE", EP "/composite/observe", "paths=/3/0/9", NULL, NULL);
	assert_int_equal(c->out.kind, LWM2M_OP_OBSERVE_COMPOSITE);
	assert_true(c->out.cancel);
	done(c);
	refused(405, "use POST or DELETE on composite/observe", "PUT", EP "/composite/observe", "paths=/3", NULL, NULL);
	refused(405, "use POST or DELETE on composite/observe", "GET", EP "/composite/observe", "paths=/3", NULL, NULL);
	refused(400, "missing ?paths=/o/i/r,/o/i/r", "GET", EP "/composite", "paths=", NULL, NULL);
	refused(400, "the path list ends with an empty path", "GET", EP "/composite", "paths=/3/0/1,", NULL, NULL);
	refused(400, "path 1 is empty", "GET", EP "/composite", "paths=,/3", NULL, NULL);
	refused(400, "path 2 is empty", "GET", EP "/composite", "paths=/3,,/1", NULL, NULL);
	c = accepted(REST_ROUTE_COMPOSITE, "PUT", EP "/composite", "paths=/x", NULL,
			"[{\"path\":\"/3/0/9\",\"value\":1},{\"path\":\"/1/0/1\",\"type\":\"integer\",\"value\":60}]");
	assert_int_equal(c->out.kind, LWM2M_OP_WRITE_COMPOSITE);
	assert_false(c->out.has_path);
	assert_int_equal(c->out.npaths, 0);
	assert_int_equal(c->out.content_format, LWM2M_CF_SENML_CBOR);
	assert_int_equal(c->out.nodes.count, 2);
	done(c);

	/* 64 paths and no more */
	q[0] = '\0';
	strcat(q, "paths=");
	for(n = 0; n < 64; n++) strcat(q, n ? ",/3/0/1" : "/3/0/1");
	c = accepted(REST_ROUTE_COMPOSITE, "GET", EP "/composite", q, NULL, NULL);
	assert_int_equal(c->out.npaths, 64);
	done(c);
	strcat(q, ",/3");
	refused(400, "more than 64 paths", "GET", EP "/composite", q, NULL, NULL);

	refused(400, "missing ?paths=/o/i/r,/o/i/r", "GET", EP "/composite", NULL, NULL, NULL);
	refused(400, "missing ?paths=/o/i/r,/o/i/r", "GET", EP "/composite", "paths", NULL, NULL);
	refused(400, "missing ?paths=/o/i/r,/o/i/r", "DELETE", EP "/composite/observe", NULL, NULL, NULL);
	refused_start(400, "path 2: ", "GET", EP "/composite", "paths=/3/0/1,/x", NULL, NULL);
	refused_start(400, "path 1: ", "GET", EP "/composite", "paths=/3/0/1/2/3", NULL, NULL);
	refused(400, "timeout must be 1..3600 seconds", "GET", EP "/composite", "paths=/3&timeout=0", NULL, NULL);
	refused(400, "the request needs a body", "PUT", EP "/composite", "timeout=0", NULL, NULL);
	refused(400, "timeout must be 1..3600 seconds", "PUT", EP "/composite", "timeout=0", "text/plain", "x");

	/* Only the exact names are composite. */
	c = run("GET", EP "/composite/", NULL, NULL, NULL);
	assert_int_equal(c->out.status, 400);
	assert_int_equal(c->out.route, REST_ROUTE_DEVICE_OP);
	done(c);
}

static void test_path_refusals(void **state)
{
	struct call *c;
	(void)state;

	refused_start(400, "bad path '/x/0': ", "GET", EP "/x/0", NULL, NULL, NULL);
	refused_start(400, "bad path '/3/0/1/2/3': ", "GET", EP "/3/0/1/2/3", NULL, NULL, NULL);
	refused_start(400, "bad path '/70000': ", "GET", EP "/70000", NULL, NULL, NULL);
	refused_start(400, "bad path '/3/0/1/observe/x': ", "POST", EP "/3/0/1/observe/x", NULL, NULL, NULL);
	refused_start(400, "bad path '/3/0/read': ", "GET", EP "/3/0/read", NULL, NULL, NULL);
	refused(400, "an operation needs an object path", "GET", EP "/discover", NULL, NULL, NULL);
	refused(400, "an operation needs an object path", "DELETE", EP "/observe", NULL, NULL, NULL);
	/* Device-operation refusals wait for the endpoint lookup. */
	c = run("GET", EP "/x", NULL, NULL, NULL);
	assert_int_equal(c->out.status, 400);
	assert_int_equal(c->out.route, REST_ROUTE_DEVICE_OP);
	assert_true(rest_route_needs_device(c->out.route));
	assert_string_equal(c->out.endpoint, "dev1");
	done(c);
}

/* A refused request carries nothing to send, even when its body was fine. */
static void test_refusal_drops_payload(void **state)
{
	struct call *c;
	(void)state;

	c = run("PUT", EP "/3/0/14", "timeout=0&format=text", NULL, "[{\"path\":\"/3/0/14\",\"value\":\"x\"}]");
	assert_int_equal(c->out.status, 400);
	assert_false(c->out.has_payload);
	assert_false(c->out.from_json);
	assert_int_equal(c->out.payload.len, 0);
	assert_null(c->out.payload.data);
	assert_int_equal(c->out.nodes.count, 0);
	done(c);
	c = run("GET", EP "/composite", "paths=/3&timeout=0", NULL, NULL);
	assert_int_equal(c->out.status, 400);
	assert_int_equal(c->out.paths_etch.len, 0);
	done(c);
}

/* Without a typer, JSON nodes need their own types. */
static void test_no_typer(void **state)
{
	struct rest_arg args[] = { { "format", "text" } };
	static const char typed[] = "[{\"path\":\"/3/0/14\",\"type\":\"string\",\"value\":\"ab\"}]";
	static const char untyped[] = "[{\"path\":\"/3/0/14\",\"value\":\"ab\"}]";
	struct rest_input in = { .method = "PUT", .url = EP "/3/0/14", .args = args, .nargs = 1,
		.body = (const uint8_t *)typed, .body_len = strlen(typed) };
	struct rest_parsed out;
	(void)state;

	assert_int_equal(rest_parse(&in, NULL, &out), 0);
	assert_int_equal(out.status, 0);
	assert_int_equal(out.payload.len, 2);
	rest_parsed_free(&out);
	in.body = (const uint8_t *)untyped;
	in.body_len = strlen(untyped);
	assert_int_equal(rest_parse(&in, NULL, &out), 0);
	assert_int_equal(out.status, 400);
	rest_parsed_free(&out);
	rest_parsed_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arg_lookup),
		cmocka_unit_test(test_bootstrap_routes),
		cmocka_unit_test(test_route_kinds),
		cmocka_unit_test(test_client_list),
		cmocka_unit_test(test_events_status_preflight),
		cmocka_unit_test(test_unknown_and_too_big),
		cmocka_unit_test(test_missing_method_or_url),
		cmocka_unit_test(test_one_client),
		cmocka_unit_test(test_read_discover_delete),
		cmocka_unit_test(test_depth_and_timeout_refusals),
		cmocka_unit_test(test_observe),
		cmocka_unit_test(test_execute),
		cmocka_unit_test(test_write_attributes),
		cmocka_unit_test(test_write_json),
		cmocka_unit_test(test_write_raw),
		cmocka_unit_test(test_body_refusals),
		cmocka_unit_test(test_composite),
		cmocka_unit_test(test_path_refusals),
		cmocka_unit_test(test_refusal_drops_payload),
		cmocka_unit_test(test_no_typer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
