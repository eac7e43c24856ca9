/* Unit tests of the device side of the HTTP binding in the simulator
 * (tools/lwm2m-sim/http_req.c, built into this program: tools are not libraries).
 *
 * The main check is a round trip: a server operation goes through the project's codec
 * (http_codec_encode_request, what the server sends) and the request it makes must decode
 * back to the same operation. Hand-written requests cover the refusals, with the statuses of
 * spec/lwm2m-bindings.md 2.3 (400, 404, 405, 406, 415). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tools/lwm2m-sim/http_req.c"

#define REG_ID "0123456789abcdef0123456789abcdef"

/* ------------------------------------------------------------------ helpers ---- */

static void assert_view_str(struct lwm2m_view v, const char *s)
{
	size_t n = strlen(s);

	if(v.len != n || (n && memcmp(v.ptr, s, n) != 0)){
		fail_msg("view \"%.*s\" is not \"%s\"", (int)v.len, (const char *)v.ptr, s);
	}
}

static struct simh_request request(const char *method, const char *path, const char *query,
		const char *ct, const char *accept, const char *body)
{
	struct simh_request r;

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.path = path;
	r.query = query;
	r.content_type = ct;
	r.accept = accept;
	r.body = (const uint8_t *)body;
	r.body_len = body ? strlen(body) : 0;
	return r;
}

static void assert_refused(const struct simh_request *r, uint16_t status, const char *msg_part)
{
	struct lwm2m_error err;
	struct lwm2m_op op;
	uint16_t got = 0;

	memset(&err, 0, sizeof(err));
	assert_true(simh_decode(r, &op, &got, &err) < 0);
	if(got != status) fail_msg("%s %s: status %u, want %u (%s)", r->method, r->path, got, status, err.msg);
	if(msg_part && !strstr(err.msg, msg_part)) fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg_part);
}

/* What the server sends for op (through the codec), decoded again on the device. */
struct trip {
	struct lwm2m_buf pq;
	char path[64];
	const char *query;
	struct simh_request req;
	struct lwm2m_op got;
	int rc;
	uint16_t status;
};

static void round_trip(const struct lwm2m_op *op, struct trip *t)
{
	const char *method, *ct, *accept;
	struct lwm2m_error err;
	char *q;

	memset(t, 0, sizeof(*t));
	buf_init(&t->pq, 0);
	assert_int_equal(http_codec_encode_request(op, NULL, &t->pq, &method, &ct, &accept, &err), 0);
	snprintf(t->path, sizeof(t->path), "%s", (const char *)t->pq.data);
	q = strchr(t->path, '?');
	if(q){
		*q = '\0';
		t->query = (const char *)t->pq.data + (q - t->path) + 1;
	}
	t->req.method = method;
	t->req.path = t->path;
	t->req.query = t->query;
	t->req.content_type = ct;
	t->req.accept = accept;
	if(op->fields & LWM2M_F_PAYLOAD){
		t->req.body = op->payload.ptr;
		t->req.body_len = op->payload.len;
	}
	t->rc = simh_decode(&t->req, &t->got, &t->status, &err);
	if(t->rc) fail_msg("%s %s: %s", method, t->path, err.msg);
}

static void trip_free(struct trip *t)
{
	buf_free(&t->pq);
}

static struct lwm2m_op op_of(enum lwm2m_op_kind kind, const char *uri)
{
	struct lwm2m_op op;

	op_init(&op);
	op.kind = kind;
	op.uri = op_view_str(uri);
	op.fields = LWM2M_F_URI;
	return op;
}

/* Payload literals may hold NUL bytes (CBOR): their length is taken from the literal. */
#define with_payload(op, cf, lit) set_payload_n((op), (cf), (lit), sizeof(lit) - 1)

static void set_payload_n(struct lwm2m_op *op, uint16_t cf, const char *p, size_t n)
{
	op->payload.ptr = (const uint8_t *)p;
	op->payload.len = n;
	op->content_format = cf;
	op->fields |= LWM2M_F_PAYLOAD | LWM2M_F_CT;
}

