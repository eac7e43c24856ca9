/* Plain text (0) and opaque (42): objects/fmt_text.c, and the text helpers of objects/fmt.c. */
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
#include "objects/fmt_internal.h"

/* object 1000: resource r has type r (1 string ... 9 corelnk); r 20 is multi-instance */
static enum lwm2m_type table_type(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	(void)ctx;
	(void)prefix;
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

static const struct fmt_typer typer = { table_type, table_multiple, NULL };

static struct lwm2m_path res(uint16_t r)
{
	return (struct lwm2m_path){ 3, { 1000, 0, r, 0 } };
}

static int decode(uint16_t cf, const char *text, uint16_t r, struct lwm2m_value *v,
		struct lwm2m_error *err)
{
	struct lwm2m_nodes n;
	struct lwm2m_path p = res(r);
	int rc;

	nodes_init(&n);
	rc = fmt_decode(cf, (const uint8_t *)text, strlen(text), &p, &typer, NULL, &n, err);
	if(rc == 0){
		assert_int_equal(n.count, 1);
		assert_int_equal(path_compare(&n.items[0].path, &p), 0);
		assert_int_equal(value_copy(v, &n.items[0].value), 0);
	}
	nodes_free(&n);
	return rc;
}

/* Encodes one value at /1000/0/r and compares with `want`. */
static void assert_text(const struct lwm2m_value *v, uint16_t r, const char *want)
{
	struct lwm2m_nodes n;
	struct lwm2m_node *node;
	struct lwm2m_buf out;
	struct lwm2m_error err = { 0 };
	struct lwm2m_path p = res(r);

	nodes_init(&n);
	node = nodes_push(&n);
	node->path = p;
	assert_int_equal(value_copy(&node->value, v), 0);
	buf_init(&out, 0);
	if(fmt_encode(LWM2M_CF_TEXT, &n, &p, &typer, NULL, &out, &err) != 0) fail_msg("%s", err.msg);
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.data, want, out.len);
	buf_free(&out);
	nodes_free(&n);
}

static void test_decode_each_type(void **state)
{
	struct lwm2m_value v = { 0 };

	(void)state;
	assert_int_equal(decode(LWM2M_CF_TEXT, "h\xc3\xa9llo", 1, &v, NULL), 0);
	assert_int_equal(v.type, LWM2M_TYPE_STRING);
	assert_int_equal(v.v.bytes.len, 6);
	value_free(&v);
	assert_int_equal(decode(LWM2M_CF_TEXT, "-9223372036854775808", 2, &v, NULL), 0);
	assert_true(v.v.i == INT64_MIN);
	assert_int_equal(decode(LWM2M_CF_TEXT, "18446744073709551615", 3, &v, NULL), 0);
	assert_int_equal(v.type, LWM2M_TYPE_UNSIGNED);
	assert_true(v.v.u == UINT64_MAX);
	assert_int_equal(decode(LWM2M_CF_TEXT, "-1.5e3", 4, &v, NULL), 0);
	assert_true(v.v.f == -1500.0);
	assert_int_equal(decode(LWM2M_CF_TEXT, "NaN", 4, &v, NULL), 0);
	assert_true(isnan(v.v.f));
	assert_int_equal(decode(LWM2M_CF_TEXT, "1", 5, &v, NULL), 0);
	assert_true(v.v.b);
	assert_int_equal(decode(LWM2M_CF_TEXT, "AQIDBAU=", 6, &v, NULL), 0);
	assert_int_equal(v.v.bytes.len, 5);
	assert_memory_equal(v.v.bytes.data, "\x01\x02\x03\x04\x05", 5);
	value_free(&v);
	assert_int_equal(decode(LWM2M_CF_TEXT, "AQIDBAU", 6, &v, NULL), 0);      /* unpadded */
	assert_int_equal(v.v.bytes.len, 5);
	value_free(&v);
	assert_int_equal(decode(LWM2M_CF_TEXT, "1367491215", 7, &v, NULL), 0);
	assert_int_equal(v.type, LWM2M_TYPE_TIME);
	assert_int_equal(v.v.i, 1367491215);
	assert_int_equal(decode(LWM2M_CF_TEXT, "65535:0", 8, &v, NULL), 0);
	assert_int_equal(v.v.lnk.obj, 65535);
	assert_int_equal(v.v.lnk.inst, 0);
	assert_int_equal(decode(LWM2M_CF_TEXT, "</3/0>", 9, &v, NULL), 0);
	assert_int_equal(v.type, LWM2M_TYPE_CORELNK);
	value_free(&v);
	assert_int_equal(decode(LWM2M_CF_TEXT, "", 1, &v, NULL), 0);            /* empty string */
	assert_int_equal(v.v.bytes.len, 0);
	value_free(&v);
}

