/* CoRE link-format (objects/link_format.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "objects/link_format.h"

static const struct lf_limits strict_mode = { .strict = true };
static const struct lf_limits generic_mode = { .generic = true };

static int parse_with(const char *s, const struct lf_limits *lim, struct lf_links *out,
		struct lwm2m_error *err)
{
	return lf_parse(s, strlen(s), lim, out, err);
}

static void assert_refused(const char *s, const struct lf_limits *lim)
{
	struct lf_links l = { (struct lf_link *)1, 99 };
	struct lwm2m_error err;

	memset(&err, 0, sizeof(err));
	if(parse_with(s, lim, &l, &err) == 0){
		lf_links_free(&l);
		fail_msg("accepted %s", s);
	}
	assert_true(err.code != 0);
	assert_true(err.msg[0] != '\0');
	assert_null(l.items);            /* left empty */
	assert_int_equal(l.count, 0);
}

static void assert_attr(const struct lf_link *l, size_t i, const char *name, const char *value,
		bool quoted)
{
	assert_true(i < l->n_attrs);
	assert_string_equal(l->attrs[i].name, name);
	if(value) assert_string_equal(l->attrs[i].value, value);
	else assert_null(l->attrs[i].value);
	assert_int_equal(l->attrs[i].quoted, quoted);
}

static char *format_links(const struct lf_links *l, int *rc)
{
	struct lwm2m_buf b;
	char *s;

	buf_init(&b, 0);
	*rc = lf_format(l, &b);
	s = calloc(1, b.len + 1);
	assert_non_null(s);
	if(b.len) memcpy(s, b.data, b.len);
	buf_free(&b);
	return s;
}

/* ---- reading ---- */

static void test_parse_basic(void **state)
{
	struct lf_links l;

	(void)state;
	assert_int_equal(parse_with("</1/0>,</3/0>;ver=1.1;obs;rt=\"x y\",</5>", NULL, &l, NULL), 0);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.items[0].uri, "/1/0");
	assert_int_equal(l.items[0].n_attrs, 0);
	assert_false(l.items[0].bare);
	assert_string_equal(l.items[1].uri, "/3/0");
	assert_int_equal(l.items[1].n_attrs, 3);
	assert_attr(&l.items[1], 0, "ver", "1.1", false);
	assert_attr(&l.items[1], 1, "obs", NULL, false);
	assert_attr(&l.items[1], 2, "rt", "x y", true);
	assert_string_equal(l.items[2].uri, "/5");
	lf_links_free(&l);
	lf_links_free(&l);             /* freeing twice / NULL is harmless */
	lf_links_free(NULL);
	assert_int_equal(parse_with("", NULL, &l, NULL), 0);
	assert_int_equal(l.count, 0);
	assert_int_equal(lf_parse(NULL, 0, NULL, &l, NULL), 0);
}

static void test_parse_uri_forms(void **state)
{
	struct lf_links l;

	(void)state;
	assert_int_equal(parse_with("</0/1/>", NULL, &l, NULL), 0);       /* trailing '/' kept */
	assert_string_equal(l.items[0].uri, "/0/1/");
	lf_links_free(&l);
	assert_int_equal(parse_with("</a,b;c=d>;x=1", NULL, &l, NULL), 0);  /* ',' ';' inside <> */
	assert_string_equal(l.items[0].uri, "/a,b;c=d");
	assert_attr(&l.items[0], 0, "x", "1", false);
	lf_links_free(&l);
	assert_int_equal(parse_with("</%20x/a%2F>", NULL, &l, NULL), 0);  /* escapes kept as-is */
	assert_string_equal(l.items[0].uri, "/%20x/a%2F");
	lf_links_free(&l);
	assert_int_equal(parse_with("</>", NULL, &l, NULL), 0);
	assert_string_equal(l.items[0].uri, "/");
	lf_links_free(&l);
}

