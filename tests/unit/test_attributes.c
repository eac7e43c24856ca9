/* Write-Attributes queries (objects/attributes.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "objects/attributes.h"

#define BIT(x) LWM2M_ATTR_BIT(LWM2M_ATTR_##x)

static int parse(const char *q, struct lwm2m_attrs *a)
{
	return attr_parse_query(q, strlen(q), a, NULL);
}

static int parse_raw(const char *q, struct lwm2m_attrs *a)
{
	return attr_parse_query_raw(q, strlen(q), a, NULL);
}

/* Formats into a NUL-terminated static-lifetime copy owned by the caller. */
static char *format(const struct lwm2m_attrs *a, int *rc)
{
	struct lwm2m_buf b;
	char *s;

	buf_init(&b, 0);
	*rc = attr_format_query(a, &b);
	s = malloc(b.len + 1);
	assert_non_null(s);
	if(b.len) memcpy(s, b.data, b.len);
	s[b.len] = '\0';
	buf_free(&b);
	return s;
}

static void assert_formats_to(const struct lwm2m_attrs *a, const char *want)
{
	int rc;
	char *s = format(a, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, want);
	free(s);
}

static char *number_text(double v)
{
	struct lwm2m_buf b;
	char *s;

	buf_init(&b, 0);
	assert_int_equal(attr_format_number(v, &b), 0);
	s = calloc(1, b.len + 1);
	assert_non_null(s);
	memcpy(s, b.data, b.len);
	buf_free(&b);
	return s;
}

static void test_names(void **state)
{
	static const char *const names[LWM2M_ATTR_COUNT] = {
		"pmin", "pmax", "gt", "lt", "st", "epmin", "epmax", "edge", "con", "hqmax",
	};

	(void)state;
	for(int i = 0; i < LWM2M_ATTR_COUNT; i++){
		assert_string_equal(attr_name((enum lwm2m_attr_id)i), names[i]);
		assert_int_equal(attr_from_name(names[i], strlen(names[i])), i);
	}
	assert_null(attr_name(LWM2M_ATTR_COUNT));
	assert_int_equal(attr_from_name("PMIN", 4), -1);
	assert_int_equal(attr_from_name("dim", 3), -1);
	assert_int_equal(attr_from_name("ver", 3), -1);
	assert_int_equal(attr_from_name("pmi", 3), -1);
	assert_int_equal(attr_from_name("pminx", 5), -1);
}

static void test_parse_example(void **state)
{
	struct lwm2m_attrs a;

	(void)state;
	assert_int_equal(parse("pmin=10&pmax=60&gt=5.5&lt&st=1e1", &a), 0);
	assert_int_equal(a.set, BIT(PMIN) | BIT(PMAX) | BIT(GT) | BIT(ST));
	assert_int_equal(a.unset, BIT(LT));
	assert_int_equal(a.pmin, 10);
	assert_int_equal(a.pmax, 60);
	assert_true(a.gt == 5.5);
	assert_true(a.st == 10.0);
}

static void test_parse_every_attribute(void **state)
{
	struct lwm2m_attrs a;

	(void)state;
	assert_int_equal(parse("pmin=1&pmax=2&epmin=3&epmax=4&hqmax=5&lt=-6&gt=7&st=0.25&edge=1&con=0",
			&a), 0);
	assert_int_equal(a.set, (1u << LWM2M_ATTR_COUNT) - 1u);
	assert_int_equal(a.unset, 0);
	assert_int_equal(a.pmin, 1);
	assert_int_equal(a.pmax, 2);
	assert_int_equal(a.epmin, 3);
	assert_int_equal(a.epmax, 4);
	assert_int_equal(a.hqmax, 5);
	assert_true(a.lt == -6.0);
	assert_true(a.gt == 7.0);
	assert_true(a.st == 0.25);
	assert_int_equal(a.edge, 1);
	assert_int_equal(a.con, 0);
	assert_int_equal(parse("pmin&pmax&epmin&epmax&hqmax&lt&gt&st&edge&con", &a), 0);
	assert_int_equal(a.set, 0);
	assert_int_equal(a.unset, (1u << LWM2M_ATTR_COUNT) - 1u);
	assert_int_equal(parse("", &a), 0);           /* no attributes at all */
	assert_int_equal(a.set | a.unset, 0);
}

