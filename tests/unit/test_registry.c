/* Registry bookkeeping and lifetimes, driven by a fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/registry.h"

static struct reg_params params(const char *prefix, const char *ep, uint64_t lifetime)
{
	struct reg_params p;
	memset(&p, 0, sizeof(p));
	p.prefix = prefix;
	p.endpoint = ep;
	p.client_id = "client-1";
	p.transport = "mqtt";
	p.has_lifetime = true;
	p.lifetime = lifetime;
	p.version = "1.2";
	p.binding = "M";
	p.links = "</1/0>,</3/0>";
	p.links_len = strlen(p.links);
	return p;
}

static void test_register_find_deregister(void **state)
{
	struct registry *r = registry_new(0, 10);
	struct reg_params p = params(NULL, "ep1", 60);
	struct registration *reg = NULL;
	bool replaced = true;
	(void)state;

	assert_int_equal(registry_register(r, &p, 1000, 5, &reg, &replaced), 0);
	assert_false(replaced);
	assert_non_null(reg);
	assert_string_equal(reg->endpoint, "ep1");
	assert_null(reg->prefix);
	assert_string_equal(reg->links, "</1/0>,</3/0>");
	assert_int_equal(reg->expires_mono_ms, 1000 + 60000);
	assert_ptr_equal(registry_find(r, NULL, "ep1"), reg);
	assert_null(registry_find(r, "tenant", "ep1"));
	assert_int_equal(registry_count(r), 1);
	assert_int_equal(registry_deregister(r, NULL, "ep1"), 0);
	assert_int_equal(registry_deregister(r, NULL, "ep1"), -LWM2M_ENOENT);
	assert_int_equal(registry_count(r), 0);
	registry_free(r);
}

static void test_prefix_keys_are_separate(void **state)
{
	struct registry *r = registry_new(0, 10);
	struct reg_params a = params("tenant-a", "ep", 60), b = params("tenant-b", "ep", 60);
	struct reg_params none = params(NULL, "ep", 60);
	(void)state;

	assert_int_equal(registry_register(r, &a, 0, 0, NULL, NULL), 0);
	assert_int_equal(registry_register(r, &b, 0, 0, NULL, NULL), 0);
	assert_int_equal(registry_register(r, &none, 0, 0, NULL, NULL), 0);
	assert_int_equal(registry_count(r), 3);
	assert_string_equal(registry_find(r, "tenant-b", "ep")->prefix, "tenant-b");
	registry_free(r);
}

static void test_second_register_replaces(void **state)
{
	struct registry *r = registry_new(0, 10);
	struct reg_params p = params(NULL, "ep1", 60);
	struct registration *reg;
	bool replaced = false;
	(void)state;

	assert_int_equal(registry_register(r, &p, 0, 0, NULL, NULL), 0);
	p.lifetime = 120;
	p.links = "</5/0>";
	p.links_len = 6;
	assert_int_equal(registry_register(r, &p, 100, 0, &reg, &replaced), 0);
	assert_true(replaced);
	assert_int_equal(registry_count(r), 1);
	assert_string_equal(reg->links, "</5/0>");
	assert_int_equal(reg->expires_mono_ms, 100 + 120000);
	/* The old registration's expiry must be gone from the heap too. */
	assert_null(registry_pop_expired(r, 60000));
	registry_free(r);
}

static void test_update_subset(void **state)
{
	struct registry *r = registry_new(0, 10);
	struct reg_params p = params(NULL, "ep1", 60), u;
	struct registration *reg;
	(void)state;

	assert_int_equal(registry_register(r, &p, 0, 0, NULL, NULL), 0);
	memset(&u, 0, sizeof(u));
	u.endpoint = "ep1";
	u.binding = "MQ";
	assert_int_equal(registry_update(r, &u, 30000, 0, &reg), 0);
	assert_int_equal(reg->lifetime, 60);                    /* kept */
	assert_string_equal(reg->binding, "MQ");
	assert_true(reg->queue_mode);
	assert_string_equal(reg->links, "</1/0>,</3/0>");       /* kept */
	assert_int_equal(reg->expires_mono_ms, 30000 + 60000);  /* restarted */
	u.links = "</3/0>";
	u.links_len = 6;
	assert_int_equal(registry_update(r, &u, 30000, 0, &reg), 0);
	assert_string_equal(reg->links, "</3/0>");              /* replaced, not merged */
	u.endpoint = "nobody";
	assert_int_equal(registry_update(r, &u, 0, 0, NULL), -LWM2M_ENOENT);
	registry_free(r);
}

static void test_expiry_order_and_grace(void **state)
{
	struct registry *r = registry_new(5000, 100);
	struct reg_params p;
	struct registration *reg;
	char name[16];
	(void)state;

	/* Lifetimes 10, 9, ..., 1 s registered at t=0; lifetime 0 never expires. */
	for(int i = 10; i >= 1; i--){
		snprintf(name, sizeof(name), "ep%d", i);
		p = params(NULL, name, (uint64_t)i);
		assert_int_equal(registry_register(r, &p, 0, 0, NULL, NULL), 0);
	}
	p = params(NULL, "forever", 0);
	assert_int_equal(registry_register(r, &p, 0, 0, NULL, NULL), 0);
	assert_int_equal(registry_next_expiry(r), 1000 + 5000);
	assert_null(registry_pop_expired(r, 5999));          /* grace period */
	for(int i = 1; i <= 10; i++){
		reg = registry_pop_expired(r, 20000);
		assert_non_null(reg);
		snprintf(name, sizeof(name), "ep%d", i);
		assert_string_equal(reg->endpoint, name);
		registration_free(reg);
	}
	assert_null(registry_pop_expired(r, UINT64_MAX - 2));
	assert_int_equal(registry_next_expiry(r), REG_NO_EXPIRY);
	assert_int_equal(registry_count(r), 1);
	registry_free(r);
}

