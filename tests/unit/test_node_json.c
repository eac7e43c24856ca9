/* Nodes <-> the JSON node model (objects/node_json.c) and the node list (objects/node.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "objects/node.h"
#include "objects/node_json.h"

static struct lwm2m_node *add(struct lwm2m_nodes *n, const char *path, enum lwm2m_type t)
{
	struct lwm2m_node *node = nodes_push(n);
	assert_non_null(node);
	assert_int_equal(path_parse(path, strlen(path), &node->path, NULL), 0);
	node->value.type = t;
	return node;
}

static char *dump(const struct lwm2m_nodes *n)
{
	json_t *j;
	char *s;

	assert_int_equal(node_json_from_nodes(n, &j, NULL), 0);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static void test_value_forms(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_node *x;
	char *s;

	(void)state;
	nodes_init(&n);
	add(&n, "/1/0/1", LWM2M_TYPE_INTEGER)->value.v.i = 9007199254740992LL;        /* 2^53 */
	add(&n, "/1/0/2", LWM2M_TYPE_INTEGER)->value.v.i = -9007199254740993LL;
	add(&n, "/1/0/3", LWM2M_TYPE_UNSIGNED)->value.v.u = UINT64_MAX;
	add(&n, "/1/0/4", LWM2M_TYPE_FLOAT)->value.v.f = NAN;
	add(&n, "/1/0/5", LWM2M_TYPE_FLOAT)->value.v.f = -INFINITY;
	add(&n, "/1/0/6", LWM2M_TYPE_FLOAT)->value.v.f = 1.5;
	add(&n, "/1/0/7", LWM2M_TYPE_BOOLEAN)->value.v.b = true;
	x = add(&n, "/1/0/8", LWM2M_TYPE_NONE);
	assert_int_equal(value_set_bytes(&x->value, LWM2M_TYPE_OPAQUE, "\x0a\xbc", 2), 0);
	x = add(&n, "/1/0/9", LWM2M_TYPE_OBJLNK);
	x->value.v.lnk.obj = 3;
	x->value.v.lnk.inst = 65535;
	add(&n, "/1/0/10", LWM2M_TYPE_NONE);
	x = add(&n, "/1/0/11", LWM2M_TYPE_TIME);
	x->value.v.i = 5;
	x->has_time = true;
	x->time = 1.25;
	x->prefix = strdup("dev");
	add(&n, "/1/0/12", LWM2M_TYPE_NONE)->kind = LWM2M_NODE_EMPTY_MULTIPLE;
	add(&n, "/1/1", LWM2M_TYPE_NONE)->kind = LWM2M_NODE_EMPTY_INSTANCE;
	s = dump(&n);
	assert_string_equal(s,
		"[{\"path\":\"/1/0/1\",\"type\":\"integer\",\"value\":9007199254740992},"
		"{\"path\":\"/1/0/2\",\"type\":\"integer\",\"value\":\"-9007199254740993\"},"
		"{\"path\":\"/1/0/3\",\"type\":\"unsigned\",\"value\":\"18446744073709551615\"},"
		"{\"path\":\"/1/0/4\",\"type\":\"float\",\"value\":\"NaN\"},"
		"{\"path\":\"/1/0/5\",\"type\":\"float\",\"value\":\"-Infinity\"},"
		"{\"path\":\"/1/0/6\",\"type\":\"float\",\"value\":1.5},"
		"{\"path\":\"/1/0/7\",\"type\":\"boolean\",\"value\":true},"
		"{\"path\":\"/1/0/8\",\"type\":\"opaque\",\"value\":\"0abc\"},"
		"{\"path\":\"/1/0/9\",\"type\":\"objlnk\",\"value\":\"3:65535\"},"
		"{\"path\":\"/1/0/10\",\"type\":\"none\",\"value\":null},"
		"{\"path\":\"/1/0/11\",\"type\":\"time\",\"value\":5,\"time\":1.25,\"prefix\":\"dev\"},"
		"{\"path\":\"/1/0/12\",\"type\":\"multiple\",\"value\":[]},"
		"{\"path\":\"/1/1\",\"type\":\"instance\",\"value\":[]}]");

	/* and back, exactly */
	{
		json_error_t jerr;
		json_t *j = json_loads(s, 0, &jerr);
		struct lwm2m_nodes back;
		nodes_init(&back);
		assert_int_equal(node_json_to_nodes(j, &back, NULL), 0);
		assert_int_equal(back.count, n.count);
		for(size_t i = 0; i < n.count; i++){
			assert_int_equal(path_compare(&back.items[i].path, &n.items[i].path), 0);
			assert_int_equal(back.items[i].kind, n.items[i].kind);
			assert_true(value_equal(&back.items[i].value, &n.items[i].value));
			assert_int_equal(back.items[i].has_time, n.items[i].has_time);
		}
		assert_string_equal(back.items[10].prefix, "dev");
		assert_true(back.items[10].time == 1.25);
		nodes_free(&back);
		json_decref(j);
	}
	free(s);
	nodes_free(&n);
}