static void test_numbers_accepted(void **state)
{
	static const struct { const char *q; double v; } ok[] = {
		{ "gt=-5", -5 }, { "gt=+5", 5 }, { "gt=1e1", 10 }, { "gt=1E+2", 100 },
		{ "gt=2.5e-3", 0.0025 }, { "gt=-0.5", -0.5 }, { "gt=007", 7 },
		{ "gt=10000000000000000000", 1e19 }, { "gt=0.0000000000009223372", 9.223372e-13 },
		{ "gt=1e-400", 0 },
	};
	struct lwm2m_attrs a;

	(void)state;
	for(size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++){
		if(parse(ok[i].q, &a) != 0) fail_msg("refused %s", ok[i].q);
		assert_true(a.gt == ok[i].v);
	}
}

static void test_numbers_refused(void **state)
{
	static const char *const bad[] = {
		"gt=", "gt=.5", "gt=5.", "gt=1e", "gt=e5", "gt=0x10", "gt=inf", "gt=nan", "gt=NaN",
		"gt= 5", "gt=5 ", "gt=--5", "gt=5..1", "gt=1,5", "gt=1e+", "gt=+", "gt=-", "gt=\"5\"",
		"st=-1", "st=-0.1", "lt=0abc", "gt=0.xyz",
	};
	struct lwm2m_attrs a;
	struct lwm2m_error err;

	(void)state;
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		if(attr_parse_query(bad[i], strlen(bad[i]), &a, &err) != -LWM2M_EINVAL){
			fail_msg("accepted %s", bad[i]);
		}
	}
	assert_int_equal(attr_parse_query("gt=1e400", 8, &a, &err), -LWM2M_ERANGE);
	assert_int_equal(attr_parse_query("lt=-1e400", 9, &a, &err), -LWM2M_ERANGE);
}

static void test_unsigned_values(void **state)
{
	static const char *const bad[] = {
		"pmin=-1", "pmin=1.0", "pmin=+1", "pmin=1e3", "pmin=a", "pmin=", "pmax=2.7",
		"epmin=-4", "epmax=5.1", "hqmax=x", "pmin= 1",
	};
	struct lwm2m_attrs a;

	(void)state;
	assert_int_equal(parse("pmin=0", &a), 0);
	assert_int_equal(a.pmin, 0);
	assert_int_equal(parse("hqmax=18446744073709551615", &a), 0);
	assert_true(a.hqmax == UINT64_MAX);
	assert_int_equal(parse("hqmax=18446744073709551616", &a), -LWM2M_ERANGE);
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		if(parse(bad[i], &a) != -LWM2M_EINVAL) fail_msg("accepted %s", bad[i]);
	}
}

static void test_flags(void **state)
{
	static const char *const bad[] = { "edge=2", "edge=01", "edge=true", "con=-1", "con=", "con=10" };
	struct lwm2m_attrs a;

	(void)state;
	assert_int_equal(parse("edge=0&con=1", &a), 0);
	assert_int_equal(a.edge, 0);
	assert_int_equal(a.con, 1);
	assert_int_equal(parse("edge=1&con=0", &a), 0);
	assert_int_equal(a.edge, 1);
	assert_int_equal(a.con, 0);
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		if(parse(bad[i], &a) != -LWM2M_EINVAL) fail_msg("accepted %s", bad[i]);
	}
}

