/* plugin_opt_* parsing: defaults, every kind of bad value, and the error wording. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "conf/options.h"
#include "conf/broker_conf.h"

static int parse1(struct lwm2m_config *c, const char *key, const char *value, struct lwm2m_error *err)
{
	struct conf_kv kv = { key, value };
	conf_defaults(c);
	return conf_parse(c, &kv, 1, err);
}

static void test_defaults(void **state)
{
	struct lwm2m_config c;
	struct lwm2m_error err;
	(void)state;

	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, NULL, 0, &err), 0);
	assert_int_equal(c.identity, CONF_IDENTITY_USERNAME);
	assert_true(c.allow_no_prefix);
	assert_int_equal(c.n_prefixes, 0);
	assert_int_equal(c.request_timeout_s, 30);
	assert_int_equal(c.queue_awake_window_s, 93);
	assert_false(c.doorbell.set);
	conf_free(&c);
}

static void test_good_values(void **state)
{
	struct lwm2m_config c;
	struct lwm2m_error err;
	const struct conf_kv kv[] = {
		{"identity", "cert-cn"},
		{"prefixes", "tenant-a, tenant-b ,-"},
		{"doorbell", "unix:/run/mosquitto/lwm2m.sock"},
		{"lifetime_grace", "5"},
		{"max_payload", "1024"},
		{"debug", "true"},
	};
	(void)state;

	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, kv, sizeof(kv) / sizeof(kv[0]), &err), 0);
	assert_int_equal(c.identity, CONF_IDENTITY_CERT_CN);
	assert_int_equal(c.n_prefixes, 2);
	assert_string_equal(c.prefixes[0], "tenant-a");
	assert_string_equal(c.prefixes[1], "tenant-b");
	assert_true(c.allow_no_prefix);
	assert_true(c.doorbell.set);
	assert_true(c.doorbell.is_unix);
	assert_string_equal(c.doorbell.host, "/run/mosquitto/lwm2m.sock");
	assert_int_equal(c.lifetime_grace_s, 5);
	assert_int_equal(c.max_payload, 1024);
	assert_true(c.debug);
	conf_free(&c);
}

static void test_prefix_list_without_dash_forbids_plain(void **state)
{
	struct lwm2m_config c;
	struct lwm2m_error err;
	(void)state;

	assert_int_equal(parse1(&c, "prefixes", "tenant-a", &err), 0);
	assert_false(c.allow_no_prefix);
	conf_free(&c);
}

static void expect_error(const char *key, const char *value, const char *words)
{
	struct lwm2m_config c;
	struct lwm2m_error err;

	memset(&err, 0, sizeof(err));
	assert_true(parse1(&c, key, value, &err) < 0);
	if(!strstr(err.msg, words)) fail_msg("'%s %s': message '%s' lacks '%s'", key, value, err.msg, words);
	conf_free(&c);
}

static void test_bad_values_name_the_option(void **state)
{
	(void)state;
	expect_error("identity", "user", "plugin_opt_identity");
	expect_error("max_payload", "0", "plugin_opt_max_payload");
	expect_error("request_timeout", "0", "plugin_opt_request_timeout");
	expect_error("queue_awake_window", "0", "plugin_opt_queue_awake_window");
	expect_error("endpoints_file", "x.json", "not an absolute path");
	expect_error("coap_server", "http://127.0.0.1", "coap:// or coaps://");
	expect_error("coap_server", "coap://127.0.0.1:99999", "plugin_opt_coap_server");
	expect_error("coap_server", "coap://127.0.0.1/rd", "path");
	expect_error("coap_shutdown", "maybe", "deregister or keep");
	expect_error("coap_max_inflight", "0", "outside");
	expect_error("http_binding_listen", "nowhere", "plugin_opt_http_binding_listen");
	expect_error("tls_ca", "ca.pem", "absolute path");
	expect_error("lifetime_grace", "ten", "not a number");
	expect_error("lifetime_grace", "-5", "not a number");
	expect_error("lifetime_grace", "99999999999999999999", "not a number");
	expect_error("max_payload", "10", "outside");
	expect_error("prefixes", "a/b", "plugin_opt_prefixes");
	expect_error("prefixes", "+", "plugin_opt_prefixes");
	expect_error("prefixes", "$SYS", "plugin_opt_prefixes");
	expect_error("prefixes", ",", "plugin_opt_prefixes");
	expect_error("doorbell", "localhost", "plugin_opt_doorbell");
	expect_error("doorbell", "localhost:0", "plugin_opt_doorbell");
	expect_error("doorbell", "unix:relative", "plugin_opt_doorbell");
	expect_error("debug", "maybe", "plugin_opt_debug");
	expect_error("other_topics", "deny", "plugin_opt_other_topics");
	expect_error("no_such_option", "1", "unknown option");
}

static void test_coap_server_uri(void **state)
{
	struct conf_coap_server s;
	struct lwm2m_error err;
	(void)state;

	assert_int_equal(conf_parse_coap_uri("coap://127.0.0.1", &s, &err), 0);
	assert_true(s.set && !s.secure);
	assert_string_equal(s.host, "127.0.0.1");
	assert_int_equal(s.port, 5683);
	assert_int_equal(conf_parse_coap_uri("coaps://[::1]:15684/", &s, &err), 0);
	assert_true(s.secure);
	assert_string_equal(s.host, "::1");
	assert_int_equal(s.port, 15684);
	assert_int_equal(conf_parse_coap_uri("coaps://[::1]", &s, &err), 0);
	assert_int_equal(s.port, 5684);
	assert_true(conf_parse_coap_uri("coap://", &s, &err) < 0);
	assert_false(s.set);
}

static void test_duplicates_and_cross_checks(void **state)
{
	struct lwm2m_config c;
	struct lwm2m_error err;
	const struct conf_kv dup[] = { {"identity", "username"}, {"identity", "clientid"} };
	const struct conf_kv life[] = { {"min_lifetime", "60"}, {"max_lifetime", "30"} };
	(void)state;

	conf_defaults(&c);
	assert_true(conf_parse(&c, dup, 2, &err) < 0);
	assert_non_null(strstr(err.msg, "more than once"));
	conf_free(&c);
	conf_defaults(&c);
	assert_true(conf_parse(&c, life, 2, &err) < 0);
	assert_non_null(strstr(err.msg, "plugin_opt_max_lifetime"));
	conf_free(&c);
}

static void test_addresses(void **state)
{
	struct conf_addr a;
	(void)state;

	assert_int_equal(conf_parse_addr("127.0.0.1:1883", &a, NULL), 0);
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 1883);
	assert_int_equal(conf_parse_addr("[::1]:8883", &a, NULL), 0);
	assert_string_equal(a.host, "::1");
	assert_int_equal(a.port, 8883);
	assert_true(conf_parse_addr("[::1]8883", &a, NULL) < 0);
	assert_true(conf_parse_addr(":1883", &a, NULL) < 0);
	assert_true(conf_parse_addr("host:65536", &a, NULL) < 0);
}

static void test_every_option_documented(void **state)
{
	(void)state;
	/* Each documented option must be accepted with its documented default. */
	for(const struct conf_option_doc *d = conf_option_docs; d->name; d++){
		struct lwm2m_config c;
		struct lwm2m_error err;
		char value[64];
		int rc;

		if(d->def[0] == '(') continue;   /* "(none)" / "(unset...)": no literal default */
		snprintf(value, sizeof(value), "%s", d->def);
		value[strcspn(value, " ")] = '\0';
		rc = parse1(&c, d->name, value, &err);
		if(rc) fail_msg("documented default '%s' of %s refused: %s", value, d->name, err.msg);
		conf_free(&c);
	}
}