static int parse(const char *text, struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_ALLOW_NUL, &jerr);
	int rc;

	assert_non_null(j);
	rc = node_json_to_nodes(j, out, err);
	json_decref(j);
	return rc;
}

static void test_lenient_inputs(void **state)
{
	struct lwm2m_nodes n;

	(void)state;
	nodes_init(&n);
	assert_int_equal(parse("[{\"path\":\"/1/0/1\",\"type\":\"integer\",\"value\":\"-9223372036854775808\"},"
			"{\"path\":\"/1/0/2\",\"type\":\"float\",\"value\":3},"
			"{\"path\":\"/1/0/3\",\"type\":\"opaque\",\"value\":\"ABcd\"},"
			"{\"path\":\"/1/0/4\",\"type\":\"Unsigned Integer\",\"value\":7},"
			"{\"path\":\"/1/0/5\",\"type\":\"time\",\"value\":2.0},"
			"{\"path\":\"/1/0/6\",\"type\":\"float\",\"value\":\"Infinity\"},"
			"{\"path\":\"\",\"type\":\"string\",\"value\":\"a\\u0000b\"}]", &n, NULL), 0);
	assert_int_equal(n.count, 7);
	assert_true(n.items[0].value.v.i == INT64_MIN);
	assert_int_equal(n.items[1].value.type, LWM2M_TYPE_FLOAT);
	assert_true(n.items[1].value.v.f == 3.0);
	assert_memory_equal(n.items[2].value.v.bytes.data, "\xab\xcd", 2);
	assert_int_equal(n.items[3].value.type, LWM2M_TYPE_UNSIGNED);
	assert_int_equal(n.items[4].value.v.i, 2);
	assert_true(isinf(n.items[5].value.v.f));
	assert_int_equal(n.items[6].path.len, 0);
	assert_int_equal(n.items[6].value.v.bytes.len, 3);
	nodes_free(&n);
}

static void test_refusals_leave_out_alone(void **state)
{
	static const char *const bad[] = {
		"{}",
		"[1]",
		"[{\"path\":\"/1/0/1\",\"type\":\"integer\"}]",
		"[{\"path\":\"/1/0/1\",\"type\":\"integer\",\"value\":1.5}]",
		"[{\"path\":\"/1/0/1\",\"type\":\"integer\",\"value\":\"9223372036854775808\"}]",
		"[{\"path\":\"/1/0/1\",\"type\":\"unsigned\",\"value\":-1}]",
		"[{\"path\":\"/1/0/1\",\"type\":\"opaque\",\"value\":\"abc\"}]",
		"[{\"path\":\"/1/0/1\",\"type\":\"opaque\",\"value\":\"zz\"}]",
		"[{\"path\":\"/1/0/1\",\"type\":\"objlnk\",\"value\":\"1-2\"}]",
		"[{\"path\":\"/1/0/1\",\"type\":\"boolean\",\"value\":1}]",
		"[{\"path\":\"/1/0/1\",\"type\":\"none\",\"value\":0}]",
		"[{\"path\":\"/1/0/1\",\"type\":\"multiple\",\"value\":[1]}]",
		"[{\"path\":\"/1/0/1\",\"type\":\"quaternion\",\"value\":1}]",
		"[{\"path\":\"/1/x\",\"type\":\"integer\",\"value\":1}]",
		"[{\"path\":\"/1/0/1\",\"type\":\"integer\",\"value\":1,\"time\":\"now\"}]",
		"[{\"path\":\"/1/0/1\",\"type\":\"integer\",\"value\":1,\"prefix\":7}]",
		"[{\"path\":\"/1/0/1\",\"type\":\"float\",\"value\":\"fast\"}]",
	};
	struct lwm2m_nodes n;
	struct lwm2m_error err;

	(void)state;
	nodes_init(&n);
	add(&n, "/9/9/9", LWM2M_TYPE_INTEGER);
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		err.msg[0] = '\0';
		if(parse(bad[i], &n, &err) == 0) fail_msg("accepted %s", bad[i]);
		assert_true(err.msg[0] != '\0');
		assert_int_equal(n.count, 1);
	}
	nodes_free(&n);
}

