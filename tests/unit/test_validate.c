/* Register/Update checks: versions, bindings, lifetimes, object lists. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/validate.h"

static void test_versions(void **state)
{
	(void)state;
	assert_int_equal(validate_version("1.0", 3), 0);
	assert_int_equal(validate_version("1.1", 3), 0);
	assert_int_equal(validate_version("1.2", 3), 0);
	assert_int_equal(validate_version("1.3", 3), 412);
	assert_int_equal(validate_version("2.0", 3), 412);
	assert_int_equal(validate_version("10.12", 5), 412);
	assert_int_equal(validate_version("1", 1), 400);
	assert_int_equal(validate_version("1.", 2), 400);
	assert_int_equal(validate_version(".2", 2), 400);
	assert_int_equal(validate_version("1.2.3", 5), 400);
	assert_int_equal(validate_version("v1.2", 4), 400);
	assert_int_equal(validate_version("", 0), 400);
}

static void test_bindings(void **state)
{
	(void)state;
	assert_true(validate_binding("M", 1));
	assert_true(validate_binding("MQ", 2));
	assert_true(validate_binding("UMHTSNQ", 7));
	assert_false(validate_binding("", 0));
	assert_false(validate_binding("MM", 2));
	assert_false(validate_binding("X", 1));
	assert_false(validate_binding("m", 1));
	assert_false(validate_binding("M\0", 2));
}

static struct lwm2m_op reg_op(uint64_t lifetime, const char *version, const char *links)
{
	struct lwm2m_op op;
	op_init(&op);
	op.kind = LWM2M_OP_REGISTER;
	op.fields = LWM2M_F_TOKEN | LWM2M_F_LIFETIME | LWM2M_F_VERSION;
	op.lifetime = lifetime;
	op.version = op_view_str(version);
	if(links){
		op.fields |= LWM2M_F_PAYLOAD;
		op.payload = op_view_str(links);
	}
	return op;
}

static uint16_t check(const struct lwm2m_op *op, bool update, const struct lwm2m_config *c)
{
	struct reg_strings s;
	char why[160];
	return validate_registration(op, update, c, &s, why, sizeof(why));
}

static void test_register(void **state)
{
	struct lwm2m_config c;
	struct lwm2m_op op;
	(void)state;

	conf_defaults(&c);
	op = reg_op(60, "1.2", "</1/0>,</3/0>");
	assert_int_equal(check(&op, false, &c), 0);
	op = reg_op(0, "1.2", NULL);                    /* lifetime 0: never expires */
	assert_int_equal(check(&op, false, &c), 0);
	op = reg_op(60, "1.3", NULL);
	assert_int_equal(check(&op, false, &c), 412);
	op = reg_op(60, "x", NULL);
	assert_int_equal(check(&op, false, &c), 400);
	op = reg_op(60, "1.2", "</2/0></2/1>");
	assert_int_equal(check(&op, false, &c), 400);
	op = reg_op(60, "1.2", NULL);
	op.fields &= ~LWM2M_F_LIFETIME;
	assert_int_equal(check(&op, false, &c), 400);
	op = reg_op(60, "1.2", NULL);
	op.fields &= ~LWM2M_F_VERSION;
	assert_int_equal(check(&op, false, &c), 400);
	op = reg_op(60, "1.2", NULL);
	op.fields |= LWM2M_F_BINDING;
	op.binding = op_view_str("MQ");
	assert_int_equal(check(&op, false, &c), 0);
	op.binding = op_view_str("MZ");
	assert_int_equal(check(&op, false, &c), 400);
}

static void test_lifetime_limits(void **state)
{
	struct lwm2m_config c;
	struct lwm2m_op op;
	(void)state;

	conf_defaults(&c);
	c.min_lifetime_s = 30;
	c.max_lifetime_s = 3600;
	op = reg_op(29, "1.2", NULL);
	assert_int_equal(check(&op, false, &c), 400);
	op = reg_op(3601, "1.2", NULL);
	assert_int_equal(check(&op, false, &c), 400);
	op = reg_op(0, "1.2", NULL);            /* "never" exceeds any maximum */
	assert_int_equal(check(&op, false, &c), 400);
	op = reg_op(3600, "1.2", NULL);
	assert_int_equal(check(&op, false, &c), 0);
}

static void test_update_needs_nothing(void **state)
{
	struct lwm2m_config c;
	struct lwm2m_op op;
	(void)state;

	conf_defaults(&c);
	op_init(&op);
	op.kind = LWM2M_OP_UPDATE;
	op.fields = LWM2M_F_TOKEN;
	assert_int_equal(check(&op, true, &c), 0);
	op.fields |= LWM2M_F_PAYLOAD;
	op.payload = op_view_str("</3/0>,");
	assert_int_equal(check(&op, true, &c), 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_bindings),
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_lifetime_limits),
		cmocka_unit_test(test_update_needs_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
