/* LwM2M CBOR (objects/fmt_lwm2m_cbor.c). Expected bytes are hand-encoded from Core TS 1.2
 * section 7.5.4 (keys are IDs or arrays of IDs; a text first element is a Gateway prefix). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "objects/fmt.h"
#include "fmt_test_util.h"

/* Object 1000: resource r has type r (1..9); resource 20 multi-instance integer. The typer
 * remembers the last prefix it was asked about. */
struct spy {
	char last_prefix[16];
	unsigned calls;
};

static enum lwm2m_type table_type(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	struct spy *s = ctx;
	if(s){
		s->calls++;
		snprintf(s->last_prefix, sizeof(s->last_prefix), "%s", prefix ? prefix : "");
	}
	if(p->len < 3 || p->ids[0] != 1000) return LWM2M_TYPE_NONE;
	if(p->ids[2] >= 1 && p->ids[2] <= 9) return (enum lwm2m_type)p->ids[2];
	if(p->ids[2] == 20) return LWM2M_TYPE_INTEGER;
	return LWM2M_TYPE_NONE;
}

static int table_multiple(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	(void)ctx;
	(void)prefix;
	return p->ids[0] == 1000 ? p->ids[2] == 20 : -1;
}

static int decode_hex(const char *hex, const char *req, struct spy *spy, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	uint8_t buf[256];
	size_t n = unhex(hex, buf);
	uint8_t *exact = malloc(n ? n : 1);
	struct fmt_typer t = { table_type, table_multiple, spy };
	struct lwm2m_path p = P(req);
	int rc;

	memcpy(exact, buf, n);
	rc = fmt_decode(LWM2M_CF_LWM2M_CBOR, exact, n, &p, &t, lim, out, err);
	free(exact);
	return rc;
}

static void assert_encodes(const struct lwm2m_nodes *in, const char *req, const char *hex)
{
	uint8_t want[256];
	size_t n = unhex(hex, want);
	struct lwm2m_buf out;
	struct lwm2m_error err = { 0 };
	struct fmt_typer t = { table_type, table_multiple, NULL };
	struct lwm2m_path p = P(req);

	buf_init(&out, 0);
	if(fmt_encode(LWM2M_CF_LWM2M_CBOR, in, &p, &t, NULL, &out, &err) != 0) fail_msg("encode: %s", err.msg);
	if(out.len != n || memcmp(out.data, want, n)){
		char got[512] = "";
		for(size_t i = 0; i < out.len && i < 200; i++) sprintf(got + 2 * i, "%02x", out.data[i]);
		fail_msg("encoded %s, want %s", got, hex);
	}
	buf_free(&out);
}

static struct lwm2m_node *add(struct lwm2m_nodes *n, const char *prefix, const char *path,
		enum lwm2m_type t, int64_t i)
{
	struct lwm2m_node *node = nodes_push(n);
	assert_non_null(node);
	node->path = P(path);
	node->value.type = t;
	node->value.v.i = i;
	if(prefix) node->prefix = strdup(prefix);
	return node;
}

static void test_encode_layouts(void **state)
{
	struct lwm2m_nodes n;

	(void)state;
	nodes_init(&n);
	add(&n, NULL, "/1000/0/2", LWM2M_TYPE_INTEGER, 5);
	/* {[1000, 0, 2]: 5} */
	assert_encodes(&n, "/1000/0/2", "a1 83 1903e8 00 02 05");
	add(&n, NULL, "/1000/0/7", LWM2M_TYPE_TIME, 1);
	/* {[1000, 0]: {2: 5, 7: 1}} */
	assert_encodes(&n, "/1000/0", "a1 82 1903e8 00 a2 02 05 07 01");
	add(&n, NULL, "/1000/1/20/3", LWM2M_TYPE_INTEGER, -2);
	/* {1000: {0: {2: 5, 7: 1}, 1: {20: {3: -2}}}} */
	assert_encodes(&n, "/1000", "a1 1903e8 a2 00 a2 02 05 07 01 01 a1 14 a1 03 21");
	nodes_free(&n);

	/* composite: groups keep their order, each keyed down to its first branch */
	add(&n, NULL, "/3/0/9", LWM2M_TYPE_INTEGER, 100);
	add(&n, NULL, "/1000/0/2", LWM2M_TYPE_INTEGER, 1);
	add(&n, NULL, "/1000/0/1", LWM2M_TYPE_NONE, 0)->kind = LWM2M_NODE_VALUE;
	assert_encodes(&n, "/", "a2 83 03 00 09 1864 82 1903e8 00 a2 01 f6 02 01");
	nodes_free(&n);

	/* markers are empty maps */
	add(&n, NULL, "/1000/4", LWM2M_TYPE_NONE, 0)->kind = LWM2M_NODE_EMPTY_INSTANCE;
	add(&n, NULL, "/1000/5/20", LWM2M_TYPE_NONE, 0)->kind = LWM2M_NODE_EMPTY_MULTIPLE;
	assert_encodes(&n, "/1000", "a1 1903e8 a2 04 a0 05 a1 14 a0");
	nodes_free(&n);
	assert_encodes(&n, "/", "a0");
}