static void test_from_nodes_refusals(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;
	json_t *j = NULL;
	struct lwm2m_node *x;

	(void)state;
	nodes_init(&n);
	x = add(&n, "/1/0/1", LWM2M_TYPE_NONE);
	assert_int_equal(value_set_bytes(&x->value, LWM2M_TYPE_STRING, "\xff", 1), 0);
	assert_int_equal(node_json_from_nodes(&n, &j, &err), -LWM2M_EINVAL);
	assert_null(j);
	assert_non_null(strstr(err.msg, "/1/0/1"));
	nodes_free(&n);
}

static void test_node_list(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_value a = { 0 }, b = { 0 };

	(void)state;
	nodes_init(&n);
	/* sort: prefix NULL first, then depth-first path order, stable */
	add(&n, "/3/0/1", LWM2M_TYPE_INTEGER)->value.v.i = 1;
	add(&n, "/1/0/1", LWM2M_TYPE_INTEGER)->value.v.i = 2;
	add(&n, "/1/0/1", LWM2M_TYPE_INTEGER)->value.v.i = 3;
	add(&n, "/1/0", LWM2M_TYPE_NONE)->kind = LWM2M_NODE_EMPTY_INSTANCE;
	add(&n, "/1/0/1", LWM2M_TYPE_INTEGER)->prefix = strdup("a");
	add(&n, "/1/0/1/0", LWM2M_TYPE_INTEGER)->value.v.i = 4;
	for(int i = 0; i < 100; i++) add(&n, "/2/0/0", LWM2M_TYPE_INTEGER)->value.v.i = 100 + i;
	nodes_sort(&n);
	assert_int_equal(n.items[0].path.len, 2);
	assert_int_equal(n.items[1].value.v.i, 2);
	assert_int_equal(n.items[2].value.v.i, 3);
	assert_int_equal(n.items[3].value.v.i, 4);
	for(int i = 0; i < 100; i++) assert_int_equal(n.items[4 + i].value.v.i, 100 + i);
	assert_int_equal(n.items[104].path.ids[0], 3);
	assert_string_equal(n.items[105].prefix, "a");
	nodes_free(&n);
	nodes_free(&n);
	nodes_free(NULL);

	/* values */
	assert_int_equal(value_set_bytes(&a, LWM2M_TYPE_STRING, "x", 1), 0);
	assert_int_equal(a.v.bytes.data[1], '\0');
	assert_int_equal(value_copy(&b, &a), 0);
	assert_true(value_equal(&a, &b));
	assert_ptr_not_equal(a.v.bytes.data, b.v.bytes.data);
	b.type = LWM2M_TYPE_OPAQUE;
	assert_false(value_equal(&a, &b));
	b.type = LWM2M_TYPE_STRING;
	value_free(&a);
	value_free(&b);
	assert_int_equal(value_set_bytes(&a, LWM2M_TYPE_INTEGER, "x", 1), -LWM2M_ETYPE);
	a.type = LWM2M_TYPE_FLOAT;
	b.type = LWM2M_TYPE_FLOAT;
	a.v.f = 0.0;
	b.v.f = -0.0;
	assert_false(value_equal(&a, &b));
	a.v.f = NAN;
	b.v.f = NAN;
	assert_true(value_equal(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value_forms),
		cmocka_unit_test(test_lenient_inputs),
		cmocka_unit_test(test_refusals_leave_out_alone),
		cmocka_unit_test(test_from_nodes_refusals),
		cmocka_unit_test(test_node_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