static void test_decode_refusals(void **state)
{
	static const struct { const char *text; uint16_t r; } bad[] = {
		{ "", 2 }, { " 1", 2 }, { "1 ", 2 }, { "+1", 2 }, { "0x10", 2 }, { "9223372036854775808", 2 },
		{ "-1", 3 }, { "18446744073709551616", 3 },
		{ "", 4 }, { "1e", 4 }, { ".", 4 }, { "inf", 4 }, { "0x1p3", 4 }, { "1,5", 4 }, { "1e999", 4 },
		{ "true", 5 }, { "2", 5 }, { "10", 5 }, { "", 5 },
		{ "!!!!", 6 }, { "AQ=", 6 }, { "A", 6 }, { "AQI=x", 6 },
		{ "1:", 8 }, { ":1", 8 }, { "65536:0", 8 }, { "1:2:3", 8 }, { " 1:2", 8 },
		{ "\xc3\x28", 1 }, { "\xed\xa0\x80", 1 }, { "\xc0\x80", 1 },
	};
	struct lwm2m_value v = { 0 };
	struct lwm2m_error err;

	(void)state;
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		int rc = decode(LWM2M_CF_TEXT, bad[i].text, bad[i].r, &v, &err);
		if(rc == 0) fail_msg("\"%s\" for resource %u decoded", bad[i].text, bad[i].r);
		assert_true(err.msg[0] != '\0');
	}
	/* no type: says so */
	assert_int_equal(decode(LWM2M_CF_TEXT, "1", 50, &v, &err), -LWM2M_ETYPE);
	assert_non_null(strstr(err.msg, "type"));
	/* a multi-instance resource */
	assert_int_equal(decode(LWM2M_CF_TEXT, "1", 20, &v, &err), -LWM2M_ENOTSUP);
	assert_non_null(strstr(err.msg, "multi-instance"));
	/* not a resource path */
	{
		struct lwm2m_nodes n;
		struct lwm2m_path inst = { 2, { 1000, 0, 0, 0 } };
		nodes_init(&n);
		assert_int_equal(fmt_decode(LWM2M_CF_TEXT, (const uint8_t *)"1", 1, &inst, &typer, NULL, &n, &err),
				-LWM2M_ENOTSUP);
		assert_int_equal(fmt_decode(LWM2M_CF_TEXT, (const uint8_t *)"1", 1, NULL, &typer, NULL, &n, &err),
				-LWM2M_ENOTSUP);
		assert_int_equal(n.count, 0);
	}
}

