/* Unit tests of the simulator's Bootstrap interface on its object tree
 * (tools/lwm2m-sim/tree.c and tree_bs.c, built into this program: tools are not libraries)
 * and of its bootstrap options (cli.c).
 *
 * Writes go in as the Bootstrap-Server sends them: SenML JSON text written here by hand,
 * decoded by the format library with the object model. Expected link-format texts, object
 * lists and values are written from the rules of Core TS 5.2.7 / 6.1.7 and 6.2.1 (and the
 * ETS int-19 expectation in spec/lwm2m-bindings.md 6), not produced by the code under test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tools/lwm2m-sim/tree.c"
#include "tools/lwm2m-sim/tree_bs.c"
#include "tools/lwm2m-sim/cli.c"

#define BS_URI "mqtt://127.0.0.1:1883"
#define NOW 1700000000u

/* The writes of test_bootstrap.py's entry: a server account 101 whose /0 links /23/0. */
#define W_SEC "[{\"bn\":\"/0/1/\",\"n\":\"0\",\"vs\":\"mqtt://127.0.0.1:1883\"},{\"n\":\"1\",\"vb\":false}," \
	"{\"n\":\"2\",\"v\":3},{\"n\":\"10\",\"v\":101},{\"n\":\"27/0\",\"vlo\":\"23:0\"}]"
#define W_SRV "[{\"bn\":\"/1/1/\",\"n\":\"0\",\"v\":101},{\"n\":\"1\",\"v\":300},{\"n\":\"6\",\"vb\":true}," \
	"{\"n\":\"7\",\"vs\":\"M\"}]"
#define W_COSE "[{\"bn\":\"/23/0/\",\"n\":\"0\",\"vs\":\"kid-1\"},{\"n\":\"1\",\"v\":10}," \
	"{\"n\":\"2\",\"vs\":\"0123456789abcdef\"}]"
#define W_MQTT "[{\"bn\":\"/24/0/\",\"n\":\"5\",\"v\":60},{\"n\":\"6\",\"vs\":\"bsdev\"}]"

struct fixture {
	struct tree_model model;
	struct tree tree;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct lwm2m_error err;

	if(!f || tree_model_init(&f->model, &err) != 0) return -1;
	if(tree_init(&f->tree, &f->model, 7, NOW, 60, "M", BS_URI) != 0) return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tree_free(&f->tree);
	tree_model_free(&f->model);
	free(f);
	return 0;
}

/* ------------------------------------------------------------------ helpers ---- */

static struct lwm2m_path P(const char *s)
{
	struct lwm2m_path p;

	assert_int_equal(path_parse(s, strlen(s), &p, NULL), 0);
	return p;
}

static int bs_write_json(struct fixture *f, const char *target, const char *json)
{
	struct lwm2m_path p = P(target);
	struct lwm2m_nodes nodes;
	struct lwm2m_error err;
	int rc;

	nodes_init(&nodes);
	rc = fmt_decode(LWM2M_CF_SENML_JSON, (const uint8_t *)json, strlen(json), &p, &f->model.typer,
			NULL, &nodes, &err);
	if(rc) fail_msg("decoding %s: %s", json, err.msg);
	rc = tree_bs_write(&f->tree, &p, &nodes, NOW);
	nodes_free(&nodes);
	return rc;
}

static void write_account(struct fixture *f)
{
	assert_int_equal(bs_write_json(f, "/0/1", W_SEC), 0);
	assert_int_equal(bs_write_json(f, "/1/1", W_SRV), 0);
	assert_int_equal(bs_write_json(f, "/23/0", W_COSE), 0);
	assert_int_equal(bs_write_json(f, "/24/0", W_MQTT), 0);
}

static void assert_text(struct lwm2m_buf *b, const char *want)
{
	size_t n = strlen(want);

	if(b->len != n || memcmp(b->data, want, n) != 0){
		fail_msg("\"%.*s\" is not \"%s\"", (int)b->len, (const char *)b->data, want);
	}
}

static void assert_object_list(const struct tree *t, const char *want)
{
	struct lwm2m_buf b;

	buf_init(&b, 0);
	assert_int_equal(tree_object_list(t, &b), 0);
	assert_text(&b, want);
	buf_free(&b);
}

