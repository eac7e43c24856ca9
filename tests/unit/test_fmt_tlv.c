/* OMA TLV (objects/fmt_tlv.c, objects/tlv.h): records, values, nodes <-> TLV.
 * Expected bytes are worked out by hand from Core TS 1.2 section 7.4.3. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "objects/fmt.h"
#include "objects/tlv.h"
#include "fmt_test_util.h"

/* ---- a table typer: object 1000 has one resource per type ---- */

static enum lwm2m_type table_type(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	static const enum lwm2m_type types[] = {
		LWM2M_TYPE_STRING, LWM2M_TYPE_INTEGER, LWM2M_TYPE_UNSIGNED, LWM2M_TYPE_FLOAT,
		LWM2M_TYPE_BOOLEAN, LWM2M_TYPE_OPAQUE, LWM2M_TYPE_TIME, LWM2M_TYPE_OBJLNK,
		LWM2M_TYPE_CORELNK, LWM2M_TYPE_INTEGER,
	};
	(void)ctx;
	(void)prefix;
	if(p->len < 3 || p->ids[0] != 1000) return LWM2M_TYPE_NONE;
	if(p->ids[2] < sizeof(types) / sizeof(types[0])) return types[p->ids[2]];
	if(p->ids[2] == 300) return LWM2M_TYPE_BOOLEAN;
	return LWM2M_TYPE_NONE;
}

static int table_multiple(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	(void)ctx;
	(void)prefix;
	if(p->ids[0] != 1000) return -1;
	return p->ids[2] == 9 ? 1 : 0;
}

static const struct fmt_typer typer = { table_type, table_multiple, NULL };

/* ---- helpers ---- */

static int decode_hex(const char *hex, const char *req, struct lwm2m_nodes *out,
		struct lwm2m_error *err)
{
	static uint8_t buf[70000];
	size_t n = unhex(hex, buf);
	struct lwm2m_path p = P(req);
	return fmt_decode(LWM2M_CF_TLV, buf, n, &p, &typer, NULL, out, err);
}

static void assert_encodes(const struct lwm2m_nodes *in, const char *req, const char *hex)
{
	static uint8_t want[4096];
	size_t n = unhex(hex, want);
	struct lwm2m_buf out;
	struct lwm2m_error err = { 0 };
	struct lwm2m_path p = P(req);

	buf_init(&out, 0);
	if(fmt_encode(LWM2M_CF_TLV, in, &p, &typer, NULL, &out, &err) != 0) fail_msg("encode: %s", err.msg);
	assert_int_equal(out.len, n);
	assert_memory_equal(out.data, want, n);
	buf_free(&out);
}

static void add_int(struct lwm2m_nodes *n, const char *path, int64_t v)
{
	add_node(n, path, LWM2M_TYPE_INTEGER)->value.v.i = v;
}

static void add_str(struct lwm2m_nodes *n, const char *path, const char *s)
{
	struct lwm2m_node *node = add_node(n, path, LWM2M_TYPE_NONE);
	assert_int_equal(value_set_bytes(&node->value, LWM2M_TYPE_STRING, s, strlen(s)), 0);
}

/* ---- structural layer ---- */

