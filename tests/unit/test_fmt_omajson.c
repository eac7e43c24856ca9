/* OMA LwM2M JSON, content format 11543 (objects/fmt_omajson.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "objects/fmt_omajson.h"
#include "fmt_test_util.h"

static const struct fmt_test_res model[] = {
	{ 3, 0, LWM2M_TYPE_STRING, 0 }, { 3, 7, LWM2M_TYPE_INTEGER, 1 },
	{ 3, 9, LWM2M_TYPE_INTEGER, 0 }, { 3, 13, LWM2M_TYPE_TIME, 0 },
	{ 3442, 125, LWM2M_TYPE_UNSIGNED, 0 }, { 3442, 130, LWM2M_TYPE_FLOAT, 0 },
	{ 3442, 140, LWM2M_TYPE_BOOLEAN, 0 }, { 3442, 150, LWM2M_TYPE_OPAQUE, 0 },
	{ 3442, 170, LWM2M_TYPE_OBJLNK, 0 }, { 3442, 180, LWM2M_TYPE_CORELNK, 0 },
};

static const struct fmt_typer typer = FMT_TEST_TYPER(model);

static int dec(const char *text, const char *req, struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	struct lwm2m_path r;
	if(req) r = P(req);
	memset(err, 0, sizeof(*err));
	return omajson_decode((const uint8_t *)text, strlen(text), req ? &r : NULL, &typer, NULL, out, err);
}

static void expect_enc(const struct lwm2m_nodes *in, const char *req, const struct senml_opts *o,
		const char *want)
{
	struct lwm2m_buf b;
	struct lwm2m_error err;
	struct lwm2m_path r;

	if(req) r = P(req);
	buf_init(&b, 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(omajson_encode_ex(in, req ? &r : NULL, &typer, NULL, o, &b, &err), 0);
	if(b.len != strlen(want) || memcmp(b.data, want, b.len))
		fail_msg("encoded %.*s\nexpected %s", (int)b.len, (const char *)b.data, want);
	buf_free(&b);
}

static void test_decode_types(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;
	const char *text = "{\"e\":[{\"n\":\"125\",\"v\":18446744073709551615},{\"n\":\"130\",\"v\":2},"
			"{\"n\":\"140\",\"bv\":false},{\"n\":\"150\",\"sv\":\"AP8=\"},{\"n\":\"170\",\"ov\":\"1:2\"},"
			"{\"n\":\"180\",\"sv\":\"</1>\"},{\"n\":\"999\",\"v\":23}],\"bn\":\"/3442/0/\"}";

	(void)state;
	nodes_init(&n);
	assert_int_equal(dec(text, "/3442/0", &n, &err), 0);
	assert_int_equal(n.count, 7);
	assert_int_equal(n.items[0].value.type, LWM2M_TYPE_UNSIGNED);
	assert_true(n.items[0].value.v.u == UINT64_MAX);
	assert_int_equal(n.items[1].value.type, LWM2M_TYPE_FLOAT);
	assert_true(n.items[1].value.v.f == 2.0);
	assert_false(n.items[2].value.v.b);
	assert_int_equal(n.items[3].value.type, LWM2M_TYPE_OPAQUE);
	assert_int_equal(n.items[3].value.v.bytes.len, 2);
	assert_memory_equal(n.items[3].value.v.bytes.data, "\x00\xff", 2);
	assert_int_equal(n.items[4].value.v.lnk.inst, 2);
	assert_int_equal(n.items[5].value.type, LWM2M_TYPE_CORELNK);
	/* no model: v is a float, as Leshan reads it */
	assert_int_equal(n.items[6].value.type, LWM2M_TYPE_FLOAT);
	assert_true(n.items[6].value.v.f == 23.0);
	nodes_free(&n);
}