static void assert_discover(const struct tree *t, const char *path, const char *want)
{
	struct lwm2m_path p = P(path);
	struct lwm2m_buf b;

	buf_init(&b, 0);
	assert_int_equal(tree_bs_discover(t, &p, "1.2", &b), 0);
	assert_text(&b, want);
	buf_free(&b);
}

static bool exists_bs(const struct tree *t, uint16_t obj, uint16_t inst)
{
	const struct tree_obj *o = tree_find_obj(t, obj);

	return o && tree_find_inst(o, inst) != NULL;
}

/* The one value the LwM2M Server reads at path (a resource). */
static struct lwm2m_value read_one_value(const struct tree *t, const char *path, struct lwm2m_nodes *keep)
{
	struct lwm2m_path p = P(path);

	nodes_init(keep);
	assert_int_equal(tree_read(t, &p, keep), 0);
	assert_int_equal(keep->count, 1);
	return keep->items[0].value;
}

/* ------------------------------------------------------------------ tests ---- */

static void test_factory_tree(void **state)
{
	struct fixture *f = *state;
	struct lwm2m_nodes nodes;
	struct tree_account acc;
	struct lwm2m_error err;
	struct lwm2m_buf b;
	struct lwm2m_path p;

	/* /0 and /23 never appear to the LwM2M Server; objects without instances do */
	assert_object_list(&f->tree, "</1>,</3/0>,</24>,</3303/0>");
	/* the Bootstrap-Server account has no ssid and no uri (ETS int-19 expectation) */
	assert_discover(&f->tree, "/", "lwm2m=\"1.2\",</0/0>,</1>,</3/0>,</23>,</24>,</3303/0>");
	assert_discover(&f->tree, "/0", "</0/0>");
	buf_init(&b, 0);
	assert_int_equal(tree_bs_account_links(&f->tree, &b), 0);
	assert_text(&b, "</0/0>");
	buf_free(&b);
	p = P("/0/0");
	nodes_init(&nodes);
	assert_int_equal(tree_read(&f->tree, &p, &nodes), -LWM2M_ENOENT);
	p = P("/0");
	assert_false(tree_exists(&f->tree, &p));
	nodes_free(&nodes);
	/* nothing to register with yet */
	assert_int_equal(tree_bs_commit(&f->tree, &acc, &err), -LWM2M_ENOENT);
}

static void test_sequence(void **state)
{
	struct fixture *f = *state;
	struct lwm2m_nodes keep;
	struct tree_account acc;
	struct lwm2m_error err;
	struct cose_key key;
	struct lwm2m_value v;
	struct lwm2m_path p;

	p = P("/0");
	assert_int_equal(tree_bs_delete(&f->tree, &p), 0);
	assert_true(exists_bs(&f->tree, 0, 0));   /* the Bootstrap-Server account stays */
	p = P("/1");
	assert_int_equal(tree_bs_delete(&f->tree, &p), 0);
	write_account(f);

	assert_object_list(&f->tree, "</1/1>,</3/0>,</24/0>,</3303/0>");
	assert_discover(&f->tree, "/", "lwm2m=\"1.2\",</0/0>,</0/1>;ssid=101;uri=\"mqtt://127.0.0.1:1883\","
			"</1/1>;ssid=101,</3/0>,</23/0>;ssid=101,</24/0>,</3303/0>");

	assert_int_equal(tree_bs_commit(&f->tree, &acc, &err), 0);
	assert_true(acc.has_security);
	assert_int_equal(acc.security_inst, 1);
	assert_int_equal(acc.server_inst, 1);
	assert_int_equal(acc.ssid, 101);
	assert_true(acc.has_cose);
	assert_int_equal(acc.cose_inst, 0);
	assert_int_equal(tree_lifetime(&f->tree), 300);
	assert_string_equal(tree_binding(&f->tree), "M");
	assert_int_equal(tree_cose_key(&f->tree, 0, &key, &err), 0);
	assert_memory_equal(key.key, "0123456789abcdef", 16);
	assert_int_equal(key.kid_len, 5);
	assert_memory_equal(key.kid, "kid-1", 5);

	/* the LwM2M Server sees /1, /24 (read-only /1/x/0 included), never /0 or /23 */
	v = read_one_value(&f->tree, "/1/1/1", &keep);
	assert_int_equal(v.v.i, 300);
	nodes_free(&keep);
	v = read_one_value(&f->tree, "/24/0/6", &keep);
	assert_string_equal((const char *)v.v.bytes.data, "bsdev");
	nodes_free(&keep);
	nodes_init(&keep);
	p = P("/23/0");
	assert_int_equal(tree_read(&f->tree, &p, &keep), -LWM2M_ENOENT);
	p = P("/0/1/0");
	assert_int_equal(tree_read(&f->tree, &p, &keep), -LWM2M_ENOENT);
	assert_int_equal(tree_read_all(&f->tree, &keep), 0);
	for(size_t i = 0; i < keep.count; i++){
		assert_true(keep.items[i].path.ids[0] != 0 && keep.items[i].path.ids[0] != 23);
	}
	nodes_free(&keep);

	/* "/" keeps only the Bootstrap-Server account and the Device instance */
	p = P("/");
	assert_int_equal(tree_bs_delete(&f->tree, &p), 0);
	assert_discover(&f->tree, "/", "lwm2m=\"1.2\",</0/0>,</1>,</3/0>,</23>,</24>,</3303>");
}