static void test_parse_whitespace(void **state)
{
	struct lf_links l;

	(void)state;
	/* LwM2M examples put a space (or a line break) after ',' */
	assert_int_equal(parse_with("</1/0>, </3/0>,\r\n\t</5>", NULL, &l, NULL), 0);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.items[2].uri, "/5");
	lf_links_free(&l);
	assert_refused("</1/0>, </3/0>", &strict_mode);
	/* anywhere else whitespace is refused in both modes */
	assert_refused("</1/0> ,</3/0>", NULL);
	assert_refused(" </1/0>", NULL);
	assert_refused("</1/0> ", NULL);
	assert_refused("</1/0>;ver=1.1 ", NULL);
	assert_refused("</1/0>; ver=1.1", NULL);
	assert_refused("</1/0>;ver =1.1", NULL);
	assert_refused("</1/0>;ver= 1.1", NULL);
	assert_refused("</1/0>, ", NULL);
	assert_refused("</1 0>", NULL);
}

static void test_parse_values(void **state)
{
	struct lf_links l;

	(void)state;
	assert_int_equal(parse_with("</f>;a=<;b=>;c=/;d=\"=\";e=\",;<>\"", NULL, &l, NULL), 0);
	assert_attr(&l.items[0], 0, "a", "<", false);
	assert_attr(&l.items[0], 1, "b", ">", false);
	assert_attr(&l.items[0], 2, "c", "/", false);
	assert_attr(&l.items[0], 3, "d", "=", true);
	assert_attr(&l.items[0], 4, "e", ",;<>", true);
	lf_links_free(&l);
	/* only \" is an escape; other backslash pairs are kept as written */
	assert_int_equal(parse_with("</f>;a=\"x\\\"y\";b=\"\\\\\";c=\"\\x\";d=\"\xc4\x85\\\xc4\x85\"", NULL,
			&l, NULL), 0);
	assert_attr(&l.items[0], 0, "a", "x\"y", true);
	assert_attr(&l.items[0], 1, "b", "\\\\", true);
	assert_attr(&l.items[0], 2, "c", "\\x", true);
	assert_attr(&l.items[0], 3, "d", "\xc4\x85\\\xc4\x85", true);
	lf_links_free(&l);
	assert_int_equal(parse_with("</f>;a=\"\"", NULL, &l, NULL), 0);   /* empty quoted value */
	assert_attr(&l.items[0], 0, "a", "", true);
	lf_links_free(&l);
}

static void test_parse_refused(void **state)
{
	static const char *const bad[] = {
		"</2/0></2/1>",            /* the Transport TS typo: missing ',' */
		"</2/0>,,</2/1>", "</2/0>,", "</2/0>;", "<>", "</", "/3/0>", "<3/0>", "</3/0",
		"</3/0>;p=\"x", "</3/0>;p=\"x\\\"", "</a?b>", "</a#b>", "</%>", "</%4>", "</%zz>",
		"<//x>", "<//>", "<file:///etc/hosts>", "</f\xc3\xb3>", "</a>;=1", "</a>;p=",
		"</a>;p=1,b", "</a>;p\xc4\x85", "</a>;p=\xc4\x85", "</a>;p=\"\x01\"",
		"</a>;p=\"\xc4\"", "</a>;p=\"\xed\xa0\x80\"", "</a>;p=\"\xc0\xaf\"", "</a>x",
		"</a>;p=1\"", "</a>;p=\"1\"x", ",</a>", "</a<b>", "</a>b>", "</a\x7f>",
	};

	(void)state;
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) assert_refused(bad[i], NULL);
}

static void test_parse_error_offsets(void **state)
{
	struct lf_links l;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(parse_with("</2/0></2/1>", NULL, &l, &err), -LWM2M_EINVAL);
	assert_true(err.has_offset);
	assert_int_equal(err.offset, 6);
	assert_int_equal(parse_with("</1>,</3/0>;p=\"abc", NULL, &l, &err), -LWM2M_EINVAL);
	assert_int_equal(err.offset, 14);     /* the opening quote */
	assert_int_equal(parse_with("</1>,</a?b>", NULL, &l, &err), -LWM2M_EINVAL);
	assert_int_equal(err.offset, 8);      /* the '?' */
	/* embedded NUL is a bad byte, and the length bounds the text */
	assert_int_equal(lf_parse("</1>\0,</2>", 10, NULL, &l, NULL), -LWM2M_EINVAL);
	assert_int_equal(lf_parse("</1>,</2>", 4, NULL, &l, NULL), 0);
	assert_int_equal(l.count, 1);
	lf_links_free(&l);
}

