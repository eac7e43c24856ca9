/* CBOR (60) and the shared CBOR reader/writer (objects/fmt_cbor.c, fmt_internal.h).
 * Expected bytes come from RFC 8949 (appendix A examples) and hand encoding. */
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
#include "fmt_test_util.h"

static enum lwm2m_type table_type(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	(void)ctx;
	(void)prefix;
	if(p->len < 3 || p->ids[0] != 1000) return LWM2M_TYPE_NONE;
	if(p->ids[2] >= 1 && p->ids[2] <= 9) return (enum lwm2m_type)p->ids[2];
	return LWM2M_TYPE_NONE;
}

static int table_multiple(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	(void)ctx;
	(void)prefix;
	return p->ids[0] == 1000 ? p->ids[2] == 20 : -1;
}

static const struct fmt_typer typer = { table_type, table_multiple, NULL };

static void assert_buf_hex(const struct lwm2m_buf *b, const char *hex)
{
	uint8_t want[64];
	size_t n = unhex(hex, want);

	if(b->len != n || memcmp(b->data, want, n)){
		char got[200] = "";
		for(size_t i = 0; i < b->len && i < 90; i++) sprintf(got + 2 * i, "%02x", b->data[i]);
		fail_msg("got %s, want %s", got, hex);
	}
}

/* Reads one value from hex with `want`. */
static int read_hex(const char *hex, enum lwm2m_type want, struct lwm2m_value *v,
		struct lwm2m_error *err)
{
	uint8_t buf[64];
	size_t n = unhex(hex, buf);
	uint8_t *exact = malloc(n ? n : 1);      /* exact size: ASan catches overreads */
	struct fmt_cbor_rd r;
	int rc;

	memcpy(exact, buf, n);
	fmt_cbor_rd_init(&r, exact, n, err);
	rc = fmt_cbor_read_value(&r, want, NULL, v);
	if(rc == 0 && !fmt_cbor_at_end(&r)) rc = -1000;
	free(exact);
	return rc;
}

static void test_heads(void **state)
{
	static const struct { const char *hex; uint8_t major; uint64_t arg; } ok[] = {
		{ "17", 0, 23 }, { "1818", 0, 24 }, { "190100", 0, 256 }, { "1a000f4240", 0, 1000000 },
		{ "1bffffffffffffffff", 0, UINT64_MAX }, { "3863", 1, 99 }, { "c1", 6, 1 },
		{ "f820", 7, 32 }, { "9a00010000", 4, 65536 },
	};
	static const char *const bad[] = { "1c", "1d", "1e", "1f", "3f", "df", "ff", "f81f", "19ff", "1b00", "" };
	struct fmt_cbor_rd r;
	struct fmt_cbor_head h;
	uint8_t buf[16];

	(void)state;
	for(size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++){
		size_t n = unhex(ok[i].hex, buf);
		fmt_cbor_rd_init(&r, buf, n, NULL);
		assert_int_equal(fmt_cbor_head(&r, &h), 0);
		assert_int_equal(h.major, ok[i].major);
		assert_true(h.arg == ok[i].arg);
		assert_true(fmt_cbor_at_end(&r));
	}
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		size_t n = unhex(bad[i], buf);
		fmt_cbor_rd_init(&r, buf, n, NULL);
		if(fmt_cbor_head(&r, &h) == 0) fail_msg("head %s accepted", bad[i]);
	}
	/* indefinite containers and strings */
	fmt_cbor_rd_init(&r, (const uint8_t *)"\x9f\xff", 2, NULL);
	assert_int_equal(fmt_cbor_head(&r, &h), 0);
	assert_true(h.indef);
	assert_true(fmt_cbor_break(&r));
	assert_false(fmt_cbor_break(&r));
}

static void test_strings(void **state)
{
	uint8_t buf[32];
	size_t n = unhex("7f 6268 65 60 63 6c6c6f ff", buf);
	struct fmt_cbor_rd r;
	struct fmt_cbor_head h;
	const uint8_t *d;
	size_t len;
	uint8_t *owned;

	(void)state;
	fmt_cbor_rd_init(&r, buf, n, NULL);
	assert_int_equal(fmt_cbor_head(&r, &h), 0);
	assert_int_equal(fmt_cbor_string(&r, &h, &d, &len, &owned), 0);
	assert_non_null(owned);
	assert_int_equal(len, 5);
	assert_memory_equal(d, "hello", 5);
	free(owned);
	assert_true(fmt_cbor_at_end(&r));

	/* definite strings point into the input */
	n = unhex("63616263", buf);
	fmt_cbor_rd_init(&r, buf, n, NULL);
	assert_int_equal(fmt_cbor_head(&r, &h), 0);
	assert_int_equal(fmt_cbor_string(&r, &h, &d, &len, &owned), 0);
	assert_null(owned);
	assert_ptr_equal(d, buf + 1);

	/* chunks of the wrong kind, nested indefinite chunks, truncation, missing break */
	static const char *const bad[] = { "7f 4161 ff", "7f 7f ff ff", "7f 6461", "7f 6161", "5f 4101", "64616263" };
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		n = unhex(bad[i], buf);
		fmt_cbor_rd_init(&r, buf, n, NULL);
		assert_int_equal(fmt_cbor_head(&r, &h), 0);
		if(fmt_cbor_string(&r, &h, &d, &len, &owned) == 0) fail_msg("%s accepted", bad[i]);
	}
}