static void test_record_header_forms(void **state)
{
	struct lwm2m_buf b;
	static uint8_t big[70000];

	(void)state;
	buf_init(&b, 0);
	/* 8-bit id, 3-bit length */
	assert_int_equal(tlv_write(&b, TLV_RESOURCE_VALUE, 1, "\x01\x2c", 2), 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "\xc2\x01\x01\x2c", 4);
	/* 16-bit id */
	buf_reset(&b);
	assert_int_equal(tlv_write(&b, TLV_RESOURCE_INSTANCE, 300, "\x01", 1), 0);
	assert_memory_equal(b.data, "\x61\x01\x2c\x01", 4);
	/* 8-bit length from 8 bytes on */
	buf_reset(&b);
	assert_int_equal(tlv_write_header(&b, TLV_RESOURCE_VALUE, 0, 8), 0);
	assert_memory_equal(b.data, "\xc8\x00\x08", 3);
	buf_reset(&b);
	assert_int_equal(tlv_write_header(&b, TLV_MULTIPLE_RESOURCE, 7, 256), 0);
	assert_memory_equal(b.data, "\x90\x07\x01\x00", 4);
	buf_reset(&b);
	assert_int_equal(tlv_write_header(&b, TLV_OBJECT_INSTANCE, 0xabcd, 65536), 0);
	assert_memory_equal(b.data, "\x38\xab\xcd\x01\x00\x00", 6);
	buf_reset(&b);
	assert_int_equal(tlv_write_header(&b, TLV_OBJECT_INSTANCE, 0, 0x1000000), -LWM2M_ETOOBIG);
	buf_free(&b);

	/* and back */
	{
		struct tlv_record r;
		size_t pos = 0;
		big[0] = 0x38; big[1] = 0xab; big[2] = 0xcd; big[3] = 0x01; big[4] = 0x00; big[5] = 0x00;
		assert_int_equal(tlv_read(big, 6 + 65536, &pos, 0, &r, NULL), 0);
		assert_int_equal(r.kind, TLV_OBJECT_INSTANCE);
		assert_int_equal(r.id, 0xabcd);
		assert_int_equal(r.len, 65536);
		assert_int_equal(pos, 6 + 65536);
		pos = 0;
		assert_int_equal(tlv_read(big, 6 + 65535, &pos, 0, &r, NULL), -LWM2M_EINVAL);
	}
	assert_string_equal(tlv_kind_name(TLV_MULTIPLE_RESOURCE), "MULTIPLE_RESOURCE");
	assert_int_equal(tlv_kind_parse("RESOURCE_VALUE"), TLV_RESOURCE_VALUE);
	assert_int_equal(tlv_kind_parse("nope"), -1);
}

static void test_read_never_past_the_end(void **state)
{
	/* an instance holding a multiple resource holding two instances */
	static const uint8_t rec[] = { 0x08, 0x00, 0x08, 0x86, 0x09, 0x41, 0x00, 0x01, 0x41, 0x01, 0x02 };
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(tlv_validate(rec, sizeof(rec), 0, NULL), 0);
	for(size_t n = 1; n < sizeof(rec); n++){
		uint8_t *copy = malloc(n);        /* exact-size copy: ASan sees any overread */
		memcpy(copy, rec, n);
		assert_int_not_equal(tlv_validate(copy, n, 0, &err), 0);
		free(copy);
	}
	/* kinds in the wrong container */
	assert_int_equal(tlv_validate((const uint8_t *)"\x03\x00\x41\x00\x01", 5, 0, &err), -LWM2M_EINVAL);
	assert_non_null(strstr(err.msg, "inside"));
	assert_int_equal(tlv_validate((const uint8_t *)"\x83\x00\xc1\x00\x01", 5, 0, &err), -LWM2M_EINVAL);
}

/* ---- values ---- */

static void assert_value_bytes(const struct lwm2m_value *v, const char *hex)
{
	uint8_t want[16];
	size_t n = unhex(hex, want);
	struct lwm2m_buf b;
	struct lwm2m_value back = { 0 };

	buf_init(&b, 0);
	assert_int_equal(tlv_value_encode(v, &b, NULL), 0);
	assert_int_equal(b.len, n);
	assert_memory_equal(b.data, want, n);
	assert_int_equal(tlv_value_decode(v->type, b.data, b.len, "v", 0, &back, NULL), 0);
	assert_true(value_equal(&back, v));
	value_free(&back);
	buf_free(&b);
}