static void test_update_moves_expiry(void **state)
{
	struct registry *r = registry_new(0, 10);
	struct reg_params a = params(NULL, "a", 10), b = params(NULL, "b", 20), u;
	struct registration *reg;
	(void)state;

	assert_int_equal(registry_register(r, &a, 0, 0, NULL, NULL), 0);
	assert_int_equal(registry_register(r, &b, 0, 0, NULL, NULL), 0);
	memset(&u, 0, sizeof(u));
	u.endpoint = "a";
	assert_int_equal(registry_update(r, &u, 15000, 0, NULL), 0);  /* a now until 25 s */
	reg = registry_pop_expired(r, 21000);
	assert_non_null(reg);
	assert_string_equal(reg->endpoint, "b");
	registration_free(reg);
	assert_null(registry_pop_expired(r, 24999));
	registry_free(r);
}

static void test_full(void **state)
{
	struct registry *r = registry_new(0, 2);
	struct reg_params a = params(NULL, "a", 10), b = params(NULL, "b", 10), c = params(NULL, "c", 10);
	(void)state;

	assert_int_equal(registry_register(r, &a, 0, 0, NULL, NULL), 0);
	assert_int_equal(registry_register(r, &b, 0, 0, NULL, NULL), 0);
	assert_int_equal(registry_register(r, &c, 0, 0, NULL, NULL), -LWM2M_EFULL);
	assert_int_equal(registry_register(r, &a, 0, 0, NULL, NULL), 0);  /* replacing is fine */
	registry_free(r);
}

static void test_online_and_rate(void **state)
{
	struct registry *r = registry_new(0, 10);
	struct reg_params p = params(NULL, "ep1", 60);
	struct registration *reg;
	(void)state;

	assert_int_equal(registry_register(r, &p, 0, 0, &reg, NULL), 0);
	assert_true(reg->online);
	assert_int_equal(registry_set_client_online(r, "other", false), 0);
	assert_int_equal(registry_set_client_online(r, "client-1", false), 1);
	assert_false(reg->online);

	for(int i = 0; i < 3; i++) assert_true(registry_rate_ok(reg, 3, 1000));
	assert_false(registry_rate_ok(reg, 3, 2000));
	assert_true(registry_rate_ok(reg, 3, 61000));   /* new window */
	assert_true(registry_rate_ok(reg, 0, 61000));   /* 0 = unlimited */
	registry_free(r);
}

static void test_client_index(void **state)
{
	struct registry *r = registry_new(0, 10);
	struct reg_params a = params("t1", "ep", 60), b = params("t2", "ep", 60), c = params(NULL, "other", 60);
	struct registration **regs, *ra, *rc;
	(void)state;

	c.client_id = "client-2";
	assert_int_equal(registry_register(r, &a, 0, 0, &ra, NULL), 0);
	assert_int_equal(registry_register(r, &b, 0, 0, NULL, NULL), 0);
	assert_int_equal(registry_register(r, &c, 0, 0, &rc, NULL), 0);
	assert_int_equal(registry_client_registrations(r, "client-1", &regs), 2);
	assert_int_equal(registry_set_client_online(r, "client-1", false), 2);
	assert_true(rc->online);
	/* The device came back through another client id. */
	assert_int_equal(registry_set_client(r, ra, "client-3"), 0);
	assert_int_equal(registry_client_registrations(r, "client-1", &regs), 1);
	assert_int_equal(registry_client_registrations(r, "client-3", &regs), 1);
	assert_ptr_equal(regs[0], ra);
	assert_int_equal(registry_deregister(r, "t1", "ep"), 0);
	assert_int_equal(registry_client_registrations(r, "client-3", &regs), 0);
	/* Re-Register replaces the entry in the index too. */
	assert_int_equal(registry_register(r, &c, 0, 0, NULL, NULL), 0);
	assert_int_equal(registry_client_registrations(r, "client-2", &regs), 1);
	assert_int_equal(registry_set_client_online(r, "client-2", false), 1);
	registry_free(r);
}

static void test_many(void **state)
{
	struct registry *r = registry_new(0, 100000);
	char name[32];
	size_t popped = 0;
	struct registration *reg;
	uint64_t last = 0;
	(void)state;

	for(unsigned i = 0; i < 10000; i++){
		struct reg_params p;
		snprintf(name, sizeof(name), "dev-%u", i);
		p = params(NULL, name, 1 + (i * 7919u) % 5000);
		assert_int_equal(registry_register(r, &p, 0, 0, NULL, NULL), 0);
	}
	for(unsigned i = 0; i < 10000; i += 3){
		snprintf(name, sizeof(name), "dev-%u", i);
		assert_int_equal(registry_deregister(r, NULL, name), 0);
	}
	while((reg = registry_pop_expired(r, UINT64_MAX - 1)) != NULL){
		assert_true(reg->expires_mono_ms >= last);
		last = reg->expires_mono_ms;
		registration_free(reg);
		popped++;
	}
	assert_int_equal(popped, 10000 - 3334);
	registry_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_find_deregister),
		cmocka_unit_test(test_prefix_keys_are_separate),
		cmocka_unit_test(test_second_register_replaces),
		cmocka_unit_test(test_update_subset),
		cmocka_unit_test(test_expiry_order_and_grace),
		cmocka_unit_test(test_update_moves_expiry),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_online_and_rate),
		cmocka_unit_test(test_client_index),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