static void test_decode_times_and_names(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;

	(void)state;
	nodes_init(&n);
	/* bt after e still applies; names without a leading '/'; plain concatenation */
	assert_int_equal(dec("{\"bn\":\"3/0/1\",\"e\":[{\"n\":\"3\",\"v\":1,\"t\":-5},{\"n\":\"3\",\"v\":2}],"
			"\"bt\":100,\"x\":[1,{\"y\":2}]}", NULL, &n, &err), 0);
	assert_int_equal(n.count, 2);
	assert_int_equal(path_compare(&n.items[0].path, &(struct lwm2m_path){ 3, { 3, 0, 13 } }), 0);
	assert_true(n.items[0].time == 95.0);
	assert_true(n.items[1].time == 100.0);
	nodes_free(&n);
	/* gateway prefix */
	assert_int_equal(dec("{\"bn\":\"/dev7/\",\"e\":[{\"n\":\"3/0/0\",\"sv\":\"x\"}]}", NULL, &n, &err), 0);
	assert_string_equal(n.items[0].prefix, "dev7");
	nodes_free(&n);
}

static void test_decode_errors(void **state)
{
	static const char *const bad[] = {
		"", "{}", "[]", "{\"e\":{}}", "{\"e\":[]", "{\"e\":[]}x", "{\"e\":[],\"e\":[]}",
		"{\"bn\":\"/3/0/\",\"e\":[{\"n\":\"9\"}]}",                       /* no value */
		"{\"bn\":\"/3/0/\",\"e\":[{\"n\":\"9\",\"v\":1,\"sv\":\"1\"}]}",     /* two values */
		"{\"bn\":\"/3/0/\",\"e\":[{\"n\":\"9\",\"v\":1},{\"n\":\"9\",\"v\":2}]}",  /* twice */
		"{\"bn\":\"/3/0/\",\"e\":[{\"n\":\"9\",\"v\":9223372036854775808}]}",    /* range */
		"{\"bn\":\"/3/0/\",\"e\":[{\"n\":\"0\",\"v\":1}]}",                 /* type */
		"{\"bn\":\"/3442/0/\",\"e\":[{\"n\":\"150\",\"sv\":\"A\"}]}",          /* base64 */
		"{\"bn\":\"/3/0/\",\"e\":[{\"n\":\"9\",\"bv\":null}]}",
		"{\"bn\":\"/3/0/9\",\"e\":[]}",                                    /* empty single */
	};
	struct lwm2m_nodes n;
	struct lwm2m_error err;

	(void)state;
	nodes_init(&n);
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		struct lwm2m_path req = P("/3/0/9");
		memset(&err, 0, sizeof(err));
		if(omajson_decode((const uint8_t *)bad[i], strlen(bad[i]), i + 1 == sizeof(bad) / sizeof(bad[0]) ?
				&req : NULL, &typer, NULL, &n, &err) == 0)
			fail_msg("accepted %s", bad[i]);
		assert_int_equal(n.count, 0);
		assert_true(err.msg[0] != '\0');
	}
	/* an empty e: an empty instance, an empty multiple resource, nothing for an object */
	assert_int_equal(dec("{\"e\":[]}", "/3/0", &n, &err), 0);
	assert_int_equal(n.items[0].kind, LWM2M_NODE_EMPTY_INSTANCE);
	nodes_free(&n);
	assert_int_equal(dec("{\"bn\":\"/3/0/7\",\"e\":[]}", "/3/0/7", &n, &err), 0);
	assert_int_equal(n.items[0].kind, LWM2M_NODE_EMPTY_MULTIPLE);
	nodes_free(&n);
	assert_int_equal(dec("{\"e\":[]}", "/3", &n, &err), 0);
	assert_int_equal(n.count, 0);
}