static void test_value_widths(void **state)
{
	struct lwm2m_value v = { 0 };

	(void)state;
	v.type = LWM2M_TYPE_INTEGER;
	v.v.i = 127;  assert_value_bytes(&v, "7f");
	v.v.i = 128;  assert_value_bytes(&v, "0080");
	v.v.i = -129; assert_value_bytes(&v, "ff7f");
	v.v.i = 32768; assert_value_bytes(&v, "00008000");
	v.v.i = 2147483648LL; assert_value_bytes(&v, "0000000080000000");
	v.v.i = INT64_MIN; assert_value_bytes(&v, "8000000000000000");
	v.type = LWM2M_TYPE_TIME;
	v.v.i = 1367491215; assert_value_bytes(&v, "5182428f");
	/* unsigned keeps the top bit clear below 2^63 so signed readers agree */
	v.type = LWM2M_TYPE_UNSIGNED;
	v.v.u = 200; assert_value_bytes(&v, "00c8");
	v.v.u = 0x7fffffff; assert_value_bytes(&v, "7fffffff");
	v.v.u = 0x80000000u; assert_value_bytes(&v, "0000000080000000");
	v.v.u = UINT64_MAX; assert_value_bytes(&v, "ffffffffffffffff");
	v.type = LWM2M_TYPE_FLOAT;
	v.v.f = 1.5; assert_value_bytes(&v, "3ff8000000000000");
	v.v.f = -0.0; assert_value_bytes(&v, "8000000000000000");
	v.type = LWM2M_TYPE_BOOLEAN;
	v.v.b = true; assert_value_bytes(&v, "01");
	v.type = LWM2M_TYPE_OBJLNK;
	v.v.lnk.obj = 3; v.v.lnk.inst = 0x1234; assert_value_bytes(&v, "00031234");
}

static void test_value_decode_rules(void **state)
{
	struct lwm2m_value v = { 0 };
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(tlv_value_decode(LWM2M_TYPE_FLOAT, (const uint8_t *)"\x3f\xc0\x00\x00", 4, "x", 0,
			&v, NULL), 0);
	assert_true(v.v.f == 1.5);
	assert_int_equal(tlv_value_decode(LWM2M_TYPE_INTEGER, (const uint8_t *)"\x00\x00\x01", 3, "/1/0/1", 7,
			&v, &err), -LWM2M_EINVAL);
	assert_non_null(strstr(err.msg, "3 bytes"));
	assert_true(err.has_offset && err.offset == 7);
	assert_int_equal(tlv_value_decode(LWM2M_TYPE_BOOLEAN, (const uint8_t *)"\x02", 1, "x", 0, &v, NULL),
			-LWM2M_EINVAL);
	assert_int_equal(tlv_value_decode(LWM2M_TYPE_BOOLEAN, (const uint8_t *)"\x00\x01", 2, "x", 0, &v, NULL),
			-LWM2M_EINVAL);
	assert_int_equal(tlv_value_decode(LWM2M_TYPE_FLOAT, (const uint8_t *)"\x00\x00", 2, "x", 0, &v, NULL),
			-LWM2M_EINVAL);
	assert_int_equal(tlv_value_decode(LWM2M_TYPE_OBJLNK, (const uint8_t *)"\x00", 1, "x", 0, &v, NULL),
			-LWM2M_EINVAL);
	assert_int_equal(tlv_value_decode(LWM2M_TYPE_STRING, (const uint8_t *)"\xc3\x28", 2, "x", 0, &v, NULL),
			-LWM2M_EINVAL);
	assert_int_equal(tlv_value_decode(LWM2M_TYPE_NONE, (const uint8_t *)"\x01", 1, "x", 0, &v, &err),
			-LWM2M_ETYPE);
	assert_int_equal(tlv_value_decode(LWM2M_TYPE_OPAQUE, (const uint8_t *)"", 0, "x", 0, &v, NULL), 0);
	assert_int_equal(v.type, LWM2M_TYPE_OPAQUE);
	assert_int_equal(v.v.bytes.len, 0);
	value_free(&v);
	v.type = LWM2M_TYPE_NONE;
	{
		struct lwm2m_buf b;
		buf_init(&b, 0);
		assert_int_equal(tlv_value_encode(&v, &b, &err), -LWM2M_ENOTSUP);
		buf_free(&b);
	}
}

