/* SenML JSON/CBOR, SenML-ETCH and the path-list layer (objects/fmt_senml_*.c, json_num.c).
 * CBOR expectations were written by hand and checked with an independent CBOR library. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "objects/fmt_senml.h"
#include "fmt_test_util.h"

/* ---- a small model ---------------------------------------------------------------------- */

static const struct fmt_test_res model[] = {
	{ 3, 0, LWM2M_TYPE_STRING, 0 }, { 3, 7, LWM2M_TYPE_INTEGER, 1 },
	{ 3, 9, LWM2M_TYPE_INTEGER, 0 }, { 3, 13, LWM2M_TYPE_TIME, 0 },
	{ 3303, 5700, LWM2M_TYPE_FLOAT, 0 }, { 3303, 5701, LWM2M_TYPE_STRING, 0 },
	{ 3442, 110, LWM2M_TYPE_STRING, 0 }, { 3442, 120, LWM2M_TYPE_INTEGER, 0 },
	{ 3442, 125, LWM2M_TYPE_UNSIGNED, 0 }, { 3442, 130, LWM2M_TYPE_FLOAT, 0 },
	{ 3442, 140, LWM2M_TYPE_BOOLEAN, 0 }, { 3442, 150, LWM2M_TYPE_OPAQUE, 0 },
	{ 3442, 160, LWM2M_TYPE_TIME, 0 }, { 3442, 170, LWM2M_TYPE_OBJLNK, 0 },
	{ 3442, 180, LWM2M_TYPE_CORELNK, 0 }, { 3442, 1120, LWM2M_TYPE_INTEGER, 1 },
};

static const struct fmt_typer typer = FMT_TEST_TYPER(model);

/* A literal as (bytes, length). */
#define T(s) (const uint8_t *)(s), strlen(s)

/* ---- helpers ------------------------------------------------------------------------------- */

static int dec_json(const char *text, const char *req, const struct senml_opts *o, bool etch,
		struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	struct lwm2m_path r;
	if(req) r = P(req);
	memset(err, 0, sizeof(*err));
	return senml_json_decode_ex((const uint8_t *)text, strlen(text), req ? &r : NULL, &typer,
			NULL, o, etch, out, err);
}

static int dec_cbor_hex(const char *hex, const char *req, bool etch, struct lwm2m_nodes *out,
		struct lwm2m_error *err)
{
	size_t n = strlen(hex) / 2;
	uint8_t *b = malloc(n + 1);
	struct lwm2m_path r;
	int rc;

	for(size_t i = 0; i < n; i++){
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		b[i] = (uint8_t)v;
	}
	if(req) r = P(req);
	memset(err, 0, sizeof(*err));
	rc = senml_cbor_decode_ex(b, n, req ? &r : NULL, &typer, NULL, NULL, etch, out, err);
	free(b);
	return rc;
}

static void hex_of(const struct lwm2m_buf *b, char *out)
{
	for(size_t i = 0; i < b->len; i++) sprintf(out + 2 * i, "%02x", b->data[i]);
	out[2 * b->len] = '\0';
}

static const struct lwm2m_node *find(const struct lwm2m_nodes *n, const char *path, double time)
{
	struct lwm2m_path p = P(path);
	for(size_t i = 0; i < n->count; i++){
		const struct lwm2m_node *x = &n->items[i];
		if(!path_compare(&x->path, &p) && (x->has_time ? x->time : 0) == time) return x;
	}
	fail_msg("no node %s at %f", path, time);
	return NULL;
}

static void add_str(struct lwm2m_nodes *n, const char *path, enum lwm2m_type t, const char *s)
{
	struct lwm2m_node *x = add_node(n, path, LWM2M_TYPE_NONE);
	assert_int_equal(value_set_bytes(&x->value, t, s, strlen(s)), 0);
}