static void test_skip(void **state)
{
	uint8_t buf[64];
	size_t n = unhex("a2 01 9f 02 bf 61 61 c1 03 ff ff 5f 41 00 ff 81 f5", buf);
	struct fmt_cbor_rd r;

	(void)state;
	fmt_cbor_rd_init(&r, buf, n, NULL);
	assert_int_equal(fmt_cbor_skip(&r, 8), 0);
	assert_true(fmt_cbor_at_end(&r));
	fmt_cbor_rd_init(&r, buf, n, NULL);
	assert_int_equal(fmt_cbor_skip(&r, 3), -LWM2M_ETOOBIG);
	/* a huge count with few bytes fails at once */
	n = unhex("9bffffffffffffffff 00", buf);
	fmt_cbor_rd_init(&r, buf, n, NULL);
	assert_int_equal(fmt_cbor_skip(&r, 8), -LWM2M_EINVAL);
}

static void test_half_floats(void **state)
{
	(void)state;
	assert_true(fmt_half_to_double(0x3c00) == 1.0);
	assert_true(fmt_half_to_double(0x7bff) == 65504.0);
	assert_true(fmt_half_to_double(0x0001) == ldexp(1, -24));
	assert_true(fmt_half_to_double(0x0400) == ldexp(1, -14));
	assert_true(fmt_half_to_double(0xc400) == -4.0);
	assert_true(signbit(fmt_half_to_double(0x8000)));
	assert_true(isinf(fmt_half_to_double(0x7c00)));
	assert_true(isnan(fmt_half_to_double(0x7e00)));
	/* every half value comes back in its own half form */
	for(uint32_t h = 0; h < 0x10000; h++){
		struct lwm2m_buf b;
		double d = fmt_half_to_double((uint16_t)h);
		if(isnan(d)) continue;
		buf_init(&b, 0);
		assert_int_equal(fmt_cbor_put_float_shortest(&b, d), 0);
		assert_int_equal(b.len, 3);
		assert_int_equal(b.data[0], 0xf9);
		assert_int_equal((b.data[1] << 8) | b.data[2], h);
		buf_free(&b);
	}
}

static void test_writer(void **state)
{
	struct lwm2m_buf b;

	(void)state;
	buf_init(&b, 0);
#define PUT(call, hex) do { buf_reset(&b); assert_int_equal(call, 0); assert_buf_hex(&b, hex); } while(0)
	PUT(fmt_cbor_put_int(&b, 0), "00");
	PUT(fmt_cbor_put_int(&b, 23), "17");
	PUT(fmt_cbor_put_int(&b, 24), "1818");
	PUT(fmt_cbor_put_int(&b, 1000000), "1a000f4240");
	PUT(fmt_cbor_put_int(&b, -1), "20");
	PUT(fmt_cbor_put_int(&b, -1000), "3903e7");
	PUT(fmt_cbor_put_int(&b, INT64_MIN), "3b7fffffffffffffff");
	PUT(fmt_cbor_put_head(&b, FMT_CBOR_UINT, UINT64_MAX), "1bffffffffffffffff");
	PUT(fmt_cbor_put_float_shortest(&b, 1.5), "f93e00");
	PUT(fmt_cbor_put_float_shortest(&b, 100000.0), "fa47c35000");
	PUT(fmt_cbor_put_float_shortest(&b, 3.4028234663852886e+38), "fa7f7fffff");
	PUT(fmt_cbor_put_float_shortest(&b, 1.1), "fb3ff199999999999a");
	PUT(fmt_cbor_put_float_shortest(&b, 65520.0), "fa477ff000");
	PUT(fmt_cbor_put_float_shortest(&b, 5.960464477539063e-8), "f90001");
	PUT(fmt_cbor_put_float_shortest(&b, NAN), "f97e00");
	PUT(fmt_cbor_put_float_shortest(&b, -INFINITY), "f9fc00");
	PUT(fmt_cbor_put_float_shortest(&b, -0.0), "f98000");
	PUT(fmt_cbor_put_double(&b, 1.5), "fb3ff8000000000000");
	PUT(fmt_cbor_put_string(&b, FMT_CBOR_TEXT, "IETF", 4), "6449455446");
#undef PUT
	buf_free(&b);
}