/* ---- nodes ---- */

static void test_decode_instance(void **state)
{
	struct lwm2m_nodes n;

	(void)state;
	nodes_init(&n);
	/* /1000/0: r1 = 1, r9 = {0: 1, 1: 2}, r300 = true (16-bit id) */
	assert_int_equal(decode_hex("c10101 8609 410001 410102 e1012c01", "/1000/0", &n, NULL), 0);
	assert_int_equal(n.count, 4);
	assert_int_equal(path_compare(&n.items[0].path, &(struct lwm2m_path){ 3, { 1000, 0, 1, 0 } }), 0);
	assert_int_equal(n.items[0].value.v.i, 1);
	assert_int_equal(n.items[1].path.len, 4);
	assert_int_equal(n.items[1].path.ids[3], 0);
	assert_int_equal(n.items[2].path.ids[3], 1);
	assert_int_equal(n.items[2].value.v.i, 2);
	assert_int_equal(n.items[3].path.ids[2], 300);
	assert_true(n.items[3].value.v.b);
	nodes_free(&n);

	/* the same wrapped in its instance record */
	assert_int_equal(decode_hex("08000f c10101 8609 410001 410102 e1012c01", "/1000/0", &n, NULL), 0);
	assert_int_equal(n.count, 4);
	nodes_free(&n);
	/* but not in another instance's record */
	assert_int_equal(decode_hex("08010f c10101 8609 410001 410102 e1012c01", "/1000/0", &n, NULL),
			-LWM2M_EINVAL);
	assert_int_equal(n.count, 0);
}

static void test_decode_object_and_markers(void **state)
{
	struct lwm2m_nodes n;

	(void)state;
	nodes_init(&n);
	/* /1000: instance 0 {r1 = 1}, instance 1 empty, instance 2 {r9 empty} */
	assert_int_equal(decode_hex("0300c10101 0001 0202 8009", "/1000", &n, NULL), 0);
	assert_int_equal(n.count, 3);
	assert_int_equal(n.items[0].kind, LWM2M_NODE_VALUE);
	assert_int_equal(n.items[1].kind, LWM2M_NODE_EMPTY_INSTANCE);
	assert_int_equal(n.items[1].path.len, 2);
	assert_int_equal(n.items[1].path.ids[1], 1);
	assert_int_equal(n.items[2].kind, LWM2M_NODE_EMPTY_MULTIPLE);
	assert_int_equal(n.items[2].path.ids[2], 9);
	nodes_free(&n);

	/* empty payloads: object, instance, multiple resource, single resource */
	assert_int_equal(decode_hex("", "/1000", &n, NULL), 0);
	assert_int_equal(n.count, 0);
	assert_int_equal(decode_hex("", "/1000/3", &n, NULL), 0);
	assert_int_equal(n.count, 1);
	assert_int_equal(n.items[0].kind, LWM2M_NODE_EMPTY_INSTANCE);
	nodes_free(&n);
	assert_int_equal(decode_hex("", "/1000/3/9", &n, NULL), 0);
	assert_int_equal(n.items[0].kind, LWM2M_NODE_EMPTY_MULTIPLE);
	nodes_free(&n);
	assert_int_equal(decode_hex("", "/1000/3/1", &n, NULL), -LWM2M_EINVAL);
}

