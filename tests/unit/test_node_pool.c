/* Strings of decoded values carved from shared blocks (objects/node.c node_pool): each value
 * still owns its bytes - freed one by one, copied, outliving the pool and its list - and
 * nothing leaks (ASan/LSan runs this). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "objects/node.h"

static void test_values_own_their_bytes(void **state)
{
	struct node_pool pool;
	struct lwm2m_value v[100], copy;
	char text[32];
	(void)state;

	node_pool_init(&pool, 64);
	for(int i = 0; i < 100; i++){
		int n = snprintf(text, sizeof(text), "value-%d", i);
		memset(&v[i], 0, sizeof(v[i]));
		assert_int_equal(node_pool_set_bytes(&pool, &v[i], LWM2M_TYPE_STRING, text, (size_t)n), 0);
	}
	node_pool_done(&pool);
	/* The pool is gone; every value still reads its own text, NUL-terminated. */
	for(int i = 0; i < 100; i++){
		snprintf(text, sizeof(text), "value-%d", i);
		assert_int_equal(v[i].v.bytes.len, strlen(text));
		assert_string_equal((const char *)v[i].v.bytes.data, text);
	}
	/* Freed out of order: odd ones first, a copy outlives its source. */
	memset(&copy, 0, sizeof(copy));
	assert_int_equal(value_copy(&copy, &v[51]), 0);
	for(int i = 1; i < 100; i += 2) value_free(&v[i]);
	assert_string_equal((const char *)copy.v.bytes.data, "value-51");
	for(int i = 0; i < 100; i += 2) value_free(&v[i]);
	value_free(&copy);
}

static void test_large_and_empty(void **state)
{
	struct node_pool pool;
	struct lwm2m_value big, empty, opaque;
	static uint8_t blob[100000];
	(void)state;

	for(size_t i = 0; i < sizeof(blob); i++) blob[i] = (uint8_t)(i * 7);
	node_pool_init(&pool, 16);
	memset(&big, 0, sizeof(big));
	memset(&empty, 0, sizeof(empty));
	memset(&opaque, 0, sizeof(opaque));
	assert_int_equal(node_pool_set_bytes(&pool, &big, LWM2M_TYPE_OPAQUE, blob, sizeof(blob)), 0);
	assert_int_equal(node_pool_set_bytes(&pool, &empty, LWM2M_TYPE_STRING, "", 0), 0);
	assert_int_equal(node_pool_set_bytes(&pool, &opaque, LWM2M_TYPE_OPAQUE, "\0\1\2", 3), 0);
	node_pool_done(&pool);
	assert_int_equal(big.v.bytes.len, sizeof(blob));
	assert_memory_equal(big.v.bytes.data, blob, sizeof(blob));
	assert_int_equal(empty.v.bytes.len, 0);
	assert_int_equal(empty.v.bytes.data[0], 0);
	assert_memory_equal(opaque.v.bytes.data, "\0\1\2", 3);
	value_free(&opaque);
	value_free(&big);
	value_free(&empty);
}

/* Nodes decoded into a list keep working when the list is freed node by node's values. */
static void test_nodes_free_releases_blocks(void **state)
{
	struct node_pool pool;
	struct lwm2m_nodes nodes;
	(void)state;

	nodes_init(&nodes);
	node_pool_init(&pool, 1000);
	for(int i = 0; i < 500; i++){
		struct lwm2m_node *n = nodes_push(&nodes);
		assert_non_null(n);
		n->path.len = 3;
		n->path.ids[0] = 3;
		n->path.ids[2] = (uint16_t)i;
		assert_int_equal(node_pool_set_bytes(&pool, &n->value, LWM2M_TYPE_STRING, "abcdefghij", 10), 0);
	}
	node_pool_done(&pool);
	assert_string_equal((const char *)nodes.items[499].value.v.bytes.data, "abcdefghij");
	nodes_free(&nodes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_own_their_bytes),
		cmocka_unit_test(test_large_and_empty),
		cmocka_unit_test(test_nodes_free_releases_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