static void test_encode_forms(void **state)
{
	struct lwm2m_value v = { 0 };

	(void)state;
	v.type = LWM2M_TYPE_INTEGER;
	v.v.i = INT64_MIN;
	assert_text(&v, 2, "-9223372036854775808");
	v.type = LWM2M_TYPE_UNSIGNED;
	v.v.u = UINT64_MAX;
	assert_text(&v, 3, "18446744073709551615");
	v.type = LWM2M_TYPE_FLOAT;
	v.v.f = 3.0;     assert_text(&v, 4, "3.0");
	v.v.f = -10.0;   assert_text(&v, 4, "-10.0");
	v.v.f = 0.1;     assert_text(&v, 4, "0.1");
	v.v.f = 100.0;   assert_text(&v, 4, "100.0");
	v.v.f = 1e20;    assert_text(&v, 4, "1e+20");
	v.v.f = 1.5e-7;  assert_text(&v, 4, "1.5e-07");
	v.v.f = 123456789012345678.0; assert_text(&v, 4, "1.2345678901234568e+17");
	v.v.f = 0.30000000000000004;  assert_text(&v, 4, "0.30000000000000004");
	v.v.f = -0.0;    assert_text(&v, 4, "-0.0");
	v.v.f = INFINITY; assert_text(&v, 4, "Infinity");
	v.type = LWM2M_TYPE_BOOLEAN;
	v.v.b = false;   assert_text(&v, 5, "0");
	v.type = LWM2M_TYPE_OBJLNK;
	v.v.lnk.obj = 3; v.v.lnk.inst = 65535; assert_text(&v, 8, "3:65535");
	v.type = LWM2M_TYPE_TIME;
	v.v.i = -5;      assert_text(&v, 7, "-5");
	assert_int_equal(value_set_bytes(&v, LWM2M_TYPE_OPAQUE, "\xff\x00", 2), 0);
	assert_text(&v, 6, "/wA=");
	assert_int_equal(value_set_bytes(&v, LWM2M_TYPE_OPAQUE, "abc", 3), 0);
	assert_text(&v, 6, "YWJj");
	value_free(&v);
}

static void test_float_text_round_trips(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	char buf[FMT_DOUBLE_STR_MAX];

	(void)state;
	for(int i = 0; i < 20000; i++){
		double d, back;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(&d, &x, sizeof(d));
		if(!isfinite(d)) continue;
		assert_true(fmt_format_double(d, buf, sizeof(buf)) > 0);
		assert_int_equal(fmt_parse_double(buf, strlen(buf), &back), 0);
		if(memcmp(&back, &d, sizeof(d)) != 0) fail_msg("%.17g printed as %s", d, buf);
	}
}