static void test_decode_resource_levels(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;

	(void)state;
	nodes_init(&n);
	assert_int_equal(decode_hex("c4065182428f", "/1000/0/6", &n, NULL), 0);
	assert_int_equal(n.items[0].value.type, LWM2M_TYPE_TIME);
	assert_int_equal(n.items[0].value.v.i, 1367491215);
	nodes_free(&n);
	/* a resource record for another resource than asked */
	assert_int_equal(decode_hex("c10501", "/1000/0/6", &n, &err), -LWM2M_EINVAL);
	assert_non_null(strstr(err.msg, "request path /1000/0/6"));
	/* resource instance request: bare, or inside its multiple resource */
	assert_int_equal(decode_hex("410107", "/1000/0/9/1", &n, NULL), 0);
	assert_int_equal(n.items[0].value.v.i, 7);
	nodes_free(&n);
	assert_int_equal(decode_hex("8309410107", "/1000/0/9/1", &n, NULL), 0);
	assert_int_equal(n.count, 1);
	nodes_free(&n);
	assert_int_equal(decode_hex("8309410207", "/1000/0/9/1", &n, NULL), -LWM2M_EINVAL);
	/* an empty container restating the request path holds no answer for it */
	assert_int_equal(decode_hex("8009", "/1000/0/9/1", &n, &err), -LWM2M_EINVAL);
	assert_non_null(strstr(err.msg, "empty"));
	assert_int_equal(decode_hex("0000", "/1000/0/1", &n, &err), -LWM2M_EINVAL);
	/* a resource instance straight below an object */
	assert_int_equal(decode_hex("410107", "/1000", &n, NULL), -LWM2M_EINVAL);
	/* every TLV value lengths checked against the type */
	assert_int_equal(decode_hex("c301000001", "/1000/0/1", &n, &err), -LWM2M_EINVAL);
	assert_int_equal(n.count, 0);
}

static void test_decode_needs_types_and_paths(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;
	struct lwm2m_path root = { 0 };

	(void)state;
	nodes_init(&n);
	/* resource 77 has no type: an error that says so */
	assert_int_equal(decode_hex("c14d01", "/1000/0", &n, &err), -LWM2M_ETYPE);
	assert_non_null(strstr(err.msg, "type"));
	assert_non_null(strstr(err.msg, "/1000/0/77"));
	assert_int_equal(fmt_decode(LWM2M_CF_TLV, (const uint8_t *)"\xc1\x01\x01", 3, &root, &typer, NULL, &n,
			&err), -LWM2M_ENOTSUP);
	assert_int_equal(fmt_decode(LWM2M_CF_TLV, (const uint8_t *)"\xc1\x01\x01", 3, NULL, &typer, NULL, &n,
			&err), -LWM2M_ENOTSUP);
	/* duplicates */
	assert_int_equal(decode_hex("c10101c10102", "/1000/0", &n, &err), -LWM2M_EINVAL);
	assert_non_null(strstr(err.msg, "twice"));
	/* a single value and instances of the same resource */
	assert_int_equal(decode_hex("c10901 8303410001", "/1000/0", &n, &err), -LWM2M_EINVAL);
	assert_int_equal(n.count, 0);
}

static void test_decode_keeps_out_on_error(void **state)
{
	struct lwm2m_nodes n;

	(void)state;
	nodes_init(&n);
	add_int(&n, "/5/0/1", 9);
	assert_int_equal(decode_hex("c10101 c3", "/1000/0", &n, NULL), -LWM2M_EINVAL);
	assert_int_equal(n.count, 1);
	assert_int_equal(decode_hex("c10101", "/1000/0", &n, NULL), 0);
	assert_int_equal(n.count, 2);
	/* sorted: /5 after /1000? no: 5 < 1000 */
	assert_int_equal(n.items[0].path.ids[0], 5);
	nodes_free(&n);
}

static void test_decode_limits(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;
	struct fmt_limits lim = { .max_nodes = 2 };
	struct lwm2m_path req = P("/1000/0");
	uint8_t buf[9] = { 0xc1, 0x01, 0x01, 0xc1, 0x02, 0x02, 0xc1, 0x04, 0x01 };

	(void)state;
	nodes_init(&n);
	assert_int_equal(fmt_decode(LWM2M_CF_TLV, buf, 9, &req, &typer, &lim, &n, &err), -LWM2M_ETOOBIG);
	lim.max_nodes = 3;
	assert_int_equal(fmt_decode(LWM2M_CF_TLV, buf, 9, &req, &typer, &lim, &n, &err), 0);
	assert_int_equal(n.count, 3);
	nodes_free(&n);
}

