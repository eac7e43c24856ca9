/* Paths (objects/path.c) and objlnk text (objects/objlnk.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "objects/objlnk.h"
#include "objects/path.h"

static int parse(const char *s, struct lwm2m_path *p, struct lwm2m_error *err)
{
	return path_parse(s, strlen(s), p, err);
}

static void assert_path(const char *s, uint8_t len, int a, int b, int c, int d)
{
	struct lwm2m_path p;
	int want[4] = { a, b, c, d };

	assert_int_equal(parse(s, &p, NULL), 0);
	assert_int_equal(p.len, len);
	for(int i = 0; i < len; i++) assert_int_equal(p.ids[i], want[i]);
}

static void test_parse_levels(void **state)
{
	(void)state;
	assert_path("/", 0, 0, 0, 0, 0);
	assert_path("", 0, 0, 0, 0, 0);
	assert_path("/3", 1, 3, 0, 0, 0);
	assert_path("/3/0", 2, 3, 0, 0, 0);
	assert_path("/3/0/1", 3, 3, 0, 1, 0);
	assert_path("/3/0/6/2", 4, 3, 0, 6, 2);
	assert_path("/65535/65535/65535/65535", 4, 65535, 65535, 65535, 65535);
	assert_path("/0/0/0/0", 4, 0, 0, 0, 0);
}

static void test_parse_tolerated_forms(void **state)
{
	(void)state;
	assert_path("3/0/1", 3, 3, 0, 1, 0);     /* Zephyr writes no leading '/' */
	assert_path("47/1/1/1", 4, 47, 1, 1, 1);
	assert_path("/3/0/", 2, 3, 0, 0, 0);     /* one trailing '/' */
	assert_path("/1/2/3/4/", 4, 1, 2, 3, 4);
	assert_path("/007", 1, 7, 0, 0, 0);
}

static void test_parse_refused(void **state)
{
	static const char *const bad[] = {
		"//", "/3//0", "/3/0//", "//3", "/3/a", "/3/-1", "/3/+1", "/ 3", "/3 ", "/3/0x1",
		"/1/2/3/4/5", "1/2/3/4/5", "/3/0/1/2/3/", "/3.0", "/3\\0",
	};
	struct lwm2m_path p;
	struct lwm2m_error err;

	(void)state;
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		memset(&err, 0, sizeof(err));
		if(parse(bad[i], &p, &err) != -LWM2M_EINVAL) fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(err.code, LWM2M_EINVAL);
		assert_true(err.msg[0] != '\0');
	}
	/* "/3/0//": the empty segment is the 6th byte */
	assert_int_equal(parse("/3/0//", &p, &err), -LWM2M_EINVAL);
	assert_true(err.has_offset);
	assert_int_equal(err.offset, 5);
}

static void test_parse_range(void **state)
{
	struct lwm2m_path p;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(parse("/65536", &p, &err), -LWM2M_ERANGE);
	assert_int_equal(parse("/3/0/99999999999999999999999", &p, &err), -LWM2M_ERANGE);
	assert_int_equal(err.offset, 5);
	/* Embedded NUL is just a bad byte, not an end. */
	assert_int_equal(path_parse("/3\0/1", 5, &p, NULL), -LWM2M_EINVAL);
	assert_int_equal(path_parse("/3/1", 2, &p, NULL), 0);   /* length bounds the text */
	assert_int_equal(p.len, 1);
}