static void test_bare_root(void **state)
{
	struct lf_links l;
	int rc;
	char *s;

	(void)state;
	assert_int_equal(parse_with("lwm2m=\"1.2\",</0/0>,</0/1>;ssid=1;uri=\"mqtt://s.example\"", NULL,
			&l, NULL), 0);
	assert_int_equal(l.count, 3);
	assert_true(l.items[0].bare);
	assert_string_equal(l.items[0].uri, "/");
	assert_attr(&l.items[0], 0, "lwm2m", "1.2", true);
	assert_attr(&l.items[2], 1, "uri", "mqtt://s.example", true);
	s = format_links(&l, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, "lwm2m=\"1.2\",</0/0>,</0/1>;ssid=1;uri=\"mqtt://s.example\"");
	free(s);
	lf_links_free(&l);
	assert_int_equal(parse_with("lwm2m=1.0;x=1", NULL, &l, NULL), 0);
	assert_int_equal(l.items[0].n_attrs, 2);
	lf_links_free(&l);
	assert_refused("lwm2m=1.0,</0/0>", &strict_mode);
	assert_refused("</1>,lwm2m=1.0", NULL);    /* only first */
	assert_refused("foo=1,</1>", NULL);        /* only lwm2m= */
	assert_refused("lwm2m,</1>", NULL);
	assert_refused("lwm2m=1,</1>", NULL);      /* still a version */
}

static void test_lwm2m_values(void **state)
{
	static const char *const ok[] = {
		"</3/0/1>;pmin=5;pmax=200;epmin=1;epmax=9;hqmax=0;gt=-1.5e3;lt=-2000;st=0.5;edge=1;con=0",
		"</3/0/11>;dim=0", "</3/0/11>;dim=255", "</0/1>;ssid=1", "</0/1>;ssid=65534",
		"</3>;ver=1.1", "</3>;ver=\"1.1\"", "</3>;ver=10.20", "</>;lwm2m=1.2", "</>;ct=0",
		"</>;ct=65535", "</>;ct=\"110 112 11543\"", "</>;ct=\"60\"", "</1>;rt;obs;uri",
		"</1>;uri=\"coap://h:1\"",
	};
	static const char *const bad[] = {
		"</3/0/11>;pmin", "</3/0/11>;pmin=\"5\"", "</3/0/11>;pmin=-1", "</3/0/1>;gt",
		"</3/0/1>;gt=1.", "</3/0/1>;st=-1", "</3/0/1>;edge=2", "</3/0/1>;con", "</3/0/11>;dim=256",
		"</3/0/11>;dim", "</3/0/11>;dim=\"1\"", "</0/1>;ssid=0", "</0/1>;ssid=65535",
		"</3>;ver=1", "</3>;ver=1.", "</3>;ver=.1", "</3>;ver=a.b", "</3>;ver", "</>;lwm2m=1",
		"</>;ct=65536", "</>;ct=\"110  112\"", "</>;ct=\" 110\"", "</>;ct=\"110 \"", "</>;ct=\"\"",
		"</>;ct=a", "</>;ct", "</3>;ver=1.1;ver=1.2", "</3>;obs;obs",
	};
	struct lf_links l;

	(void)state;
	for(size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++){
		if(parse_with(ok[i], NULL, &l, NULL) != 0) fail_msg("refused %s", ok[i]);
		lf_links_free(&l);
	}
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		assert_refused(bad[i], NULL);
		/* generic link-format gives these names no meaning */
		if(parse_with(bad[i], &generic_mode, &l, NULL) != 0) fail_msg("generic refused %s", bad[i]);
		lf_links_free(&l);
	}
}