/* kind, path and the fields both sides care about are the same. */
static void assert_same(const struct lwm2m_op *want, const struct trip *t)
{
	const uint32_t compared = LWM2M_F_URI | LWM2M_F_PAYLOAD | LWM2M_F_CT | LWM2M_F_DEPTH
		| LWM2M_F_ATTRS;
	char uri[LWM2M_PATH_STR_MAX + 1];

	assert_int_equal(t->got.kind, want->kind);
	assert_int_equal(t->got.fields & compared, want->fields & compared);
	snprintf(uri, sizeof(uri), "%.*s", (int)want->uri.len, (const char *)want->uri.ptr);
	assert_view_str(t->got.uri, uri);
	if(want->fields & LWM2M_F_CT) assert_int_equal(t->got.content_format, want->content_format);
	if(want->fields & LWM2M_F_PAYLOAD){
		assert_int_equal(t->got.payload.len, want->payload.len);
		assert_memory_equal(t->got.payload.ptr, want->payload.ptr, want->payload.len);
	}
	if(want->fields & LWM2M_F_DEPTH) assert_int_equal(t->got.depth, want->depth);
	if(want->fields & LWM2M_F_ATTRS){
		assert_int_equal(t->got.attrs.set, want->attrs.set);
		assert_int_equal(t->got.attrs.unset, want->attrs.unset);
		assert_int_equal(t->got.attrs.pmin, want->attrs.pmin);
		assert_int_equal(t->got.attrs.pmax, want->attrs.pmax);
		assert_true(t->got.attrs.gt == want->attrs.gt);
	}
}

static void check_trip(const struct lwm2m_op *op)
{
	struct trip t;

	round_trip(op, &t);
	assert_same(op, &t);
	trip_free(&t);
}

/* ------------------------------------------------------------ round trips ---- */

static void test_trip_read_discover(void **state)
{
	struct lwm2m_op op = op_of(LWM2M_OP_READ, "/3/0/1");
	(void)state;

	check_trip(&op);
	op = op_of(LWM2M_OP_READ, "/3/0/11/0");
	check_trip(&op);
	/* a Read naming its format: the codec sends it as Accept */
	op = op_of(LWM2M_OP_READ, "/3303/0");
	op.fields |= LWM2M_F_CT;
	op.content_format = LWM2M_CF_SENML_JSON;
	check_trip(&op);
	op.content_format = LWM2M_CF_TEXT;
	check_trip(&op);
	op = op_of(LWM2M_OP_DISCOVER, "/3");
	check_trip(&op);
	op.fields |= LWM2M_F_DEPTH;
	op.depth = 1;
	check_trip(&op);
	op = op_of(LWM2M_OP_DISCOVER, "/3303/0/5700");
	op.fields |= LWM2M_F_DEPTH;
	op.depth = 0;
	check_trip(&op);
}

static void test_trip_writes(void **state)
{
	struct lwm2m_op op = op_of(LWM2M_OP_WRITE, "/3/0/14");
	(void)state;

	with_payload(&op, LWM2M_CF_TEXT, "+02:00");
	check_trip(&op);
	op = op_of(LWM2M_OP_WRITE, "/3303/0");
	with_payload(&op, LWM2M_CF_SENML_CBOR, "\x81\xa2\x00\x64" "5750\x03\x62hi");
	check_trip(&op);
	op = op_of(LWM2M_OP_WRITE_PARTIAL, "/3303/0");
	with_payload(&op, LWM2M_CF_LWM2M_CBOR, "\xa1\x19\x16\x76\x61x");
	check_trip(&op);
	/* POST on a resource with data that is not text: a partial update of a multi-instance
	 * resource, not an Execute */
	op = op_of(LWM2M_OP_WRITE_PARTIAL, "/3/0/11");
	with_payload(&op, LWM2M_CF_TLV, "\x41\x00\x01");
	check_trip(&op);
}

static void test_trip_attributes(void **state)
{
	struct lwm2m_op op = op_of(LWM2M_OP_WRITE_ATTRIBUTES, "/3303/0/5700");
	(void)state;

	op.fields |= LWM2M_F_ATTRS;
	op.attrs.set = LWM2M_ATTR_BIT(LWM2M_ATTR_PMIN) | LWM2M_ATTR_BIT(LWM2M_ATTR_PMAX)
		| LWM2M_ATTR_BIT(LWM2M_ATTR_GT);
	op.attrs.unset = LWM2M_ATTR_BIT(LWM2M_ATTR_ST);
	op.attrs.pmin = 5;
	op.attrs.pmax = 60;
	op.attrs.gt = 20.5;
	check_trip(&op);
	op = op_of(LWM2M_OP_WRITE_ATTRIBUTES, "/3303");
	op.fields |= LWM2M_F_ATTRS;
	op.attrs.set = LWM2M_ATTR_BIT(LWM2M_ATTR_PMAX);
	op.attrs.pmax = 300;
	check_trip(&op);
}