static void test_truncations_fail_cleanly(void **state)
{
	static const char *hex = "08000f c10101 8609410001410102 e1012c01 0106 c00000 c10405";
	uint8_t full[64];
	size_t n = unhex(hex, full);
	struct lwm2m_path req = P("/1000");

	(void)state;
	for(size_t len = 0; len <= n; len++){
		uint8_t *copy = malloc(len ? len : 1);
		struct lwm2m_nodes out;
		memcpy(copy, full, len);
		nodes_init(&out);
		(void)fmt_decode(LWM2M_CF_TLV, copy, len, &req, &typer, NULL, &out, NULL);
		nodes_free(&out);
		free(copy);
	}
}

static void test_encode_levels(void **state)
{
	struct lwm2m_nodes n;

	(void)state;
	nodes_init(&n);
	add_int(&n, "/1000/0/1", 300);
	assert_encodes(&n, "/1000/0/1", "c201012c");
	assert_encodes(&n, "/1000/0", "c201012c");
	assert_encodes(&n, "/1000", "0400 c201012c");
	nodes_free(&n);

	/* instance with a multi-instance resource, given out of order */
	add_int(&n, "/1000/0/9/1", 2);
	add_int(&n, "/1000/0/1", 1);
	add_int(&n, "/1000/0/9/0", 1);
	assert_encodes(&n, "/1000/0", "c10101 8609 410001 410102");
	nodes_free(&n);

	add_int(&n, "/1000/0/9/0", 1);
	add_int(&n, "/1000/0/9/1", 2);
	assert_encodes(&n, "/1000/0/9", "8609 410001 410102");
	nodes_free(&n);
	add_int(&n, "/1000/0/9/1", 2);
	assert_encodes(&n, "/1000/0/9/1", "410102");
	nodes_free(&n);

	/* markers */
	add_node(&n, "/1000/0/9", LWM2M_TYPE_NONE)->kind = LWM2M_NODE_EMPTY_MULTIPLE;
	assert_encodes(&n, "/1000/0/9", "8009");
	nodes_free(&n);
	add_node(&n, "/1000/1", LWM2M_TYPE_NONE)->kind = LWM2M_NODE_EMPTY_INSTANCE;
	assert_encodes(&n, "/1000", "0001");
	assert_encodes(&n, "/1000/1", "");
	nodes_free(&n);
	assert_encodes(&n, "/1000/1", "");

	/* long values take longer length fields */
	add_str(&n, "/1000/0/0", "abcdefgh");
	assert_encodes(&n, "/1000/0/0", "c80008 6162636465666768");
	nodes_free(&n);
}

