/* Unit tests of the MQTT binding codec (binding/mqtt_codec.c). Byte vectors come from the
 * spec's worked examples (spec/lwm2m-bindings.md 1.12) or are written by hand here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "binding/mqtt_codec.h"

/* ------------------------------------------------------------------ helpers ---- */

struct bytes {
	uint8_t b[1024];
	size_t n;
};

static void hex(struct bytes *out, const char *h)
{
	out->n = 0;
	while(*h){
		unsigned v;
		if(*h == ' '){
			h++;
			continue;
		}
		assert_true(sscanf(h, "%2x", &v) == 1);
		assert_true(out->n < sizeof(out->b));
		out->b[out->n++] = (uint8_t)v;
		h += 2;
	}
}

static int dec_hex(struct bytes *m, const char *h, enum lwm2m_iface iface,
	struct lwm2m_op *op, struct lwm2m_error *err)
{
	hex(m, h);
	memset(err, 0, sizeof(*err));
	return mqtt_codec_decode(m->b, m->n, iface, NULL, op, err);
}

static void assert_view(struct lwm2m_view v, const void *p, size_t n)
{
	assert_int_equal(v.len, n);
	if(n) assert_memory_equal(v.ptr, p, n);
}

static void assert_view_str(struct lwm2m_view v, const char *s)
{
	assert_view(v, s, strlen(s));
}

static void assert_msg_has(const struct lwm2m_error *err, const char *part)
{
	if(!strstr(err->msg, part)){
		fail_msg("error message \"%s\" lacks \"%s\"", err->msg, part);
	}
}

/* Encode op and compare with the expected hex. */
static void assert_encodes(const struct lwm2m_op *op, enum lwm2m_iface iface, const char *h)
{
	struct lwm2m_buf b;
	struct lwm2m_error err = { 0 };
	struct bytes want;

	hex(&want, h);
	buf_init(&b, 0);
	assert_int_equal(mqtt_codec_encode(op, iface, &b, &err), 0);
	assert_int_equal(b.len, want.n);
	assert_memory_equal(b.data, want.b, want.n);
	buf_free(&b);
}

/* ------------------------------------------------------- spec examples (1.12) ---- */