static void test_encode_gateway_prefix(void **state)
{
	struct lwm2m_nodes n, back;
	struct lwm2m_buf out;
	struct lwm2m_error err;
	struct spy spy = { "", 0 };
	struct fmt_typer t = { table_type, table_multiple, &spy };

	(void)state;
	nodes_init(&n);
	nodes_init(&back);
	add(&n, "d01", "/1000/0/2", LWM2M_TYPE_INTEGER, 1);
	add(&n, NULL, "/1000/0/2", LWM2M_TYPE_INTEGER, 2);
	add(&n, "d01", "/1000/1/2", LWM2M_TYPE_INTEGER, 3);
	/* {["d01", 1000, 0, 2]: 1, [1000, 0, 2]: 2, ["d01", 1000, 1, 2]: 3} */
	assert_encodes(&n, "/", "a3 84 63643031 1903e8 00 02 01 83 1903e8 00 02 02 84 63643031 1903e8 01 02 03");
	buf_init(&out, 0);
	assert_int_equal(fmt_encode(LWM2M_CF_LWM2M_CBOR, &n, NULL, &t, NULL, &out, &err), 0);
	assert_int_equal(fmt_decode(LWM2M_CF_LWM2M_CBOR, out.data, out.len, NULL, &t, NULL, &back, &err), 0);
	assert_int_equal(back.count, 3);
	/* sorted: no prefix first */
	assert_null(back.items[0].prefix);
	assert_string_equal(back.items[1].prefix, "d01");
	assert_string_equal(back.items[2].prefix, "d01");
	assert_int_equal(back.items[2].value.v.i, 3);
	assert_string_equal(spy.last_prefix, "d01");
	nodes_free(&back);
	nodes_free(&n);
	buf_free(&out);
}

static void test_encode_refusals(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_buf out;
	struct lwm2m_error err;
	struct fmt_typer t = { table_type, table_multiple, NULL };

	(void)state;
	nodes_init(&n);
	buf_init(&out, 0);
	add(&n, NULL, "/1000/0/2", LWM2M_TYPE_INTEGER, 1);
	add(&n, NULL, "/3/0/1", LWM2M_TYPE_INTEGER, 1);
	add(&n, NULL, "/1000/0/2", LWM2M_TYPE_INTEGER, 2);
	assert_int_equal(fmt_encode(LWM2M_CF_LWM2M_CBOR, &n, NULL, &t, NULL, &out, &err), -LWM2M_ENOTSUP);
	assert_non_null(strstr(err.msg, "two values"));
	nodes_free(&n);
	add(&n, NULL, "/1000/0/20", LWM2M_TYPE_INTEGER, 1);
	add(&n, NULL, "/1000/0/20/1", LWM2M_TYPE_INTEGER, 1);
	assert_int_equal(fmt_encode(LWM2M_CF_LWM2M_CBOR, &n, NULL, &t, NULL, &out, &err), -LWM2M_ENOTSUP);
	nodes_free(&n);
	/* a value above the resource level is no node */
	add(&n, NULL, "/1000/0", LWM2M_TYPE_INTEGER, 1);
	assert_int_equal(fmt_encode(LWM2M_CF_LWM2M_CBOR, &n, NULL, &t, NULL, &out, &err), -LWM2M_EINVAL);
	nodes_free(&n);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void test_decode_layouts(void **state)
{
	struct lwm2m_nodes n;
	struct spy spy = { "", 0 };

	(void)state;
	nodes_init(&n);
	/* {1000: {[0, 20]: {1: 7}, 1: {3: 1(5)}}} with an indefinite outer map */
	assert_int_equal(decode_hex("bf 1903e8 a2 82 00 14 a1 01 07 01 a1 03 c1 05 ff", "/1000", &spy, NULL, &n,
			NULL), 0);
	assert_int_equal(n.count, 2);
	assert_int_equal(n.items[0].path.len, 4);
	assert_int_equal(n.items[0].path.ids[2], 20);
	assert_int_equal(n.items[0].value.v.i, 7);
	/* resource 3 is Unsigned: the tagged time converts */
	assert_int_equal(n.items[1].value.type, LWM2M_TYPE_UNSIGNED);
	assert_int_equal(n.items[1].value.v.u, 5);
	nodes_free(&n);

	/* bare prefix: {"gw": {1000: {0: {1: "x"}}}} */
	assert_int_equal(decode_hex("a1 626777 a1 1903e8 a1 00 a1 01 6178", "/", &spy, NULL, &n, NULL), 0);
	assert_string_equal(n.items[0].prefix, "gw");
	assert_string_equal(spy.last_prefix, "gw");
	assert_int_equal(n.items[0].value.type, LWM2M_TYPE_STRING);
	nodes_free(&n);

	/* an unknown resource keeps its wire type, an unsigned above INT64_MAX too */
	assert_int_equal(decode_hex("a1 83 1903e8 00 18 63 1bffffffffffffffff", "/", NULL, NULL, &n, NULL), 0);
	assert_int_equal(n.items[0].value.type, LWM2M_TYPE_UNSIGNED);
	nodes_free(&n);
}

static void test_decode_refusals(void **state)
{
	static const struct { const char *hex; const char *req; const char *msg; } bad[] = {
		{ "a1 83 1903e8 00 03 6161", "/", "expected unsigned" },            /* text for Unsigned */
		{ "a1 83 1903e8 00 02 05", "/1000/1", "outside" },
		{ "a1 1903e8 a1 01 a0 ", "/1000/0", "outside" },                   /* empty /1000/1 */
		{ "a1 6164 a1 6165 05", "/", "text key" },                          /* second prefix level */
		{ "a1 82 6164 6165 05", "/", "not an ID" },
		{ "a1 63 640001 a1 00 05", "/", "prefix" },                          /* NUL in prefix */
		{ "a1 83 1903e8 00 02 9f ff", "/", "not a value" },
		{ "a1 83 1903e8 00 04 f6", "/", "null" },                            /* null for a Float */
	};
	struct lwm2m_nodes n;
	struct lwm2m_error err;

	(void)state;
	nodes_init(&n);
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		int rc = decode_hex(bad[i].hex, bad[i].req, NULL, NULL, &n, &err);
		if(rc == 0) fail_msg("%s accepted", bad[i].hex);
		if(!strstr(err.msg, bad[i].msg)) fail_msg("%s: message \"%s\" lacks \"%s\"", bad[i].hex, err.msg,
				bad[i].msg);
		assert_int_equal(n.count, 0);
	}
}