static void expect_json(const struct lwm2m_nodes *in, const char *req, const struct senml_opts *o,
		bool etch, const char *want)
{
	struct lwm2m_buf b;
	struct lwm2m_error err;
	struct lwm2m_path r;

	if(req) r = P(req);
	buf_init(&b, 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(senml_json_encode_ex(in, req ? &r : NULL, &typer, NULL, o, etch, &b, &err), 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	buf_free(&b);
}

static void expect_cbor(const struct lwm2m_nodes *in, const char *req, const struct senml_opts *o,
		bool etch, const char *want_hex)
{
	struct lwm2m_buf b;
	struct lwm2m_error err;
	struct lwm2m_path r;
	char hex[1024];

	if(req) r = P(req);
	buf_init(&b, 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(senml_cbor_encode_ex(in, req ? &r : NULL, &typer, NULL, o, etch, &b, &err), 0);
	assert_true(b.len * 2 < sizeof(hex));
	hex_of(&b, hex);
	assert_string_equal(hex, want_hex);
	buf_free(&b);
}

/* ---- numbers ------------------------------------------------------------------------------- */

static void test_json_numbers_exact(void **state)
{
	struct json_num n;
	size_t used;

	(void)state;
	assert_int_equal(json_num_lex("18446744073709551615", 20, &n, &used), 0);
	assert_int_equal(n.kind, JSON_NUM_UINT);
	assert_true(n.u == UINT64_MAX);
	assert_int_equal(json_num_lex("-9223372036854775808", 20, &n, &used), 0);
	assert_int_equal(n.kind, JSON_NUM_INT);
	assert_true(n.i == INT64_MIN);
	assert_int_equal(json_num_lex("9223372036854775807,", 20, &n, &used), 0);
	assert_int_equal(used, 19);
	assert_true(n.i == INT64_MAX);
	assert_int_equal(json_num_lex("18446744073709551616", 20, &n, &used), 0);
	assert_int_equal(n.kind, JSON_NUM_BIGINT);
	assert_int_equal(json_num_lex("-9223372036854775809", 20, &n, &used), 0);
	assert_int_equal(n.kind, JSON_NUM_BIGINT);
	assert_int_equal(json_num_lex("1.638435E9", 10, &n, &used), 0);
	assert_int_equal(n.kind, JSON_NUM_FLOAT);
	assert_true(n.f == 1638435000.0);
	/* RFC 8259 grammar only */
	assert_int_not_equal(json_num_lex("01", 2, &n, &used), 0);
	assert_int_not_equal(json_num_lex("+1", 2, &n, &used), 0);
	assert_int_not_equal(json_num_lex(".5", 2, &n, &used), 0);
	assert_int_not_equal(json_num_lex("1.", 2, &n, &used), 0);
	assert_int_not_equal(json_num_lex("1e", 2, &n, &used), 0);
	assert_int_not_equal(json_num_lex("-", 1, &n, &used), 0);
	assert_int_equal(json_num_lex("1e400", 5, &n, &used), -LWM2M_ERANGE);
}

static void test_json_unsigned_full_range(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;
	const char *text = "[{\"bn\":\"/3442/0/\",\"n\":\"125\",\"v\":18446744073709551615},"
			"{\"n\":\"120\",\"v\":-9223372036854775808},{\"n\":\"130\",\"v\":18446744073709551615}]";

	(void)state;
	nodes_init(&n);
	assert_int_equal(dec_json(text, "/3442/0", NULL, false, &n, &err), 0);
	assert_int_equal(n.count, 3);
	assert_int_equal(find(&n, "/3442/0/125", 0)->value.type, LWM2M_TYPE_UNSIGNED);
	assert_true(find(&n, "/3442/0/125", 0)->value.v.u == UINT64_MAX);
	assert_true(find(&n, "/3442/0/120", 0)->value.v.i == INT64_MIN);
	assert_true(find(&n, "/3442/0/130", 0)->value.v.f == 18446744073709551615.0);
	/* and back, exactly */
	expect_json(&n, "/3442/0", NULL, false, "[{\"bn\":\"/3442/0/\",\"n\":\"120\",\"v\":-9223372036854775808},"
			"{\"n\":\"125\",\"v\":18446744073709551615},{\"n\":\"130\",\"v\":1.8446744073709552e+19}]");
	nodes_free(&n);

	/* untyped: the literal decides */
	nodes_init(&n);
	assert_int_equal(dec_json("[{\"n\":\"/9/0/1\",\"v\":18446744073709551615},{\"n\":\"/9/0/2\",\"v\":5},"
			"{\"n\":\"/9/0/3\",\"v\":5.0}]", NULL, NULL, false, &n, &err), 0);
	assert_int_equal(find(&n, "/9/0/1", 0)->value.type, LWM2M_TYPE_UNSIGNED);
	assert_int_equal(find(&n, "/9/0/2", 0)->value.type, LWM2M_TYPE_INTEGER);
	assert_int_equal(find(&n, "/9/0/3", 0)->value.type, LWM2M_TYPE_FLOAT);
	nodes_free(&n);
}

static void test_json_range_errors(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;

	(void)state;
	nodes_init(&n);
	assert_int_equal(dec_json("[{\"n\":\"/3442/0/120\",\"v\":9223372036854775808}]", NULL, NULL, false,
			&n, &err), -LWM2M_ERANGE);
	assert_non_null(strstr(err.msg, "/3442/0/120"));
	assert_int_equal(dec_json("[{\"n\":\"/3442/0/125\",\"v\":-1}]", NULL, NULL, false, &n, &err),
			-LWM2M_ERANGE);
	assert_int_equal(dec_json("[{\"n\":\"/3442/0/125\",\"v\":18446744073709551616}]", NULL, NULL,
			false, &n, &err), -LWM2M_ERANGE);
	assert_int_equal(dec_json("[{\"n\":\"/3442/0/120\",\"v\":1.5}]", NULL, NULL, false, &n, &err),
			-LWM2M_ETYPE);
	assert_int_equal(dec_json("[{\"n\":\"/3442/0/110\",\"v\":1}]", NULL, NULL, false, &n, &err),
			-LWM2M_ETYPE);
	assert_int_equal(dec_json("[{\"n\":\"/3442/0/140\",\"vs\":\"true\"}]", NULL, NULL, false, &n,
			&err), -LWM2M_ETYPE);
	assert_int_equal(n.count, 0);
	/* an integral float is fine for integers; time truncates fractions */
	assert_int_equal(dec_json("[{\"n\":\"/3442/0/120\",\"v\":3800.0},{\"n\":\"/3442/0/160\","
			"\"v\":1699877805.766}]", NULL, NULL, false, &n, &err), 0);
	assert_true(find(&n, "/3442/0/120", 0)->value.v.i == 3800);
	assert_true(find(&n, "/3442/0/160", 0)->value.v.i == 1699877805);
	nodes_free(&n);
}

/* ---- every data type ------------------------------------------------------------------------- */

static void all_types(struct lwm2m_nodes *n)
{
	struct lwm2m_node *x;

	add_str(n, "/3442/0/110", LWM2M_TYPE_STRING, "a\"b\\c\n\xc3\xa9");
	add_node(n, "/3442/0/120", LWM2M_TYPE_INTEGER)->value.v.i = -42;
	add_node(n, "/3442/0/125", LWM2M_TYPE_UNSIGNED)->value.v.u = UINT64_MAX;
	add_node(n, "/3442/0/130", LWM2M_TYPE_FLOAT)->value.v.f = -0.5;
	add_node(n, "/3442/0/140", LWM2M_TYPE_BOOLEAN)->value.v.b = true;
	x = add_node(n, "/3442/0/150", LWM2M_TYPE_NONE);
	assert_int_equal(value_set_bytes(&x->value, LWM2M_TYPE_OPAQUE, "\xff\x00\xfe", 3), 0);
	add_node(n, "/3442/0/160", LWM2M_TYPE_TIME)->value.v.i = 1700000000;
	x = add_node(n, "/3442/0/170", LWM2M_TYPE_OBJLNK);
	x->value.v.lnk.obj = 65535;
	x->value.v.lnk.inst = 7;
	add_str(n, "/3442/0/180", LWM2M_TYPE_CORELNK, "</3/0>");
}

static void assert_same_nodes(const struct lwm2m_nodes *a, const struct lwm2m_nodes *b)
{
	assert_int_equal(a->count, b->count);
	for(size_t i = 0; i < a->count; i++){
		assert_int_equal(path_compare(&a->items[i].path, &b->items[i].path), 0);
		assert_true(value_equal(&a->items[i].value, &b->items[i].value));
	}
}

static void test_all_types_json(void **state)
{
	struct lwm2m_nodes in, out;
	struct lwm2m_error err;
	struct lwm2m_buf b;
	struct lwm2m_path req = P("/3442/0");
	const char *want = "[{\"bn\":\"/3442/0/\",\"n\":\"110\",\"vs\":\"a\\\"b\\\\c\\n\xc3\xa9\"},"
			"{\"n\":\"120\",\"v\":-42},{\"n\":\"125\",\"v\":18446744073709551615},"
			"{\"n\":\"130\",\"v\":-0.5},{\"n\":\"140\",\"vb\":true},{\"n\":\"150\",\"vd\":\"_wD-\"},"
			"{\"n\":\"160\",\"v\":1700000000},{\"n\":\"170\",\"vlo\":\"65535:7\"},"
			"{\"n\":\"180\",\"vs\":\"</3/0>\"}]";

	(void)state;
	nodes_init(&in);
	nodes_init(&out);
	all_types(&in);
	expect_json(&in, "/3442/0", NULL, false, want);
	buf_init(&b, 0);
	assert_int_equal(senml_json_encode(&in, &req, &typer, NULL, &b, &err), 0);
	assert_int_equal(senml_json_decode(b.data, b.len, &req, &typer, NULL, &out, &err), 0);
	assert_same_nodes(&in, &out);
	buf_free(&b);
	nodes_free(&in);
	nodes_free(&out);
}

static void test_all_types_cbor(void **state)
{
	struct lwm2m_nodes in, out;
	struct lwm2m_error err;
	struct lwm2m_buf b;
	struct lwm2m_path req = P("/3442/0");

	(void)state;
	nodes_init(&in);
	nodes_init(&out);
	all_types(&in);
	expect_cbor(&in, "/3442/0", NULL, false,
			"89a321682f333434322f302f006331313003686122625c630ac3a9a20063313230023829a200633132"
			"35021bffffffffffffffffa2006331333002fbbfe0000000000000a2006331343004f5a2006331353008"
			"43ff00fea20063313630021a6553f100a2006331373063766c6f6736353533353a37a200633138300366"
			"3c2f332f303e");
	buf_init(&b, 0);
	assert_int_equal(senml_cbor_encode(&in, &req, &typer, NULL, &b, &err), 0);
	assert_int_equal(senml_cbor_decode(b.data, b.len, &req, &typer, NULL, &out, &err), 0);
	assert_same_nodes(&in, &out);
	buf_free(&b);
	nodes_free(&in);
	nodes_free(&out);
}

/* ---- names --------------------------------------------------------------------------------- */

static void test_gateway_prefix(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;
	const char *text = "[{\"bn\":\"/d01/3303/0/\",\"n\":\"5700\",\"v\":22.1},{\"n\":\"5701\",\"vs\":\"Cel\"},"
			"{\"bn\":\"/3/0/\",\"n\":\"0\",\"vs\":\"gw\"}]";

	(void)state;
	nodes_init(&n);
	assert_int_equal(dec_json(text, NULL, NULL, false, &n, &err), 0);
	assert_int_equal(n.count, 3);
	/* sorted: the gateway's own node (no prefix) first */
	assert_null(n.items[0].prefix);
	assert_string_equal(n.items[1].prefix, "d01");
	assert_int_equal(path_compare(&n.items[1].path, &(struct lwm2m_path){ 3, { 3303, 0, 5700 } }), 0);
	assert_true(n.items[1].value.v.f == 22.1);
	assert_string_equal(n.items[2].prefix, "d01");
	expect_json(&n, NULL, NULL, false, "[{\"bn\":\"/3/0/\",\"n\":\"0\",\"vs\":\"gw\"},"
			"{\"bn\":\"/d01/3303/0/\",\"n\":\"5700\",\"v\":22.1},{\"n\":\"5701\",\"vs\":\"Cel\"}]");
	nodes_free(&n);
	/* only the first segment can be a prefix */
	assert_int_equal(dec_json("[{\"n\":\"/d01/x/0/1\",\"v\":1}]", NULL, NULL, false, &n, &err),
			-LWM2M_EINVAL);
	assert_int_equal(dec_json("[{\"n\":\"/3/x/1\",\"v\":1}]", NULL, NULL, false, &n, &err),
			-LWM2M_EINVAL);
}

static void test_alternate_path(void **state)
{
	struct senml_opts o = { .alt_path = "/lwm2m/" };
	struct lwm2m_nodes n;
	struct lwm2m_error err;

	(void)state;
	nodes_init(&n);
	assert_int_equal(dec_json("[{\"bn\":\"/lwm2m/3/0/\",\"n\":\"0\",\"vs\":\"a\"},"
			"{\"bn\":\"/lwm2m/d02/3303/0/5700\",\"v\":-1.5}]", NULL, &o, false, &n, &err), 0);
	assert_int_equal(n.count, 2);
	assert_null(n.items[0].prefix);
	assert_string_equal(n.items[1].prefix, "d02");
	expect_json(&n, NULL, &o, false, "[{\"bn\":\"/lwm2m/3/0/\",\"n\":\"0\",\"vs\":\"a\"},"
			"{\"bn\":\"/lwm2m/d02/3303/0/\",\"n\":\"5700\",\"v\":-1.5}]");
	nodes_free(&n);
	/* a two-level alternate path; without the option "a" would be a prefix and "b" fails */
	o.alt_path = "/a/b";
	assert_int_equal(dec_json("[{\"n\":\"/a/b/3/0/0\",\"vs\":\"x\"}]", NULL, &o, false, &n, &err), 0);
	assert_null(n.items[0].prefix);
	nodes_free(&n);
	assert_int_equal(dec_json("[{\"n\":\"/a/b/3/0/0\",\"vs\":\"x\"}]", NULL, NULL, false, &n, &err),
			-LWM2M_EINVAL);
}

static void test_name_errors(void **state)
{
	static const char *const bad[] = {
		"[{\"n\":\"/3/0/0/0/0\",\"v\":1}]",       /* five levels */
		"[{\"n\":\"/3/0/65536\",\"v\":1}]",       /* ID range */
		"[{\"n\":\"/3//0\",\"v\":1}]",            /* empty segment */
		"[{\"n\":\"/3/0\",\"v\":1}]",             /* a value on an instance */
		"[{\"v\":1}]",                            /* no name */
		"[{\"n\":\"/d\\u0001/3/0/0\",\"v\":1}]",  /* control character in a prefix */
	};
	struct lwm2m_nodes n;
	struct lwm2m_error err;

	(void)state;
	nodes_init(&n);
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		assert_int_equal(dec_json(bad[i], NULL, NULL, false, &n, &err), -LWM2M_EINVAL);
		assert_int_equal(n.count, 0);
		assert_non_null(strstr(err.msg, "record 1"));
	}
	/* a prefix longer than 255 bytes, in a bn resolved once and in a bn alone */
	{
		char text[1400];
		char pfx[701];
		memset(pfx, 'a', 700);
		pfx[700] = '\0';
		snprintf(text, sizeof(text), "[{\"bn\":\"/%s/3/0/\",\"n\":\"0\",\"vs\":\"x\"}]", pfx);
		assert_int_equal(dec_json(text, NULL, NULL, false, &n, &err), -LWM2M_EINVAL);
		snprintf(text, sizeof(text), "[{\"bn\":\"/%s/3/0/0\",\"vs\":\"x\"}]", pfx);
		assert_int_equal(dec_json(text, NULL, NULL, false, &n, &err), -LWM2M_EINVAL);
		assert_non_null(strstr(err.msg, "prefix longer"));
		assert_int_equal(n.count, 0);
		/* long names are fine otherwise (leading zeros) */
		memset(pfx, '0', 700);
		snprintf(text, sizeof(text), "[{\"bn\":\"/d/\",\"n\":\"%s3/0/0\",\"vs\":\"x\"}]", pfx);
		assert_int_equal(dec_json(text, NULL, NULL, false, &n, &err), 0);
		assert_int_equal(n.items[0].path.ids[0], 3);
		nodes_free(&n);
	}
	/* bn + n is plain concatenation, and the leading '/' is optional */
	assert_int_equal(dec_json("[{\"bn\":\"3/0/1\",\"n\":\"3/0\",\"v\":7}]", NULL, NULL, false, &n, &err), 0);
	assert_int_equal(path_compare(&n.items[0].path, &(struct lwm2m_path){ 4, { 3, 0, 13, 0 } }), 0);
	nodes_free(&n);
}

/* ---- base fields and time ------------------------------------------------------------------- */

static void test_historical_records(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;

	(void)state;
	nodes_init(&n);
	/* the 1.2 historical notification: bt + negative t */
	assert_int_equal(dec_json("[{\"bn\":\"/72/\",\"bt\":25462634,\"n\":\"1/2\",\"v\":22.4,\"t\":-5},"
			"{\"n\":\"1/2\",\"v\":22.9,\"t\":-30},{\"n\":\"1/2\",\"v\":24.1,\"t\":-50}]", NULL, NULL,
			false, &n, &err), 0);
	assert_int_equal(n.count, 3);
	assert_true(find(&n, "/72/1/2", 25462629)->value.v.f == 22.4);
	assert_true(find(&n, "/72/1/2", 25462604)->value.v.f == 22.9);
	assert_true(find(&n, "/72/1/2", 25462584)->value.v.f == 24.1);
	nodes_free(&n);
	/* bt persists across bn; bt 0 + no t = no time stamp; bv adds to v exactly */
	assert_int_equal(dec_json("[{\"bn\":\"/3442/0/\",\"bt\":100,\"bv\":9223372036854775800,\"n\":\"120\","
			"\"v\":7},{\"bn\":\"/3/0/\",\"n\":\"9\",\"v\":1},{\"bt\":0,\"n\":\"13\",\"v\":5}]",
			NULL, NULL, false, &n, &err), 0);
	assert_true(find(&n, "/3442/0/120", 100)->value.v.i == 9223372036854775807);
	assert_true(find(&n, "/3/0/9", 100)->value.v.i == 9223372036854775807 - 6);
	assert_false(find(&n, "/3/0/13", 0)->has_time);
	nodes_free(&n);
}

static void test_encode_layouts(void **state)
{
	struct senml_opts zephyr = { .layout = SENML_LAYOUT_INSTANCE };
	struct lwm2m_path groups[2] = { P("/3442/0/120"), P("/3/0") };
	struct senml_opts leshan = { .groups = groups, .ngroups = 2 };
	struct lwm2m_nodes n;
	struct lwm2m_node *x;

	(void)state;
	nodes_init(&n);
	for(int i = 0; i < 3; i++){
		x = add_node(&n, "/3442/0/120", LWM2M_TYPE_INTEGER);
		x->value.v.i = 10 + i;
		x->has_time = true;
		x->time = 1761226500 + 60 * i;
	}
	/* Zephyr: bt once, then relative t */
	expect_json(&n, "/3442/0/120", &zephyr, false, "[{\"bn\":\"/3442/0/\",\"bt\":1761226500,\"n\":\"120\","
			"\"v\":10},{\"n\":\"120\",\"t\":60,\"v\":11},{\"n\":\"120\",\"t\":120,\"v\":12}]");
	/* Leshan: bn and bt again at every time stamp */
	expect_json(&n, "/3442/0/120", NULL, false, "[{\"bn\":\"/3442/0/120\",\"bt\":1761226500,\"v\":10},"
			"{\"bn\":\"/3442/0/120\",\"bt\":1761226560,\"v\":11},{\"bn\":\"/3442/0/120\",\"bt\":1761226620,"
			"\"v\":12}]");
	expect_cbor(&n, "/3442/0/120", &zephyr, false, "83a421682f333434322f302f221a68fa2f040063313230"
			"020aa3006331323006183c020ba30063313230061878020c");
	nodes_free(&n);

	/* composite groups; an untimed node after a timed one resets bt */
	nodes_init(&n);
	add_node(&n, "/3442/0/120", LWM2M_TYPE_INTEGER)->value.v.i = 1;
	x = add_node(&n, "/3/0/9", LWM2M_TYPE_INTEGER);
	x->value.v.i = 2;
	x->has_time = true;
	x->time = 5.5;
	add_node(&n, "/3/0/13", LWM2M_TYPE_TIME)->value.v.i = 3;
	expect_json(&n, NULL, &leshan, false, "[{\"bn\":\"/3442/0/120\",\"v\":1},{\"bn\":\"/3/0/\",\"bt\":5.5,"
			"\"n\":\"9\",\"v\":2},{\"bn\":\"/3/0/\",\"bt\":0,\"n\":\"13\",\"v\":3}]");
	/* without groups: one bn per instance */
	expect_json(&n, NULL, NULL, false, "[{\"bn\":\"/3442/0/\",\"n\":\"120\",\"v\":1},{\"bn\":\"/3/0/\",\"bt\":5.5,"
			"\"n\":\"9\",\"v\":2},{\"bn\":\"/3/0/\",\"bt\":0,\"n\":\"13\",\"v\":3}]");
	nodes_free(&n);
}

static void test_float_forms(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_buf b;
	struct lwm2m_error err;
	struct lwm2m_path req = P("/3442/0/130");

	(void)state;
	nodes_init(&n);
	add_node(&n, "/3442/0/130", LWM2M_TYPE_FLOAT)->value.v.f = 3.0;
	expect_json(&n, "/3442/0/130", NULL, false, "[{\"bn\":\"/3442/0/130\",\"v\":3.0}]");
	expect_cbor(&n, "/3442/0/130", NULL, false, "81a2216b2f333434322f302f31333002fb4008000000000000");
	n.items[0].value.v.f = NAN;
	buf_init(&b, 0);
	assert_int_equal(senml_json_encode(&n, &req, &typer, NULL, &b, &err), -LWM2M_ENOTSUP);
	buf_reset(&b);
	assert_int_equal(senml_cbor_encode(&n, &req, &typer, NULL, &b, &err), 0);
	buf_free(&b);
	nodes_free(&n);
}

/* ---- structure errors ------------------------------------------------------------------------ */

static void test_json_structure_errors(void **state)
{
	static const char *const bad[] = {
		"{}", "[", "[{]", "[{\"n\":\"/3/0/9\",\"v\":1}", "[{\"n\":\"/3/0/9\",\"v\":1}]x",
		"[{\"n\":\"/3/0/9\",\"v\":1},]", "[{\"n\":\"/3/0/9\",\"v\":1,\"v\":2}]",
		"[{\"n\":\"/3/0/9\",\"v\":1,\"vs\":\"2\"}]", "[{\"n\":\"/3/0/9\",\"v\":1,\"foo_\":2}]",
		"[{\"n\":\"/3/0/9\",\"n\":\"/3/0/9\",\"v\":1}]", "[{\"n\":\"/3/0/0\",\"vs\":\"\\ud800\"}]",
		"[{\"n\":\"/3/0/0\",\"vs\":\"\xc3\"}]", "[{\"n\":\"/3/0/0\",\"vs\":\"a\nb\"}]",
		"[{\"n\":\"/3/0/9\",\"v\":\"1\"}]", "[{\"n\":\"/3/0/9\",\"v\":true}]", "[{\"n\":\"/3/0/9\"}]",
		"[{\"n\":\"/3/0/9\",\"v\":null}]", "[1]", "[{\"n\":\"/3442/0/150\",\"vd\":\"a\"}]",
		"[{\"n\":\"/3442/0/170\",\"vlo\":\"1:70000\"}]", "[{\"n\":\"/3/0/9\",\"v\":NaN}]",
		"[{\"bv\":1e308,\"n\":\"/3442/0/130\",\"v\":1e308}]",  /* v + bv overflows */
		/* the same path twice; a value below a value */
		"[{\"n\":\"/3/0/9\",\"v\":1},{\"n\":\"/3/0/9\",\"v\":2}]",
		"[{\"n\":\"/3/0/7\",\"v\":1},{\"n\":\"/3/0/7/0\",\"v\":2}]",
	};
	struct lwm2m_nodes n;
	struct lwm2m_error err;

	(void)state;
	nodes_init(&n);
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		int rc = dec_json(bad[i], NULL, NULL, false, &n, &err);
		if(rc == 0) fail_msg("accepted %s", bad[i]);
		assert_int_equal(n.count, 0);
		assert_true(err.msg[0] != '\0');
	}
	/* tolerated: unknown fields (nested too), escapes, a trailing comma after the pack,
	 * whitespace everywhere, the same path at two times */
	assert_int_equal(dec_json(" [ { \"x\" : {\"a\":[1,{\"b\":null}]} , \"n\" : \"/3/0/\\u0030\" , "
			"\"vs\" : \"\\u00e9\\ud83d\\ude00\" } ] , ", NULL, NULL, false, &n, &err), 0);
	assert_int_equal(n.items[0].value.v.bytes.len, 6);
	assert_memory_equal(n.items[0].value.v.bytes.data, "\xc3\xa9\xf0\x9f\x98\x80", 6);
	nodes_free(&n);
	assert_int_equal(dec_json("[{\"n\":\"/3/0/9\",\"v\":1,\"t\":10},{\"n\":\"/3/0/9\",\"v\":2,\"t\":20}]",
			NULL, NULL, false, &n, &err), 0);
	assert_int_equal(n.count, 2);
	nodes_free(&n);
}

static void test_depth_bound(void **state)
{
	char text[4096];
	struct lwm2m_nodes n;
	struct lwm2m_error err;
	size_t k = 0;

	(void)state;
	k += (size_t)sprintf(text, "[{\"n\":\"/3/0/9\",\"v\":1,\"x\":");
	for(int i = 0; i < 1000; i++) text[k++] = '[';
	for(int i = 0; i < 1000; i++) text[k++] = ']';
	strcpy(text + k, "}]");
	nodes_init(&n);
	assert_int_equal(dec_json(text, NULL, NULL, false, &n, &err), -LWM2M_ETOOBIG);
	assert_int_equal(n.count, 0);
}

static void test_failure_keeps_output(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;

	(void)state;
	nodes_init(&n);
	add_node(&n, "/1/0/1", LWM2M_TYPE_INTEGER)->value.v.i = 99;
	assert_int_not_equal(dec_json("[{\"n\":\"/3/0/0\",\"vs\":\"ok\"},{\"n\":\"/3/0/9\",\"vs\":\"bad\"}]",
			NULL, NULL, false, &n, &err), 0);
	assert_int_equal(n.count, 1);
	assert_true(n.items[0].value.v.i == 99);
	assert_int_equal(dec_json("[{\"n\":\"/3/0/0\",\"vs\":\"ok\"}]", NULL, NULL, false, &n, &err), 0);
	assert_int_equal(n.count, 2);
	nodes_free(&n);
}

static void test_node_limit(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;
	struct fmt_limits lim = { .max_nodes = 2 };
	const char *text = "[{\"n\":\"/3/0/0\",\"vs\":\"a\"},{\"n\":\"/3/0/1\",\"vs\":\"a\"},{\"n\":\"/3/0/2\",\"vs\":\"a\"}]";

	(void)state;
	nodes_init(&n);
	assert_int_equal(senml_json_decode((const uint8_t *)text, strlen(text), NULL, NULL, &lim, &n,
			&err), -LWM2M_ETOOBIG);
	assert_int_equal(n.count, 0);
	nodes_free(&n);
}

/* ---- empty payloads -------------------------------------------------------------------------- */

static void test_empty_payloads(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;

	(void)state;
	nodes_init(&n);
	assert_int_equal(dec_json("", "/3", NULL, false, &n, &err), 0);
	assert_int_equal(n.count, 0);
	assert_int_equal(dec_json("[]", NULL, NULL, false, &n, &err), 0);
	assert_int_equal(n.count, 0);
	assert_int_equal(dec_json(" [ ] ", "/3/0", NULL, false, &n, &err), 0);
	assert_int_equal(n.count, 1);
	assert_int_equal(n.items[0].kind, LWM2M_NODE_EMPTY_INSTANCE);
	nodes_free(&n);
	assert_int_equal(dec_cbor_hex("80", "/3/0/7", false, &n, &err), 0);
	assert_int_equal(n.items[0].kind, LWM2M_NODE_EMPTY_MULTIPLE);
	nodes_free(&n);
	assert_int_equal(dec_cbor_hex("", "/3/0/7", false, &n, &err), 0);
	assert_int_equal(n.items[0].kind, LWM2M_NODE_EMPTY_MULTIPLE);
	nodes_free(&n);
	assert_int_equal(dec_json("[]", "/3/0/9", NULL, false, &n, &err), -LWM2M_EINVAL);
	assert_non_null(strstr(err.msg, "single"));
	assert_int_equal(dec_json("[]", "/99/0/9", NULL, false, &n, &err), -LWM2M_EINVAL);
	assert_int_equal(dec_cbor_hex("", "/3/0/7/1", false, &n, &err), -LWM2M_EINVAL);
	assert_int_equal(n.count, 0);
}

/* ---- CBOR specifics -------------------------------------------------------------------------- */

static void test_cbor_forms(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;

	(void)state;
	nodes_init(&n);
	/* indefinite array, map and chunked strings; half float; unknown labels skipped */
	assert_int_equal(dec_cbor_hex("9fbf217f622f33632f302fff006130037f616160626263ff182a8401a10102637879"
			"7af6ffa2216c2f333330332f302f3537303002f95cb0ff", NULL, false, &n, &err), 0);
	assert_int_equal(n.count, 2);
	assert_int_equal(find(&n, "/3/0/0", 0)->value.v.bytes.len, 3);
	assert_memory_equal(find(&n, "/3/0/0", 0)->value.v.bytes.data, "abc", 3);
	assert_true(find(&n, "/3303/0/5700", 0)->value.v.f == 300.0);
	nodes_free(&n);
	/* bt as tag 4 [-2, 123456] = 1234.56; t under tag 1; objlnk under v as text (Zephyr) */
	assert_int_equal(dec_cbor_hex("82a421682f333434322f302f22c482211a0001e24000633136300207a300633137"
			"3006c10a02653132333a34", NULL, false, &n, &err), 0);
	assert_int_equal(n.count, 2);
	assert_true(n.items[0].value.v.i == 7);
	assert_true(fabs(n.items[0].time - 1234.56) < 1e-9);
	assert_int_equal(n.items[1].value.type, LWM2M_TYPE_OBJLNK);
	assert_int_equal(n.items[1].value.v.lnk.obj, 123);
	assert_int_equal(n.items[1].value.v.lnk.inst, 4);
	assert_true(fabs(n.items[1].time - 1244.56) < 1e-9);
	nodes_free(&n);
	/* negative integers below INT64_MIN exist in CBOR: out of range for an integer */
	assert_int_equal(dec_cbor_hex("81a2006b2f333434322f302f313230023bffffffffffffffff", NULL, false,
			&n, &err), -LWM2M_ERANGE);
	assert_int_equal(n.count, 0);
}

static void test_cbor_errors(void **state)
{
	static const char *const bad[] = {
		"a0",                                  /* not an array */
		"82a0",                                /* truncated array */
		"81a2006561",                          /* truncated text */
		"81bb00000000ffffffff",                /* map count above the input */
		"9b00000000ffffffff",                  /* array count above the input */
		"81a1f6f6",                            /* key is not int/text */
		("81a20066" "2f332f302f39" "02"),      /* value missing */
		("81a2006a2f333434322f302f3130" "0261"),  /* v: truncated text */
		"81a200662f332f302f3902c5820101",      /* unsupported tag 5 */
		"81a200662f332f302f3902c48201fa3f800000", /* decimal fraction of a float */
		"81a200662f332f302f3904f6ff",          /* trailing data (and vb null) */
		"81a300662f332f302f390201030161",      /* two values */
		"81a2006b2f333434322f302f3131300362c328", /* invalid UTF-8 */
		"81a2006b2f333434322f302f3131300842abcd", /* vd on a string resource */
		"81a300662f332f302f39020162785f01",    /* must-understand text key "x_" */
	};
	struct lwm2m_nodes n;
	struct lwm2m_error err;

	(void)state;
	nodes_init(&n);
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		int rc = dec_cbor_hex(bad[i], NULL, false, &n, &err);
		if(rc == 0) fail_msg("accepted %s", bad[i]);
		assert_int_equal(n.count, 0);
		assert_true(err.msg[0] != '\0');
	}
	/* other unknown keys are skipped */
	assert_int_equal(dec_cbor_hex("81a300662f332f302f3902016278780a", NULL, false, &n, &err), 0);
	assert_int_equal(n.count, 1);
	nodes_free(&n);
}