static void test_delete_refusals(void **state)
{
	struct fixture *f = *state;
	static const char *const refused[] = { "/0/0", "/3", "/3/0", "/0/0/1", "/1/0/1/0" };
	static const char *const absent[] = { "/1/4", "/5", "/5/0", "/3303/9" };

	for(size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++){
		struct lwm2m_path p = P(refused[i]);
		assert_int_equal(tree_bs_delete(&f->tree, &p), -LWM2M_EINVAL);
	}
	for(size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++){
		struct lwm2m_path p = P(absent[i]);
		assert_int_equal(tree_bs_delete(&f->tree, &p), 0);
	}
	assert_true(exists_bs(&f->tree, 0, 0));
	assert_true(exists_bs(&f->tree, 3303, 0));
	/* /23 and /24 instances the Bootstrap-Server account links are its own too */
	assert_int_equal(bs_write_json(f, "/23/4", "[{\"bn\":\"/23/4/\",\"n\":\"1\",\"v\":10}]"), 0);
	assert_int_equal(bs_write_json(f, "/0/0", "[{\"n\":\"/0/0/27/0\",\"vlo\":\"23:4\"}]"), 0);
	{
		struct lwm2m_path p = P("/23/4");
		assert_int_equal(tree_bs_delete(&f->tree, &p), -LWM2M_EINVAL);
		p = P("/23");
		assert_int_equal(tree_bs_delete(&f->tree, &p), 0);
	}
	assert_true(exists_bs(&f->tree, 23, 4));
}