static void test_spec_bootstrap_request(void **state)
{
	struct bytes m;
	struct lwm2m_op op;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(dec_hex(&m, "a2 01 00 02 18 2a", LWM2M_IFACE_BS, &op, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_BOOTSTRAP_REQUEST);
	assert_false(op.is_response);
	assert_int_equal(op.token, 42);
	assert_int_equal(op.fields, LWM2M_F_TOKEN);
	assert_encodes(&op, LWM2M_IFACE_BS, "a2 01 00 02 18 2a");
	/* code 0 does not exist on rd */
	assert_int_equal(dec_hex(&m, "a2 01 00 02 18 2a", LWM2M_IFACE_RD, &op, &err),
		-LWM2M_ENOTSUP);
}

static void test_spec_read(void **state)
{
	struct bytes m;
	struct lwm2m_op op;
	struct lwm2m_error err;
	const char *h = "a3 01 09 02 18 38 05 66 2f 33 2f 30 2f 30";

	(void)state;
	assert_int_equal(dec_hex(&m, h, LWM2M_IFACE_RD, &op, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_READ);
	assert_int_equal(op.token, 56);
	assert_int_equal(op.fields, LWM2M_F_TOKEN | LWM2M_F_URI);
	assert_view_str(op.uri, "/3/0/0");
	assert_ptr_equal(op.uri.ptr, m.b + 8);   /* zero copy: the view points into the input */
	assert_encodes(&op, LWM2M_IFACE_RD, h);
}

static void test_spec_generic_response_tstr_payload(void **state)
{
	struct bytes m;
	struct lwm2m_op op;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(dec_hex(&m, "a4 12 18 cd 02 18 38 13 00 07 74 4f 70 65 6e 20 4d 6f 62 69 6c"
		" 65 20 41 6c 6c 69 61 6e 63 65", LWM2M_IFACE_RD, &op, &err), 0);
	assert_true(op.is_response);
	assert_int_equal(op.kind, LWM2M_OP_NONE);
	assert_int_equal(op.result, 205);
	assert_int_equal(op.token, 56);
	assert_int_equal(op.content_format, 0);
	assert_int_equal(op.fields, LWM2M_F_TOKEN | LWM2M_F_RESULT | LWM2M_F_CT | LWM2M_F_PAYLOAD);
	assert_view_str(op.payload, "Open Mobile Alliance");
	/* re-encoded canonically: ascending keys, payload as bstr (0x54) */
	assert_encodes(&op, LWM2M_IFACE_RD, "a4 02 18 38 07 54 4f 70 65 6e 20 4d 6f 62 69 6c 65 20"
		" 41 6c 6c 69 61 6e 63 65 12 18 cd 13 00");
}

static void test_spec_send_erratum_is_notify(void **state)
{
	struct bytes m;
	struct lwm2m_op op;
	struct lwm2m_error err;
	static const uint8_t senml[] = { 0x82, 0xa3, 0x21, 0x65, 0x2f, 0x33, 0x2f, 0x30, 0x2f, 0x00,
		0x61, 0x39, 0x02, 0x0f, 0xa2, 0x00, 0x62, 0x32, 0x30, 0x02, 0x04 };

	(void)state;
	assert_int_equal(dec_hex(&m, "a4 01 17 02 18 4e 13 18 70 07 55 82 a3 21 65 2f 33 2f 30 2f 00"
		" 61 39 02 0f a2 00 62 32 30 02 04", LWM2M_IFACE_RD, &op, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_NOTIFY);
	assert_int_equal(op.token, 78);
	assert_int_equal(op.content_format, 112);
	assert_view(op.payload, senml, sizeof(senml));
	/* with the corrected code (24) it is a Send */
	assert_int_equal(dec_hex(&m, "a4 01 18 18 02 18 4e 13 18 70 07 55 82 a3 21 65 2f 33 2f 30 2f"
		" 00 61 39 02 0f a2 00 62 32 30 02 04", LWM2M_IFACE_RD, &op, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_SEND);
}

/* The illustrative canonical encodings of 1.12: decode, check, re-encode byte-exact. */
static void test_spec_illustrative_table(void **state)
{
	static const struct {
		const char *hex;
		enum lwm2m_iface iface;
		enum lwm2m_op_kind kind;
		bool response;
		uint64_t token;
		uint16_t result;
	} t[] = {
		{ "a601060201074d3c2f312f303e2c3c2f332f303e081a000151800963312e320a614d",
			LWM2M_IFACE_RD, LWM2M_OP_REGISTER, false, 1, 0 },
		{ "a202011218c9", LWM2M_IFACE_RD, LWM2M_OP_NONE, true, 1, 201 },
		{ "a30107020208190258", LWM2M_IFACE_RD, LWM2M_OP_UPDATE, false, 2, 0 },
		{ "a201080203", LWM2M_IFACE_RD, LWM2M_OP_DEREGISTER, false, 3, 0 },
		{ "a202031218ca", LWM2M_IFACE_RD, LWM2M_OP_NONE, true, 3, 202 },
		{ "a3011402184d05662f332f302f39", LWM2M_IFACE_RD, LWM2M_OP_OBSERVE, false, 77, 0 },
		{ "a402184d074239351218cd1300", LWM2M_IFACE_RD, LWM2M_OP_NONE, true, 77, 205 },
		{ "a4011702184d074239341300", LWM2M_IFACE_RD, LWM2M_OP_NOTIFY, false, 77, 0 },
		{ "a2011602184d", LWM2M_IFACE_RD, LWM2M_OP_CANCEL_OBSERVE, false, 77, 0 },
		{ "a6010e020505662f332f302f390c0a0d183c0ef95250", LWM2M_IFACE_RD,
			LWM2M_OP_WRITE_ATTRIBUTES, false, 5, 0 },
		{ "a5010c020605672f332f302f3133074a313336373439313231351300", LWM2M_IFACE_RD,
			LWM2M_OP_WRITE, false, 6, 0 },
		{ "a30110020705662f332f302f34", LWM2M_IFACE_RD, LWM2M_OP_EXECUTE, false, 7, 0 },
		{ "a4010b020805622f331601", LWM2M_IFACE_RD, LWM2M_OP_DISCOVER, false, 8, 0 },
		{ "a301000209041870", LWM2M_IFACE_BS, LWM2M_OP_BOOTSTRAP_REQUEST, false, 9, 0 },
		{ "a20105020a", LWM2M_IFACE_BS, LWM2M_OP_BOOTSTRAP_FINISH, false, 10, 0 },
		{ "a2020b12190194", LWM2M_IFACE_RD, LWM2M_OP_NONE, true, 11, 404 },
	};
	(void)state;
	for(size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++){
		struct bytes m;
		struct lwm2m_op op;
		struct lwm2m_error err;
		assert_int_equal(dec_hex(&m, t[i].hex, t[i].iface, &op, &err), 0);
		assert_int_equal(op.kind, t[i].kind);
		assert_int_equal(op.is_response, t[i].response);
		assert_int_equal(op.token, t[i].token);
		assert_int_equal(op.result, t[i].result);
		assert_encodes(&op, t[i].iface, t[i].hex);
	}
}

static void test_spec_register_fields(void **state)
{
	struct bytes m;
	struct lwm2m_op op;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(dec_hex(&m, "a601060201074d3c2f312f303e2c3c2f332f303e081a000151800963312e32"
		"0a614d", LWM2M_IFACE_RD, &op, &err), 0);
	assert_int_equal(op.lifetime, 86400);
	assert_view_str(op.version, "1.2");
	assert_view_str(op.binding, "M");
	assert_view_str(op.payload, "</1/0>,</3/0>");
	assert_false(op.fields & LWM2M_F_QUEUE);
	/* the same bytes on the bs interface are a Bootstrap-Pack-Request */
	assert_int_equal(dec_hex(&m, "a601060201074d3c2f312f303e2c3c2f332f303e081a000151800963312e32"
		"0a614d", LWM2M_IFACE_BS, &op, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_BOOTSTRAP_PACK_REQUEST);
}

static void test_spec_write_attributes_fields(void **state)
{
	struct bytes m;
	struct lwm2m_op op;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(dec_hex(&m, "a6010e020505662f332f302f390c0a0d183c0ef95250", LWM2M_IFACE_RD,
		&op, &err), 0);
	assert_true(op.fields & LWM2M_F_ATTRS);
	assert_int_equal(op.attrs.set, LWM2M_ATTR_BIT(LWM2M_ATTR_PMIN) |
		LWM2M_ATTR_BIT(LWM2M_ATTR_PMAX) | LWM2M_ATTR_BIT(LWM2M_ATTR_GT));
	assert_int_equal(op.attrs.pmin, 10);
	assert_int_equal(op.attrs.pmax, 60);
	assert_true(op.attrs.gt == 50.5);
	assert_int_equal(op.attrs.unset, 0);
}

static void test_spec_discover_depth(void **state)
{
	struct bytes m;
	struct lwm2m_op op;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(dec_hex(&m, "a4010b020805622f331601", LWM2M_IFACE_RD, &op, &err), 0);
	assert_true(op.fields & LWM2M_F_DEPTH);
	assert_int_equal(op.depth, 1);
	assert_view_str(op.uri, "/3");
	assert_int_equal(dec_hex(&m, "a301000209041870", LWM2M_IFACE_BS, &op, &err), 0);
	assert_true(op.fields & LWM2M_F_PCT);
	assert_int_equal(op.pct, 112);
}

/* ----------------------------------------------------------------- COSE ------ */

static void test_cose_unprotected_wrapper(void **state)
{
	struct bytes m;
	struct lwm2m_op op;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(dec_hex(&m, "a201f602a3010902183805662f332f302f30", LWM2M_IFACE_RD, &op,
		&err), 0);
	assert_int_equal(op.kind, LWM2M_OP_READ);
	assert_int_equal(op.token, 56);
	assert_view_str(op.uri, "/3/0/0");
	/* keys in the other order */
	assert_int_equal(dec_hex(&m, "a2 02 a3 01 09 02 18 38 05 66 2f 33 2f 30 2f 30 01 f6",
		LWM2M_IFACE_RD, &op, &err), 0);
	assert_int_equal(op.token, 56);
	/* a wrapper must hold only keys 1 and 2 */
	assert_int_equal(dec_hex(&m, "a3 01 f6 02 a2 01 08 02 03 03 61 78", LWM2M_IFACE_RD, &op,
		&err), -LWM2M_EINVAL);
	assert_msg_has(&err, "COSE wrapper");
	/* a wrapper inside a wrapper is not a message */
	assert_int_equal(dec_hex(&m, "a2 01 f6 02 a2 01 f6 02 a2 01 08 02 03", LWM2M_IFACE_RD, &op,
		&err), -LWM2M_EINVAL);
	/* key 1 null without a map under key 2 is just a bad operation */
	assert_int_equal(dec_hex(&m, "a2 01 f6 02 01", LWM2M_IFACE_RD, &op, &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "key 1 (operation): expected uint at byte 2");
	assert_int_equal(op.token, 1);
}

static void test_cose_protected_refused(void **state)
{
	struct bytes m;
	struct lwm2m_op op;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(dec_hex(&m, "a2 01 42 83 01 02 a0", LWM2M_IFACE_RD, &op, &err),
		-LWM2M_ENOTSUP);
	assert_msg_has(&err, "COSE-protected message");
	assert_int_equal(err.code, LWM2M_ENOTSUP);
}

static void test_cose_wrapped_malformed_keeps_token(void **state)
{
	struct bytes m;
	struct lwm2m_op op;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(dec_hex(&m, "a2 01 f6 02 a4 01 06 02 09 08 61 78 09 63 31 2e 32",
		LWM2M_IFACE_RD, &op, &err), -LWM2M_EINVAL);
	assert_true(op.fields & LWM2M_F_TOKEN);
	assert_int_equal(op.token, 9);
	assert_int_equal(op.kind, LWM2M_OP_REGISTER);
	assert_msg_has(&err, "key 8 (lifetime): expected uint at byte 10");
}

/* ------------------------------------------------------------ malformed ------ */

struct bad_case {
	const char *hex;
	enum lwm2m_iface iface;
	int rc;
	const char *msg;
};

static void run_bad(const struct bad_case *t, size_t n)
{
	for(size_t i = 0; i < n; i++){
		struct bytes m;
		struct lwm2m_op op;
		struct lwm2m_error err;
		int rc = dec_hex(&m, t[i].hex, t[i].iface, &op, &err);
		if(rc != t[i].rc){
			fail_msg("case %zu (%s): rc %d, want %d (%s)", i, t[i].hex, rc, t[i].rc, err.msg);
		}
		assert_int_equal(err.code, -t[i].rc);
		assert_msg_has(&err, t[i].msg);
	}
}

static void test_request_response_discrimination(void **state)
{
	static const struct bad_case t[] = {
		{ "a4 01 09 02 01 05 62 2f 33 12 18 cd", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"both key 1 (operation) and key 18 (result)" },
		{ "a1 02 01", LWM2M_IFACE_RD, -LWM2M_EINVAL, "neither key 1" },
		{ "a0", LWM2M_IFACE_BS, -LWM2M_EINVAL, "neither key 1" },
	};
	(void)state;
	run_bad(t, sizeof(t) / sizeof(t[0]));
}

static void test_missing_required_keys(void **state)
{
	static const struct bad_case t[] = {
		{ "a3 01 06 02 01 08 18 3c", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"Register: missing key 9 (version)" },
		{ "a3 01 06 02 01 09 63 31 2e 32", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"Register: missing key 8 (lifetime)" },
		{ "a2 01 09 02 01", LWM2M_IFACE_RD, -LWM2M_EINVAL, "Read: missing key 5 (uri)" },
		{ "a4 01 0c 02 01 05 62 2f 33 07 41 31", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"missing key 19 (ct)" },
		{ "a4 01 0c 02 01 05 62 2f 33 13 00", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"missing key 7 (payload)" },
		{ "a4 01 11 02 01 07 41 31 13 00", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"Create: missing key 5 (uri)" },
		{ "a3 01 0f 02 01 13 00", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"Write-Composite: missing key 7 (payload)" },
		{ "a2 01 0a 02 01", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"Read-Composite: missing key 6 (paths)" },
		{ "a2 01 15 02 01", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"Observe-Composite: missing key 6 (paths)" },
		{ "a3 01 18 18 02 01 13 18 70", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"Send: missing key 7 (payload)" },
		{ "a3 01 17 02 01 07 41 31", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"Notify: missing key 19 (ct)" },
		{ "a3 01 01 02 01 07 41 00", LWM2M_IFACE_BS, -LWM2M_EINVAL,
			"Bootstrap-Write: missing key 19 (ct)" },
		{ "a2 01 02 02 01", LWM2M_IFACE_BS, -LWM2M_EINVAL,
			"Bootstrap-Read: missing key 5 (uri)" },
		{ "a2 01 09 05 62 2f 33", LWM2M_IFACE_RD, -LWM2M_EINVAL, "missing key 2 (token)" },
		{ "a1 12 18 cd", LWM2M_IFACE_RD, -LWM2M_EINVAL, "missing key 2 (token)" },
	};
	(void)state;
	run_bad(t, sizeof(t) / sizeof(t[0]));
}

static void test_wrong_types_and_ranges(void **state)
{
	static const struct bad_case t[] = {
		{ "a4 01 06 02 01 08 61 78 09 63 31 2e 32", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 8 (lifetime): expected uint at byte 6" },
		{ "a3 01 09 02 01 05 03", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 5 (uri): expected text string at byte 6" },
		{ "a3 01 09 02 01 05 42 2f 33", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 5 (uri): expected text string" },
		{ "a3 01 0a 02 01 06 61 78", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 6 (paths): expected byte string" },
		{ "a4 01 18 18 02 01 07 01 13 00", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 7 (payload): expected byte or text string" },
		{ "a3 01 09 02 61 61 05 62 2f 33", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 2 (token): expected uint" },
		{ "a3 01 09 02 20 05 62 2f 33", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 2 (token): expected uint" },
		{ "a2 01 61 61 02 01", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 1 (operation): expected uint" },
		{ "a2 12 61 61 02 01", LWM2M_IFACE_RD, -LWM2M_EINVAL, "key 18 (result): expected uint" },
		{ "a2 12 18 63 02 01", LWM2M_IFACE_RD, -LWM2M_EINVAL, "99 is not a result code" },
		{ "a2 12 19 02 bc 02 01", LWM2M_IFACE_RD, -LWM2M_EINVAL, "700 is not a result code" },
		{ "a4 01 0e 02 01 05 62 2f 33 0e 61 61", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 14 (gt): expected number" },
		{ "a4 01 0e 02 01 05 62 2f 33 0f f5", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 15 (st): expected number" },
		{ "a4 01 0e 02 01 05 62 2f 33 0e f9 7e 00", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 14 (gt): number must be finite" },
		{ "a4 01 0e 02 01 05 62 2f 33 0c 20", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 12 (pmin): expected uint" },
		{ "a4 01 0e 02 01 05 62 2f 33 14 02", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 20 (edge): 2 out of range 0..1" },
		{ "a4 01 0e 02 01 05 62 2f 33 14 f5", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 20 (edge): expected uint" },
		{ "a4 01 0b 02 01 05 62 2f 33 16 04", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 22 (depth): 4 out of range 0..3" },
		{ "a3 12 18 cd 02 01 13 1a 00 01 00 00", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 19 (ct): 65536 out of range" },
		{ "a3 01 00 02 01 04 20", LWM2M_IFACE_BS, -LWM2M_EINVAL, "key 4 (pct): expected uint" },
		{ "a3 01 08 02 01 03 01", LWM2M_IFACE_RD, -LWM2M_EINVAL, "key 3 (ep): expected text" },
		{ "a4 01 06 02 01 08 18 3c 09 61 ff", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 9 (version): invalid UTF-8" },
		{ "a2 01 08 02 c1 03", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"key 2 (token): expected uint at byte 4 (found tag)" },
	};
	(void)state;
	run_bad(t, sizeof(t) / sizeof(t[0]));
}

static void test_operation_codes_per_interface(void **state)
{
	static const struct bad_case t[] = {
		{ "a2 01 13 02 01", LWM2M_IFACE_RD, -LWM2M_ENOTSUP, "code 19 is not valid on the rd" },
		{ "a2 01 18 19 02 01", LWM2M_IFACE_RD, -LWM2M_ENOTSUP, "code 25" },
		{ "a2 01 1b 00 00 00 01 00 00 00 00 02 01", LWM2M_IFACE_RD, -LWM2M_ENOTSUP,
			"code 4294967296" },
		/* valid on the other interface only */
		{ "a3 01 09 02 18 38 05 66 2f 33 2f 30 2f 30", LWM2M_IFACE_BS, -LWM2M_ENOTSUP,
			"code 9 is not valid on the bs interface" },
		{ "a2 01 05 02 01", LWM2M_IFACE_RD, -LWM2M_ENOTSUP, "code 5 is not valid on the rd" },
		{ "a2 01 07 02 01", LWM2M_IFACE_BS, -LWM2M_ENOTSUP, "code 7 is not valid on the bs" },
	};
	(void)state;
	run_bad(t, sizeof(t) / sizeof(t[0]));
}

static void test_structure_errors(void **state)
{
	static const struct bad_case t[] = {
		{ "a2 01 08 02 03 00", LWM2M_IFACE_RD, -LWM2M_EINVAL, "1 trailing bytes" },
		{ "a2 01 08 02 03 a0", LWM2M_IFACE_RD, -LWM2M_EINVAL, "trailing bytes after the map" },
		{ "a3 01 08 02 03 02 04", LWM2M_IFACE_RD, -LWM2M_EINVAL, "duplicate key 2 (token)" },
		{ "a3 01 08 02 03 01 08", LWM2M_IFACE_RD, -LWM2M_EINVAL, "duplicate key 1" },
		{ "a3 01 08 02 03 18 28 00 18 28 01", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"trailing bytes" /* 3 entries claimed, 4 given */ },
		{ "a4 01 08 02 03 18 28 00 18 28 01", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"duplicate key 40" },
		{ "01", LWM2M_IFACE_RD, -LWM2M_EINVAL, "expected a CBOR map at byte 0 (found uint)" },
		{ "80", LWM2M_IFACE_RD, -LWM2M_EINVAL, "expected a CBOR map" },
		{ "61 61", LWM2M_IFACE_RD, -LWM2M_EINVAL, "expected a CBOR map" },
		{ "f6", LWM2M_IFACE_RD, -LWM2M_EINVAL, "expected a CBOR map" },
		{ "", LWM2M_IFACE_RD, -LWM2M_EINVAL, "truncated" },
		{ "a3 01 08 02 03 61 78 01", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"map key at byte 5 is a text string, not an integer" },
		{ "a3 01 08 02 03 f6 01", LWM2M_IFACE_RD, -LWM2M_EINVAL, "not an integer" },
		{ "a2 01 08 02 1c", LWM2M_IFACE_RD, -LWM2M_EINVAL, "malformed" },
		{ "a2 01 08 ff 02 03", LWM2M_IFACE_RD, -LWM2M_EINVAL, "unexpected break at byte 3" },
		{ "bf 01 08 02 ff", LWM2M_IFACE_RD, -LWM2M_EINVAL, "break instead of a value" },
		{ "bf 01 08 02 03", LWM2M_IFACE_RD, -LWM2M_EINVAL, "truncated" },
		{ "a3 01 08 02 03 18 1e 9f 01 02", LWM2M_IFACE_RD, -LWM2M_EINVAL, "truncated" },
		{ "a3 01 08 02 03 18 1e 7f 41 61 ff", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"byte string inside an indefinite text string" },
		{ "a3 01 08 02 03 18 1e bf 01 ff", LWM2M_IFACE_RD, -LWM2M_EINVAL, "unexpected break" },
		{ "bb ff ff ff ff ff ff ff ff 01 08", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"exceeds the input" },
		{ "a3 01 08 02 03 18 1e 9b 00 00 00 01 00 00 00 00", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"exceeds the input" },
		{ "a3 01 08 02 03 18 1e 5b 7f ff ff ff ff ff ff ff", LWM2M_IFACE_RD, -LWM2M_EINVAL,
			"truncated" },
	};
	(void)state;
	run_bad(t, sizeof(t) / sizeof(t[0]));
}

static void test_indefinite_lengths(void **state)
{
	struct bytes m;
	struct lwm2m_op op;
	struct lwm2m_error err;

	(void)state;
	/* indefinite map: accepted */
	assert_int_equal(dec_hex(&m, "bf 01 08 02 03 ff", LWM2M_IFACE_RD, &op, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_DEREGISTER);
	assert_int_equal(op.token, 3);
	/* indefinite string in a known key: refused, token still reported */
	assert_int_equal(dec_hex(&m, "a4 01 18 18 02 01 13 00 07 5f 41 31 ff", LWM2M_IFACE_RD, &op,
		&err), -LWM2M_EINVAL);
	assert_msg_has(&err, "key 7 (payload): indefinite-length strings are not supported at byte 9");
	assert_int_equal(op.token, 1);
	assert_int_equal(op.kind, LWM2M_OP_SEND);
	assert_int_equal(dec_hex(&m, "a3 01 09 02 01 05 7f 62 2f 33 ff", LWM2M_IFACE_RD, &op, &err),
		-LWM2M_EINVAL);
	assert_msg_has(&err, "key 5 (uri): indefinite-length");
	/* inside an unknown key: well-formed, skipped */
	assert_int_equal(dec_hex(&m, "a3 01 08 02 03 18 1e 7f 61 61 61 62 ff", LWM2M_IFACE_RD, &op,
		&err), 0);
	assert_int_equal(dec_hex(&m, "a3 01 08 02 03 18 1e 9f 01 bf 01 5f ff ff ff", LWM2M_IFACE_RD,
		&op, &err), 0);
}

static void test_unknown_keys_ignored(void **state)
{
	struct bytes m;
	struct lwm2m_op op;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(dec_hex(&m, "a3 01 08 02 03 18 63 a1 01 83 01 02 a0", LWM2M_IFACE_RD, &op,
		&err), 0);
	assert_int_equal(op.kind, LWM2M_OP_DEREGISTER);
	assert_int_equal(op.fields, LWM2M_F_TOKEN);
	assert_int_equal(dec_hex(&m, "a3 01 08 02 03 20 61 78", LWM2M_IFACE_RD, &op, &err), 0);
	assert_int_equal(dec_hex(&m, "a3 01 08 02 03 00 f5", LWM2M_IFACE_RD, &op, &err), 0);
	assert_int_equal(dec_hex(&m, "a3 01 08 02 03 19 ff ff fb 3f f0 00 00 00 00 00 00",
		LWM2M_IFACE_RD, &op, &err), 0);
	assert_int_equal(dec_hex(&m, "a3 01 08 02 03 18 1e c1 00", LWM2M_IFACE_RD, &op, &err), 0);
	assert_int_equal(dec_hex(&m, "a3 01 08 02 03 18 1e d8 20 d8 20 a1 61 61 f7",
		LWM2M_IFACE_RD, &op, &err), 0);
	/* known but not listed for the op: still decoded */
	assert_int_equal(dec_hex(&m, "a3 01 09 02 01 05 62 2f 33", LWM2M_IFACE_RD, &op, &err), 0);
	assert_int_equal(dec_hex(&m, "a4 01 09 02 01 05 62 2f 33 03 63 65 70 31", LWM2M_IFACE_RD, &op,
		&err), 0);
	assert_true(op.fields & LWM2M_F_EP);
	assert_view_str(op.ep, "ep1");
}

/* An unknown key whose value nests `levels` arrays, under the default depth limit. */
static int decode_nested(unsigned levels, const struct mqtt_codec_limits *lim, bool indef)
{
	uint8_t b[4096];
	size_t n = 0;
	struct lwm2m_op op;
	struct lwm2m_error err;
	static const uint8_t head[] = { 0xa3, 0x01, 0x08, 0x02, 0x03, 0x18, 0x1e };

	memcpy(b, head, sizeof(head));
	n = sizeof(head);
	for(unsigned i = 0; i < levels && n < sizeof(b) - 2; i++) b[n++] = indef ? 0x9f : 0x81;
	b[n++] = 0x00;
	for(unsigned i = 0; indef && i < levels && n < sizeof(b); i++) b[n++] = 0xff;
	return mqtt_codec_decode(b, n, LWM2M_IFACE_RD, lim, &op, &err);
}

static void test_nesting_depth(void **state)
{
	struct mqtt_codec_limits lim = { 0, 3 };
	struct bytes m;
	struct lwm2m_op op;
	struct lwm2m_error err;

	(void)state;
	/* the message map is level 1: 7 nested arrays reach level 8 */
	assert_int_equal(decode_nested(7, NULL, false), 0);
	assert_int_equal(decode_nested(8, NULL, false), -LWM2M_EINVAL);
	assert_int_equal(decode_nested(7, NULL, true), 0);
	assert_int_equal(decode_nested(8, NULL, true), -LWM2M_EINVAL);
	assert_int_equal(decode_nested(2, &lim, false), 0);
	assert_int_equal(decode_nested(3, &lim, false), -LWM2M_EINVAL);
	assert_int_equal(decode_nested(2000, NULL, true), -LWM2M_EINVAL);
	hex(&m, "a3 01 08 02 03 18 1e 81 81 81 81 81 81 81 81 00");
	assert_int_equal(mqtt_codec_decode(m.b, m.n, LWM2M_IFACE_RD, NULL, &op, &err),
		-LWM2M_EINVAL);
	assert_msg_has(&err, "nested deeper than 8 levels at byte 14");
	assert_int_equal(op.token, 3);   /* the token came before */
}

static void test_payload_limit(void **state)
{
	struct mqtt_codec_limits lim = { 4, 0 };
	struct bytes m;
	struct lwm2m_op op;
	struct lwm2m_error err;

	(void)state;
	hex(&m, "a4 01 18 18 02 05 07 45 31 32 33 34 35 13 00");
	assert_int_equal(mqtt_codec_decode(m.b, m.n, LWM2M_IFACE_RD, &lim, &op, &err),
		-LWM2M_ETOOBIG);
	assert_msg_has(&err, "key 7 (payload): 5 bytes exceed the limit of 4");
	assert_int_equal(op.token, 5);
	assert_int_equal(op.kind, LWM2M_OP_SEND);
	lim.max_payload = 5;
	assert_int_equal(mqtt_codec_decode(m.b, m.n, LWM2M_IFACE_RD, &lim, &op, &err), 0);
	lim.max_payload = 0;   /* unlimited */
	assert_int_equal(mqtt_codec_decode(m.b, m.n, LWM2M_IFACE_RD, &lim, &op, &err), 0);
	/* paths count too */
	lim.max_payload = 1;
	hex(&m, "a3 01 0a 02 01 06 42 81 00");
	assert_int_equal(mqtt_codec_decode(m.b, m.n, LWM2M_IFACE_RD, &lim, &op, &err),
		-LWM2M_ETOOBIG);
}

static void test_readable_token_on_error(void **state)
{
	struct bytes m;
	struct lwm2m_op op;
	struct lwm2m_error err;

	(void)state;
	/* the bad key comes before the token: the walk goes on and finds it */
	assert_int_equal(dec_hex(&m, "a4 01 06 08 63 62 61 64 02 18 2a 09 63 31 2e 32",
		LWM2M_IFACE_RD, &op, &err), -LWM2M_EINVAL);
	assert_int_equal(op.fields, LWM2M_F_TOKEN);
	assert_int_equal(op.token, 42);
	assert_int_equal(op.kind, LWM2M_OP_REGISTER);
	assert_false(op.is_response);
	assert_msg_has(&err, "key 8 (lifetime): expected uint at byte 4");
	assert_true(err.has_offset);
	assert_int_equal(err.offset, 4);
	/* truncated after the token */
	assert_int_equal(dec_hex(&m, "a3 01 09 02 18 2a 05 66 2f 33", LWM2M_IFACE_RD, &op, &err),
		-LWM2M_EINVAL);
	assert_int_equal(op.token, 42);
	assert_int_equal(op.kind, LWM2M_OP_READ);
	/* malformed response */
	assert_int_equal(dec_hex(&m, "a3 12 18 cd 02 07 13 61 78", LWM2M_IFACE_RD, &op, &err),
		-LWM2M_EINVAL);
	assert_true(op.is_response);
	assert_int_equal(op.kind, LWM2M_OP_NONE);
	assert_int_equal(op.token, 7);
	/* op code of the other interface: token yes, kind unknown */
	assert_int_equal(dec_hex(&m, "a3 01 09 02 05 05 62 2f 33", LWM2M_IFACE_BS, &op, &err),
		-LWM2M_ENOTSUP);
	assert_int_equal(op.token, 5);
	assert_int_equal(op.kind, LWM2M_OP_NONE);
	/* token not a uint: not reported */
	assert_int_equal(dec_hex(&m, "a3 01 09 02 61 61 05 62 2f 33", LWM2M_IFACE_RD, &op, &err),
		-LWM2M_EINVAL);
	assert_false(op.fields & LWM2M_F_TOKEN);
	assert_int_equal(op.kind, LWM2M_OP_READ);
	/* a missing required key keeps the kind (Notify without ct) */
	assert_int_equal(dec_hex(&m, "a3 01 17 02 18 4d 07 41 31", LWM2M_IFACE_RD, &op, &err),
		-LWM2M_EINVAL);
	assert_int_equal(op.kind, LWM2M_OP_NOTIFY);
	assert_int_equal(op.token, 77);
}

/* Every prefix of a valid message is an error, and never a crash. */
static void test_truncation_every_prefix(void **state)
{
	static const char *const msgs[] = {
		"a4 12 18 cd 02 18 38 13 00 07 74 4f 70 65 6e 20 4d 6f 62 69 6c 65 20 41 6c 6c 69 61 6e"
			" 63 65",
		"a4 01 17 02 18 4e 13 18 70 07 55 82 a3 21 65 2f 33 2f 30 2f 00 61 39 02 0f a2 00 62 32"
			" 30 02 04",
		"a601060201074d3c2f312f303e2c3c2f332f303e081a000151800963312e320a614d",
		"a6010e020505662f332f302f390c0a0d183c0ef95250",
		"a201f602a3010902183805662f332f302f30",
		"bf 01 08 02 03 18 1e 9f 01 bf 01 5f ff ff ff ff",
		"a3 01 08 02 1b 00 00 00 01 00 00 00 00 18 1e 7f 61 61 61 62 ff",
	};
	(void)state;
	for(size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++){
		struct bytes m;
		struct lwm2m_op op;
		struct lwm2m_error err;
		hex(&m, msgs[i]);
		assert_int_equal(mqtt_codec_decode(m.b, m.n, LWM2M_IFACE_RD, NULL, &op, &err), 0);
		for(size_t n = 0; n < m.n; n++){
			/* a heap copy of exactly n bytes, so ASan sees any over-read */
			uint8_t *p = malloc(n ? n : 1);
			assert_non_null(p);
			memcpy(p, m.b, n);
			assert_true(mqtt_codec_decode(p, n, LWM2M_IFACE_RD, NULL, &op, &err) < 0);
			assert_true(mqtt_codec_decode(p, n, LWM2M_IFACE_BS, NULL, &op, &err) < 0);
			free(p);
		}
	}
}

static void test_queue_binding(void **state)
{
	struct bytes m;
	struct lwm2m_op op;
	struct lwm2m_error err;

	(void)state;
	/* {1: 7, 2: 2, 10: "MQ"} */
	assert_int_equal(dec_hex(&m, "a3 01 07 02 02 0a 62 4d 51", LWM2M_IFACE_RD, &op, &err), 0);
	assert_true(op.fields & LWM2M_F_QUEUE);
	assert_view_str(op.binding, "MQ");
	assert_encodes(&op, LWM2M_IFACE_RD, "a3 01 07 02 02 0a 62 4d 51");
	/* F_QUEUE with a binding lacking Q: Q appended */
	op_init(&op);
	op.kind = LWM2M_OP_UPDATE;
	op.token = 2;
	op.fields = LWM2M_F_TOKEN | LWM2M_F_BINDING | LWM2M_F_QUEUE;
	op.binding = op_view_str("M");
	assert_encodes(&op, LWM2M_IFACE_RD, "a3 01 07 02 02 0a 62 4d 51");
	/* F_QUEUE alone: "MQ" */
	op.fields = LWM2M_F_TOKEN | LWM2M_F_QUEUE;
	assert_encodes(&op, LWM2M_IFACE_RD, "a3 01 07 02 02 0a 62 4d 51");
}

/* ------------------------------------------------------------- round trips ---- */

static void fill_all(struct lwm2m_op *op, enum lwm2m_op_kind kind)
{
	static const uint8_t paths[] = { 0x81, 0xa1, 0x00, 0x62, 0x2f, 0x33 };
	static const uint8_t payload[] = { 0x00, 0xff, 0x10, 0x42 };

	op_init(op);
	op->kind = kind;
	op->token = 0x0102030405060708ull;
	op->fields = LWM2M_F_TOKEN | LWM2M_F_EP | LWM2M_F_PCT | LWM2M_F_URI | LWM2M_F_PATHS |
		LWM2M_F_PAYLOAD | LWM2M_F_LIFETIME | LWM2M_F_VERSION | LWM2M_F_BINDING | LWM2M_F_SMS |
		LWM2M_F_CT | LWM2M_F_DEPTH | LWM2M_F_ATTRS;
	op->ep = op_view_str("urn:imei:123456789012345");
	op->pct = 11543;
	op->uri = op_view_str("/3/0/9");
	op->paths.ptr = paths;
	op->paths.len = sizeof(paths);
	op->payload.ptr = payload;
	op->payload.len = sizeof(payload);
	op->lifetime = 4294967296ull;
	op->version = op_view_str("1.2");
	op->binding = op_view_str("M");
	op->sms = op_view_str("+12345");
	op->content_format = 65535;
	op->depth = 3;
	op->attrs.set = LWM2M_ATTR_BIT(LWM2M_ATTR_PMIN) | LWM2M_ATTR_BIT(LWM2M_ATTR_PMAX) |
		LWM2M_ATTR_BIT(LWM2M_ATTR_GT) | LWM2M_ATTR_BIT(LWM2M_ATTR_ST) |
		LWM2M_ATTR_BIT(LWM2M_ATTR_EPMIN) | LWM2M_ATTR_BIT(LWM2M_ATTR_EPMAX) |
		LWM2M_ATTR_BIT(LWM2M_ATTR_EDGE) | LWM2M_ATTR_BIT(LWM2M_ATTR_HQMAX);
	op->attrs.pmin = 1;
	op->attrs.pmax = UINT64_MAX;
	op->attrs.gt = -3.25;
	op->attrs.st = 0.1;
	op->attrs.epmin = 2;
	op->attrs.epmax = 300;
	op->attrs.edge = 1;
	op->attrs.hqmax = 24;
}

/* An op with the token and only the keys its operation requires. */
static struct lwm2m_op minimal_op(enum lwm2m_op_kind kind)
{
	struct lwm2m_op full, op;
	uint32_t need = LWM2M_F_TOKEN;

	switch(kind){
		case LWM2M_OP_REGISTER: need |= LWM2M_F_LIFETIME | LWM2M_F_VERSION; break;
		case LWM2M_OP_READ_COMPOSITE:
		case LWM2M_OP_OBSERVE_COMPOSITE: need |= LWM2M_F_PATHS; break;
		case LWM2M_OP_WRITE:
		case LWM2M_OP_WRITE_PARTIAL:
		case LWM2M_OP_CREATE: need |= LWM2M_F_URI | LWM2M_F_CT | LWM2M_F_PAYLOAD; break;
		case LWM2M_OP_BOOTSTRAP_WRITE:
		case LWM2M_OP_WRITE_COMPOSITE:
		case LWM2M_OP_NOTIFY:
		case LWM2M_OP_SEND: need |= LWM2M_F_CT | LWM2M_F_PAYLOAD; break;
		case LWM2M_OP_BOOTSTRAP_READ:
		case LWM2M_OP_BOOTSTRAP_DELETE:
		case LWM2M_OP_BOOTSTRAP_DISCOVER:
		case LWM2M_OP_READ:
		case LWM2M_OP_DISCOVER:
		case LWM2M_OP_WRITE_ATTRIBUTES:
		case LWM2M_OP_EXECUTE:
		case LWM2M_OP_DELETE:
		case LWM2M_OP_OBSERVE: need |= LWM2M_F_URI; break;
		default: break;
	}
	fill_all(&full, kind);
	op_init(&op);
	op.kind = kind;
	op.token = full.token;
	op.fields = need;
	if(need & LWM2M_F_URI) op.uri = full.uri;
	if(need & LWM2M_F_PATHS) op.paths = full.paths;
	if(need & LWM2M_F_PAYLOAD) op.payload = full.payload;
	if(need & LWM2M_F_VERSION) op.version = full.version;
	if(need & LWM2M_F_LIFETIME) op.lifetime = full.lifetime;
	if(need & LWM2M_F_CT) op.content_format = full.content_format;
	return op;
}

static void assert_same_op(const struct lwm2m_op *a, const struct lwm2m_op *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->is_response, b->is_response);
	assert_int_equal(a->result, b->result);
	assert_true(a->token == b->token);
	assert_int_equal(a->fields, b->fields);
	assert_view(b->ep, a->ep.ptr, a->ep.len);
	assert_view(b->uri, a->uri.ptr, a->uri.len);
	assert_view(b->paths, a->paths.ptr, a->paths.len);
	assert_view(b->payload, a->payload.ptr, a->payload.len);
	assert_view(b->version, a->version.ptr, a->version.len);
	assert_view(b->binding, a->binding.ptr, a->binding.len);
	assert_view(b->sms, a->sms.ptr, a->sms.len);
	assert_int_equal(a->pct, b->pct);
	assert_int_equal(a->content_format, b->content_format);
	assert_true(a->lifetime == b->lifetime);
	assert_int_equal(a->depth, b->depth);
	assert_int_equal(a->attrs.set, b->attrs.set);
	assert_true(a->attrs.pmin == b->attrs.pmin && a->attrs.pmax == b->attrs.pmax);
	assert_true(a->attrs.epmin == b->attrs.epmin && a->attrs.epmax == b->attrs.epmax);
	assert_true(a->attrs.hqmax == b->attrs.hqmax && a->attrs.edge == b->attrs.edge);
	assert_true(a->attrs.gt == b->attrs.gt && a->attrs.st == b->attrs.st);
}

static void round_trip(const struct lwm2m_op *op, enum lwm2m_iface iface)
{
	struct lwm2m_buf b;
	struct lwm2m_error err = { 0 };
	struct lwm2m_op back;

	buf_init(&b, 0);
	if(mqtt_codec_encode(op, iface, &b, &err) != 0) fail_msg("encode: %s", err.msg);
	if(mqtt_codec_decode(b.data, b.len, iface, NULL, &back, &err) != 0){
		fail_msg("decode %s: %s", op_kind_name(op->kind), err.msg);
	}
	assert_same_op(op, &back);
	buf_free(&b);
}

static void test_round_trip_every_operation(void **state)
{
	unsigned n = 0;

	(void)state;
	for(int k = LWM2M_OP_NONE + 1; k < LWM2M_OP_KIND_COUNT; k++){
		struct lwm2m_op op;
		enum lwm2m_iface iface = op_kind_iface((enum lwm2m_op_kind)k);
		int code = mqtt_codec_wire_op((enum lwm2m_op_kind)k);

		assert_true(code >= 0 && code <= 24 && code != 19);
		assert_int_equal(mqtt_codec_kind(code, iface), k);
		fill_all(&op, (enum lwm2m_op_kind)k);
		round_trip(&op, iface);
		/* only the token and what the operation needs */
		op = minimal_op((enum lwm2m_op_kind)k);
		round_trip(&op, iface);
		/* and the same required set is really required */
		if(op.fields != LWM2M_F_TOKEN){
			struct lwm2m_buf b;
			struct lwm2m_error err;
			buf_init(&b, 0);
			for(uint32_t bit = 1; bit < (1u << 16); bit <<= 1){
				if(bit == LWM2M_F_TOKEN || !(op.fields & bit)) continue;
				op.fields &= ~bit;
				assert_int_equal(mqtt_codec_encode(&op, iface, &b, &err), -LWM2M_EINVAL);
				assert_int_equal(b.len, 0);
				op.fields |= bit;
			}
			buf_free(&b);
		}
		n++;
	}
	assert_int_equal(n, 25);
}

static void test_round_trip_responses(void **state)
{
	static const uint16_t results[] = { 100, 201, 202, 204, 205, 400, 404, 415, 501, 503, 699 };
	struct lwm2m_op op;

	(void)state;
	for(size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++){
		op_init(&op);
		op.is_response = true;
		op.result = results[i];
		op.token = i * 1000003u;
		op.fields = LWM2M_F_TOKEN | LWM2M_F_RESULT;
		round_trip(&op, LWM2M_IFACE_RD);
		op.fields |= LWM2M_F_CT | LWM2M_F_PAYLOAD;
		op.content_format = 11543;
		op.payload = op_view_str("{\"x\":1}");
		round_trip(&op, LWM2M_IFACE_BS);
	}
	/* a response carries no operation and encodes as {2, 7?, 18, 19?} only */
	op_init(&op);
	op.is_response = true;
	op.result = 404;
	op.token = 11;
	op.fields = LWM2M_F_TOKEN | LWM2M_F_RESULT | LWM2M_F_URI;
	op.uri = op_view_str("/3");
	assert_encodes(&op, LWM2M_IFACE_RD, "a2020b12190194");
}

static void test_float_encoding(void **state)
{
	static const struct {
		double v;
		const char *hex;   /* the encoding of the gt value */
	} t[] = {
		{ 50.5, "f9 52 50" }, { -2.5, "f9 c1 00" }, { 0x3p-24, "f9 00 03" },
		{ 0x1p-14, "f9 04 00" }, { 65504.0, "19 ff e0" }, { 100000.5, "fa 47 c3 50 40" },
		{ 0x1p-149, "fa 00 00 00 01" }, { 0.1, "fb 3f b9 99 99 99 99 99 9a" },
		{ 1e10, "1b 00 00 00 02 54 0b e4 00" }, { -5.0, "24" }, { 0.0, "00" },
		{ -1e300, "fb fe 37 e4 3c 88 00 75 9c" },
		/* integral values beyond 2^53 must come back exactly (a fuzz finding) */
		{ -12610080674545694.0, "3b 00 2c cc cd 33 32 00 1d" },
		{ -0x1p64, "3b ff ff ff ff ff ff ff ff" }, { 0x1p63, "1b 80 00 00 00 00 00 00 00" },
	};
	(void)state;
	for(size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++){
		struct lwm2m_op op;
		char full[128];
		op_init(&op);
		op.kind = LWM2M_OP_WRITE_ATTRIBUTES;
		op.token = 1;
		op.fields = LWM2M_F_TOKEN | LWM2M_F_URI | LWM2M_F_ATTRS;
		op.uri = op_view_str("/3");
		op.attrs.set = LWM2M_ATTR_BIT(LWM2M_ATTR_GT);
		op.attrs.gt = t[i].v;
		/* {1: 14, 2: 1, 5: "/3", 14: v} */
		snprintf(full, sizeof(full), "a4 01 0e 02 01 05 62 2f 33 0e %s", t[i].hex);
		assert_encodes(&op, LWM2M_IFACE_RD, full);
		round_trip(&op, LWM2M_IFACE_RD);
	}
}

static void test_encoder_refusals(void **state)
{
	struct lwm2m_op op;
	struct lwm2m_buf b;
	struct lwm2m_error err;

	(void)state;
	buf_init(&b, 0);
	fill_all(&op, LWM2M_OP_WRITE_ATTRIBUTES);
	op.attrs.set |= LWM2M_ATTR_BIT(LWM2M_ATTR_LT);
	assert_int_equal(mqtt_codec_encode(&op, LWM2M_IFACE_RD, &b, &err), -LWM2M_ENOTSUP);
	assert_msg_has(&err, "lt");
	fill_all(&op, LWM2M_OP_WRITE_ATTRIBUTES);
	op.attrs.set |= LWM2M_ATTR_BIT(LWM2M_ATTR_CON);
	assert_int_equal(mqtt_codec_encode(&op, LWM2M_IFACE_RD, &b, &err), -LWM2M_ENOTSUP);
	assert_msg_has(&err, "con");
	fill_all(&op, LWM2M_OP_WRITE_ATTRIBUTES);
	op.attrs.unset = LWM2M_ATTR_BIT(LWM2M_ATTR_PMIN);
	assert_int_equal(mqtt_codec_encode(&op, LWM2M_IFACE_RD, &b, &err), -LWM2M_ENOTSUP);
	assert_msg_has(&err, "unset");
	fill_all(&op, LWM2M_OP_REGISTER);
	op.fields |= LWM2M_F_PID;
	op.pid = op_view_str("7");
	assert_int_equal(mqtt_codec_encode(&op, LWM2M_IFACE_RD, &b, &err), -LWM2M_ENOTSUP);
	assert_msg_has(&err, "pid");
	fill_all(&op, LWM2M_OP_READ);
	assert_int_equal(mqtt_codec_encode(&op, LWM2M_IFACE_BS, &b, &err), -LWM2M_ENOTSUP);
	fill_all(&op, LWM2M_OP_BOOTSTRAP_FINISH);
	assert_int_equal(mqtt_codec_encode(&op, LWM2M_IFACE_RD, &b, &err), -LWM2M_ENOTSUP);
	fill_all(&op, LWM2M_OP_NONE);
	assert_int_equal(mqtt_codec_encode(&op, LWM2M_IFACE_RD, &b, &err), -LWM2M_EINVAL);
	fill_all(&op, LWM2M_OP_DISCOVER);
	op.depth = 4;
	assert_int_equal(mqtt_codec_encode(&op, LWM2M_IFACE_RD, &b, &err), -LWM2M_EINVAL);
	fill_all(&op, LWM2M_OP_WRITE_ATTRIBUTES);
	op.attrs.gt = NAN;
	assert_int_equal(mqtt_codec_encode(&op, LWM2M_IFACE_RD, &b, &err), -LWM2M_EINVAL);
	fill_all(&op, LWM2M_OP_WRITE_ATTRIBUTES);
	op.attrs.edge = 2;
	assert_int_equal(mqtt_codec_encode(&op, LWM2M_IFACE_RD, &b, &err), -LWM2M_EINVAL);
	fill_all(&op, LWM2M_OP_READ);
	op.uri.ptr = (const uint8_t *)"\xff";
	op.uri.len = 1;
	assert_int_equal(mqtt_codec_encode(&op, LWM2M_IFACE_RD, &b, &err), -LWM2M_EINVAL);
	op_init(&op);
	op.is_response = true;
	op.result = 99;
	assert_int_equal(mqtt_codec_encode(&op, LWM2M_IFACE_RD, &b, &err), -LWM2M_EINVAL);
	assert_int_equal(b.len, 0);   /* nothing written by any refusal */
	/* a buffer limit too small */
	buf_free(&b);
	buf_init(&b, 8);
	fill_all(&op, LWM2M_OP_SEND);
	assert_true(mqtt_codec_encode(&op, LWM2M_IFACE_RD, &b, &err) < 0);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_encode_appends(void **state)
{
	struct lwm2m_op op;
	struct lwm2m_buf b;
	struct lwm2m_error err;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "xy", 2), 0);
	op_init(&op);
	op.kind = LWM2M_OP_CANCEL_OBSERVE;
	op.token = 77;
	assert_int_equal(mqtt_codec_encode(&op, LWM2M_IFACE_RD, &b, &err), 0);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "xy\xa2\x01\x16\x02\x18\x4d", 8);
	buf_free(&b);
}

static void test_wire_op_helpers(void **state)
{
	(void)state;
	assert_int_equal(mqtt_codec_wire_op(LWM2M_OP_REGISTER), 6);
	assert_int_equal(mqtt_codec_wire_op(LWM2M_OP_BOOTSTRAP_PACK_REQUEST), 6);
	assert_int_equal(mqtt_codec_wire_op(LWM2M_OP_SEND), 24);
	assert_int_equal(mqtt_codec_wire_op(LWM2M_OP_OBSERVE), 20);
	assert_int_equal(mqtt_codec_wire_op(LWM2M_OP_NONE), -1);
	assert_int_equal(mqtt_codec_wire_op(LWM2M_OP_KIND_COUNT), -1);
	assert_int_equal(mqtt_codec_kind(6, LWM2M_IFACE_RD), LWM2M_OP_REGISTER);
	assert_int_equal(mqtt_codec_kind(6, LWM2M_IFACE_BS), LWM2M_OP_BOOTSTRAP_PACK_REQUEST);
	assert_int_equal(mqtt_codec_kind(19, LWM2M_IFACE_RD), LWM2M_OP_NONE);
	assert_int_equal(mqtt_codec_kind(7, LWM2M_IFACE_BS), LWM2M_OP_NONE);
	assert_int_equal(mqtt_codec_kind(5, LWM2M_IFACE_RD), LWM2M_OP_NONE);
	assert_int_equal(mqtt_codec_kind(25, LWM2M_IFACE_RD), LWM2M_OP_NONE);
	assert_int_equal(mqtt_codec_kind(-1, LWM2M_IFACE_BS), LWM2M_OP_NONE);
	assert_int_equal(mqtt_codec_kind(23, LWM2M_IFACE_RD), LWM2M_OP_NOTIFY);
}

/* --------------------------------------------------------------- topics ------ */

static void test_topic_parse_accepts(void **state)
{
	struct mqtt_topic t;
	struct lwm2m_error err;
	const char *s = "tenant-a/lwm2m/bs/b1cccdea-22ca-4448-bcf7-d07317ee0361";

	(void)state;
	assert_int_equal(mqtt_topic_parse(s, strlen(s), &t, &err), 0);
	assert_true(t.has_prefix);
	assert_view_str(t.prefix, "tenant-a");
	assert_int_equal(t.iface, LWM2M_IFACE_BS);
	assert_view_str(t.endpoint, "b1cccdea-22ca-4448-bcf7-d07317ee0361");
	s = "lwm2m/rd/urn:imei:490154203237518";
	assert_int_equal(mqtt_topic_parse(s, strlen(s), &t, &err), 0);
	assert_false(t.has_prefix);
	assert_int_equal(t.iface, LWM2M_IFACE_RD);
	assert_view_str(t.endpoint, "urn:imei:490154203237518");
	/* length, not NUL, ends the topic */
	assert_int_equal(mqtt_topic_parse("lwm2m/rd/ep1/extra", 12, &t, &err), 0);
	assert_view_str(t.endpoint, "ep1");
	/* "lwm2m" may itself be the prefix */
	assert_int_equal(mqtt_topic_parse("lwm2m/lwm2m/rd/x", 16, &t, &err), 0);
	assert_view_str(t.prefix, "lwm2m");
	/* UTF-8 endpoint */
	s = "lwm2m/rd/caf\xc3\xa9";
	assert_int_equal(mqtt_topic_parse(s, strlen(s), &t, &err), 0);
}

static void test_topic_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"a/b/lwm2m/rd/ep", "lwm2m/rd/", "lwm2m/rd/e+p", "lwm2m/rd/e#", "lwm2m/rd/a/b",
		"lwm2m/xx/ep", "lwm2m/rd/ep/", "/lwm2m/rd/ep", "LWM2M/rd/ep", "lwm2m/rd", "",
		"$SYS/lwm2m/rd/ep", "+/lwm2m/rd/ep", "#/lwm2m/rd/ep", "lwm2m/RD/ep", "lwm2m/rd/$ep",
		"lwm2m/rd/\xff", "x/lwm2m/bs/ep/", "lwm2m//ep", "lwm2m/rd//",
	};
	struct mqtt_topic t;
	struct lwm2m_error err;

	(void)state;
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		memset(&err, 0, sizeof(err));
		if(mqtt_topic_parse(bad[i], strlen(bad[i]), &t, &err) != -LWM2M_EINVAL){
			fail_msg("topic \"%s\" accepted", bad[i]);
		}
		assert_true(err.msg[0] != '\0');
	}
	assert_int_equal(mqtt_topic_parse("lwm2m/rd/a\0b", 12, &t, &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "NUL");
	assert_int_equal(mqtt_topic_parse("a/b/lwm2m/rd/ep", 15, &t, &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "single level");
	assert_int_equal(mqtt_topic_parse("lwm2m/rd/", 9, &t, &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "empty endpoint");
}

static void test_endpoint_name_valid(void **state)
{
	char ep[300];

	(void)state;
	memset(ep, 'a', sizeof(ep));
	assert_true(mqtt_endpoint_name_valid(ep, 255));
	assert_false(mqtt_endpoint_name_valid(ep, 256));
	assert_false(mqtt_endpoint_name_valid(ep, 0));
	assert_false(mqtt_endpoint_name_valid("a/b", 3));
	assert_false(mqtt_endpoint_name_valid("a+", 2));
	assert_false(mqtt_endpoint_name_valid("#", 1));
	assert_false(mqtt_endpoint_name_valid("a\0", 2));
	assert_false(mqtt_endpoint_name_valid("$x", 2));
	assert_true(mqtt_endpoint_name_valid("x$", 2));
	assert_false(mqtt_endpoint_name_valid("\xc0\xaf", 2));       /* overlong '/' */
	assert_false(mqtt_endpoint_name_valid("\xed\xa0\x80", 3));   /* surrogate */
	assert_false(mqtt_endpoint_name_valid("\xe2\x82", 2));       /* cut sequence */
	assert_true(mqtt_endpoint_name_valid("\xf0\x9f\x98\x80", 4));
	assert_true(mqtt_endpoint_name_valid("urn:uuid:b1cccdea-22ca", 22));
}

static void test_prefix_allowed(void **state)
{
	static const char *const allowed[] = { "tenant-a", "tenant-b" };
	struct lwm2m_view none = { 0 };

	(void)state;
	assert_true(mqtt_prefix_allowed(none, false, allowed, 2, true));
	assert_false(mqtt_prefix_allowed(none, false, allowed, 2, false));
	assert_true(mqtt_prefix_allowed(op_view_str("tenant-b"), true, allowed, 2, false));
	assert_false(mqtt_prefix_allowed(op_view_str("tenant"), true, allowed, 2, true));
	assert_false(mqtt_prefix_allowed(op_view_str("tenant-a2"), true, allowed, 2, true));
	assert_false(mqtt_prefix_allowed(op_view_str("tenant-a"), true, NULL, 0, true));
}

static void test_topic_format(void **state)
{
	struct lwm2m_buf b;
	struct mqtt_topic t;
	struct lwm2m_error err;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(mqtt_topic_format(&b, NULL, LWM2M_IFACE_RD, "ep1", 3), 0);
	assert_int_equal(b.len, 12);
	assert_string_equal((char *)b.data, "lwm2m/rd/ep1");
	buf_reset(&b);
	assert_int_equal(mqtt_topic_format(&b, "tenant-a", LWM2M_IFACE_BS, "ep1xyz", 3), 0);
	assert_string_equal((char *)b.data, "tenant-a/lwm2m/bs/ep1");
	assert_int_equal(b.len, strlen("tenant-a/lwm2m/bs/ep1"));
	/* what format writes, parse reads back */
	assert_int_equal(mqtt_topic_parse((char *)b.data, b.len, &t, &err), 0);
	assert_view_str(t.prefix, "tenant-a");
	assert_view_str(t.endpoint, "ep1");
	buf_reset(&b);
	assert_int_equal(mqtt_topic_format(&b, "a/b", LWM2M_IFACE_RD, "ep", 2), -LWM2M_EINVAL);
	assert_int_equal(mqtt_topic_format(&b, "", LWM2M_IFACE_RD, "ep", 2), -LWM2M_EINVAL);
	assert_int_equal(mqtt_topic_format(&b, "+", LWM2M_IFACE_RD, "ep", 2), -LWM2M_EINVAL);
	assert_int_equal(mqtt_topic_format(&b, NULL, LWM2M_IFACE_RD, "e/p", 3), -LWM2M_EINVAL);
	assert_int_equal(mqtt_topic_format(&b, NULL, LWM2M_IFACE_RD, "", 0), -LWM2M_EINVAL);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_bootstrap_request),
		cmocka_unit_test(test_spec_read),
		cmocka_unit_test(test_spec_generic_response_tstr_payload),
		cmocka_unit_test(test_spec_send_erratum_is_notify),
		cmocka_unit_test(test_spec_illustrative_table),
		cmocka_unit_test(test_spec_register_fields),
		cmocka_unit_test(test_spec_write_attributes_fields),
		cmocka_unit_test(test_spec_discover_depth),
		cmocka_unit_test(test_cose_unprotected_wrapper),
		cmocka_unit_test(test_cose_protected_refused),
		cmocka_unit_test(test_cose_wrapped_malformed_keeps_token),
		cmocka_unit_test(test_request_response_discrimination),
		cmocka_unit_test(test_missing_required_keys),
		cmocka_unit_test(test_wrong_types_and_ranges),
		cmocka_unit_test(test_operation_codes_per_interface),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_indefinite_lengths),
		cmocka_unit_test(test_unknown_keys_ignored),
		cmocka_unit_test(test_nesting_depth),
		cmocka_unit_test(test_payload_limit),
		cmocka_unit_test(test_readable_token_on_error),
		cmocka_unit_test(test_truncation_every_prefix),
		cmocka_unit_test(test_queue_binding),
		cmocka_unit_test(test_round_trip_every_operation),
		cmocka_unit_test(test_round_trip_responses),
		cmocka_unit_test(test_float_encoding),
		cmocka_unit_test(test_encoder_refusals),
		cmocka_unit_test(test_encode_appends),
		cmocka_unit_test(test_wire_op_helpers),
		cmocka_unit_test(test_topic_parse_accepts),
		cmocka_unit_test(test_topic_parse_rejects),
		cmocka_unit_test(test_endpoint_name_valid),
		cmocka_unit_test(test_prefix_allowed),
		cmocka_unit_test(test_topic_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