static void test_decode_limits(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;
	struct fmt_limits lim = { .max_depth = 2 };

	(void)state;
	nodes_init(&n);
	/* {1000: {0: {1: "x"}}} needs 4 map levels */
	assert_int_equal(decode_hex("a1 1903e8 a1 00 a1 01 6178", "/", NULL, &lim, &n, &err), -LWM2M_ETOOBIG);
	assert_non_null(strstr(err.msg, "deep"));
	lim.max_depth = 0;
	lim.max_nodes = 1;
	assert_int_equal(decode_hex("a2 83 1903e8 00 01 6178 83 1903e8 00 02 01", "/", NULL, &lim, &n, &err),
			-LWM2M_ETOOBIG);
	/* a map announcing 2^32 entries in 10 bytes is refused before any work */
	assert_int_equal(decode_hex("bb 0000000100000000 00", "/", NULL, NULL, &n, &err), -LWM2M_EINVAL);
	assert_non_null(strstr(err.msg, "announces"));
	assert_int_equal(n.count, 0);
}

static void test_truncations_and_round_trip(void **state)
{
	struct lwm2m_nodes n, back;
	struct lwm2m_buf out;
	struct lwm2m_error err;
	struct fmt_typer t = { table_type, table_multiple, NULL };
	struct lwm2m_node *node;

	(void)state;
	nodes_init(&n);
	nodes_init(&back);
	buf_init(&out, 0);
	add(&n, NULL, "/1000/0/4", LWM2M_TYPE_FLOAT, 0)->value.v.f = 0.1;
	node = add(&n, "dev", "/1000/0/1", LWM2M_TYPE_NONE, 0);
	assert_int_equal(value_set_bytes(&node->value, LWM2M_TYPE_STRING, "\xe2\x82\xac", 3), 0);
	add(&n, NULL, "/1000/3/8", LWM2M_TYPE_OBJLNK, 0)->value.v.lnk.obj = 65535;
	add(&n, NULL, "/1000/3/20/7", LWM2M_TYPE_INTEGER, INT64_MIN);
	add(&n, NULL, "/1000/9", LWM2M_TYPE_NONE, 0)->kind = LWM2M_NODE_EMPTY_INSTANCE;
	assert_int_equal(fmt_encode(LWM2M_CF_LWM2M_CBOR, &n, NULL, &t, NULL, &out, &err), 0);
	assert_int_equal(fmt_decode(LWM2M_CF_LWM2M_CBOR, out.data, out.len, NULL, &t, NULL, &back, &err), 0);
	assert_int_equal(back.count, n.count);
	nodes_sort(&n);
	for(size_t i = 0; i < n.count; i++){
		assert_int_equal(path_compare(&n.items[i].path, &back.items[i].path), 0);
		assert_int_equal(n.items[i].kind, back.items[i].kind);
		assert_true(value_equal(&n.items[i].value, &back.items[i].value));
	}
	nodes_free(&back);
	/* every shorter prefix of the payload is refused, without reading past it */
	for(size_t len = 0; len < out.len; len++){
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, out.data, len);
		if(fmt_decode(LWM2M_CF_LWM2M_CBOR, copy, len, NULL, &t, NULL, &back, NULL) == 0){
			fail_msg("a payload cut at %zu bytes decoded", len);
		}
		free(copy);
	}
	nodes_free(&n);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_layouts),
		cmocka_unit_test(test_encode_gateway_prefix),
		cmocka_unit_test(test_encode_refusals),
		cmocka_unit_test(test_decode_layouts),
		cmocka_unit_test(test_decode_refusals),
		cmocka_unit_test(test_decode_limits),
		cmocka_unit_test(test_truncations_and_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