static void test_read_value_wire_types(void **state)
{
	struct lwm2m_value v = { 0 };

	(void)state;
	assert_int_equal(read_hex("1bffffffffffffffff", LWM2M_TYPE_NONE, &v, NULL), 0);
	assert_int_equal(v.type, LWM2M_TYPE_UNSIGNED);
	assert_int_equal(read_hex("1b7fffffffffffffff", LWM2M_TYPE_NONE, &v, NULL), 0);
	assert_int_equal(v.type, LWM2M_TYPE_INTEGER);
	assert_int_equal(read_hex("3b7fffffffffffffff", LWM2M_TYPE_NONE, &v, NULL), 0);
	assert_true(v.v.i == INT64_MIN);
	assert_int_equal(read_hex("f6", LWM2M_TYPE_NONE, &v, NULL), 0);
	assert_int_equal(v.type, LWM2M_TYPE_NONE);
	assert_int_equal(read_hex("c11a5182428f", LWM2M_TYPE_NONE, &v, NULL), 0);
	assert_int_equal(v.type, LWM2M_TYPE_TIME);
	assert_int_equal(v.v.i, 1367491215);
	assert_int_equal(read_hex("c1fb41d46090a3e00000", LWM2M_TYPE_NONE, &v, NULL), 0);   /* 1367491215.5 */
	assert_int_equal(v.v.i, 1367491215);
	assert_int_equal(read_hex("c48221196ab3", LWM2M_TYPE_NONE, &v, NULL), 0);           /* RFC 8949 273.15 */
	assert_int_equal(v.type, LWM2M_TYPE_FLOAT);
	assert_true(fabs(v.v.f - 273.15) < 1e-12);
	assert_int_equal(read_hex("4201ff", LWM2M_TYPE_NONE, &v, NULL), 0);
	assert_int_equal(v.type, LWM2M_TYPE_OPAQUE);
	value_free(&v);
	assert_int_equal(read_hex("6161", LWM2M_TYPE_NONE, &v, NULL), 0);
	assert_int_equal(v.type, LWM2M_TYPE_STRING);
	value_free(&v);
}