static void test_broker_conf_scan(void **state)
{
	struct broker_facts f;
	(void)state;

	memset(&f, 0, sizeof(f));
	broker_conf_scan_line(&f, "per_listener_settings true", "mosquitto_lwm2m.so");
	broker_conf_scan_line(&f, "plugin /usr/lib/x86_64-linux-gnu/mosquitto_lwm2m.so", "mosquitto_lwm2m.so");
	broker_conf_scan_line(&f, "# acl_file /etc/acl", "mosquitto_lwm2m.so");
	broker_conf_scan_line(&f, "  allow_anonymous true", "mosquitto_lwm2m.so");
	assert_true(f.per_listener_settings);
	assert_false(f.other_plugin);
	assert_false(f.acl_file);
	assert_true(f.allow_anonymous_true);
	broker_conf_scan_line(&f, "acl_file /etc/mosquitto/acl", "mosquitto_lwm2m.so");
	broker_conf_scan_line(&f, "plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so", "mosquitto_lwm2m.so");
	broker_conf_scan_line(&f, "per_listener_settings false", "mosquitto_lwm2m.so");
	assert_true(f.acl_file);
	assert_true(f.other_plugin);
	assert_false(f.per_listener_settings);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_values),
		cmocka_unit_test(test_prefix_list_without_dash_forbids_plain),
		cmocka_unit_test(test_bad_values_name_the_option),
		cmocka_unit_test(test_coap_server_uri),
		cmocka_unit_test(test_duplicates_and_cross_checks),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_every_option_documented),
		cmocka_unit_test(test_broker_conf_scan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