static void test_encode(void **state)
{
	struct senml_opts zephyr = { .layout = SENML_LAYOUT_INSTANCE };
	struct lwm2m_nodes n;
	struct lwm2m_node *x;

	(void)state;
	nodes_init(&n);
	x = add_node(&n, "/3442/0/150", LWM2M_TYPE_NONE);
	assert_int_equal(value_set_bytes(&x->value, LWM2M_TYPE_OPAQUE, "\x00\xff", 2), 0);
	add_node(&n, "/3442/0/125", LWM2M_TYPE_UNSIGNED)->value.v.u = UINT64_MAX;
	x = add_node(&n, "/3442/0/130", LWM2M_TYPE_FLOAT);
	x->value.v.f = 23.0;
	x->has_time = true;
	x->time = 220;
	add_node(&n, "/3442/0/140", LWM2M_TYPE_BOOLEAN)->value.v.b = true;
	x = add_node(&n, "/3442/0/170", LWM2M_TYPE_OBJLNK);
	x->value.v.lnk.obj = 1;
	expect_enc(&n, "/3442/0", NULL, "{\"bn\":\"/3442/0/\",\"e\":[{\"n\":\"150\",\"sv\":\"AP8=\"},"
			"{\"n\":\"125\",\"v\":18446744073709551615},{\"n\":\"130\",\"v\":23.0,\"t\":220},"
			"{\"n\":\"140\",\"bv\":true},{\"n\":\"170\",\"ov\":\"1:0\"}]}");
	expect_enc(&n, NULL, NULL, "{\"bn\":\"/\",\"e\":[{\"n\":\"3442/0/150\",\"sv\":\"AP8=\"},"
			"{\"n\":\"3442/0/125\",\"v\":18446744073709551615},{\"n\":\"3442/0/130\",\"v\":23.0,\"t\":220},"
			"{\"n\":\"3442/0/140\",\"bv\":true},{\"n\":\"3442/0/170\",\"ov\":\"1:0\"}]}");
	expect_enc(&n, NULL, &zephyr, "{\"bn\":\"/3442/0/\",\"e\":[{\"n\":\"150\",\"sv\":\"AP8=\"},"
			"{\"n\":\"125\",\"v\":18446744073709551615},{\"n\":\"130\",\"v\":23.0,\"t\":220},"
			"{\"n\":\"140\",\"bv\":true},{\"n\":\"170\",\"ov\":\"1:0\"}]}");
	nodes_free(&n);
	/* a single resource: the full path in bn, no n; a prefix and an alternate path */
	add_node(&n, "/3/0/9", LWM2M_TYPE_INTEGER)->value.v.i = -1;
	expect_enc(&n, "/3/0/9", NULL, "{\"bn\":\"/3/0/9\",\"e\":[{\"v\":-1}]}");
	n.items[0].prefix = strdup("d1");
	expect_enc(&n, "/3/0/9", &(struct senml_opts){ .alt_path = "lw" },
			"{\"bn\":\"/lw/d1/3/0/9\",\"e\":[{\"v\":-1}]}");
	nodes_free(&n);
	/* nothing to carry */
	expect_enc(&n, "/3/0", NULL, "{\"bn\":\"/3/0/\",\"e\":[]}");
}

static void test_document_layer(void **state)
{
	const char *text = "{\"bn\":\"/\",\"e\":[{\"n\":\"A/0\",\"ov\":\"FFFF:FFFF\"},{\"n\":\"x\",\"v\":-0.5,"
			"\"t\":-5},{\"sv\":\"\\u00e9\"},{\"n\":\"y\",\"bv\":true}],\"bt\":25462634}";
	struct omajson_doc d;
	struct lwm2m_buf b;
	struct lwm2m_error err;

	(void)state;
	omajson_doc_init(&d);
	assert_int_equal(omajson_parse((const uint8_t *)text, strlen(text), NULL, &d, &err), 0);
	assert_true(d.has_bn && d.has_bt);
	assert_int_equal(d.e.count, 4);
	assert_int_equal(d.e.recs[0].vkind, SENML_V_OBJLNK);
	assert_int_equal(d.e.recs[2].vs.len, 2);
	buf_init(&b, 0);
	assert_int_equal(omajson_write(&d, &b, &err), 0);
	/* the writer escapes only what it must */
	assert_int_equal(b.len, strlen(text) - 4);
	assert_memory_equal(b.data, "{\"bn\":\"/\",\"e\":[{\"n\":\"A/0\",\"ov\":\"FFFF:FFFF\"},{\"n\":\"x\","
			"\"v\":-0.5,\"t\":-5},{\"sv\":\"\xc3\xa9\"},{\"n\":\"y\",\"bv\":true}],\"bt\":25462634}", b.len);
	buf_free(&b);
	omajson_doc_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_types),
		cmocka_unit_test(test_decode_times_and_names),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_document_layer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