static void test_write_rules(void **state)
{
	struct fixture *f = *state;
	struct lwm2m_nodes keep;
	struct lwm2m_value v;
	const struct tree_res *r;

	write_account(f);
	/* a wrong type (the decoder would have refused it: built by hand), a value out of
	 * range, or a resource that holds no value: nothing written */
	{
		struct lwm2m_nodes nodes;
		struct lwm2m_node *n;
		struct lwm2m_path p = P("/1/2");

		nodes_init(&nodes);
		n = nodes_push(&nodes);
		n->path = P("/1/2/0");
		n->value.type = LWM2M_TYPE_INTEGER;
		n->value.v.i = 5;
		n = nodes_push(&nodes);
		n->path = P("/1/2/7");
		n->value.type = LWM2M_TYPE_INTEGER;
		n->value.v.i = 1;
		assert_int_equal(tree_bs_write(&f->tree, &p, &nodes, NOW), -LWM2M_ETYPE);
		nodes_free(&nodes);
	}
	assert_false(exists_bs(&f->tree, 1, 2));
	assert_int_equal(bs_write_json(f, "/1/1", "[{\"n\":\"/1/1/1\",\"v\":0}]"), -LWM2M_ERANGE);
	assert_int_equal(bs_write_json(f, "/1/1", "[{\"n\":\"/1/1/7\",\"vs\":\"X\"}]"), -LWM2M_ERANGE);
	assert_int_equal(bs_write_json(f, "/1/1", "[{\"n\":\"/1/1/8\",\"vs\":\"\"}]"), -LWM2M_EINVAL);
	/* single-instance Device object; an object the device does not have */
	assert_int_equal(bs_write_json(f, "/3/1", "[{\"n\":\"/3/1/14\",\"vs\":\"+01:00\"}]"), -LWM2M_EINVAL);
	assert_int_equal(bs_write_json(f, "/5/0", "[{\"n\":\"/5/0/1\",\"vs\":\"x\"}]"), -LWM2M_EINVAL);
	v = read_one_value(&f->tree, "/1/1/1", &keep);
	assert_int_equal(v.v.i, 300);
	nodes_free(&keep);

	/* written resources are replaced, the others stay */
	assert_int_equal(bs_write_json(f, "/1/1", "[{\"n\":\"/1/1/1\",\"v\":600}]"), 0);
	v = read_one_value(&f->tree, "/1/1/1", &keep);
	assert_int_equal(v.v.i, 600);
	nodes_free(&keep);
	v = read_one_value(&f->tree, "/1/1/7", &keep);
	assert_string_equal((const char *)v.v.bytes.data, "M");
	nodes_free(&keep);
	/* a multiple resource holds exactly the instances written */
	assert_int_equal(bs_write_json(f, "/0/1", "[{\"bn\":\"/0/1/27/\",\"n\":\"0\",\"vlo\":\"23:0\"},"
			"{\"n\":\"1\",\"vlo\":\"23:5\"}]"), 0);
	r = tree_find_res(tree_find_inst(tree_find_obj(&f->tree, 0), 1), 27);
	assert_int_equal(r->n_ri, 2);
	assert_int_equal(bs_write_json(f, "/0/1/27", "[{\"n\":\"/0/1/27/3\",\"vlo\":\"23:0\"}]"), 0);
	r = tree_find_res(tree_find_inst(tree_find_obj(&f->tree, 0), 1), 27);
	assert_int_equal(r->n_ri, 1);
	assert_int_equal(r->ri[0].id, 3);
	/* a server account created by the Bootstrap-Server can be told to update */
	{
		struct lwm2m_path p = P("/1/1/8");
		enum tree_action act;
		assert_int_equal(tree_execute(&f->tree, &p, &act), 0);
		assert_int_equal(act, TREE_ACT_UPDATE);
	}
	/* an instance written without content is created empty */
	{
		struct lwm2m_nodes none;
		struct lwm2m_path p = P("/24/3");
		nodes_init(&none);
		assert_int_equal(tree_bs_write(&f->tree, &p, &none, NOW), 0);
		assert_true(exists_bs(&f->tree, 24, 3));
	}
}

static void test_read(void **state)
{
	struct fixture *f = *state;
	struct lwm2m_nodes nodes;
	struct lwm2m_path p;

	write_account(f);
	nodes_init(&nodes);
	p = P("/1");
	assert_int_equal(tree_bs_read(&f->tree, &p, &nodes), 0);
	/* /1/1: 0, 1, 6, 7 have values; 8 is Execute-only */
	assert_int_equal(nodes.count, 4);
	assert_int_equal(nodes.items[0].path.ids[1], 1);
	assert_int_equal(nodes.items[3].path.ids[2], 7);
	nodes_free(&nodes);
	nodes_init(&nodes);
	p = P("/3");
	assert_int_equal(tree_bs_read(&f->tree, &p, &nodes), -LWM2M_EINVAL);
	p = P("/0/1");
	assert_int_equal(tree_bs_read(&f->tree, &p, &nodes), -LWM2M_EINVAL);
	p = P("/2");
	assert_int_equal(tree_bs_read(&f->tree, &p, &nodes), -LWM2M_ENOENT);
	p = P("/1/9");
	assert_int_equal(tree_bs_read(&f->tree, &p, &nodes), -LWM2M_ENOENT);
	assert_int_equal(nodes.count, 0);
	nodes_free(&nodes);
}