static void test_limits(void **state)
{
	struct lf_limits two_links = { .max_links = 2 }, two_attrs = { .max_attrs = 2 };
	struct lf_limits short_text = { .max_len = 8 };
	struct lf_links l;
	char *big;
	size_t n = 0;

	(void)state;
	assert_int_equal(parse_with("</1>,</2>", &two_links, &l, NULL), 0);
	lf_links_free(&l);
	assert_int_equal(parse_with("</1>,</2>,</3>", &two_links, &l, NULL), -LWM2M_ETOOBIG);
	assert_int_equal(parse_with("</1>;a;b", &two_attrs, &l, NULL), 0);
	lf_links_free(&l);
	assert_int_equal(parse_with("</1>;a;b;c", &two_attrs, &l, NULL), -LWM2M_ETOOBIG);
	assert_int_equal(parse_with("</1>,</2>", &short_text, &l, NULL), -LWM2M_ETOOBIG);
	/* the defaults hold too */
	big = malloc(LF_DEFAULT_MAX_LINKS * 5 + 8);
	assert_non_null(big);
	for(unsigned i = 0; i <= LF_DEFAULT_MAX_LINKS; i++){
		if(i) big[n++] = ',';
		memcpy(big + n, "</1>", 4);
		n += 4;
	}
	assert_int_equal(lf_parse(big, n, NULL, &l, NULL), -LWM2M_ETOOBIG);
	assert_int_equal(lf_parse(big, n - 5, NULL, &l, NULL), 0);
	assert_int_equal(l.count, LF_DEFAULT_MAX_LINKS);
	lf_links_free(&l);
	free(big);
}

static void test_attr_get(void **state)
{
	struct lf_links l;
	bool present = false;

	(void)state;
	assert_int_equal(parse_with("</3>;ver=1.1;obs", NULL, &l, NULL), 0);
	assert_string_equal(lf_attr_get(&l.items[0], "ver", &present), "1.1");
	assert_true(present);
	assert_null(lf_attr_get(&l.items[0], "obs", &present));
	assert_true(present);
	assert_null(lf_attr_get(&l.items[0], "rt", &present));
	assert_false(present);
	assert_null(lf_attr_get(&l.items[0], "VER", NULL));
	lf_links_free(&l);
}

/* ---- writing ---- */

static void test_format_exact(void **state)
{
	struct lf_attr a1[] = { { "ver", "1.1", false }, { "obs", NULL, false },
		{ "rt", "a \"b\" \\x", true } };
	struct lf_attr a2[] = { { "ct", "110 112", true } };
	struct lf_link links[] = { { "/", a2, 1, false }, { "/3/0", a1, 3, false }, { "/5", NULL, 0, false } };
	struct lf_links l = { links, 3 }, empty = { NULL, 0 };
	int rc;
	char *s;

	(void)state;
	s = format_links(&l, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, "</>;ct=\"110 112\",</3/0>;ver=1.1;obs;rt=\"a \\\"b\\\" \\x\",</5>");
	free(s);
	s = format_links(&empty, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, "");
	free(s);
}

static void test_format_refused(void **state)
{
	static const struct { const char *uri, *name, *value; bool quoted; } bad[] = {
		{ "", "a", NULL, false }, { "3/0", "a", NULL, false }, { "/a>b", "a", NULL, false },
		{ "/a b", "a", NULL, false }, { "//a", "a", NULL, false }, { "/%2", "a", NULL, false },
		{ "/a", "", NULL, false }, { "/a", "a b", NULL, false }, { "/a", "a=b", NULL, false },
		{ "/a", "a", "", false }, { "/a", "a", "x,y", false }, { "/a", "a", "x y", false },
		{ "/a", "a", "x\\", true }, { "/a", "a", "x\\\"", true }, { "/a", "a", "\n", true },
		{ "/a", "a", "\xff", true }, { "/a", "a", "x\"", false },
	};
	struct lwm2m_buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "ab", 2), 0);
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		struct lf_attr a = { (char *)bad[i].name, (char *)bad[i].value, bad[i].quoted };
		struct lf_link link[2] = { { "/ok", NULL, 0, false }, { (char *)bad[i].uri, &a, 1, false } };
		struct lf_links l = { link, 2 };
		if(lf_format(&l, &b) != -LWM2M_EINVAL) fail_msg("wrote case %zu", i);
		assert_int_equal(b.len, 2);            /* nothing appended */
	}
	{
		/* a bare link only first, and only as lwm2m=<value> */
		struct lf_attr lw = { "lwm2m", "1.0", false }, other = { "x", "1", false };
		struct lf_link ok = { "/1", NULL, 0, false };
		struct lf_link bare_lw = { "/", &lw, 1, true }, bare_x = { "/", &other, 1, true };
		struct lf_link second[2] = { ok, bare_lw }, first_x[1] = { bare_x };
		struct lf_links l1 = { second, 2 }, l2 = { first_x, 1 };
		assert_int_equal(lf_format(&l1, &b), -LWM2M_EINVAL);
		assert_int_equal(lf_format(&l2, &b), -LWM2M_EINVAL);
	}
	buf_free(&b);
}