static void test_structure_refused(void **state)
{
	static const char *const bad[] = {
		"&", "pmin&", "&pmin", "pmin&&pmax", "=5", "pmin==5", "foo=1", "PMIN=1", "dim=2",
		"ver=1.1", "ssid=1", "pmin=1&pmin=2", "pmin&pmin=2", "pmin=1&pmin", "cancel",
		"pmin=1;pmax=2", "pmin=1&&", "pmin =1",
	};
	struct lwm2m_attrs a;
	struct lwm2m_error err;

	(void)state;
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		if(attr_parse_query_raw(bad[i], strlen(bad[i]), &a, &err) != -LWM2M_EINVAL){
			fail_msg("accepted %s", bad[i]);
		}
	}
	/* the error names where: "pmax=" starts at 7, its value at 12 */
	assert_int_equal(attr_parse_query("pmin=1&pmax=x", 13, &a, &err), -LWM2M_EINVAL);
	assert_true(err.has_offset);
	assert_int_equal(err.offset, 12);
	assert_int_equal(attr_parse_query("pmin=1&foo", 10, &a, &err), -LWM2M_EINVAL);
	assert_int_equal(err.offset, 7);
	assert_non_null(strstr(err.msg, "foo"));
	/* length bounds the text */
	assert_int_equal(attr_parse_query("pmin=1&garbage", 6, &a, NULL), 0);
	assert_int_equal(attr_parse_query("pmin=1\0&pmax", 12, &a, NULL), -LWM2M_EINVAL);
}

static void test_consistency(void **state)
{
	static const char *const bad[] = {
		"lt=5&gt=5", "lt=6&gt=5", "lt=1&st=2&gt=5", "pmin=10&pmax=5", "epmin=10&epmax=5",
		"gt=5&lt=10", "lt=-1e308&st=1e308&gt=1e308",
	};
	static const char *const ok[] = {
		"lt=1&gt=5", "lt=1&st=1.9&gt=5", "pmin=5&pmax=5", "epmin=5&epmax=5", "st=100&gt=1",
		"lt=10&st=100", "pmin=10&pmax", "lt=-5&gt=-4.5",
	};
	struct lwm2m_attrs a;

	(void)state;
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		if(parse(bad[i], &a) != -LWM2M_EINVAL) fail_msg("accepted %s", bad[i]);
		/* each value is fine on its own */
		if(parse_raw(bad[i], &a) != 0) fail_msg("raw refused %s", bad[i]);
	}
	for(size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++){
		if(parse(ok[i], &a) != 0) fail_msg("refused %s", ok[i]);
	}
}

static void test_validate_direct(void **state)
{
	struct lwm2m_attrs a;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(attr_validate(&a, NULL), 0);
	a.set = BIT(EDGE);
	a.edge = 2;
	assert_int_equal(attr_validate(&a, NULL), -LWM2M_EINVAL);
	a.edge = 1;
	assert_int_equal(attr_validate(&a, NULL), 0);
	a.unset = BIT(EDGE);          /* set and unset at once */
	assert_int_equal(attr_validate(&a, NULL), -LWM2M_EINVAL);
	memset(&a, 0, sizeof(a));
	a.set = BIT(GT);
	a.gt = NAN;
	assert_int_equal(attr_validate(&a, NULL), -LWM2M_ERANGE);
	a.gt = INFINITY;
	assert_int_equal(attr_validate(&a, NULL), -LWM2M_ERANGE);
	memset(&a, 0, sizeof(a));
	a.set = 1u << LWM2M_ATTR_COUNT;   /* unknown attribute */
	assert_int_equal(attr_validate(&a, NULL), -LWM2M_EINVAL);
	memset(&a, 0, sizeof(a));
	a.set = BIT(CON);
	a.con = 3;
	assert_int_equal(attr_validate(&a, NULL), -LWM2M_EINVAL);
	/* values of attributes that are not set are ignored */
	memset(&a, 0, sizeof(a));
	a.set = BIT(GT);
	a.gt = 1;
	a.lt = 100;
	a.pmin = 9;
	assert_int_equal(attr_validate(&a, NULL), 0);
}