static void test_trip_execute_create_delete(void **state)
{
	struct lwm2m_op op = op_of(LWM2M_OP_EXECUTE, "/1/0/8");
	(void)state;

	check_trip(&op);
	op = op_of(LWM2M_OP_EXECUTE, "/3303/0/5605");
	with_payload(&op, LWM2M_CF_TEXT, "0='x'");
	check_trip(&op);
	op = op_of(LWM2M_OP_CREATE, "/3303");
	with_payload(&op, LWM2M_CF_SENML_CBOR, "\x81\xa2\x00\x6c/3303/5/5750\x03\x61g");
	check_trip(&op);
	op = op_of(LWM2M_OP_DELETE, "/3303/5");
	check_trip(&op);
	op = op_of(LWM2M_OP_DELETE, "/3/0/11/0");
	check_trip(&op);
}

/* ------------------------------------------------------ hand-written requests ---- */

static void test_decode_details(void **state)
{
	struct simh_request r;
	struct lwm2m_error err;
	struct lwm2m_op op;
	uint16_t status;
	(void)state;

	/* no Accept: Read in whatever format the device likes */
	r = request("GET", "/3/0/1/", NULL, NULL, NULL, NULL);
	assert_int_equal(simh_decode(&r, &op, &status, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_READ);
	assert_false(op.fields & LWM2M_F_CT);
	/* Accept lists and wildcards: the best q wins */
	r = request("GET", "/3/0", NULL, NULL, "text/plain;q=0.2, application/link-format;q=0.9", NULL);
	assert_int_equal(simh_decode(&r, &op, &status, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_DISCOVER);
	r = request("GET", "/3/0", NULL, NULL, "*/*", NULL);
	assert_int_equal(simh_decode(&r, &op, &status, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_READ);
	assert_false(op.fields & LWM2M_F_CT);
	/* Execute arguments without a Content-Type are text */
	r = request("POST", "/3303/0/5605", NULL, NULL, NULL, "5");
	assert_int_equal(simh_decode(&r, &op, &status, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_EXECUTE);
	assert_int_equal(op.content_format, LWM2M_CF_TEXT);
	assert_view_str(op.payload, "5");
	/* the tolerated labels of older clients */
	r = request("PUT", "/3/0/14", NULL, "application/vnd.oma.lwm2m+text", NULL, "x");
	assert_int_equal(simh_decode(&r, &op, &status, &err), 0);
	assert_int_equal(op.content_format, LWM2M_CF_TEXT);
	/* the root and an empty path are the same */
	r = request("GET", "", NULL, NULL, NULL, NULL);
	assert_refused(&r, 400, "0 level");
}

static void test_decode_refusals(void **state)
{
	struct simh_request r;
	(void)state;

	r = request("PATCH", "/3/0/1", NULL, "text/plain", NULL, "x");
	assert_refused(&r, 405, "PATCH");
	r = request("HEAD", "/3/0/1", NULL, NULL, NULL, NULL);
	assert_refused(&r, 405, NULL);
	r = request("GET", "/abc", NULL, NULL, NULL, NULL);
	assert_refused(&r, 404, "not an LwM2M path");
	r = request("GET", "/3/0/1/2/3", NULL, NULL, NULL, NULL);
	assert_refused(&r, 404, NULL);
	r = request("GET", "/70000", NULL, NULL, NULL, NULL);
	assert_refused(&r, 404, NULL);
	r = request("GET", "/3/0/1", NULL, NULL, NULL, "x");
	assert_refused(&r, 400, "body");
	r = request("GET", "/3/0/1", "depth=1", NULL, NULL, NULL);
	assert_refused(&r, 400, "query");
	r = request("GET", "/3/0/1", NULL, NULL, "image/png", NULL);
	assert_refused(&r, 406, "image/png");
	r = request("GET", "/3/0/1", NULL, NULL, "text/plain;q=0", NULL);
	assert_refused(&r, 406, NULL);
	r = request("GET", "/3", "depth=4", NULL, "application/link-format", NULL);
	assert_refused(&r, 400, "depth");
	r = request("GET", "/3", "depth=1&x=2", NULL, "application/link-format", NULL);
	assert_refused(&r, 400, "depth");
	r = request("GET", "/3/0/11/0", NULL, NULL, "application/link-format", NULL);
	assert_refused(&r, 400, "Discover");
	r = request("PUT", "/3/0/14", NULL, NULL, NULL, "x");
	assert_refused(&r, 415, "Content-Type");
	r = request("PUT", "/3/0/14", NULL, "application/x-nonsense", NULL, "x");
	assert_refused(&r, 415, "x-nonsense");
	r = request("PUT", "/3/0/14", "pmin=1", "text/plain", NULL, "x");
	assert_refused(&r, 400, "query");
	r = request("PUT", "/3", NULL, "text/plain", NULL, "x");
	assert_refused(&r, 400, "Write");
	r = request("PUT", "/3/0/14", NULL, NULL, NULL, NULL);
	assert_refused(&r, 400, "PUT");
	r = request("PUT", "/3/0/9", "pmin=x", NULL, NULL, NULL);
	assert_refused(&r, 400, NULL);
	r = request("PUT", "/3/0/9", "bogus=1", NULL, NULL, NULL);
	assert_refused(&r, 400, NULL);
	r = request("PUT", "/3/0", "gt=5", NULL, NULL, NULL);   /* gt only on resources */
	assert_refused(&r, 400, NULL);
	r = request("POST", "/3303", NULL, NULL, NULL, NULL);
	assert_refused(&r, 400, "Create needs a body");
	r = request("POST", "/3303", NULL, NULL, NULL, "x");
	assert_refused(&r, 415, NULL);
	r = request("POST", "/3303/0", NULL, NULL, NULL, NULL);
	assert_refused(&r, 400, "needs a body");
	r = request("POST", "/3/0/11", NULL, "application/x-nonsense", NULL, "x");
	assert_refused(&r, 415, NULL);
	r = request("POST", "/3/0/11/0", NULL, "text/plain", NULL, "x");
	assert_refused(&r, 400, "4 level");
	r = request("POST", "/", NULL, "text/plain", NULL, "x");
	assert_refused(&r, 400, NULL);
	r = request("POST", "/1/0/8", "x", NULL, NULL, NULL);
	assert_refused(&r, 400, "query");
	r = request("DELETE", "/3/0/1", NULL, NULL, NULL, NULL);
	assert_refused(&r, 400, "Delete");
	r = request("DELETE", "/3", NULL, NULL, NULL, NULL);
	assert_refused(&r, 400, "Delete");
	r = request("DELETE", "/3303/1", "x=1", NULL, NULL, NULL);
	assert_refused(&r, 400, "query");
	r = request("DELETE", "/3303/1", NULL, "text/plain", NULL, "x");
	assert_refused(&r, 400, "body");
	r = request(NULL, "/3", NULL, NULL, NULL, NULL);
	assert_refused(&r, 400, "incomplete");
}

static void test_accept(void **state)
{
	int cf = 99;
	(void)state;

	assert_int_equal(simh_accept(NULL, &cf), 0);
	assert_int_equal(cf, -1);
	assert_int_equal(simh_accept("  ", &cf), 0);
	assert_int_equal(cf, -1);
	assert_int_equal(simh_accept("application/*", &cf), 0);
	assert_int_equal(cf, -1);
	assert_int_equal(simh_accept("application/vnd.oma.lwm2m+tlv", &cf), 0);
	assert_int_equal(cf, LWM2M_CF_TLV);
	assert_int_equal(simh_accept("text/plain;charset=utf-8", &cf), 0);
	assert_int_equal(cf, LWM2M_CF_TEXT);
	assert_int_equal(simh_accept("image/png, application/senml+json", &cf), 0);
	assert_int_equal(cf, LWM2M_CF_SENML_JSON);
	/* equal q: the first; a higher q later wins */
	assert_int_equal(simh_accept("application/senml+cbor, text/plain", &cf), 0);
	assert_int_equal(cf, LWM2M_CF_SENML_CBOR);
	assert_int_equal(simh_accept("text/plain;q=0.5, */*;q=0.8", &cf), 0);
	assert_int_equal(cf, -1);
	assert_int_equal(simh_accept("TEXT/PLAIN ; q=0.25 , application/vnd.oma.lwm2m+cbor;q=0.3", &cf), 0);
	assert_int_equal(cf, LWM2M_CF_LWM2M_CBOR);
	/* a malformed or zero q makes the item unacceptable */
	assert_int_equal(simh_accept("text/plain;q=2", &cf), -LWM2M_ENOTSUP);
	assert_int_equal(simh_accept("text/plain;q=zero, text/plain;q=0", &cf), -LWM2M_ENOTSUP);
	assert_int_equal(simh_accept("image/png", &cf), -LWM2M_ENOTSUP);
}

/* ------------------------------------------------------------ URLs, answers ---- */

static void test_split(void **state)
{
	struct lwm2m_view ep;
	const char *rest = NULL;
	(void)state;

	assert_int_equal(simh_split("/sim-0/3/0/1", &ep, &rest), 0);
	assert_view_str(ep, "sim-0");
	assert_string_equal(rest, "/3/0/1");
	assert_int_equal(simh_split("/sim-0", &ep, &rest), 0);
	assert_view_str(ep, "sim-0");
	assert_string_equal(rest, "");
	assert_int_equal(simh_split("/", &ep, &rest), -LWM2M_ENOENT);
	assert_int_equal(simh_split("", &ep, &rest), -LWM2M_ENOENT);
	assert_int_equal(simh_split("//3/0", &ep, &rest), -LWM2M_ENOENT);
	assert_int_equal(simh_split("sim-0/3", &ep, &rest), -LWM2M_ENOENT);
	assert_int_equal(simh_split(NULL, &ep, &rest), -LWM2M_ENOENT);
}

static void test_uplink_result(void **state)
{
	(void)state;

	assert_int_equal(simh_uplink_result(LWM2M_OP_REGISTER, 201), 201);
	assert_int_equal(simh_uplink_result(LWM2M_OP_REGISTER, 200), 201);
	assert_int_equal(simh_uplink_result(LWM2M_OP_UPDATE, 204), 204);
	assert_int_equal(simh_uplink_result(LWM2M_OP_UPDATE, 200), 204);
	assert_int_equal(simh_uplink_result(LWM2M_OP_DEREGISTER, 204), 202);
	assert_int_equal(simh_uplink_result(LWM2M_OP_SEND, 204), 204);
	assert_int_equal(simh_uplink_result(LWM2M_OP_UPDATE, 404), 404);
	assert_int_equal(simh_uplink_result(LWM2M_OP_REGISTER, 412), 412);
	assert_int_equal(simh_uplink_result(LWM2M_OP_REGISTER, 503), 503);
	assert_int_equal(simh_uplink_result(LWM2M_OP_SEND, 451), 400);   /* no c.dd above 31 */
	assert_int_equal(simh_uplink_result(LWM2M_OP_REGISTER, 302), 0);
	assert_int_equal(simh_uplink_result(LWM2M_OP_REGISTER, 100), 0);
	assert_int_equal(simh_uplink_result(LWM2M_OP_REGISTER, 600), 0);
	assert_int_equal(simh_uplink_result(LWM2M_OP_REGISTER, -1), 0);
}

static void test_location(void **state)
{
	char id[HTTP_CODEC_REG_ID_LEN + 1];
	(void)state;

	memset(id, 'z', sizeof(id));
	assert_int_equal(simh_location_reg_id("/rd/" REG_ID, id), 0);
	assert_string_equal(id, REG_ID);
	assert_int_equal(simh_location_reg_id("http://127.0.0.1:8090/rd/" REG_ID, id), 0);
	assert_int_equal(simh_location_reg_id("/lwm2m/rd/" REG_ID "?x=1", id), 0);
	assert_int_equal(simh_location_reg_id("/rd/" REG_ID " ", id), 0);
	assert_string_equal(id, REG_ID);
	assert_int_equal(simh_location_reg_id(NULL, id), -LWM2M_EINVAL);
	assert_int_equal(simh_location_reg_id("", id), -LWM2M_EINVAL);
	assert_int_equal(simh_location_reg_id("/rd/0123456789ABCDEF0123456789abcdef", id), -LWM2M_EINVAL);
	assert_int_equal(simh_location_reg_id("/rd/0123456789abcdef0123456789abcde", id), -LWM2M_EINVAL);
	assert_int_equal(simh_location_reg_id("/rx/" REG_ID, id), -LWM2M_EINVAL);
	assert_int_equal(simh_location_reg_id("/rd/" REG_ID "/", id), -LWM2M_EINVAL);
	assert_int_equal(simh_location_reg_id("/rd/x" REG_ID, id), -LWM2M_EINVAL);
}

static void test_append_segment(void **state)
{
	struct lwm2m_buf b;
	(void)state;

	buf_init(&b, 0);
	assert_int_equal(simh_append_segment(&b, "sim-0_a.b~"), 0);
	assert_int_equal(simh_append_segment(&b, "a b/\xc3\xa9%"), 0);
	assert_int_equal(buf_append_byte(&b, 0), 0);
	assert_string_equal((const char *)b.data, "sim-0_a.b~a%20b%2F%C3%A9%25");
	buf_free(&b);
}

/* ------------------------------------------------------------------- main ---- */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trip_read_discover),
		cmocka_unit_test(test_trip_writes),
		cmocka_unit_test(test_trip_attributes),
		cmocka_unit_test(test_trip_execute_create_delete),
		cmocka_unit_test(test_decode_details),
		cmocka_unit_test(test_decode_refusals),
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_uplink_result),
		cmocka_unit_test(test_location),
		cmocka_unit_test(test_append_segment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