static void assert_round_trip(const char *text, const char *canonical)
{
	struct lf_links a, b;
	int rc;
	char *s;

	if(parse_with(text, NULL, &a, NULL) != 0) fail_msg("refused %s", text);
	s = format_links(&a, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, canonical);
	assert_int_equal(parse_with(s, &strict_mode, &b, NULL), a.items[0].bare ? -LWM2M_EINVAL : 0);
	if(a.items[0].bare) assert_int_equal(parse_with(s, NULL, &b, NULL), 0);
	assert_int_equal(a.count, b.count);
	for(size_t i = 0; i < a.count; i++){
		assert_string_equal(a.items[i].uri, b.items[i].uri);
		assert_int_equal(a.items[i].bare, b.items[i].bare);
		assert_int_equal(a.items[i].n_attrs, b.items[i].n_attrs);
		for(size_t k = 0; k < a.items[i].n_attrs; k++){
			const struct lf_attr *x = &a.items[i].attrs[k], *y = &b.items[i].attrs[k];
			assert_string_equal(x->name, y->name);
			assert_int_equal(x->quoted, y->quoted);
			assert_int_equal(x->value == NULL, y->value == NULL);
			if(x->value) assert_string_equal(x->value, y->value);
		}
	}
	free(s);
	lf_links_free(&a);
	lf_links_free(&b);
}

static void test_round_trip(void **state)
{
	(void)state;
	assert_round_trip("</lwm2m>;rt=\"oma.lwm2m\",</lwm2m/1/101>,</lwm2m/1/102>,</lwm2m/2/0>",
			"</lwm2m>;rt=\"oma.lwm2m\",</lwm2m/1/101>,</lwm2m/1/102>,</lwm2m/2/0>");
	assert_round_trip("</>;ct=\"110 112\", </1/0>, </3/0>;ver=1.1",
			"</>;ct=\"110 112\",</1/0>,</3/0>;ver=1.1");
	assert_round_trip("</f>;p=\" \\\" \\\\ \\x \";q=!#$%&'()*+-.:<=>?@[]^_`{|}~a1z9;r",
			"</f>;p=\" \\\" \\\\ \\x \";q=!#$%&'()*+-.:<=>?@[]^_`{|}~a1z9;r");
	assert_round_trip("lwm2m=1.0,</0/0>;ssid=101", "lwm2m=1.0,</0/0>;ssid=101");
	assert_round_trip("</65535/0/0>;pmin=5;pmax=200", "</65535/0/0>;pmin=5;pmax=200");
}

/* ---- registration object list ---- */

static void assert_entry(const struct lf_object_list *o, size_t i, int obj, int inst,
		const char *ver, size_t n_attrs)
{
	assert_true(i < o->count);
	assert_int_equal(o->items[i].obj, obj);
	assert_int_equal(o->items[i].has_inst, inst >= 0);
	if(inst >= 0) assert_int_equal(o->items[i].inst, inst);
	if(ver) assert_string_equal(o->items[i].ver, ver);
	else assert_null(o->items[i].ver);
	assert_int_equal(o->items[i].n_attrs, n_attrs);
}

static int parse_list(const char *s, struct lf_object_list *o, struct lwm2m_error *err)
{
	return lf_parse_object_list(s, strlen(s), o, err);
}