static void test_format(void **state)
{
	char buf[LWM2M_PATH_STR_MAX];
	struct lwm2m_path root = { 0 }, max = { 4, { 65535, 65535, 65535, 65535 } };
	struct lwm2m_path res = { 3, { 3, 0, 1, 0 } };

	(void)state;
	assert_int_equal(path_format(&root, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/");
	assert_int_equal(path_format(&res, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "/3/0/1");
	assert_int_equal(path_format(&max, buf, sizeof(buf)), 24);
	assert_string_equal(buf, "/65535/65535/65535/65535");
	/* too small: nothing rather than a shorter path naming another node */
	assert_int_equal(path_format(&res, buf, 5), 0);
	assert_string_equal(buf, "");
	assert_int_equal(path_format(&root, buf, 1), 0);
}

static void test_starts_with(void **state)
{
	struct lwm2m_path root = { 0 }, o3 = { 1, { 3 } }, i30 = { 2, { 3, 0 } };
	struct lwm2m_path r301 = { 3, { 3, 0, 1 } }, r311 = { 3, { 3, 1, 1 } }, o4 = { 1, { 4 } };

	(void)state;
	assert_true(path_starts_with(&r301, &root));
	assert_true(path_starts_with(&root, &root));
	assert_true(path_starts_with(&r301, &o3));
	assert_true(path_starts_with(&r301, &i30));
	assert_true(path_starts_with(&r301, &r301));
	assert_false(path_starts_with(&r311, &i30));
	assert_false(path_starts_with(&i30, &r301));
	assert_false(path_starts_with(&o3, &i30));
	assert_false(path_starts_with(&r301, &o4));
}

static void test_compare_order(void **state)
{
	/* ascending: parents first, then numeric ID order (not text order) */
	static const char *const sorted[] = {
		"/", "/1", "/1/1", "/1/1/1", "/1/1/1/1", "/1/1/2", "/1/2", "/2", "/2/1", "/10", "/65535",
	};
	size_t n = sizeof(sorted) / sizeof(sorted[0]);

	(void)state;
	for(size_t i = 0; i < n; i++){
		for(size_t j = 0; j < n; j++){
			struct lwm2m_path a, b;
			int c;
			assert_int_equal(parse(sorted[i], &a, NULL), 0);
			assert_int_equal(parse(sorted[j], &b, NULL), 0);
			c = path_compare(&a, &b);
			if(i < j) assert_true(c < 0);
			else if(i > j) assert_true(c > 0);
			else assert_int_equal(c, 0);
		}
	}
}

static void test_objlnk_parse(void **state)
{
	uint16_t o = 1, i = 1;

	(void)state;
	assert_int_equal(objlnk_parse("0:0", 3, &o, &i, NULL), 0);
	assert_int_equal(o, 0);
	assert_int_equal(i, 0);
	assert_int_equal(objlnk_parse("3:10", 4, &o, &i, NULL), 0);
	assert_int_equal(o, 3);
	assert_int_equal(i, 10);
	assert_int_equal(objlnk_parse("65535:65535", 11, &o, &i, NULL), 0);
	assert_int_equal(o, 65535);
	assert_int_equal(i, 65535);
}

static void test_objlnk_refused(void **state)
{
	static const char *const bad[] = {
		"", ":", "0:", ":0", " 3:0", "3:0 ", "3: 0", "+3:0", "-1:0", "3:0:1", "3;0", "a:b",
		"3", "3:0\n",
	};
	struct lwm2m_error err;
	uint16_t o = 7, i = 7;

	(void)state;
	for(size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++){
		if(objlnk_parse(bad[k], strlen(bad[k]), &o, &i, &err) != -LWM2M_EINVAL){
			fail_msg("accepted \"%s\"", bad[k]);
		}
	}
	assert_int_equal(objlnk_parse("65536:0", 7, &o, &i, &err), -LWM2M_ERANGE);
	assert_int_equal(objlnk_parse("0:65536", 7, &o, &i, &err), -LWM2M_ERANGE);
	assert_int_equal(objlnk_parse("99999999999999999999:0", 22, &o, &i, &err), -LWM2M_ERANGE);
	assert_int_equal(objlnk_parse("3\0:0", 4, &o, &i, &err), -LWM2M_EINVAL);
	/* outputs untouched on failure */
	assert_int_equal(o, 7);
	assert_int_equal(i, 7);
}

static void test_objlnk_format(void **state)
{
	char buf[OBJLNK_STR_MAX];

	(void)state;
	assert_int_equal(objlnk_format(0, 0, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "0:0");
	assert_int_equal(objlnk_format(65535, 65535, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "65535:65535");
	assert_int_equal(objlnk_format(10, 20, buf, 5), 0);   /* "10:20" needs 6 bytes */
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_levels),
		cmocka_unit_test(test_parse_tolerated_forms),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_parse_range),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_starts_with),
		cmocka_unit_test(test_compare_order),
		cmocka_unit_test(test_objlnk_parse),
		cmocka_unit_test(test_objlnk_refused),
		cmocka_unit_test(test_objlnk_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