static void test_level(void **state)
{
	struct lwm2m_path obj = { 1, { 3 } }, inst = { 2, { 3, 0 } }, res = { 3, { 3, 0, 1 } };
	struct lwm2m_path ri = { 4, { 3, 0, 6, 0 } };
	struct lwm2m_attrs a;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(parse("pmin=1&pmax=2&epmin=1&epmax=2&hqmax=3&con=1", &a), 0);
	assert_int_equal(attr_validate_level(&a, &obj, NULL), 0);
	assert_int_equal(attr_validate_level(&a, &inst, NULL), 0);
	assert_int_equal(attr_validate_level(&a, &res, NULL), 0);
	assert_int_equal(parse("gt=5", &a), 0);
	assert_int_equal(attr_validate_level(&a, &inst, &err), -LWM2M_EINVAL);
	assert_non_null(strstr(err.msg, "gt"));
	assert_int_equal(attr_validate_level(&a, &res, NULL), 0);
	assert_int_equal(attr_validate_level(&a, &ri, NULL), 0);
	assert_int_equal(parse("edge", &a), 0);       /* unsetting counts too */
	assert_int_equal(attr_validate_level(&a, &obj, NULL), -LWM2M_EINVAL);
	assert_int_equal(parse("st=1", &a), 0);
	assert_int_equal(attr_validate_level(&a, &ri, NULL), 0);
}

static void test_number_text(void **state)
{
	static const struct { double v; const char *text; } cases[] = {
		{ 10, "10" }, { 20.1, "20.1" }, { 1e19, "10000000000000000000" },
		{ 9.223372e-13, "0.0000000000009223372" }, { -0.5, "-0.5" }, { 0.1, "0.1" },
		{ 1e21, "1000000000000000000000" }, { 123456.789, "123456.789" }, { 0, "0" },
		{ -0.0, "0" }, { -30.55, "-30.55" }, { 4.2e21, "4200000000000000000000" },
		{ 1.0 / 3.0, "0.3333333333333333" }, { 100, "100" }, { 0.001, "0.001" },
	};
	char *s;

	(void)state;
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		s = number_text(cases[i].v);
		assert_string_equal(s, cases[i].text);
		free(s);
	}
	/* the extremes still read back exactly and never use an exponent */
	s = number_text(DBL_MAX);
	assert_int_equal(strlen(s), 309);
	assert_null(strpbrk(s, "eE"));
	assert_true(strtod(s, NULL) == DBL_MAX);
	free(s);
	s = number_text(-DBL_MIN);
	assert_int_equal(strncmp(s, "-0.000", 6), 0);
	assert_true(strtod(s, NULL) == -DBL_MIN);
	free(s);
	s = number_text(4.9406564584124654e-324);
	assert_int_equal(strlen(s), 2 + 323 + 1);
	assert_true(strtod(s, NULL) == 4.9406564584124654e-324);
	free(s);
	{
		struct lwm2m_buf b;
		buf_init(&b, 0);
		assert_int_equal(attr_format_number(NAN, &b), -LWM2M_EINVAL);
		assert_int_equal(attr_format_number(-INFINITY, &b), -LWM2M_EINVAL);
		assert_int_equal(b.len, 0);
		buf_free(&b);
	}
}