static void test_object_list_leshan(void **state)
{
	struct lf_object_list o;

	(void)state;
	assert_int_equal(parse_list("</>;rt=\"oma.lwm2m\";ct=\"11542 11543 42\",</1/0>,</3/0>;ver=1.1,</5>",
			&o, NULL), 0);
	assert_string_equal(o.alt_path, "/");
	assert_int_equal(o.n_ct, 3);
	assert_int_equal(o.cts[0], 11542);
	assert_int_equal(o.cts[1], 11543);
	assert_int_equal(o.cts[2], 42);
	assert_int_equal(o.count, 3);
	assert_entry(&o, 0, 1, 0, NULL, 0);
	assert_entry(&o, 1, 3, 0, "1.1", 0);
	assert_entry(&o, 2, 5, -1, NULL, 0);
	lf_object_list_free(&o);
	lf_object_list_free(&o);
	lf_object_list_free(NULL);
}

static void test_object_list_zephyr(void **state)
{
	struct lf_object_list o;

	(void)state;
	assert_int_equal(parse_list("</>;ct=11543,</65535>;ver=1.1,</65535/0>,</0/1/>", &o, NULL), 0);
	assert_string_equal(o.alt_path, "/");
	assert_int_equal(o.n_ct, 1);
	assert_int_equal(o.cts[0], 11543);
	assert_entry(&o, 0, 65535, -1, "1.1", 0);
	assert_entry(&o, 1, 65535, 0, NULL, 0);
	assert_entry(&o, 2, 0, 1, NULL, 0);
	lf_object_list_free(&o);
}

static void test_object_list_alt_path(void **state)
{
	struct lf_object_list o;

	(void)state;
	assert_int_equal(parse_list("</lwm2m>;rt=\"oma.lwm2m\";ct=11543, </lwm2m/1/101>, </lwm2m/3/0>;"
			"ver=\"1.2\";obs;foo=\"bar\"", &o, NULL), 0);
	assert_string_equal(o.alt_path, "/lwm2m");
	assert_int_equal(o.n_ct, 1);
	assert_entry(&o, 0, 1, 101, NULL, 0);
	assert_entry(&o, 1, 3, 0, "1.2", 2);
	assert_string_equal(o.items[1].attrs[0].name, "obs");
	assert_null(o.items[1].attrs[0].value);
	assert_string_equal(o.items[1].attrs[1].name, "foo");
	assert_string_equal(o.items[1].attrs[1].value, "bar");
	assert_true(o.items[1].attrs[1].quoted);
	lf_object_list_free(&o);
	/* multi-segment, trailing '/' and a later root link */
	assert_int_equal(parse_list("</r/t/6/0>,</r/t/>;rt=\"x oma.lwm2m\"", &o, NULL), 0);
	assert_string_equal(o.alt_path, "/r/t");
	assert_int_equal(o.n_ct, 0);
	assert_entry(&o, 0, 6, 0, NULL, 0);
	lf_object_list_free(&o);
	/* no payload */
	assert_int_equal(parse_list("", &o, NULL), 0);
	assert_string_equal(o.alt_path, "/");
	assert_int_equal(o.count, 0);
	assert_int_equal(o.n_ct, 0);
	lf_object_list_free(&o);
	/* unquoted rt, root link without attributes */
	assert_int_equal(parse_list("</>,</a>;rt=oma.lwm2m,</a/2>", &o, NULL), 0);
	assert_string_equal(o.alt_path, "/a");
	assert_entry(&o, 0, 2, -1, NULL, 0);
	lf_object_list_free(&o);
}