static void test_encode_refusals(void **state)
{
	struct lwm2m_nodes n;
	struct lwm2m_buf out;
	struct lwm2m_error err;
	struct lwm2m_path obj = P("/1000"), root = { 0 };

	(void)state;
	nodes_init(&n);
	buf_init(&out, 0);
	add_int(&n, "/1000/0/1", 1);
	add_int(&n, "/3/0/9", 1);
	assert_int_equal(fmt_encode(LWM2M_CF_TLV, &n, &root, &typer, NULL, &out, &err), -LWM2M_ENOTSUP);
	assert_int_equal(fmt_encode(LWM2M_CF_TLV, &n, NULL, &typer, NULL, &out, &err), -LWM2M_ENOTSUP);
	nodes_free(&n);

	add_int(&n, "/1000/0/1", 1);
	add_int(&n, "/1000/1/1", 1);
	add_int(&n, "/1000/0/1", 2);
	n.items[2].has_time = true;
	assert_int_equal(fmt_encode(LWM2M_CF_TLV, &n, &obj, &typer, NULL, &out, &err), -LWM2M_ENOTSUP);
	assert_non_null(strstr(err.msg, "two values"));
	assert_int_equal(out.len, 0);
	nodes_free(&n);

	add_int(&n, "/1000/0/1", 1);
	n.items[0].prefix = strdup("dev1");
	assert_int_equal(fmt_encode(LWM2M_CF_TLV, &n, &obj, &typer, NULL, &out, &err), -LWM2M_ENOTSUP);
	assert_non_null(strstr(err.msg, "prefix"));
	nodes_free(&n);

	add_node(&n, "/1000/0/10", LWM2M_TYPE_NONE);
	assert_int_equal(fmt_encode(LWM2M_CF_TLV, &n, &obj, &typer, NULL, &out, &err), -LWM2M_ENOTSUP);
	nodes_free(&n);

	/* outside the request path */
	add_int(&n, "/1000/0/1", 1);
	{
		struct lwm2m_path other = P("/1000/1");
		assert_int_equal(fmt_encode(LWM2M_CF_TLV, &n, &other, &typer, NULL, &out, &err), -LWM2M_EINVAL);
		assert_non_null(strstr(err.msg, "outside"));
	}
	/* output bound */
	{
		struct fmt_limits lim = { .max_output = 2 };
		assert_int_equal(fmt_encode(LWM2M_CF_TLV, &n, &obj, &typer, &lim, &out, &err), -LWM2M_ETOOBIG);
		assert_int_equal(out.len, 0);
		assert_int_equal(out.limit, 0);
	}
	nodes_free(&n);
	buf_free(&out);
}

static void test_convert_tlv_to_cbor_and_back(void **state)
{
	uint8_t tlv[32];
	size_t n = unhex("c10101 8609410001410102", tlv);
	struct lwm2m_path req = P("/1000/0");
	struct lwm2m_buf cbor, back;
	struct lwm2m_error err;

	(void)state;
	buf_init(&cbor, 0);
	buf_init(&back, 0);
	assert_int_equal(fmt_convert(LWM2M_CF_TLV, LWM2M_CF_LWM2M_CBOR, tlv, n, &req, &typer, NULL, &cbor,
			&err), 0);
	/* {[1000, 0]: {1: 1, 9: {0: 1, 1: 2}}} */
	assert_int_equal(cbor.len, 15);
	assert_memory_equal(cbor.data, "\xa1\x82\x19\x03\xe8\x00\xa2\x01\x01\x09\xa2\x00\x01\x01\x02", 15);
	assert_int_equal(fmt_convert(LWM2M_CF_LWM2M_CBOR, LWM2M_CF_TLV, cbor.data, cbor.len, &req, &typer, NULL,
			&back, &err), 0);
	assert_int_equal(back.len, n);
	assert_memory_equal(back.data, tlv, n);
	/* plain text cannot carry an instance */
	buf_reset(&back);
	assert_int_equal(fmt_convert(LWM2M_CF_TLV, LWM2M_CF_TEXT, tlv, n, &req, &typer, NULL, &back, &err),
			-LWM2M_ENOTSUP);
	assert_int_equal(back.len, 0);
	buf_free(&cbor);
	buf_free(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_header_forms),
		cmocka_unit_test(test_read_never_past_the_end),
		cmocka_unit_test(test_value_widths),
		cmocka_unit_test(test_value_decode_rules),
		cmocka_unit_test(test_decode_instance),
		cmocka_unit_test(test_decode_object_and_markers),
		cmocka_unit_test(test_decode_resource_levels),
		cmocka_unit_test(test_decode_needs_types_and_paths),
		cmocka_unit_test(test_decode_keeps_out_on_error),
		cmocka_unit_test(test_decode_limits),
		cmocka_unit_test(test_truncations_fail_cleanly),
		cmocka_unit_test(test_encode_levels),
		cmocka_unit_test(test_encode_refusals),
		cmocka_unit_test(test_convert_tlv_to_cbor_and_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