static void test_format_query(void **state)
{
	struct lwm2m_attrs a;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_formats_to(&a, "");
	a.set = (1u << LWM2M_ATTR_COUNT) - 1u;
	a.unset = 0;
	a.pmin = 1;
	a.pmax = 60;
	a.epmin = 2;
	a.epmax = 3;
	a.lt = -1.5;
	a.gt = 20.1;
	a.st = 0.25;
	a.edge = 1;
	a.con = 0;
	a.hqmax = 7;
	assert_formats_to(&a, "pmin=1&pmax=60&epmin=2&epmax=3&lt=-1.5&gt=20.1&st=0.25&edge=1&con=0&hqmax=7");
	a.set &= ~(BIT(PMIN) | BIT(CON));
	a.unset = BIT(PMIN) | BIT(CON);
	assert_formats_to(&a, "pmin&pmax=60&epmin=2&epmax=3&lt=-1.5&gt=20.1&st=0.25&edge=1&con&hqmax=7");
	/* no cross-attribute rule on output: Leshan's attribute sets round-trip as they are */
	memset(&a, 0, sizeof(a));
	a.set = BIT(LT) | BIT(GT) | BIT(ST);
	a.lt = 1e19;
	a.gt = 9.223372e-13;
	a.st = 1e19;
	assert_formats_to(&a, "lt=10000000000000000000&gt=0.0000000000009223372&st=10000000000000000000");
}

static void test_format_refused(void **state)
{
	struct lwm2m_attrs a;
	struct lwm2m_buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "x", 1), 0);
	memset(&a, 0, sizeof(a));
	a.set = BIT(ST);
	a.st = -1;
	assert_int_equal(attr_format_query(&a, &b), -LWM2M_EINVAL);
	a.st = NAN;
	assert_int_equal(attr_format_query(&a, &b), -LWM2M_EINVAL);
	a.set = BIT(EDGE);
	a.edge = 2;
	assert_int_equal(attr_format_query(&a, &b), -LWM2M_EINVAL);
	a.edge = 0;
	a.unset = BIT(EDGE);
	assert_int_equal(attr_format_query(&a, &b), -LWM2M_EINVAL);
	assert_int_equal(b.len, 1);            /* nothing appended on refusal */
	/* a limit that cuts the output leaves the buffer as it was */
	buf_free(&b);
	buf_init(&b, 8);
	memset(&a, 0, sizeof(a));
	a.set = BIT(PMIN) | BIT(PMAX);
	a.pmin = 10;
	a.pmax = 60;
	assert_int_equal(attr_format_query(&a, &b), -LWM2M_ETOOBIG);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_round_trip(void **state)
{
	static const char *const queries[] = {
		"pmin=10&pmax=60&gt=5.5&lt&st=1e1", "pmin", "lt=-30.55", "gt=1e-7&st=0",
		"epmin=1&epmax=1&hqmax=0&edge=0&con=1", "gt=123456789012345678901234567890",
		"lt=-2.5E+3&gt=+1", "pmin&pmax&epmin&epmax&lt&gt&st&edge&con&hqmax",
	};

	(void)state;
	for(size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++){
		struct lwm2m_attrs a, b;
		int rc;
		char *s;

		assert_int_equal(parse(queries[i], &a), 0);
		s = format(&a, &rc);
		assert_int_equal(rc, 0);
		if(parse(s, &b) != 0) fail_msg("%s -> %s does not parse", queries[i], s);
		assert_int_equal(a.set, b.set);
		assert_int_equal(a.unset, b.unset);
		assert_true(a.pmin == b.pmin && a.pmax == b.pmax && a.epmin == b.epmin);
		assert_true(a.epmax == b.epmax && a.hqmax == b.hqmax);
		assert_true(a.gt == b.gt && a.lt == b.lt && a.st == b.st);
		assert_true(a.edge == b.edge && a.con == b.con);
		free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse_example),
		cmocka_unit_test(test_parse_every_attribute),
		cmocka_unit_test(test_numbers_accepted),
		cmocka_unit_test(test_numbers_refused),
		cmocka_unit_test(test_unsigned_values),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_structure_refused),
		cmocka_unit_test(test_consistency),
		cmocka_unit_test(test_validate_direct),
		cmocka_unit_test(test_level),
		cmocka_unit_test(test_number_text),
		cmocka_unit_test(test_format_query),
		cmocka_unit_test(test_format_refused),
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