static void test_object_list_refused(void **state)
{
	static const char *const bad[] = {
		"</3/0/1>",                                 /* deeper than an instance */
		"</3/a>", "</3/0x1>", "</65536>", "</3/65536>", "</3//>", "</3/0//>",
		"</lwm2m/3/0>",                             /* non-numeric without an alternate path */
		"</lwm2m>;rt=\"oma.lwm2m\",</3/0>",         /* outside the alternate path */
		"</lwm2m>;rt=\"oma.lwm2m\",</lwm2mx/3/0>", "</lwm2m>;rt=\"oma.lwm2m\",</lwm2m>",
		"</1>;rt=\"oma.lwm2m\"", "</a/1>;rt=\"oma.lwm2m\"", "</a//b>;rt=\"oma.lwm2m\"",
		"</a>;rt=\"oma.lwm2m\",</b>;rt=\"oma.lwm2m\"", "</>;ct=1,</>;ct=2", "</>,</>",
		"</lwm2m>;rt=\"oma.lwm2m\";ct=1,</>;ct=2",
		"</3/0>,</3/0>", "</3>,</3>", "</3>,</3/>", "</1/0>,</3/0>,</1/0/>",
		"</2/0></2/1>", "</>;ct=70000", "</3%2F0>", "</%33>",
	};
	struct lf_object_list o;
	struct lwm2m_error err;

	(void)state;
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		memset(&err, 0, sizeof(err));
		if(parse_list(bad[i], &o, &err) == 0){
			lf_object_list_free(&o);
			fail_msg("accepted %s", bad[i]);
		}
		assert_true(err.msg[0] != '\0');
		assert_null(o.items);
		assert_null(o.alt_path);
	}
	/* object and instance of the same object are not duplicates */
	assert_int_equal(parse_list("</3>;ver=1.1,</3/0>,</3/1>", &o, NULL), 0);
	assert_int_equal(o.count, 3);
	lf_object_list_free(&o);
}

static char *format_list(const struct lf_object_list *o, int *rc)
{
	struct lwm2m_buf b;
	char *s;

	buf_init(&b, 0);
	*rc = lf_format_object_list(o, &b);
	s = calloc(1, b.len + 1);
	assert_non_null(s);
	if(b.len) memcpy(s, b.data, b.len);
	buf_free(&b);
	return s;
}

static void test_object_list_format(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "</lwm2m>;rt=\"oma.lwm2m\";ct=\"110 112\",</lwm2m/1/0>,</lwm2m/3>;ver=1.1,</lwm2m/3/0>;obs",
		  "</lwm2m>;rt=\"oma.lwm2m\";ct=\"110 112\",</lwm2m/1/0>,</lwm2m/3>;ver=1.1,</lwm2m/3/0>;obs" },
		{ "</>;ct=11543,</65535>;ver=\"1.1\",</65535/0>",
		  "</>;ct=11543,</65535>;ver=1.1,</65535/0>" },
		{ "</>;rt=\"oma.lwm2m\",</1/0>, </3/0/>", "</1/0>,</3/0>" },
		{ "", "" },
	};
	struct lf_object_list o, again;
	int rc;

	(void)state;
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		char *s;
		assert_int_equal(parse_list(cases[i].in, &o, NULL), 0);
		s = format_list(&o, &rc);
		assert_int_equal(rc, 0);
		assert_string_equal(s, cases[i].out);
		assert_int_equal(parse_list(s, &again, NULL), 0);
		assert_int_equal(again.count, o.count);
		assert_int_equal(again.n_ct, o.n_ct);
		assert_string_equal(again.alt_path, o.alt_path);
		lf_object_list_free(&again);
		lf_object_list_free(&o);
		free(s);
	}
	{
		/* a bad version or alternate path is refused, nothing written */
		struct lf_object_entry e = { 3, false, 0, "x", NULL, 0 };
		struct lf_object_list l = { "/", NULL, 0, &e, 1 };
		char *s = format_list(&l, &rc);
		assert_int_equal(rc, -LWM2M_EINVAL);
		assert_string_equal(s, "");
		free(s);
		e.ver = NULL;
		l.alt_path = "/1";
		s = format_list(&l, &rc);
		assert_int_equal(rc, -LWM2M_EINVAL);
		free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_parse_uri_forms),
		cmocka_unit_test(test_parse_whitespace),
		cmocka_unit_test(test_parse_values),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_parse_error_offsets),
		cmocka_unit_test(test_bare_root),
		cmocka_unit_test(test_lwm2m_values),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_attr_get),
		cmocka_unit_test(test_format_exact),
		cmocka_unit_test(test_format_refused),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_object_list_leshan),
		cmocka_unit_test(test_object_list_zephyr),
		cmocka_unit_test(test_object_list_alt_path),
		cmocka_unit_test(test_object_list_refused),
		cmocka_unit_test(test_object_list_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
