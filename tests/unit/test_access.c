/* Who may publish, receive and subscribe on LwM2M topics. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/access.h"

static struct lwm2m_config cfg_with(const char *prefixes)
{
	struct lwm2m_config c;
	struct conf_kv kv = { "prefixes", prefixes };
	conf_defaults(&c);
	if(prefixes) assert_int_equal(conf_parse(&c, &kv, 1, NULL), 0);
	return c;
}

#define CHECK(cfg, id, topic, kind, retain, expected) \
	assert_int_equal(access_check(&(cfg), id, topic, kind, retain, NULL), expected)

static void test_own_topics(void **state)
{
	struct lwm2m_config c = cfg_with(NULL);
	(void)state;
	CHECK(c, "ep1", "lwm2m/rd/ep1", ACCESS_WRITE, false, ACCESS_ALLOW);
	CHECK(c, "ep1", "lwm2m/bs/ep1", ACCESS_WRITE, false, ACCESS_ALLOW);
	CHECK(c, "ep1", "lwm2m/rd/ep1", ACCESS_READ, false, ACCESS_ALLOW);
	CHECK(c, "ep1", "lwm2m/rd/ep1", ACCESS_SUBSCRIBE, false, ACCESS_ALLOW);
	CHECK(c, "ep1", "+/lwm2m/bs/ep1", ACCESS_SUBSCRIBE, false, ACCESS_ALLOW);
	CHECK(c, "ep1", "lwm2m/rd/ep1", ACCESS_UNSUBSCRIBE, false, ACCESS_ALLOW);
	conf_free(&c);
}

static void test_other_devices_topics(void **state)
{
	struct lwm2m_config c = cfg_with(NULL);
	(void)state;
	CHECK(c, "ep1", "lwm2m/rd/ep2", ACCESS_WRITE, false, ACCESS_DENY);
	CHECK(c, "ep1", "lwm2m/rd/ep2", ACCESS_READ, false, ACCESS_DENY);
	CHECK(c, "ep1", "lwm2m/rd/ep2", ACCESS_SUBSCRIBE, false, ACCESS_DENY);
	CHECK(c, "ep1", "+/lwm2m/rd/ep2", ACCESS_SUBSCRIBE, false, ACCESS_DENY);
	CHECK(c, "ep1", "lwm2m/rd/+", ACCESS_SUBSCRIBE, false, ACCESS_DENY);
	CHECK(c, "ep1", "lwm2m/#", ACCESS_SUBSCRIBE, false, ACCESS_DENY);
	CHECK(c, "ep1", "+/lwm2m/#", ACCESS_SUBSCRIBE, false, ACCESS_DENY);
	CHECK(c, "ep1", "lwm2m/+/ep1", ACCESS_SUBSCRIBE, false, ACCESS_DENY);
	CHECK(c, NULL, "lwm2m/rd/ep1", ACCESS_WRITE, false, ACCESS_DENY);
	CHECK(c, NULL, "lwm2m/rd/ep1", ACCESS_READ, false, ACCESS_DENY);
	/* A client called "+" or "#" does not own every endpoint. */
	CHECK(c, "+", "+/lwm2m/rd/+", ACCESS_SUBSCRIBE, false, ACCESS_DENY);
	CHECK(c, "#", "+/lwm2m/rd/#", ACCESS_SUBSCRIBE, false, ACCESS_DENY);
	CHECK(c, "+", "lwm2m/rd/+", ACCESS_SUBSCRIBE, false, ACCESS_DENY);
	/* A prefix of another device's name is not the name. */
	CHECK(c, "ep", "lwm2m/rd/ep1", ACCESS_WRITE, false, ACCESS_DENY);
	conf_free(&c);
}

static void test_malformed_and_retained(void **state)
{
	struct lwm2m_config c = cfg_with(NULL);
	(void)state;
	CHECK(c, "ep1", "lwm2m/rd/ep1", ACCESS_WRITE, true, ACCESS_DENY);
	CHECK(c, "ep1", "lwm2m/rd/ep1/extra", ACCESS_WRITE, false, ACCESS_DENY);
	CHECK(c, "ep1", "lwm2m/xx/ep1", ACCESS_WRITE, false, ACCESS_DENY);
	CHECK(c, "ep1", "lwm2m", ACCESS_WRITE, false, ACCESS_DENY);
	CHECK(c, "ep1", "lwm2m/rd/", ACCESS_WRITE, false, ACCESS_DENY);
	conf_free(&c);
}

static void test_not_mine(void **state)
{
	struct lwm2m_config c = cfg_with(NULL);
	(void)state;
	CHECK(c, "ep1", "sensors/temp", ACCESS_WRITE, true, ACCESS_NOT_MINE);
	CHECK(c, "ep1", "#", ACCESS_SUBSCRIBE, false, ACCESS_NOT_MINE);
	CHECK(c, "ep1", "$SYS/broker/uptime", ACCESS_READ, false, ACCESS_NOT_MINE);
	/* A prefix that is not allowed is not this plugin's namespace. */
	CHECK(c, "ep1", "other/lwm2m/rd/ep1", ACCESS_WRITE, false, ACCESS_NOT_MINE);
	CHECK(c, "ep1", "lwm2mx/rd/ep1", ACCESS_WRITE, false, ACCESS_NOT_MINE);
	conf_free(&c);
}

static void test_prefixes(void **state)
{
	struct lwm2m_config c = cfg_with("tenant-a");
	(void)state;
	CHECK(c, "ep1", "tenant-a/lwm2m/rd/ep1", ACCESS_WRITE, false, ACCESS_ALLOW);
	CHECK(c, "ep1", "tenant-a/lwm2m/rd/ep1", ACCESS_SUBSCRIBE, false, ACCESS_ALLOW);
	/* Plain topics are still ours (namespace) but not allowed without "-". */
	CHECK(c, "ep1", "lwm2m/rd/ep1", ACCESS_WRITE, false, ACCESS_DENY);
	CHECK(c, "ep1", "tenant-b/lwm2m/rd/ep1", ACCESS_WRITE, false, ACCESS_NOT_MINE);
	conf_free(&c);
}

static void test_any_identity(void **state)
{
	struct lwm2m_config c = cfg_with(NULL);
	(void)state;
	c.identity = CONF_IDENTITY_ANY;
	CHECK(c, "whoever", "lwm2m/rd/ep2", ACCESS_WRITE, false, ACCESS_ALLOW);
	CHECK(c, NULL, "lwm2m/rd/+", ACCESS_SUBSCRIBE, false, ACCESS_ALLOW);
	CHECK(c, NULL, "lwm2m/rd/ep2", ACCESS_WRITE, true, ACCESS_DENY);
	conf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_topics),
		cmocka_unit_test(test_other_devices_topics),
		cmocka_unit_test(test_malformed_and_retained),
		cmocka_unit_test(test_not_mine),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_any_identity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