static void test_pack(void **state)
{
	struct fixture *f = *state;
	const char *pack = "[{\"bn\":\"/0/1/\",\"n\":\"0\",\"vs\":\"mqtt://127.0.0.1:1883\"},{\"n\":\"1\",\"vb\":false},"
		"{\"n\":\"10\",\"v\":101},{\"n\":\"27/0\",\"vlo\":\"23:0\"},"
		"{\"bn\":\"/1/1/\",\"n\":\"0\",\"v\":101},{\"n\":\"1\",\"v\":120},{\"n\":\"7\",\"vs\":\"MQ\"},"
		"{\"bn\":\"/23/0/\",\"n\":\"0\",\"vs\":\"k\"},{\"n\":\"1\",\"v\":10},{\"n\":\"2\",\"vs\":\"fedcba9876543210\"}]";
	struct lwm2m_nodes nodes;
	struct tree_account acc;
	struct lwm2m_error err;

	/* an account of an earlier bootstrap: the pack replaces the instances of /1 */
	assert_int_equal(bs_write_json(f, "/1/5", "[{\"bn\":\"/1/5/\",\"n\":\"0\",\"v\":5},{\"n\":\"1\",\"v\":9},"
			"{\"n\":\"7\",\"vs\":\"M\"}]"), 0);
	nodes_init(&nodes);
	assert_int_equal(fmt_decode(LWM2M_CF_SENML_JSON, (const uint8_t *)pack, strlen(pack), NULL,
			&f->model.typer, NULL, &nodes, &err), 0);
	assert_int_equal(tree_bs_pack(&f->tree, &nodes, NOW), 0);
	nodes_free(&nodes);
	assert_false(exists_bs(&f->tree, 1, 5));
	assert_true(exists_bs(&f->tree, 0, 0));
	assert_true(exists_bs(&f->tree, 3303, 0));   /* objects the pack does not carry stay */
	assert_int_equal(tree_bs_commit(&f->tree, &acc, &err), 0);
	assert_true(acc.has_cose);
	assert_int_equal(tree_lifetime(&f->tree), 120);
	assert_string_equal(tree_binding(&f->tree), "MQ");
	/* an empty pack is no configuration */
	nodes_init(&nodes);
	assert_int_equal(tree_bs_pack(&f->tree, &nodes, NOW), -LWM2M_EINVAL);
}

static void test_commit_inconsistent(void **state)
{
	struct fixture *f = *state;
	struct tree_account acc;
	struct lwm2m_error err;

	/* /0/1 names ssid 101, no /1 instance has it */
	assert_int_equal(bs_write_json(f, "/0/1", W_SEC), 0);
	assert_int_equal(tree_bs_commit(&f->tree, &acc, &err), -LWM2M_EINVAL);
	/* the account exists, but /0/1/27 links a /23 instance that does not */
	assert_int_equal(bs_write_json(f, "/1/1", W_SRV), 0);
	assert_int_equal(tree_bs_commit(&f->tree, &acc, &err), -LWM2M_EINVAL);
	/* a key of 15 bytes */
	assert_int_equal(bs_write_json(f, "/23/0", "[{\"bn\":\"/23/0/\",\"n\":\"1\",\"v\":10},"
			"{\"n\":\"2\",\"vs\":\"0123456789abcde\"}]"), 0);
	assert_int_equal(tree_bs_commit(&f->tree, &acc, &err), -LWM2M_EINVAL);
	/* an algorithm other than AES-CCM-16-64-128 */
	assert_int_equal(bs_write_json(f, "/23/0", "[{\"bn\":\"/23/0/\",\"n\":\"1\",\"v\":3},"
			"{\"n\":\"2\",\"vs\":\"0123456789abcdef\"}]"), 0);
	assert_int_equal(tree_bs_commit(&f->tree, &acc, &err), -LWM2M_EINVAL);
	assert_int_equal(bs_write_json(f, "/23/0", "[{\"n\":\"/23/0/1\",\"v\":10}]"), 0);
	assert_int_equal(tree_bs_commit(&f->tree, &acc, &err), 0);
	assert_true(acc.has_cose);
	/* a /1 instance without a lifetime */
	assert_int_equal(bs_write_json(f, "/0/2", "[{\"bn\":\"/0/2/\",\"n\":\"1\",\"vb\":false},{\"n\":\"10\",\"v\":7}]"), 0);
	assert_int_equal(bs_write_json(f, "/1/0", "[{\"bn\":\"/1/0/\",\"n\":\"0\",\"v\":7},{\"n\":\"7\",\"vs\":\"M\"}]"), 0);
	{
		struct lwm2m_path p = P("/0/1");
		assert_int_equal(tree_bs_delete(&f->tree, &p), 0);
	}
	assert_int_equal(tree_bs_commit(&f->tree, &acc, &err), -LWM2M_EINVAL);
}