/* ---- SenML-ETCH ------------------------------------------------------------------------------ */

static void test_etch_patch_pack(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;
	const char *text = "[{\"bn\":\"/3/0/7/\",\"n\":\"1\",\"v\":null},{\"n\":\"2\"},"
			"{\"bn\":\"/3/0/\",\"n\":\"9\",\"v\":5}]";

	(void)state;
	nodes_init(&n);
	/* 110 needs values; 320 reads null and no value as "delete" */
	assert_int_equal(dec_json(text, NULL, NULL, false, &n, &err), -LWM2M_EINVAL);
	assert_int_equal(dec_json(text, NULL, NULL, true, &n, &err), 0);
	assert_int_equal(n.count, 3);
	assert_int_equal(find(&n, "/3/0/7/1", 0)->value.type, LWM2M_TYPE_NONE);
	assert_int_equal(find(&n, "/3/0/7/2", 0)->value.type, LWM2M_TYPE_NONE);
	assert_true(find(&n, "/3/0/9", 0)->value.v.i == 5);
	expect_json(&n, NULL, NULL, true, "[{\"bn\":\"/3/0/\",\"n\":\"7/1\",\"v\":null},{\"n\":\"7/2\",\"v\":null},"
			"{\"n\":\"9\",\"v\":5}]");
	nodes_free(&n);
	/* delete on an instance is not a node */
	assert_int_equal(dec_json("[{\"n\":\"/3/0\"}]", NULL, NULL, true, &n, &err), -LWM2M_EINVAL);
	/* the CBOR form */
	assert_int_equal(dec_cbor_hex("82a321672f332f302f372f00613102f6a2006132036178", NULL, true, &n, &err),
			-LWM2M_ETYPE);    /* "x" is not an integer for /3/0/7/2 */
	assert_int_equal(dec_cbor_hex("82a321672f332f302f372f00613102f6a2006132036178", "/3/0/7", false,
			&n, &err), -LWM2M_EINVAL);
	nodes_free(&n);
	add_node(&n, "/3/0/7/1", LWM2M_TYPE_NONE);
	add_node(&n, "/3/0/9", LWM2M_TYPE_INTEGER)->value.v.i = 5;
	expect_cbor(&n, NULL, NULL, true, "82a321652f332f302f0063372f3102f6a20061390205");
	nodes_free(&n);
}