static void test_encode_refusals(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_node *a, *b;
	struct lwm2m_buf out;
	struct lwm2m_error err;
	struct lwm2m_path p = { 3, { 1000, 0, 20, 0 } };

	(void)state;
	nodes_init(&n);
	buf_init(&out, 0);
	a = nodes_push(&n);
	a->path = (struct lwm2m_path){ 4, { 1000, 0, 20, 0 } };
	a->value.type = LWM2M_TYPE_INTEGER;
	b = nodes_push(&n);
	b->path = (struct lwm2m_path){ 4, { 1000, 0, 20, 1 } };
	b->value.type = LWM2M_TYPE_INTEGER;
	assert_int_equal(fmt_encode(LWM2M_CF_TEXT, &n, &p, &typer, NULL, &out, &err), -LWM2M_ENOTSUP);
	assert_non_null(strstr(err.msg, "multi-instance"));
	n.count = 1;                                   /* one instance, asked at the resource */
	assert_int_equal(fmt_encode(LWM2M_CF_TEXT, &n, &p, &typer, NULL, &out, &err), -LWM2M_ENOTSUP);
	n.count = 2;
	nodes_free(&n);
	assert_int_equal(fmt_encode(LWM2M_CF_TEXT, &n, &p, &typer, NULL, &out, &err), -LWM2M_EINVAL);
	a = nodes_push(&n);
	a->path = p;
	a->kind = LWM2M_NODE_EMPTY_MULTIPLE;
	assert_int_equal(fmt_encode(LWM2M_CF_TEXT, &n, &p, &typer, NULL, &out, &err), -LWM2M_ENOTSUP);
	nodes_free(&n);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void test_opaque_format(void **state)
{
	struct lwm2m_value v = { 0 };
	struct lwm2m_error err;
	struct lwm2m_nodes n;
	struct lwm2m_buf out;
	struct lwm2m_path p = res(6);

	(void)state;
	assert_int_equal(decode(LWM2M_CF_OPAQUE, "\x01\x02", 6, &v, NULL), 0);
	assert_int_equal(v.type, LWM2M_TYPE_OPAQUE);
	assert_int_equal(v.v.bytes.len, 2);
	value_free(&v);
	assert_int_equal(decode(LWM2M_CF_OPAQUE, "", 6, &v, NULL), 0);
	assert_int_equal(v.v.bytes.len, 0);
	value_free(&v);
	assert_int_equal(decode(LWM2M_CF_OPAQUE, "x", 50, &v, NULL), 0);       /* untyped: opaque */
	value_free(&v);
	assert_int_equal(decode(LWM2M_CF_OPAQUE, "x", 1, &v, &err), -LWM2M_ETYPE);
	assert_non_null(strstr(err.msg, "string"));

	nodes_init(&n);
	buf_init(&out, 0);
	nodes_push(&n)->path = p;
	assert_int_equal(value_set_bytes(&n.items[0].value, LWM2M_TYPE_OPAQUE, "\x00\xff", 2), 0);
	assert_int_equal(fmt_encode(LWM2M_CF_OPAQUE, &n, &p, &typer, NULL, &out, &err), 0);
	assert_int_equal(out.len, 2);
	assert_memory_equal(out.data, "\x00\xff", 2);
	value_free(&n.items[0].value);
	n.items[0].value.type = LWM2M_TYPE_INTEGER;
	buf_reset(&out);
	assert_int_equal(fmt_encode(LWM2M_CF_OPAQUE, &n, &p, &typer, NULL, &out, &err), -LWM2M_ETYPE);
	nodes_free(&n);
	buf_free(&out);
}

static void test_text_helpers(void **state)
{
	int64_t t;
	char buf[40];
	uint16_t o, i;

	(void)state;
	assert_int_equal(fmt_parse_rfc3339("2013-05-02T10:40:15Z", 20, &t), 0);
	assert_int_equal(t, 1367491215);
	assert_int_equal(fmt_parse_rfc3339("2013-05-02T12:40:15.25+02:00", 28, &t), 0);
	assert_int_equal(t, 1367491215);
	assert_int_equal(fmt_parse_rfc3339("1969-12-31T23:59:59-00:00", 25, &t), 0);
	assert_int_equal(t, -1);
	assert_int_equal(fmt_parse_rfc3339("2013-02-30T00:00:00Z", 20, &t), -LWM2M_EINVAL);
	assert_int_equal(fmt_parse_rfc3339("2013-05-02 10:40:15", 19, &t), -LWM2M_EINVAL);
	assert_int_equal(fmt_parse_rfc3339("2013-05-02T10:40:15Zx", 21, &t), -LWM2M_EINVAL);
	assert_int_equal(fmt_format_rfc3339(1, buf, sizeof(buf)), 25);
	assert_string_equal(buf, "1970-01-01T00:00:01-00:00");
	assert_int_equal(fmt_format_rfc3339(-62135596800LL, buf, sizeof(buf)), 25);
	assert_string_equal(buf, "0001-01-01T00:00:00-00:00");
	assert_int_equal(fmt_format_rfc3339(253402300800LL, buf, sizeof(buf)), 0);
	assert_int_equal(fmt_parse_objlnk("0:0", 3, &o, &i), 0);
	assert_int_equal(fmt_parse_objlnk("00001:2", 7, &o, &i), 0);
	assert_int_equal(o, 1);
	assert_true(fmt_utf8_valid((const uint8_t *)"\xf0\x9f\x91\xa8", 4));
	assert_false(fmt_utf8_valid((const uint8_t *)"\xf0\x9f\x91", 3));
	assert_false(fmt_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));   /* above U+10FFFF */
	assert_false(fmt_utf8_valid((const uint8_t *)"\xe0\x80\x80", 3));       /* overlong */
	assert_int_equal(fmt_hex((const uint8_t *)"\x0a\xff", 2, buf), 4);
	assert_string_equal(buf, "0aff");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_each_type),
		cmocka_unit_test(test_decode_refusals),
		cmocka_unit_test(test_encode_forms),
		cmocka_unit_test(test_float_text_round_trips),
		cmocka_unit_test(test_encode_refusals),
		cmocka_unit_test(test_opaque_format),
		cmocka_unit_test(test_text_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