static void test_read_value_typed(void **state)
{
	struct lwm2m_value v = { 0 };
	struct lwm2m_error err;

	(void)state;
	/* lossless conversions */
	assert_int_equal(read_hex("f94200", LWM2M_TYPE_INTEGER, &v, NULL), 0);
	assert_int_equal(v.type, LWM2M_TYPE_INTEGER);
	assert_int_equal(v.v.i, 3);
	assert_int_equal(read_hex("05", LWM2M_TYPE_FLOAT, &v, NULL), 0);
	assert_true(v.v.f == 5.0);
	assert_int_equal(read_hex("05", LWM2M_TYPE_UNSIGNED, &v, NULL), 0);
	assert_int_equal(v.type, LWM2M_TYPE_UNSIGNED);
	assert_int_equal(read_hex("05", LWM2M_TYPE_TIME, &v, NULL), 0);
	assert_int_equal(v.type, LWM2M_TYPE_TIME);
	assert_int_equal(read_hex("74323031332d30352d30325431303a34303a31355a", LWM2M_TYPE_TIME, &v, NULL), 0);
	assert_int_equal(v.v.i, 1367491215);
	assert_int_equal(read_hex("64313a3200", LWM2M_TYPE_OBJLNK, &v, NULL), 0);    /* Zephyr's NUL */
	assert_int_equal(v.v.lnk.obj, 1);
	assert_int_equal(v.v.lnk.inst, 2);
	assert_int_equal(read_hex("63313a32", LWM2M_TYPE_CORELNK, &v, NULL), 0);
	assert_int_equal(v.type, LWM2M_TYPE_CORELNK);
	value_free(&v);
	/* mismatches say what they got */
	assert_int_equal(read_hex("f93e00", LWM2M_TYPE_INTEGER, &v, &err), -LWM2M_ETYPE);
	assert_non_null(strstr(err.msg, "float"));
	assert_int_equal(read_hex("6161", LWM2M_TYPE_OPAQUE, &v, &err), -LWM2M_ETYPE);
	assert_non_null(strstr(err.msg, "text"));
	assert_int_equal(read_hex("f6", LWM2M_TYPE_STRING, &v, &err), -LWM2M_ETYPE);
	assert_non_null(strstr(err.msg, "null"));
	assert_int_equal(read_hex("20", LWM2M_TYPE_UNSIGNED, &v, &err), -LWM2M_ERANGE);
	assert_int_equal(read_hex("1b8000000000000000", LWM2M_TYPE_INTEGER, &v, &err), -LWM2M_ERANGE);
	assert_int_equal(read_hex("f5", LWM2M_TYPE_INTEGER, &v, &err), -LWM2M_ETYPE);
	assert_int_equal(read_hex("01", LWM2M_TYPE_BOOLEAN, &v, &err), -LWM2M_ETYPE);
	assert_int_equal(read_hex("63313a", LWM2M_TYPE_OBJLNK, &v, &err), -LWM2M_EINVAL);
	assert_int_equal(read_hex("c26161", LWM2M_TYPE_TIME, &v, &err), -LWM2M_EINVAL);
	assert_int_equal(read_hex("c0 01", LWM2M_TYPE_TIME, &v, &err), -LWM2M_EINVAL);
	assert_int_equal(read_hex("c1 6161", LWM2M_TYPE_TIME, &v, &err), -LWM2M_EINVAL);
	assert_int_equal(read_hex("c4 820101", LWM2M_TYPE_FLOAT, &v, NULL), 0);
	assert_true(v.v.f == 10.0);
	assert_int_equal(read_hex("c4 8201", LWM2M_TYPE_FLOAT, &v, &err), -LWM2M_EINVAL);
	assert_int_equal(read_hex("c4 83010101", LWM2M_TYPE_FLOAT, &v, &err), -LWM2M_EINVAL);
	assert_int_equal(read_hex("80", LWM2M_TYPE_NONE, &v, &err), -LWM2M_EINVAL);
	assert_int_equal(read_hex("f0", LWM2M_TYPE_NONE, &v, &err), -LWM2M_EINVAL);
}

static int cf60_decode(const char *hex, uint16_t r, struct lwm2m_nodes *n, struct lwm2m_error *err)
{
	uint8_t buf[64];
	size_t len = unhex(hex, buf);
	struct lwm2m_path p = { 3, { 1000, 0, r, 0 } };
	return fmt_decode(LWM2M_CF_CBOR, buf, len, &p, &typer, NULL, n, err);
}

static void test_cf60(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_buf out;
	struct lwm2m_error err;
	struct lwm2m_path p = { 3, { 1000, 0, 7, 0 } };

	(void)state;
	nodes_init(&n);
	buf_init(&out, 0);
	/* a time: read in every form, written as Zephyr does (tag 0, "-00:00") */
	assert_int_equal(cf60_decode("c11a5182428f", 7, &n, NULL), 0);
	assert_int_equal(n.items[0].value.type, LWM2M_TYPE_TIME);
	assert_int_equal(fmt_encode(LWM2M_CF_CBOR, &n, &p, &typer, NULL, &out, &err), 0);
	assert_buf_hex(&out, "c0 7819 323031332d30352d30325431303a34303a31352d30303a3030");
	nodes_free(&n);
	/* floats always as doubles */
	p.ids[2] = 4;
	assert_int_equal(cf60_decode("f93e00", 4, &n, NULL), 0);
	buf_reset(&out);
	assert_int_equal(fmt_encode(LWM2M_CF_CBOR, &n, &p, &typer, NULL, &out, &err), 0);
	assert_buf_hex(&out, "fb3ff8000000000000");
	nodes_free(&n);
	/* untyped resources keep the wire type */
	assert_int_equal(cf60_decode("6161", 55, &n, NULL), 0);
	assert_int_equal(n.items[0].value.type, LWM2M_TYPE_STRING);
	nodes_free(&n);
	/* refusals */
	assert_int_equal(cf60_decode("", 2, &n, &err), -LWM2M_EINVAL);
	assert_int_equal(cf60_decode("0101", 2, &n, &err), -LWM2M_EINVAL);
	assert_non_null(strstr(err.msg, "after"));
	assert_int_equal(cf60_decode("01", 20, &n, &err), -LWM2M_ENOTSUP);
	assert_int_equal(cf60_decode("6161", 2, &n, &err), -LWM2M_ETYPE);
	assert_int_equal(n.count, 0);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heads),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_skip),
		cmocka_unit_test(test_half_floats),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_read_value_wire_types),
		cmocka_unit_test(test_read_value_typed),
		cmocka_unit_test(test_cf60),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
