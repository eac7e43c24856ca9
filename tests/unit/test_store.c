/* The SQLite store: what is written in one turn survives closing and reopening. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/store.h"

struct loaded {
	int count;
	char endpoints[8][32];
	uint64_t lifetimes[8];
	int64_t expires[8];
	char links[8][64];
	bool prefixed[8];
};

static void collect(void *ctx, const struct stored_registration *r)
{
	struct loaded *l = ctx;
	if(l->count >= 8) return;
	snprintf(l->endpoints[l->count], sizeof(l->endpoints[0]), "%s", r->params.endpoint);
	snprintf(l->links[l->count], sizeof(l->links[0]), "%s", r->params.links);
	l->lifetimes[l->count] = r->params.lifetime;
	l->expires[l->count] = r->expires_wall_ms;
	l->prefixed[l->count] = r->params.prefix != NULL;
	l->count++;
}

static void temp_path(char *buf, size_t size)
{
	snprintf(buf, size, "/tmp/lwm2m-test-store-%d.db", (int)getpid());
	unlink(buf);
}

static void remove_db(const char *path)
{
	char side[300];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

static struct registration *make_reg(struct registry *r, const char *prefix, const char *ep, uint64_t lifetime)
{
	struct reg_params p;
	struct registration *reg;
	memset(&p, 0, sizeof(p));
	p.prefix = prefix;
	p.endpoint = ep;
	p.has_lifetime = true;
	p.lifetime = lifetime;
	p.version = "1.2";
	p.links = "</3/0>";
	p.links_len = 6;
	assert_int_equal(registry_register(r, &p, 0, 1000, &reg, NULL), 0);
	return reg;
}

static void test_registrations_survive(void **state)
{
	char path[128];
	struct store *s;
	struct registry *r = registry_new(0, 10);
	struct loaded l;
	(void)state;

	temp_path(path, sizeof(path));
	assert_int_equal(store_open(path, &s, NULL), 0);
	store_put_registration(s, make_reg(r, NULL, "a", 60), 5000);
	store_put_registration(s, make_reg(r, "tenant", "b", 0), 0);
	store_put_registration(s, make_reg(r, NULL, "c", 30), 7000);
	store_delete_registration(s, "/c");
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(store_commits(s), 1);
	store_set_u64(s, "next_token", 12345);
	store_close(s);   /* commits the pending write */

	assert_int_equal(store_open(path, &s, NULL), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_load_registrations(s, collect, &l, NULL), 0);
	assert_int_equal(l.count, 2);
	for(int i = 0; i < l.count; i++){
		if(!strcmp(l.endpoints[i], "a")){
			assert_int_equal(l.lifetimes[i], 60);
			assert_int_equal(l.expires[i], 5000);
			assert_false(l.prefixed[i]);
		}else{
			assert_string_equal(l.endpoints[i], "b");
			assert_int_equal(l.expires[i], 0);
			assert_true(l.prefixed[i]);
		}
		assert_string_equal(l.links[i], "</3/0>");
	}
	assert_int_equal(store_get_u64(s, "next_token", 0), 12345);
	assert_int_equal(store_get_u64(s, "missing", 77), 77);
	assert_int_equal(store_errors(s), 0);
	store_close(s);
	registry_free(r);
	remove_db(path);
}

static void test_replace_keeps_one_row(void **state)
{
	char path[128];
	struct store *s;
	struct registry *r = registry_new(0, 10);
	struct loaded l;
	(void)state;

	temp_path(path, sizeof(path));
	assert_int_equal(store_open(path, &s, NULL), 0);
	store_put_registration(s, make_reg(r, NULL, "a", 60), 5000);
	store_put_registration(s, make_reg(r, NULL, "a", 90), 9000);
	store_close(s);
	assert_int_equal(store_open(path, &s, NULL), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_load_registrations(s, collect, &l, NULL), 0);
	assert_int_equal(l.count, 1);
	assert_int_equal(l.lifetimes[0], 90);
	store_close(s);
	registry_free(r);
	remove_db(path);
}

static void test_unwritable_path(void **state)
{
	struct store *s = NULL;
	struct lwm2m_error err;
	(void)state;
	assert_true(store_open("/nonexistent-dir/x/state.db", &s, &err) < 0);
	assert_null(s);
	assert_non_null(strstr(err.msg, "/nonexistent-dir/x/state.db"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registrations_survive),
		cmocka_unit_test(test_replace_keeps_one_row),
		cmocka_unit_test(test_unwritable_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