static void test_account_without_security(void **state)
{
	struct fixture *f = *state;
	struct tree_account acc;
	struct lwm2m_error err;

	/* no /0 instance for a server at all: the first /1 instance, in clear */
	assert_int_equal(bs_write_json(f, "/1/3", "[{\"bn\":\"/1/3/\",\"n\":\"0\",\"v\":9},{\"n\":\"1\",\"v\":45},"
			"{\"n\":\"7\",\"vs\":\"M\"}]"), 0);
	assert_int_equal(tree_bs_commit(&f->tree, &acc, &err), 0);
	assert_false(acc.has_security);
	assert_false(acc.has_cose);
	assert_int_equal(acc.server_inst, 3);
	assert_int_equal(tree_lifetime(&f->tree), 45);
}

static void test_factory_without_bootstrap(void **state)
{
	struct fixture *f = *state;
	struct tree t;

	assert_int_equal(tree_init(&t, &f->model, 0, NOW, 77, "MQ", NULL), 0);
	assert_object_list(&t, "</1/0>,</3/0>,</3303/0>");
	assert_int_equal(tree_lifetime(&t), 77);
	assert_string_equal(tree_binding(&t), "MQ");
	tree_free(&t);
}

static int parse(struct sim_config *c, const char *a1, const char *a2, const char *a3, const char *a4)
{
	char *argv[6] = { (char *)"lwm2m-sim", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL };
	int argc = 1;
	FILE *null = fopen("/dev/null", "w");
	int rc;

	assert_non_null(null);
	while(argc < 5 && argv[argc]) argc++;
	rc = cli_parse(argc, argv, c, null);
	fclose(null);
	return rc;
}

static void test_cli(void **state)
{
	struct sim_config c;
	(void)state;

	assert_int_equal(parse(&c, NULL, NULL, NULL, NULL), 0);
	assert_false(c.bootstrap);
	assert_int_equal(parse(&c, "--bootstrap", NULL, NULL, NULL), 0);
	assert_true(c.bootstrap);
	assert_false(c.bootstrap_pack);
	assert_false(c.has_pct);
	assert_int_equal(parse(&c, "--bootstrap-pack", "--pct", "senml-cbor", NULL), 0);
	assert_true(c.bootstrap && c.bootstrap_pack && c.has_pct);
	assert_int_equal(c.pct, 112);
	assert_int_equal(parse(&c, "--bootstrap", "--pct", "11542", NULL), 0);
	assert_int_equal(c.pct, 11542);
	assert_int_equal(parse(&c, "--pct", "tlv", NULL, NULL), -1);               /* needs --bootstrap */
	assert_int_equal(parse(&c, "--bootstrap", "--pct", "nonsense", NULL), -1);
	assert_int_equal(parse(&c, "--bootstrap", "--http", "http://127.0.0.1:8090", NULL), 0);   /* bootstrap over HTTP */
	assert_true(c.bootstrap);
	assert_int_equal(parse(&c, "--bootstrap-pack", "--http", "http://127.0.0.1:8090", NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_factory_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_inconsistent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_account_without_security, setup, teardown),
		cmocka_unit_test_setup_teardown(test_factory_without_bootstrap, setup, teardown),
		cmocka_unit_test(test_cli),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