static void test_etch_paths(void **state)
{
	struct lwm2m_path *paths = NULL, in[3];
	char **pfx = NULL;
	struct lwm2m_buf b;
	struct lwm2m_error err;
	const char *text = "[{\"n\":\"/3/0/0\"},{\"n\":\"/\"},{\"bn\":\"/1/0/\",\"n\":\"1\"}]";
	char hex[256];
	size_t n = 0;

	(void)state;
	assert_int_equal(senml_etch_paths_decode(LWM2M_CF_SENML_ETCH_JSON, (const uint8_t *)text,
			strlen(text), &paths, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(path_compare(&paths[0], &(struct lwm2m_path){ 3, { 3, 0, 0 } }), 0);
	assert_int_equal(paths[1].len, 0);
	assert_int_equal(path_compare(&paths[2], &(struct lwm2m_path){ 3, { 1, 0, 1 } }), 0);
	free(paths);
	/* the same list in CBOR (cf 322 and 112) */
	for(int k = 0; k < 2; k++){
		static const uint8_t cbor[] = { 0x83, 0xa1, 0x00, 0x66, '/', '3', '/', '0', '/', '0', 0xa1,
			0x00, 0x61, '/', 0xa2, 0x21, 0x65, '/', '1', '/', '0', '/', 0x00, 0x61, '1' };
		assert_int_equal(senml_etch_paths_decode(k ? LWM2M_CF_SENML_CBOR : LWM2M_CF_SENML_ETCH_CBOR,
				cbor, sizeof(cbor), &paths, &n, &err), 0);
		assert_int_equal(n, 3);
		assert_int_equal(paths[1].len, 0);
		assert_int_equal(paths[2].ids[2], 1);
		free(paths);
	}
	/* refused: values, times, prefixes (unless asked for), other formats */
	assert_int_equal(senml_etch_paths_decode(LWM2M_CF_SENML_JSON, T("[{\"n\":\"/3\",\"v\":1}]"), &paths, &n, &err), -LWM2M_EINVAL);
	assert_int_equal(senml_etch_paths_decode(LWM2M_CF_SENML_JSON, T("[{\"n\":\"/3\",\"v\":null}]"), &paths, &n, &err), -LWM2M_EINVAL);
	assert_int_equal(senml_etch_paths_decode(LWM2M_CF_SENML_JSON, T("[{\"n\":\"/3\",\"t\":1}]"), &paths, &n, &err), -LWM2M_EINVAL);
	assert_int_equal(senml_etch_paths_decode(LWM2M_CF_SENML_JSON, T("[{\"n\":\"/d1/3\"}]"), &paths, &n, &err), -LWM2M_ENOTSUP);
	assert_int_equal(senml_etch_paths_decode(LWM2M_CF_TLV, T("[]"), &paths, &n, &err),
			-LWM2M_ENOTSUP);
	assert_int_equal(senml_etch_paths_decode_ex(LWM2M_CF_SENML_JSON,
			T("[{\"n\":\"/r/d1/3\"},{\"n\":\"/r/4/0\"}]"), "/r", &paths, &pfx, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(pfx[0], "d1");
	assert_null(pfx[1]);
	assert_int_equal(paths[0].ids[0], 3);
	free(paths);
	senml_prefixes_free(pfx, n);

	/* encoding: full paths in n */
	in[0] = P("/3/0/0");
	in[1] = P("/1/0");
	in[2] = P("/");
	buf_init(&b, 0);
	assert_int_equal(senml_etch_paths_encode(LWM2M_CF_SENML_ETCH_JSON, in, 3, &b, &err), 0);
	assert_int_equal(b.len, strlen("[{\"n\":\"/3/0/0\"},{\"n\":\"/1/0\"},{\"n\":\"/\"}]"));
	assert_memory_equal(b.data, "[{\"n\":\"/3/0/0\"},{\"n\":\"/1/0\"},{\"n\":\"/\"}]", b.len);
	buf_reset(&b);
	assert_int_equal(senml_etch_paths_encode(LWM2M_CF_SENML_ETCH_CBOR, in, 3, &b, &err), 0);
	hex_of(&b, hex);
	assert_string_equal(hex, "83a100662f332f302f30a100642f312f30a100612f");
	buf_reset(&b);
	assert_int_equal(senml_etch_paths_encode(LWM2M_CF_SENML_ETCH_CBOR, in, 0, &b, &err), 0);
	hex_of(&b, hex);
	assert_string_equal(hex, "80");
	buf_free(&b);
}

/* ---- the record layer and base64 --------------------------------------------------------------- */

static void test_records_round_trip(void **state)
{
	const char *text = "[{\"bver\":10,\"bn\":\"urn:dev:1:\",\"bt\":1.5,\"bu\":\"Cel\",\"bv\":1,\"bs\":2,"
			"\"n\":\"temp\",\"u\":\"K\",\"t\":-1,\"ut\":60,\"v\":20.25,\"s\":3},{\"n\":\"x\",\"vd\":\"AAE\"},"
			"{\"n\":\"y\",\"v\":null},{\"n\":\"z\"}]";
	struct senml_pack p;
	struct lwm2m_buf b, c;
	struct lwm2m_error err;

	(void)state;
	senml_pack_init(&p);
	assert_int_equal(senml_json_parse((const uint8_t *)text, strlen(text), NULL, &p, &err), 0);
	assert_int_equal(p.count, 4);
	assert_int_equal(p.recs[0].has, 0x7ff);
	assert_int_equal(p.recs[2].vkind, SENML_V_NULL);
	assert_int_equal(p.recs[3].vkind, SENML_V_NONE);
	buf_init(&b, 0);
	assert_int_equal(senml_json_write(p.recs, p.count, &b, &err), 0);
	assert_int_equal(b.len, strlen(text));
	assert_memory_equal(b.data, text, b.len);
	/* JSON records -> CBOR (vd text becomes bytes) -> records -> CBOR again */
	buf_init(&c, 0);
	buf_reset(&b);
	assert_int_equal(senml_cbor_write(p.recs, p.count, &b, &err), 0);
	senml_pack_free(&p);
	senml_pack_init(&p);
	assert_int_equal(senml_cbor_parse(b.data, b.len, NULL, &p, &err), 0);
	assert_int_equal(p.recs[1].vs.len, 2);
	assert_memory_equal(p.recs[1].vs.p, "\x00\x01", 2);
	assert_int_equal(senml_cbor_write(p.recs, p.count, &c, &err), 0);
	assert_int_equal(b.len, c.len);
	assert_memory_equal(b.data, c.data, b.len);
	senml_pack_free(&p);
	buf_free(&b);
	buf_free(&c);
}

static void test_base64(void **state)
{
	struct lwm2m_buf b;
	uint8_t *out;
	size_t n;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(senml_base64_encode((const uint8_t *)"\xfb\xff", 2, true, &b), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "-_8", 3);
	buf_reset(&b);
	assert_int_equal(senml_base64_encode((const uint8_t *)"\xfb\xff", 2, false, &b), 0);
	assert_memory_equal(b.data, "+/8=", 4);
	buf_free(&b);
	assert_int_equal(senml_base64_decode("-_8", 3, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\xfb\xff", 2);
	free(out);
	assert_int_equal(senml_base64_decode("+/8=", 4, &out, &n), 0);
	assert_int_equal(n, 2);
	free(out);
	assert_int_equal(senml_base64_decode("", 0, &out, &n), 0);
	assert_int_equal(n, 0);
	free(out);
	assert_int_not_equal(senml_base64_decode("a", 1, &out, &n), 0);
	assert_int_not_equal(senml_base64_decode("ab=", 3, &out, &n), 0);
	assert_int_not_equal(senml_base64_decode("a*==", 4, &out, &n), 0);
	assert_int_not_equal(senml_base64_decode("-_9", 3, &out, &n), 0);   /* non-zero spare bits */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_numbers_exact),
		cmocka_unit_test(test_json_unsigned_full_range),
		cmocka_unit_test(test_json_range_errors),
		cmocka_unit_test(test_all_types_json),
		cmocka_unit_test(test_all_types_cbor),
		cmocka_unit_test(test_gateway_prefix),
		cmocka_unit_test(test_alternate_path),
		cmocka_unit_test(test_name_errors),
		cmocka_unit_test(test_historical_records),
		cmocka_unit_test(test_encode_layouts),
		cmocka_unit_test(test_float_forms),
		cmocka_unit_test(test_json_structure_errors),
		cmocka_unit_test(test_depth_bound),
		cmocka_unit_test(test_failure_keeps_output),
		cmocka_unit_test(test_node_limit),
		cmocka_unit_test(test_empty_payloads),
		cmocka_unit_test(test_cbor_forms),
		cmocka_unit_test(test_cbor_errors),
		cmocka_unit_test(test_etch_patch_pack),
		cmocka_unit_test(test_etch_paths),
		cmocka_unit_test(test_records_round_trip),
		cmocka_unit_test(test_base64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
