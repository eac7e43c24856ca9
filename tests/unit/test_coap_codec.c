/* Unit tests of the CoAP binding codec (binding/coap_codec.c). Messages and expected values
 * are written by hand from spec/lwm2m-bindings.md section 3 (CoAP mapping), RFC 7252 /
 * RFC 7641 and the choices listed in coap_codec.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "binding/coap_codec.h"
#include "binding/mqtt_codec.h"
#include "objects/fmt.h"
#include "objects/fmt_senml.h"

/* ------------------------------------------------------------------ helpers ---- */

#define C(c, dd) COAP_CODEC_CODE(c, dd)

/* A message under construction, with room for the uint option values it refers to. */
struct tmsg {
	struct coap_msg m;
	uint8_t bytes[COAP_CODEC_MAX_OPTS][4];
};

static void msg_init(struct tmsg *t, uint8_t code)
{
	memset(t, 0, sizeof(*t));
	t->m.code = code;
}

static void opt_bytes(struct tmsg *t, uint16_t number, const void *p, size_t n)
{
	struct lwm2m_view v = { p, n };
	assert_int_equal(coap_codec_add_opt(&t->m, number, v), 0);
}

static void opt_str(struct tmsg *t, uint16_t number, const char *s)
{
	opt_bytes(t, number, s, strlen(s));
}

static void opt_uint(struct tmsg *t, uint16_t number, uint32_t v)
{
	uint8_t *b = t->bytes[t->m.n_opts];
	size_t n = coap_codec_uint_bytes(v, b);
	opt_bytes(t, number, b, n);
}

/* Uri-Path options from "/3/0/1" (views into the literal); "/" adds none. */
static void uri_path(struct tmsg *t, const char *path)
{
	const char *p = path;

	if(*p == '/') p++;
	while(*p){
		size_t n = strcspn(p, "/");
		opt_bytes(t, COAP_CODEC_OPT_URI_PATH, p, n);
		p += n;
		if(*p == '/') p++;
	}
}

static void body(struct tmsg *t, const void *p, size_t n)
{
	t->m.payload.ptr = p;
	t->m.payload.len = n;
}

static void body_str(struct tmsg *t, const char *s)
{
	body(t, s, strlen(s));
}

/* One message to decode: method, path, optional content format and text payload. */
static void req(struct tmsg *t, uint8_t code, const char *path, int cf, const char *payload)
{
	msg_init(t, code);
	uri_path(t, path);
	if(cf >= 0) opt_uint(t, COAP_CODEC_OPT_CONTENT_FORMAT, (uint32_t)cf);
	if(payload) body_str(t, payload);
}

struct decoded {
	struct lwm2m_op op;
	struct coap_request_info info;
	struct lwm2m_buf scratch;
	struct lwm2m_error err;
	int rc;
};

static int decode_with(const struct tmsg *t, const struct coap_decode_opts *o, struct decoded *d)
{
	memset(&d->err, 0, sizeof(d->err));
	memset(&d->info, 0x5a, sizeof(d->info));   /* the decoder must set every field */
	buf_init(&d->scratch, 0);
	d->rc = coap_codec_decode_request_ex(&t->m, o, &d->op, &d->info, &d->scratch, &d->err);
	return d->rc;
}

static void decoded_free(struct decoded *d)
{
	buf_free(&d->scratch);
}

static void assert_view_str(struct lwm2m_view v, const char *s)
{
	size_t n = strlen(s);
	if(v.len != n || (n && memcmp(v.ptr, s, n) != 0)){
		fail_msg("view \"%.*s\" is not \"%s\"", (int)v.len, (const char *)v.ptr, s);
	}
}

static void assert_view_bytes(struct lwm2m_view v, const uint8_t *p, size_t n)
{
	assert_int_equal(v.len, n);
	assert_memory_equal(v.ptr, p, n);
}

static void assert_msg_has(const struct lwm2m_error *err, const char *part)
{
	if(!strstr(err->msg, part)) fail_msg("error message \"%s\" lacks \"%s\"", err->msg, part);
}

static bool points_into(struct lwm2m_view v, const struct lwm2m_buf *b)
{
	return v.len == 0 || (v.ptr >= b->data && v.ptr + v.len <= b->data + b->len);
}

/* Decode and expect success with this kind; the caller frees d. */
static void assert_decodes(const struct tmsg *t, const struct coap_decode_opts *o,
	enum lwm2m_op_kind kind, struct decoded *d)
{
	if(decode_with(t, o, d) != 0){
		fail_msg("expected %s, got rc %d (%s)", op_kind_name(kind), d->rc, d->err.msg);
	}
	assert_int_equal(d->op.kind, kind);
	assert_false(d->op.is_response);
	assert_int_equal(d->info.answer_code, 0);
	assert_false(d->op.fields & LWM2M_F_TOKEN);
}

/* Decode and expect a refusal with this answer, error code and message part. */
static void assert_refused_with(const struct tmsg *t, const struct coap_decode_opts *o,
	uint8_t answer, int code, const char *part)
{
	struct decoded d;
	char a[COAP_CODEC_CODE_TEXT_SIZE], b[COAP_CODEC_CODE_TEXT_SIZE];

	decode_with(t, o, &d);
	if(d.rc != -code || d.info.answer_code != answer){
		fail_msg("rc %d answer %s (%s), expected rc %d answer %s", d.rc,
			coap_codec_code_text(d.info.answer_code, a), d.err.msg, -code,
			coap_codec_code_text(answer, b));
	}
	assert_int_equal(d.err.code, code);
	assert_int_equal(d.op.fields, 0);     /* nothing half-decoded is left in op */
	assert_int_equal(d.scratch.len, 0);   /* scratch as it was */
	if(part) assert_msg_has(&d.err, part);
	decoded_free(&d);
}

static void assert_refused(const struct tmsg *t, uint8_t answer, int code, const char *part)
{
	assert_refused_with(t, NULL, answer, code, part);
}

/* ------------------------------------------------------- codes and options ---- */

static void test_codes(void **state)
{
	char text[COAP_CODEC_CODE_TEXT_SIZE];

	(void)state;
	assert_int_equal(coap_codec_code_of_result(205), 0x45);
	assert_int_equal(coap_codec_code_of_result(201), 0x41);
	assert_int_equal(coap_codec_code_of_result(231), 0x5f);
	assert_int_equal(coap_codec_code_of_result(400), 0x80);
	assert_int_equal(coap_codec_code_of_result(415), 0x8f);
	assert_int_equal(coap_codec_code_of_result(505), 0xa5);
	assert_int_equal(coap_codec_code_of_result(1), 0x01);      /* GET */
	assert_int_equal(coap_codec_code_of_result(731), 0xff);
	assert_int_equal(coap_codec_code_of_result(232), -1);
	assert_int_equal(coap_codec_code_of_result(800), -1);
	assert_int_equal(coap_codec_result_of_code(0x45), 205);
	assert_int_equal(coap_codec_result_of_code(0x84), 404);
	assert_int_equal(coap_codec_result_of_code(0xa3), 503);
	assert_int_equal(coap_codec_result_of_code(0x00), 0);
	for(unsigned c = 0; c < 256; c++){
		assert_int_equal(coap_codec_code_of_result(coap_codec_result_of_code((uint8_t)c)), (int)c);
	}
	assert_string_equal(coap_codec_code_text(0x45, text), "2.05");
	assert_string_equal(coap_codec_code_text(0x01, text), "0.01");
	assert_string_equal(coap_codec_code_text(0x8f, text), "4.15");
	assert_string_equal(coap_codec_code_text(0xff, text), "7.31");
	assert_int_equal(C(4, 4), 0x84);
}

static void test_option_values(void **state)
{
	static const uint8_t b2[] = { 0x2d, 0x18 }, b3[] = { 0x00, 0x00, 0x28 };
	static const uint8_t b5[] = { 1, 2, 3, 4, 5 }, b4[] = { 0x12, 0x34, 0x56, 0x78 };
	struct lwm2m_view v;
	uint32_t u = 99;
	uint8_t out[4];
	struct tmsg t;

	(void)state;
	v.ptr = NULL;
	v.len = 0;
	assert_int_equal(coap_codec_opt_uint(v, 2, &u), 0);
	assert_int_equal(u, 0);                                  /* empty = 0 */
	v.ptr = b2;
	v.len = 2;
	assert_int_equal(coap_codec_opt_uint(v, 2, &u), 0);
	assert_int_equal(u, 11544);
	assert_int_equal(coap_codec_opt_uint(v, 1, &u), -LWM2M_ERANGE);
	v.ptr = b3;
	v.len = 3;
	assert_int_equal(coap_codec_opt_uint(v, 3, &u), 0);
	assert_int_equal(u, 40);                                 /* leading zeros tolerated */
	v.ptr = b4;
	v.len = 4;
	assert_int_equal(coap_codec_opt_uint(v, 9, &u), 0);     /* above 4 counts as 4 */
	assert_int_equal(u, 0x12345678);
	v.ptr = b5;
	v.len = 5;
	assert_int_equal(coap_codec_opt_uint(v, 9, &u), -LWM2M_ERANGE);

	assert_int_equal(coap_codec_uint_bytes(0, out), 0);
	assert_int_equal(coap_codec_uint_bytes(40, out), 1);
	assert_int_equal(out[0], 0x28);
	assert_int_equal(coap_codec_uint_bytes(11544, out), 2);
	assert_memory_equal(out, b2, 2);
	assert_int_equal(coap_codec_uint_bytes(0x10000, out), 3);
	assert_int_equal(coap_codec_uint_bytes(0x12345678, out), 4);
	assert_memory_equal(out, b4, 4);

	msg_init(&t, COAP_CODEC_GET);
	assert_null(coap_codec_find_opt(&t.m, COAP_CODEC_OPT_ACCEPT));
	opt_str(&t, COAP_CODEC_OPT_URI_PATH, "3");
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, 40);
	opt_str(&t, COAP_CODEC_OPT_URI_PATH, "0");
	assert_ptr_equal(coap_codec_find_opt(&t.m, COAP_CODEC_OPT_ACCEPT), &t.m.opts[1]);
	assert_ptr_equal(coap_codec_find_opt(&t.m, COAP_CODEC_OPT_URI_PATH), &t.m.opts[0]);
	while(t.m.n_opts < COAP_CODEC_MAX_OPTS) opt_str(&t, COAP_CODEC_OPT_ETAG, "x");
	assert_int_equal(coap_codec_add_opt(&t.m, COAP_CODEC_OPT_ETAG, v), -LWM2M_EFULL);
	assert_int_equal(t.m.n_opts, COAP_CODEC_MAX_OPTS);
}

/* -------------------------------------------------------------- GET ---- */

static void test_read(void **state)
{
	struct tmsg t;
	struct decoded d;

	(void)state;
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, NULL);
	assert_decodes(&t, NULL, LWM2M_OP_READ, &d);
	assert_int_equal(d.op.fields, LWM2M_F_URI);
	assert_view_str(d.op.uri, "/3/0/1");
	assert_true(points_into(d.op.uri, &d.scratch));
	assert_false(d.info.has_accept);
	assert_false(d.info.has_content_format);
	assert_int_equal(d.info.observe, COAP_CODEC_OBSERVE_NONE);
	assert_int_equal(d.info.create_iid, COAP_CODEC_IID_NONE);
	assert_int_equal(d.info.path.len, 3);
	assert_int_equal(d.info.path.ids[0], 3);
	assert_int_equal(d.info.path.ids[2], 1);
	decoded_free(&d);

	/* every level but the root; Accept reported, not put in the op */
	req(&t, COAP_CODEC_GET, "/3303/12/5700/65534", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, LWM2M_CF_LWM2M_CBOR);
	assert_decodes(&t, NULL, LWM2M_OP_READ, &d);
	assert_view_str(d.op.uri, "/3303/12/5700/65534");
	assert_true(d.info.has_accept);
	assert_int_equal(d.info.accept, LWM2M_CF_LWM2M_CBOR);
	assert_false(d.op.fields & LWM2M_F_CT);
	decoded_free(&d);

	/* leading zeros, a trailing '/' (empty last Uri-Path), understood and elective options */
	req(&t, COAP_CODEC_GET, "/03/0", -1, NULL);
	opt_str(&t, COAP_CODEC_OPT_URI_PATH, "");
	opt_str(&t, COAP_CODEC_OPT_URI_HOST, "example.com");
	opt_uint(&t, COAP_CODEC_OPT_URI_PORT, 5683);
	opt_uint(&t, COAP_CODEC_OPT_BLOCK2, 0x06);
	opt_str(&t, COAP_CODEC_OPT_ETAG, "etag");
	opt_uint(&t, 2048, 1);                        /* an unknown elective option */
	assert_decodes(&t, NULL, LWM2M_OP_READ, &d);
	assert_view_str(d.op.uri, "/3/0");
	decoded_free(&d);
}

static void test_discover(void **state)
{
	struct tmsg t;
	struct decoded d;

	(void)state;
	req(&t, COAP_CODEC_GET, "/3", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, LWM2M_CF_LINK);
	assert_decodes(&t, NULL, LWM2M_OP_DISCOVER, &d);
	assert_int_equal(d.op.fields, LWM2M_F_URI);
	assert_view_str(d.op.uri, "/3");
	assert_int_equal(d.info.accept, LWM2M_CF_LINK);
	decoded_free(&d);

	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "depth=2");
	assert_decodes(&t, NULL, LWM2M_OP_DISCOVER, &d);
	assert_int_equal(d.op.fields, LWM2M_F_URI | LWM2M_F_DEPTH);
	assert_int_equal(d.op.depth, 2);
	decoded_free(&d);

	/* Observe on a Discover is ignored: the answer will carry no Observe */
	req(&t, COAP_CODEC_GET, "/3/0/7", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, LWM2M_CF_LINK);
	opt_uint(&t, COAP_CODEC_OPT_OBSERVE, 0);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "depth=0");
	assert_decodes(&t, NULL, LWM2M_OP_DISCOVER, &d);
	assert_int_equal(d.info.observe, COAP_CODEC_OBSERVE_NONE);
	assert_int_equal(d.op.depth, 0);
	decoded_free(&d);
}

static void test_observe(void **state)
{
	struct tmsg t;
	struct decoded d;

	(void)state;
	req(&t, COAP_CODEC_GET, "/3/0/9", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_OBSERVE, 0);
	assert_decodes(&t, NULL, LWM2M_OP_OBSERVE, &d);
	assert_int_equal(d.op.fields, LWM2M_F_URI);
	assert_view_str(d.op.uri, "/3/0/9");
	assert_int_equal(d.info.observe, COAP_CODEC_OBSERVE_REGISTER);
	decoded_free(&d);

	req(&t, COAP_CODEC_GET, "/3/0/9", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_OBSERVE, 1);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, LWM2M_CF_TEXT);
	assert_decodes(&t, NULL, LWM2M_OP_CANCEL_OBSERVE, &d);
	assert_view_str(d.op.uri, "/3/0/9");
	assert_int_equal(d.info.observe, COAP_CODEC_OBSERVE_DEREGISTER);
	decoded_free(&d);

	/* other Observe values, and an oversized (elective) Observe, are no observation */
	req(&t, COAP_CODEC_GET, "/3/0/9", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_OBSERVE, 7);
	assert_decodes(&t, NULL, LWM2M_OP_READ, &d);
	assert_int_equal(d.info.observe, COAP_CODEC_OBSERVE_NONE);
	decoded_free(&d);
	req(&t, COAP_CODEC_GET, "/3/0/9", -1, NULL);
	opt_bytes(&t, COAP_CODEC_OPT_OBSERVE, "\0\0\0\0", 4);
	assert_decodes(&t, NULL, LWM2M_OP_READ, &d);
	decoded_free(&d);
	/* the first well-formed Observe counts */
	req(&t, COAP_CODEC_GET, "/3/0/9", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_OBSERVE, 0);
	opt_uint(&t, COAP_CODEC_OPT_OBSERVE, 1);
	assert_decodes(&t, NULL, LWM2M_OP_OBSERVE, &d);
	decoded_free(&d);
}

static void test_get_refusals(void **state)
{
	struct tmsg t;

	(void)state;
	req(&t, COAP_CODEC_GET, "/", -1, NULL);
	assert_refused(&t, C(4, 5), LWM2M_ENOTSUP, "Read is not allowed on /");
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, NULL);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "x=1");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "Read takes no query parameters (got \"x=1\")");
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, "junk");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "Read takes no payload");
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, LWM2M_CF_SENML_ETCH_JSON);
	assert_refused(&t, C(4, 6), LWM2M_ENOTSUP, "Accept 320");
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, 50);
	assert_refused(&t, C(4, 6), LWM2M_ENOTSUP, "cannot be answered in Accept 50");

	/* Discover */
	req(&t, COAP_CODEC_GET, "/3/0/1/0", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, LWM2M_CF_LINK);
	assert_refused(&t, C(4, 5), LWM2M_ENOTSUP, "Discover is not allowed on /3/0/1/0");
	req(&t, COAP_CODEC_GET, "/", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, LWM2M_CF_LINK);
	assert_refused(&t, C(4, 5), LWM2M_ENOTSUP, "Discover");
	req(&t, COAP_CODEC_GET, "/3", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, LWM2M_CF_LINK);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "pmin=1");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "Discover takes only depth (got \"pmin=1\")");
	req(&t, COAP_CODEC_GET, "/3", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, LWM2M_CF_LINK);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "depth=4");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "depth \"4\" is not 0..3");
	req(&t, COAP_CODEC_GET, "/3", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, LWM2M_CF_LINK);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "depth=");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "is not 0..3");
	req(&t, COAP_CODEC_GET, "/3", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, LWM2M_CF_LINK);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "depth=1");
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "depth=2");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "depth given twice");

	/* Observe with attributes: neither MQTT nor HTTP can carry them */
	req(&t, COAP_CODEC_GET, "/3/0/9", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_OBSERVE, 0);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "pmin=10");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL,
		"Observe with attributes (\"pmin=10\") cannot be forwarded");
	req(&t, COAP_CODEC_GET, "/3/0/9", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_OBSERVE, 1);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "pmin=10");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "Cancel-Observe with attributes");
	req(&t, COAP_CODEC_GET, "/", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_OBSERVE, 0);
	assert_refused(&t, C(4, 5), LWM2M_ENOTSUP, "Observe is not allowed on /");
}

static void test_kind_kept_on_refusal(void **state)
{
	struct tmsg t;
	struct decoded d;

	(void)state;
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, NULL);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "a");
	assert_int_equal(decode_with(&t, NULL, &d), -LWM2M_EINVAL);
	assert_int_equal(d.op.kind, LWM2M_OP_READ);   /* for the log line */
	assert_int_equal(d.op.fields, 0);
	decoded_free(&d);
	/* scratch that already holds bytes is left as it was */
	buf_init(&d.scratch, 0);
	assert_int_equal(buf_append(&d.scratch, "keep", 4), 0);
	assert_int_equal(coap_codec_decode_request(&t.m, &d.op, &d.info, &d.scratch, &d.err),
		-LWM2M_EINVAL);
	assert_int_equal(d.scratch.len, 4);
	/* and a success appends after them */
	req(&t, COAP_CODEC_GET, "/5/0", -1, NULL);
	assert_int_equal(coap_codec_decode_request(&t.m, &d.op, &d.info, &d.scratch, &d.err), 0);
	assert_memory_equal(d.scratch.data, "keep", 4);
	assert_view_str(d.op.uri, "/5/0");
	assert_ptr_equal(d.op.uri.ptr, d.scratch.data + 4);
	decoded_free(&d);
}

/* -------------------------------------------------------- options, paths ---- */

static void test_option_refusals(void **state)
{
	char long_seg[300];
	struct tmsg t;

	(void)state;
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, NULL);
	opt_str(&t, COAP_CODEC_OPT_OSCORE, "");
	assert_refused(&t, C(4, 2), LWM2M_ENOTSUP, "critical option 9 (OSCORE) is not supported");
	req(&t, COAP_CODEC_PUT, "/3/0/1", 0, "x");
	opt_str(&t, COAP_CODEC_OPT_IF_MATCH, "tag");
	assert_refused(&t, C(4, 2), LWM2M_ENOTSUP, "If-Match");
	req(&t, COAP_CODEC_PUT, "/3/0/1", 0, "x");
	opt_str(&t, COAP_CODEC_OPT_IF_NONE_MATCH, "");
	assert_refused(&t, C(4, 2), LWM2M_ENOTSUP, "If-None-Match");
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, NULL);
	opt_uint(&t, 2049, 1);
	assert_refused(&t, C(4, 2), LWM2M_ENOTSUP, "critical option 2049");
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, NULL);
	opt_str(&t, COAP_CODEC_OPT_PROXY_URI, "coap://other/3/0/1");
	assert_refused(&t, C(5, 5), LWM2M_ENOTSUP, "Proxy-Uri: this endpoint is not a proxy");
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, NULL);
	opt_str(&t, COAP_CODEC_OPT_PROXY_SCHEME, "coap");
	assert_refused(&t, C(5, 5), LWM2M_ENOTSUP, "Proxy-Scheme");
	/* repeated non-repeatable critical options, malformed critical values */
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, 0);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, 0);
	assert_refused(&t, C(4, 2), LWM2M_ENOTSUP, "option 17 (Accept) is repeated");
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_URI_PORT, 1);
	opt_uint(&t, COAP_CODEC_OPT_URI_PORT, 2);
	assert_refused(&t, C(4, 2), LWM2M_ENOTSUP, "Uri-Port");
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, NULL);
	opt_bytes(&t, COAP_CODEC_OPT_ACCEPT, "\0\0\x28", 3);
	assert_refused(&t, C(4, 2), LWM2M_ENOTSUP, "Accept option longer than 2 bytes");
	memset(long_seg, '1', sizeof(long_seg));
	msg_init(&t, COAP_CODEC_GET);
	opt_bytes(&t, COAP_CODEC_OPT_URI_PATH, long_seg, 256);
	assert_refused(&t, C(4, 2), LWM2M_ENOTSUP, "Uri-Path option longer than 255 bytes");
	msg_init(&t, COAP_CODEC_PUT);
	uri_path(&t, "/3/0/9");
	opt_bytes(&t, COAP_CODEC_OPT_URI_QUERY, long_seg, 300);
	assert_refused(&t, C(4, 2), LWM2M_ENOTSUP, "Uri-Query option longer");
	/* a length without data, too many options */
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, NULL);
	opt_bytes(&t, COAP_CODEC_OPT_ETAG, NULL, 2);
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "length without data");
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, NULL);
	t.m.n_opts = COAP_CODEC_MAX_OPTS + 1;
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "options (at most 40)");
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, NULL);
	t.m.payload.len = 3;
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "payload length without data");
}

static void test_codes_refused(void **state)
{
	struct tmsg t;

	(void)state;
	req(&t, C(2, 5), "/3/0/1", -1, NULL);
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "code 2.05 is not a request");
	req(&t, 0, "/", -1, NULL);
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "code 0.00 is not a request");
	req(&t, COAP_CODEC_PATCH, "/3/0/1", 0, "x");
	assert_refused(&t, C(4, 5), LWM2M_ENOTSUP, "PATCH (0.06) is not an LwM2M method");
	req(&t, 8, "/3/0/1", -1, NULL);
	assert_refused(&t, C(4, 5), LWM2M_ENOTSUP, "method 0.08 is not supported");
}

static void test_path_refusals(void **state)
{
	struct tmsg t;

	(void)state;
	req(&t, COAP_CODEC_GET, "/.well-known/core", -1, NULL);
	assert_refused(&t, C(4, 4), LWM2M_ENOENT,
		"no alternate path or gateway prefix \".well-known\" on this client");
	req(&t, COAP_CODEC_GET, "/d01/3303/0", -1, NULL);
	assert_refused(&t, C(4, 4), LWM2M_ENOENT, "gateway prefix \"d01\"");
	req(&t, COAP_CODEC_GET, "/3/x/1", -1, NULL);
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "Uri-Path segment \"x\" is not an id");
	req(&t, COAP_CODEC_GET, "/3/-1", -1, NULL);
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "is not an id");
	req(&t, COAP_CODEC_GET, "/3/65535", -1, NULL);
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "\"65535\" is above 65534");
	req(&t, COAP_CODEC_GET, "/3/99999999999999999999", -1, NULL);
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "is above 65534");
	req(&t, COAP_CODEC_GET, "/3/0/1/2/3", -1, NULL);
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "more than 4 levels");
	msg_init(&t, COAP_CODEC_GET);
	opt_str(&t, COAP_CODEC_OPT_URI_PATH, "3");
	opt_str(&t, COAP_CODEC_OPT_URI_PATH, "");
	opt_str(&t, COAP_CODEC_OPT_URI_PATH, "1");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "empty Uri-Path segment 2");
}

static void test_alternate_path(void **state)
{
	struct coap_decode_opts o = { .alt_path = "/lwm2m" };
	static const char names[] = "[{\"bn\":\"/lwm2m/3/0/\",\"n\":\"0\"}]";
	struct lwm2m_path *paths;
	size_t n;
	struct tmsg t;
	struct decoded d;

	(void)state;
	req(&t, COAP_CODEC_GET, "/lwm2m/3/0/1", -1, NULL);
	assert_decodes(&t, &o, LWM2M_OP_READ, &d);
	assert_view_str(d.op.uri, "/3/0/1");
	decoded_free(&d);
	req(&t, COAP_CODEC_GET, "/3/0/1", -1, NULL);
	assert_refused_with(&t, &o, C(4, 4), LWM2M_ENOENT, "outside the alternate path \"/lwm2m\"");
	req(&t, COAP_CODEC_GET, "/lwm2m/x/0", -1, NULL);
	assert_refused_with(&t, &o, C(4, 4), LWM2M_ENOENT, "\"x\"");
	/* multi-segment alternate paths, slashes around it tolerated */
	o.alt_path = "/a/b/";
	req(&t, COAP_CODEC_DELETE, "/a/b/3303/1", -1, NULL);
	assert_decodes(&t, &o, LWM2M_OP_DELETE, &d);
	assert_view_str(d.op.uri, "/3303/1");
	decoded_free(&d);
	req(&t, COAP_CODEC_DELETE, "/a/3303/1", -1, NULL);
	assert_refused_with(&t, &o, C(4, 4), LWM2M_ENOENT, "outside");
	/* "/" and "" mean none */
	o.alt_path = "/";
	req(&t, COAP_CODEC_GET, "/3/0", -1, NULL);
	assert_decodes(&t, &o, LWM2M_OP_READ, &d);
	decoded_free(&d);
	/* composites: the path is the alternate path, names carry it */
	o.alt_path = "/lwm2m";
	req(&t, COAP_CODEC_FETCH, "/lwm2m", LWM2M_CF_SENML_ETCH_JSON, names);
	assert_decodes(&t, &o, LWM2M_OP_READ_COMPOSITE, &d);
	assert_int_equal(senml_etch_paths_decode(LWM2M_CF_SENML_ETCH_CBOR, d.op.paths.ptr,
		d.op.paths.len, &paths, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(paths[0].len, 3);
	assert_int_equal(paths[0].ids[0], 3);
	free(paths);
	decoded_free(&d);
}

/* -------------------------------------------------------------- PUT ---- */

static void test_write(void **state)
{
	struct tmsg t;
	struct decoded d;

	(void)state;
	req(&t, COAP_CODEC_PUT, "/3/0/14", LWM2M_CF_TEXT, "+02");
	assert_decodes(&t, NULL, LWM2M_OP_WRITE, &d);
	assert_int_equal(d.op.fields, LWM2M_F_URI | LWM2M_F_CT | LWM2M_F_PAYLOAD);
	assert_view_str(d.op.uri, "/3/0/14");
	assert_int_equal(d.op.content_format, LWM2M_CF_TEXT);
	assert_ptr_equal(d.op.payload.ptr, t.m.payload.ptr);   /* zero copy */
	assert_int_equal(d.op.payload.len, 3);
	assert_true(d.info.has_content_format);
	decoded_free(&d);

	/* an empty value (Content-Format, no payload) is a Write, not Write-Attributes */
	req(&t, COAP_CODEC_PUT, "/3/0/15", LWM2M_CF_TEXT, NULL);
	assert_decodes(&t, NULL, LWM2M_OP_WRITE, &d);
	assert_true(d.op.fields & LWM2M_F_PAYLOAD);
	assert_int_equal(d.op.payload.len, 0);
	assert_non_null(d.op.payload.ptr);
	decoded_free(&d);

	/* every format a Write takes, on every allowed level */
	static const uint16_t cfs[] = { 0, 42, 60, 110, 112, 11542, 11543, 11544 };
	for(size_t i = 0; i < sizeof(cfs) / sizeof(cfs[0]); i++){
		req(&t, COAP_CODEC_PUT, i % 2 ? "/3/0" : "/3/0/1/0", cfs[i], "x");
		assert_decodes(&t, NULL, LWM2M_OP_WRITE, &d);
		assert_int_equal(d.op.content_format, cfs[i]);
		decoded_free(&d);
	}
	/* the first well-formed Content-Format counts (elective), an oversized one is ignored */
	req(&t, COAP_CODEC_PUT, "/3/0/1", -1, "x");
	opt_bytes(&t, COAP_CODEC_OPT_CONTENT_FORMAT, "\0\0\0", 3);
	opt_uint(&t, COAP_CODEC_OPT_CONTENT_FORMAT, LWM2M_CF_OPAQUE);
	opt_uint(&t, COAP_CODEC_OPT_CONTENT_FORMAT, LWM2M_CF_TEXT);
	assert_decodes(&t, NULL, LWM2M_OP_WRITE, &d);
	assert_int_equal(d.op.content_format, LWM2M_CF_OPAQUE);
	decoded_free(&d);
}

static void test_write_refusals(void **state)
{
	struct tmsg t;

	(void)state;
	req(&t, COAP_CODEC_PUT, "/3", LWM2M_CF_TLV, "x");
	assert_refused(&t, C(4, 5), LWM2M_ENOTSUP, "Write is not allowed on /3");
	req(&t, COAP_CODEC_PUT, "/3/0/1", -1, "x");
	assert_refused(&t, C(4, 15), LWM2M_ENOTSUP, "Write needs a Content-Format option");
	req(&t, COAP_CODEC_PUT, "/3/0/1", LWM2M_CF_LINK, "</3>");
	assert_refused(&t, C(4, 15), LWM2M_ENOTSUP, "Content-Format 40 (link) is not allowed for Write");
	req(&t, COAP_CODEC_PUT, "/3/0/1", LWM2M_CF_SENML_ETCH_CBOR, "x");
	assert_refused(&t, C(4, 15), LWM2M_ENOTSUP, "Content-Format 322");
	req(&t, COAP_CODEC_PUT, "/3/0/1", 0, "x");
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "pmin=1");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "Write takes no query parameters");
	req(&t, COAP_CODEC_PUT, "/3/0/1", -1, NULL);
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "nothing to write");
}

static void test_write_attributes(void **state)
{
	struct tmsg t;
	struct decoded d;
	const struct lwm2m_attrs *a = &d.op.attrs;

	(void)state;
	req(&t, COAP_CODEC_PUT, "/3/0/9", -1, NULL);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "pmin=10");
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "pmax=60");
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "gt=50.5");
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "st=-0");
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "epmin=1");
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "epmax=2");
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "edge=1");
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "hqmax=5");
	assert_decodes(&t, NULL, LWM2M_OP_WRITE_ATTRIBUTES, &d);
	assert_int_equal(d.op.fields, LWM2M_F_URI | LWM2M_F_ATTRS);
	assert_view_str(d.op.uri, "/3/0/9");
	assert_int_equal(a->set, LWM2M_ATTR_BIT(LWM2M_ATTR_PMIN) | LWM2M_ATTR_BIT(LWM2M_ATTR_PMAX)
		| LWM2M_ATTR_BIT(LWM2M_ATTR_GT) | LWM2M_ATTR_BIT(LWM2M_ATTR_ST)
		| LWM2M_ATTR_BIT(LWM2M_ATTR_EPMIN) | LWM2M_ATTR_BIT(LWM2M_ATTR_EPMAX)
		| LWM2M_ATTR_BIT(LWM2M_ATTR_EDGE) | LWM2M_ATTR_BIT(LWM2M_ATTR_HQMAX));
	assert_int_equal(a->unset, 0);
	assert_int_equal(a->pmin, 10);
	assert_int_equal(a->pmax, 60);
	assert_true(a->gt == 50.5);
	assert_int_equal(a->epmax, 2);
	assert_int_equal(a->edge, 1);
	assert_int_equal(a->hqmax, 5);
	decoded_free(&d);

	/* object level, period attributes only */
	req(&t, COAP_CODEC_PUT, "/3", -1, NULL);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "pmax=300");
	assert_decodes(&t, NULL, LWM2M_OP_WRITE_ATTRIBUTES, &d);
	assert_int_equal(a->set, LWM2M_ATTR_BIT(LWM2M_ATTR_PMAX));
	decoded_free(&d);

	/* a device that is not MQTT takes lt, con and unset attributes */
	struct coap_decode_opts full = { .full_attributes = true };
	req(&t, COAP_CODEC_PUT, "/3/0/9/0", -1, NULL);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "lt=5");
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "gt=10");
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "con=1");
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "pmin");
	assert_decodes(&t, &full, LWM2M_OP_WRITE_ATTRIBUTES, &d);
	assert_int_equal(a->set, LWM2M_ATTR_BIT(LWM2M_ATTR_LT) | LWM2M_ATTR_BIT(LWM2M_ATTR_GT)
		| LWM2M_ATTR_BIT(LWM2M_ATTR_CON));
	assert_int_equal(a->unset, LWM2M_ATTR_BIT(LWM2M_ATTR_PMIN));
	assert_true(a->lt == 5.0);
	assert_int_equal(a->con, 1);
	decoded_free(&d);
}

static void attr_refused(const char *path, const char *q1, const char *q2, bool full,
	const char *part)
{
	struct coap_decode_opts o = { .full_attributes = full };
	struct tmsg t;

	req(&t, COAP_CODEC_PUT, path, -1, NULL);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, q1);
	if(q2) opt_str(&t, COAP_CODEC_OPT_URI_QUERY, q2);
	assert_refused_with(&t, &o, C(4, 0), LWM2M_EINVAL, part);
}

static void test_write_attributes_refusals(void **state)
{
	struct tmsg t;

	(void)state;
	/* what the MQTT binding cannot carry, said exactly */
	attr_refused("/3/0/9", "lt=5", NULL, false,
		"Write-Attributes: lt cannot be forwarded: the MQTT binding has no key for it");
	attr_refused("/3/0/9", "con=1", NULL, false,
		"Write-Attributes: con cannot be forwarded: the MQTT binding has no key for it");
	attr_refused("/3/0/9", "pmin", NULL, false,
		"pmin without a value (unset) cannot be forwarded: the MQTT binding cannot unset");
	/* names, duplicates, values */
	attr_refused("/3/0/9", "dim=2", NULL, false, "unknown or read-only attribute \"dim\"");
	attr_refused("/3/0/9", "", NULL, false, "unknown or read-only attribute \"\"");
	attr_refused("/3/0/9", "pmin=1", "pmin=2", false, "pmin given twice");
	attr_refused("/3/0/9", "pmin=x", NULL, false, "Write-Attributes: pmin");
	attr_refused("/3/0/9", "edge=2", NULL, false, "edge: value must be 0 or 1");
	attr_refused("/3/0/9", "st=-1", NULL, false, "st: must not be negative");
	/* level and consistency rules */
	attr_refused("/3/0", "gt=5", NULL, false, "gt applies only to a resource");
	attr_refused("/3/0/9", "pmin=10", "pmax=5", false, "pmin must not exceed pmax");
	attr_refused("/3/0/9", "lt=10", "gt=5", true, "lt must be less than gt");
	/* the root */
	req(&t, COAP_CODEC_PUT, "/", -1, NULL);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "pmin=1");
	assert_refused(&t, C(4, 5), LWM2M_ENOTSUP, "Write-Attributes is not allowed on /");
}

/* -------------------------------------------------------------- POST ---- */

static const uint8_t tlv_inst5[] = { 0x04, 0x05, 0xe1, 0x16, 0x44, 0x01 };
static const uint8_t tlv_inst5_6[] = { 0x04, 0x05, 0xe1, 0x16, 0x44, 0x01,
	0x04, 0x06, 0xe1, 0x16, 0x44, 0x01 };
static const uint8_t tlv_no_inst[] = { 0xe1, 0x16, 0x44, 0x01 };
/* {[3303, 7]: {5700: 1}} */
static const uint8_t lwcbor_inst7[] = { 0xa1, 0x82, 0x19, 0x0c, 0xe7, 0x07, 0xa1, 0x19, 0x16,
	0x44, 0x01 };

static int32_t create_iid_of(uint16_t cf, const void *p, size_t n)
{
	struct tmsg t;
	struct decoded d;
	int32_t iid;

	req(&t, COAP_CODEC_POST, "/3303", cf, NULL);
	body(&t, p, n);
	assert_decodes(&t, NULL, LWM2M_OP_CREATE, &d);
	assert_int_equal(d.op.fields, LWM2M_F_URI | LWM2M_F_CT | LWM2M_F_PAYLOAD);
	assert_view_str(d.op.uri, "/3303");
	assert_int_equal(d.op.content_format, cf);
	assert_ptr_equal(d.op.payload.ptr, p);
	iid = d.info.create_iid;
	decoded_free(&d);
	return iid;
}

static void test_create(void **state)
{
	static const char senml[] = "[{\"bn\":\"/3303/2/\",\"n\":\"5700\",\"v\":21.5}]";
	static const char senml_two[] = "[{\"n\":\"/3303/2/5700\",\"v\":1},{\"n\":\"/3303/3/5700\",\"v\":2}]";
	static const char senml_other[] = "[{\"n\":\"/3/0/1\",\"v\":1},{\"n\":\"/3303/9/5700\",\"v\":2}]";

	(void)state;
	assert_int_equal(create_iid_of(LWM2M_CF_TLV, tlv_inst5, sizeof(tlv_inst5)), 5);
	assert_int_equal(create_iid_of(LWM2M_CF_TLV, tlv_inst5_6, sizeof(tlv_inst5_6)),
		COAP_CODEC_IID_MANY);
	assert_int_equal(create_iid_of(LWM2M_CF_TLV, tlv_no_inst, sizeof(tlv_no_inst)),
		COAP_CODEC_IID_NONE);
	assert_int_equal(create_iid_of(LWM2M_CF_TLV, "\x04", 1), COAP_CODEC_IID_NONE);   /* truncated */
	assert_int_equal(create_iid_of(LWM2M_CF_SENML_JSON, senml, strlen(senml)), 2);
	assert_int_equal(create_iid_of(LWM2M_CF_SENML_JSON, senml_two, strlen(senml_two)),
		COAP_CODEC_IID_MANY);
	assert_int_equal(create_iid_of(LWM2M_CF_SENML_JSON, senml_other, strlen(senml_other)), 9);
	assert_int_equal(create_iid_of(LWM2M_CF_SENML_JSON, "[", 1), COAP_CODEC_IID_NONE);
	assert_int_equal(create_iid_of(LWM2M_CF_LWM2M_CBOR, lwcbor_inst7, sizeof(lwcbor_inst7)), 7);
	assert_int_equal(create_iid_of(LWM2M_CF_TLV, "", 0), COAP_CODEC_IID_NONE);
}

static void test_write_partial_and_execute(void **state)
{
	struct tmsg t;
	struct decoded d;

	(void)state;
	req(&t, COAP_CODEC_POST, "/3/0", LWM2M_CF_TLV, NULL);
	body(&t, tlv_no_inst, sizeof(tlv_no_inst));
	assert_decodes(&t, NULL, LWM2M_OP_WRITE_PARTIAL, &d);
	assert_int_equal(d.op.fields, LWM2M_F_URI | LWM2M_F_CT | LWM2M_F_PAYLOAD);
	assert_view_str(d.op.uri, "/3/0");
	decoded_free(&d);
	/* a multi-value body on a resource: partial update of a multi-instance resource */
	req(&t, COAP_CODEC_POST, "/3/0/7", LWM2M_CF_SENML_CBOR, "\x80");
	assert_decodes(&t, NULL, LWM2M_OP_WRITE_PARTIAL, &d);
	assert_int_equal(d.op.content_format, LWM2M_CF_SENML_CBOR);
	decoded_free(&d);

	/* Execute: no arguments, no payload key */
	req(&t, COAP_CODEC_POST, "/3/0/4", -1, NULL);
	assert_decodes(&t, NULL, LWM2M_OP_EXECUTE, &d);
	assert_int_equal(d.op.fields, LWM2M_F_URI);
	assert_view_str(d.op.uri, "/3/0/4");
	decoded_free(&d);
	/* arguments per the Core ABNF, text/plain allowed */
	static const char *const good[] = { "0", "0='U'", "1,2='a!#$&(~'", "5=''", "9='x',0,3='y'" };
	for(size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++){
		req(&t, COAP_CODEC_POST, "/1/0/8", i % 2 ? LWM2M_CF_TEXT : -1, good[i]);
		assert_decodes(&t, NULL, LWM2M_OP_EXECUTE, &d);
		assert_int_equal(d.op.fields, LWM2M_F_URI | LWM2M_F_PAYLOAD);
		assert_view_str(d.op.payload, good[i]);
		assert_false(d.op.fields & LWM2M_F_CT);
		decoded_free(&d);
	}
}

static void test_post_refusals(void **state)
{
	static const struct { const char *args; const char *part; } bad[] = {
		{ "a", "expected an argument digit at byte 0" },
		{ "0=U", "expected ' after '=' at byte 2" },
		{ "0='x", "unterminated argument value at byte 4" },
		{ "0,", "expected an argument digit at byte 2" },
		{ "0;1", "expected ',' at byte 1" },
		{ "12", "expected ',' at byte 1" },
		{ "0='a b'", "character not allowed in an argument value at byte 4" },
		{ "0='\"'", "character not allowed" },
		{ "0='\\'", "character not allowed" },
	};
	struct tmsg t;

	(void)state;
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		req(&t, COAP_CODEC_POST, "/3/0/4", -1, bad[i].args);
		assert_refused(&t, C(4, 0), LWM2M_EINVAL, bad[i].part);
	}
	req(&t, COAP_CODEC_POST, "/3/0/4", -1, NULL);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "0=1");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "Execute takes no query parameters");
	req(&t, COAP_CODEC_POST, "/3303", -1, "x");
	assert_refused(&t, C(4, 15), LWM2M_ENOTSUP, "Create needs a Content-Format option");
	req(&t, COAP_CODEC_POST, "/3303", LWM2M_CF_TEXT, "x");
	assert_refused(&t, C(4, 15), LWM2M_ENOTSUP, "Content-Format 0 (text) is not allowed for Create");
	req(&t, COAP_CODEC_POST, "/3303", LWM2M_CF_TLV, "");
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "ep=x");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "Create takes no query parameters (got \"ep=x\")");
	req(&t, COAP_CODEC_POST, "/3/0", -1, "x");
	assert_refused(&t, C(4, 15), LWM2M_ENOTSUP, "Write (partial update) needs a Content-Format");
	req(&t, COAP_CODEC_POST, "/3/0", LWM2M_CF_OPAQUE, "x");
	assert_refused(&t, C(4, 15), LWM2M_ENOTSUP, "not allowed for Write (partial update)");
	req(&t, COAP_CODEC_POST, "/3/0/4", LWM2M_CF_CBOR, "x");
	assert_refused(&t, C(4, 15), LWM2M_ENOTSUP, "Content-Format 60 (cbor)");
	req(&t, COAP_CODEC_POST, "/", LWM2M_CF_TLV, "x");
	assert_refused(&t, C(4, 5), LWM2M_ENOTSUP, "POST is not allowed on / (only on /o (Create)");
	req(&t, COAP_CODEC_POST, "/3/0/4/1", -1, NULL);
	assert_refused(&t, C(4, 5), LWM2M_ENOTSUP, "POST is not allowed on /3/0/4/1");
}

/* ------------------------------------------------------------ DELETE ---- */

static void test_delete(void **state)
{
	struct tmsg t;
	struct decoded d;

	(void)state;
	req(&t, COAP_CODEC_DELETE, "/3303/0", -1, NULL);
	assert_decodes(&t, NULL, LWM2M_OP_DELETE, &d);
	assert_int_equal(d.op.fields, LWM2M_F_URI);
	assert_view_str(d.op.uri, "/3303/0");
	decoded_free(&d);
	req(&t, COAP_CODEC_DELETE, "/3303/0/5700/1", -1, NULL);
	assert_decodes(&t, NULL, LWM2M_OP_DELETE, &d);
	decoded_free(&d);

	req(&t, COAP_CODEC_DELETE, "/3303", -1, NULL);
	assert_refused(&t, C(4, 5), LWM2M_ENOTSUP, "Delete is not allowed on /3303");
	req(&t, COAP_CODEC_DELETE, "/3303/0/5700", -1, NULL);
	assert_refused(&t, C(4, 5), LWM2M_ENOTSUP, "only on /o/i and /o/i/r/ri");
	req(&t, COAP_CODEC_DELETE, "/", -1, NULL);
	assert_refused(&t, C(4, 5), LWM2M_ENOTSUP, "Delete");
	req(&t, COAP_CODEC_DELETE, "/3303/0", -1, "x");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "Delete takes no payload");
	req(&t, COAP_CODEC_DELETE, "/3303/0", -1, NULL);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "force");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "Delete takes no query parameters");
}

/* -------------------------------------------------- FETCH and iPATCH ---- */

/* [{0: "/3/0/0"}, {0: "/1/0/1"}]: the SenML-ETCH CBOR path list MQTT key 6 carries. */
static const uint8_t two_paths_cbor[] = {
	0x82, 0xa1, 0x00, 0x66, '/', '3', '/', '0', '/', '0',
	0xa1, 0x00, 0x66, '/', '1', '/', '0', '/', '1',
};

static void test_read_composite(void **state)
{
	static const char json[] = "[{\"n\":\"/3/0/0\"},{\"n\":\"/1/0/1\"}]";
	static const char senml[] = "[{\"bn\":\"/3/0/\",\"n\":\"0\"},{\"bn\":\"/1/0/\",\"n\":\"1\"}]";
	struct tmsg t;
	struct decoded d;

	(void)state;
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_SENML_ETCH_JSON, json);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, LWM2M_CF_SENML_CBOR);
	assert_decodes(&t, NULL, LWM2M_OP_READ_COMPOSITE, &d);
	assert_int_equal(d.op.fields, LWM2M_F_PATHS);
	assert_view_bytes(d.op.paths, two_paths_cbor, sizeof(two_paths_cbor));
	assert_true(points_into(d.op.paths, &d.scratch));
	assert_int_equal(d.info.accept, LWM2M_CF_SENML_CBOR);
	assert_int_equal(d.info.path.len, 0);
	assert_int_equal(d.info.observe, COAP_CODEC_OBSERVE_NONE);
	decoded_free(&d);

	/* SenML-ETCH CBOR in, the same bytes out (re-encoded); SenML JSON with base names */
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_SENML_ETCH_CBOR, NULL);
	body(&t, two_paths_cbor, sizeof(two_paths_cbor));
	assert_decodes(&t, NULL, LWM2M_OP_READ_COMPOSITE, &d);
	assert_view_bytes(d.op.paths, two_paths_cbor, sizeof(two_paths_cbor));
	assert_ptr_not_equal(d.op.paths.ptr, two_paths_cbor);
	decoded_free(&d);
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_SENML_JSON, senml);
	assert_decodes(&t, NULL, LWM2M_OP_READ_COMPOSITE, &d);
	assert_view_bytes(d.op.paths, two_paths_cbor, sizeof(two_paths_cbor));
	decoded_free(&d);

	/* Observe-Composite and its cancellation keep the path list */
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_SENML_ETCH_JSON, json);
	opt_uint(&t, COAP_CODEC_OPT_OBSERVE, 0);
	assert_decodes(&t, NULL, LWM2M_OP_OBSERVE_COMPOSITE, &d);
	assert_int_equal(d.info.observe, COAP_CODEC_OBSERVE_REGISTER);
	assert_view_bytes(d.op.paths, two_paths_cbor, sizeof(two_paths_cbor));
	decoded_free(&d);
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_SENML_ETCH_JSON, json);
	opt_uint(&t, COAP_CODEC_OPT_OBSERVE, 1);
	assert_decodes(&t, NULL, LWM2M_OP_CANCEL_OBSERVE, &d);
	assert_int_equal(d.op.fields, LWM2M_F_PATHS);
	assert_int_equal(d.info.observe, COAP_CODEC_OBSERVE_DEREGISTER);
	decoded_free(&d);

	/* the root itself may be listed */
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_SENML_ETCH_JSON, "[{\"n\":\"/\"}]");
	assert_decodes(&t, NULL, LWM2M_OP_READ_COMPOSITE, &d);
	decoded_free(&d);
}

static void test_fetch_refusals(void **state)
{
	static const char json[] = "[{\"n\":\"/3/0/0\"}]";
	struct tmsg t;
	struct decoded d;

	(void)state;
	req(&t, COAP_CODEC_FETCH, "/3", LWM2M_CF_SENML_ETCH_JSON, json);
	assert_refused(&t, C(4, 5), LWM2M_ENOTSUP, "Read-Composite is not allowed on /3 (only on the root");
	req(&t, COAP_CODEC_FETCH, "/", -1, json);
	assert_refused(&t, C(4, 15), LWM2M_ENOTSUP, "Read-Composite needs a Content-Format option");
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_LWM2M_CBOR, "\xa0");
	assert_refused(&t, C(4, 15), LWM2M_ENOTSUP, "LwM2M CBOR path lists are not supported");
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_TEXT, json);
	assert_refused(&t, C(4, 15), LWM2M_ENOTSUP, "Content-Format 0 (text) is not allowed for Read-Composite");
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_SENML_ETCH_JSON, "[{\"n\":");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "path list: ");
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_SENML_ETCH_JSON, "[]");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "Read-Composite: the path list is empty");
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_SENML_ETCH_JSON, "[{\"n\":\"/3/65535\"}]");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "path list: /3/65535 uses the reserved id 65535");
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_SENML_ETCH_JSON, "[{\"n\":\"/d01/3/0/0\"}]");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "path list: ");
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_SENML_ETCH_JSON, json);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "pmin=1");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "Read-Composite takes no query parameters");
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_SENML_ETCH_JSON, json);
	opt_uint(&t, COAP_CODEC_OPT_OBSERVE, 0);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "pmax=5");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL,
		"Observe-Composite with attributes (\"pmax=5\") cannot be forwarded");
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_SENML_ETCH_JSON, json);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, LWM2M_CF_TLV);
	assert_refused(&t, C(4, 6), LWM2M_ENOTSUP, "Read-Composite cannot be answered in Accept 11542");

	/* scratch above its limit: 4.13, nothing left behind */
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_SENML_ETCH_JSON, json);
	memset(&d, 0, sizeof(d));
	buf_init(&d.scratch, 4);
	d.rc = coap_codec_decode_request(&t.m, &d.op, &d.info, &d.scratch, &d.err);
	assert_int_equal(d.rc, -LWM2M_ETOOBIG);
	assert_int_equal(d.info.answer_code, C(4, 13));
	assert_int_equal(d.scratch.len, 0);
	assert_int_equal(d.op.fields, 0);
	decoded_free(&d);
	req(&t, COAP_CODEC_GET, "/3303/0/5700", -1, NULL);
	buf_init(&d.scratch, 3);
	d.rc = coap_codec_decode_request(&t.m, &d.op, &d.info, &d.scratch, &d.err);
	assert_int_equal(d.rc, -LWM2M_ETOOBIG);
	assert_int_equal(d.info.answer_code, C(4, 13));
	assert_msg_has(&d.err, "scratch: ");
	decoded_free(&d);
}

static void test_write_composite(void **state)
{
	static const char senml[] = "[{\"n\":\"/3/0/14\",\"vs\":\"+02\"},{\"n\":\"/1/0/1\",\"v\":60}]";
	static const uint16_t cfs[] = { 110, 112, 320, 322, 11544 };
	struct tmsg t;
	struct decoded d;

	(void)state;
	for(size_t i = 0; i < sizeof(cfs) / sizeof(cfs[0]); i++){
		req(&t, COAP_CODEC_IPATCH, "/", cfs[i], senml);
		assert_decodes(&t, NULL, LWM2M_OP_WRITE_COMPOSITE, &d);
		assert_int_equal(d.op.fields, LWM2M_F_CT | LWM2M_F_PAYLOAD);
		assert_int_equal(d.op.content_format, cfs[i]);
		assert_ptr_equal(d.op.payload.ptr, senml);
		decoded_free(&d);
	}
	req(&t, COAP_CODEC_IPATCH, "/3/0", LWM2M_CF_SENML_JSON, senml);
	assert_refused(&t, C(4, 5), LWM2M_ENOTSUP, "Write-Composite is not allowed on /3/0");
	req(&t, COAP_CODEC_IPATCH, "/", LWM2M_CF_TLV, senml);
	assert_refused(&t, C(4, 15), LWM2M_ENOTSUP, "Content-Format 11542 (tlv) is not allowed for Write-Composite");
	req(&t, COAP_CODEC_IPATCH, "/", -1, senml);
	assert_refused(&t, C(4, 15), LWM2M_ENOTSUP, "Write-Composite needs a Content-Format");
	req(&t, COAP_CODEC_IPATCH, "/", LWM2M_CF_SENML_JSON, NULL);
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "Write-Composite needs a payload");
	req(&t, COAP_CODEC_IPATCH, "/", LWM2M_CF_SENML_JSON, senml);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "a=b");
	assert_refused(&t, C(4, 0), LWM2M_EINVAL, "Write-Composite takes no query parameters");
}

/* ------------------------------------------------- CoAP -> op -> MQTT ---- */

/* Every decoded request must be something the MQTT codec encodes, and decode back alike. */
static void assert_mqtt_round_trip(const struct tmsg *t, const struct coap_decode_opts *o,
	enum lwm2m_op_kind kind)
{
	struct decoded d;
	struct lwm2m_buf out;
	struct lwm2m_op back;
	struct lwm2m_error err;

	assert_decodes(t, o, kind, &d);
	d.op.token = 77;
	d.op.fields |= LWM2M_F_TOKEN;
	buf_init(&out, 0);
	if(mqtt_codec_encode(&d.op, LWM2M_IFACE_RD, &out, &err) != 0){
		fail_msg("%s: MQTT encoder refuses: %s", op_kind_name(kind), err.msg);
	}
	assert_int_equal(mqtt_codec_decode(out.data, out.len, LWM2M_IFACE_RD, NULL, &back, &err), 0);
	assert_int_equal(back.kind, kind);
	assert_int_equal(back.token, 77);
	assert_int_equal(back.fields, d.op.fields);
	if(d.op.fields & LWM2M_F_URI) assert_view_bytes(back.uri, d.op.uri.ptr, d.op.uri.len);
	if(d.op.fields & LWM2M_F_PATHS) assert_view_bytes(back.paths, d.op.paths.ptr, d.op.paths.len);
	if(d.op.fields & LWM2M_F_PAYLOAD) assert_view_bytes(back.payload, d.op.payload.ptr, d.op.payload.len);
	if(d.op.fields & LWM2M_F_CT) assert_int_equal(back.content_format, d.op.content_format);
	if(d.op.fields & LWM2M_F_DEPTH) assert_int_equal(back.depth, d.op.depth);
	if(d.op.fields & LWM2M_F_ATTRS){
		assert_int_equal(back.attrs.set, d.op.attrs.set);
		assert_int_equal(back.attrs.pmin, d.op.attrs.pmin);
		assert_true(back.attrs.gt == d.op.attrs.gt);
	}
	buf_free(&out);
	decoded_free(&d);
}

static void test_round_trip_to_mqtt(void **state)
{
	static const char json[] = "[{\"n\":\"/3/0/0\"},{\"n\":\"/1/0/1\"}]";
	struct tmsg t;

	(void)state;
	req(&t, COAP_CODEC_GET, "/3/0/0", -1, NULL);
	assert_mqtt_round_trip(&t, NULL, LWM2M_OP_READ);
	req(&t, COAP_CODEC_GET, "/3", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_ACCEPT, LWM2M_CF_LINK);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "depth=1");
	assert_mqtt_round_trip(&t, NULL, LWM2M_OP_DISCOVER);
	req(&t, COAP_CODEC_PUT, "/3/0/13", LWM2M_CF_TEXT, "1367491215");
	assert_mqtt_round_trip(&t, NULL, LWM2M_OP_WRITE);
	req(&t, COAP_CODEC_POST, "/3/0", LWM2M_CF_SENML_JSON, "[{\"n\":\"/3/0/14\",\"vs\":\"+01\"}]");
	assert_mqtt_round_trip(&t, NULL, LWM2M_OP_WRITE_PARTIAL);
	req(&t, COAP_CODEC_PUT, "/3/0/9", -1, NULL);
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "pmin=10");
	opt_str(&t, COAP_CODEC_OPT_URI_QUERY, "gt=50.5");
	assert_mqtt_round_trip(&t, NULL, LWM2M_OP_WRITE_ATTRIBUTES);
	req(&t, COAP_CODEC_POST, "/3/0/4", -1, "0='x'");
	assert_mqtt_round_trip(&t, NULL, LWM2M_OP_EXECUTE);
	req(&t, COAP_CODEC_POST, "/3/0/4", -1, NULL);
	assert_mqtt_round_trip(&t, NULL, LWM2M_OP_EXECUTE);
	req(&t, COAP_CODEC_POST, "/3303", LWM2M_CF_TLV, NULL);
	body(&t, tlv_inst5, sizeof(tlv_inst5));
	assert_mqtt_round_trip(&t, NULL, LWM2M_OP_CREATE);
	req(&t, COAP_CODEC_DELETE, "/3303/5", -1, NULL);
	assert_mqtt_round_trip(&t, NULL, LWM2M_OP_DELETE);
	req(&t, COAP_CODEC_GET, "/3/0/9", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_OBSERVE, 0);
	assert_mqtt_round_trip(&t, NULL, LWM2M_OP_OBSERVE);
	req(&t, COAP_CODEC_GET, "/3/0/9", -1, NULL);
	opt_uint(&t, COAP_CODEC_OPT_OBSERVE, 1);
	assert_mqtt_round_trip(&t, NULL, LWM2M_OP_CANCEL_OBSERVE);
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_SENML_ETCH_JSON, json);
	assert_mqtt_round_trip(&t, NULL, LWM2M_OP_READ_COMPOSITE);
	req(&t, COAP_CODEC_FETCH, "/", LWM2M_CF_SENML_ETCH_JSON, json);
	opt_uint(&t, COAP_CODEC_OPT_OBSERVE, 0);
	assert_mqtt_round_trip(&t, NULL, LWM2M_OP_OBSERVE_COMPOSITE);
	req(&t, COAP_CODEC_IPATCH, "/", LWM2M_CF_SENML_CBOR, "\x80");
	assert_mqtt_round_trip(&t, NULL, LWM2M_OP_WRITE_COMPOSITE);
}

/* ------------------------------------------------------------ answers ---- */

static struct lwm2m_op answer(enum lwm2m_op_kind kind, uint16_t result)
{
	struct lwm2m_op op;

	op_init(&op);
	op.kind = kind;
	op.is_response = true;
	op.result = result;
	op.fields = LWM2M_F_RESULT;
	return op;
}

static void with_content(struct lwm2m_op *op, uint16_t cf, const char *payload)
{
	op->content_format = cf;
	op->payload = op_view_str(payload);
	op->fields |= LWM2M_F_CT | LWM2M_F_PAYLOAD;
}

static void encode(const struct lwm2m_op *resp, enum lwm2m_op_kind kind,
	const struct coap_request_info *info, struct coap_answer *a, struct lwm2m_error *err)
{
	memset(a, 0x5a, sizeof(*a));
	memset(err, 0, sizeof(*err));
	if(coap_codec_encode_response(resp, kind, info, a, err) != 0){
		fail_msg("%s: %s", op_kind_name(kind), err->msg);
	}
}

static void assert_answer_fails(const struct lwm2m_op *resp, enum lwm2m_op_kind kind,
	const struct coap_request_info *info, uint8_t code, const char *part)
{
	struct coap_answer a;
	struct lwm2m_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = coap_codec_encode_response(resp, kind, info, &a, &err);
	assert_true(rc < 0);
	assert_int_equal(err.code, -rc);
	assert_int_equal(a.code, code);
	assert_msg_has(&err, part);
	assert_ptr_equal(a.payload.ptr, err.msg);          /* the diagnostic payload */
	assert_int_equal(a.payload.len, strlen(err.msg));
	assert_false(a.has_content_format);
	assert_false(a.observe);
	assert_int_equal(a.n_location, 0);
	/* without err, an empty diagnostic */
	assert_int_equal(coap_codec_encode_response(resp, kind, info, &a, NULL), rc);
	assert_int_equal(a.payload.len, 0);
	assert_int_equal(a.code, code);
}

static void test_answers(void **state)
{
	struct lwm2m_op r;
	struct coap_answer a;
	struct lwm2m_error err;

	(void)state;
	r = answer(LWM2M_OP_READ, 205);
	with_content(&r, LWM2M_CF_TEXT, "Open Mobile Alliance");
	encode(&r, LWM2M_OP_READ, NULL, &a, &err);
	assert_int_equal(a.code, C(2, 5));
	assert_true(a.has_content_format);
	assert_int_equal(a.content_format, 0);
	assert_ptr_equal(a.payload.ptr, r.payload.ptr);
	assert_int_equal(a.payload.len, 20);
	assert_false(a.observe);
	assert_int_equal(a.n_location, 0);

	/* Observe success asks for an Observe option, its errors and Cancel-Observe do not */
	encode(&r, LWM2M_OP_OBSERVE, NULL, &a, &err);
	assert_true(a.observe);
	encode(&r, LWM2M_OP_OBSERVE_COMPOSITE, NULL, &a, &err);
	assert_true(a.observe);
	encode(&r, LWM2M_OP_CANCEL_OBSERVE, NULL, &a, &err);
	assert_false(a.observe);
	assert_int_equal(a.code, C(2, 5));
	r = answer(LWM2M_OP_OBSERVE, 404);
	encode(&r, LWM2M_OP_OBSERVE, NULL, &a, &err);
	assert_int_equal(a.code, C(4, 4));
	assert_false(a.observe);
	assert_int_equal(a.payload.len, 0);

	/* successes become the operation's own code; no payload, no Content-Format */
	static const struct { enum lwm2m_op_kind kind; uint16_t result; uint8_t code; } ok[] = {
		{ LWM2M_OP_WRITE, 204, C(2, 4) }, { LWM2M_OP_WRITE_PARTIAL, 204, C(2, 4) },
		{ LWM2M_OP_WRITE_ATTRIBUTES, 204, C(2, 4) }, { LWM2M_OP_EXECUTE, 204, C(2, 4) },
		{ LWM2M_OP_WRITE_COMPOSITE, 204, C(2, 4) }, { LWM2M_OP_DELETE, 202, C(2, 2) },
		{ LWM2M_OP_DELETE, 200, C(2, 2) }, { LWM2M_OP_DELETE, 204, C(2, 2) },
		{ LWM2M_OP_WRITE, 201, C(2, 4) }, { LWM2M_OP_READ, 204, C(2, 5) },
		{ LWM2M_OP_DISCOVER, 205, C(2, 5) }, { LWM2M_OP_READ_COMPOSITE, 205, C(2, 5) },
	};
	for(size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++){
		r = answer(ok[i].kind, ok[i].result);
		encode(&r, ok[i].kind, NULL, &a, &err);
		assert_int_equal(a.code, ok[i].code);
		assert_false(a.has_content_format);
		assert_int_equal(a.payload.len, 0);
		assert_non_null(a.payload.ptr);
	}
	/* errors pass through, with their diagnostic; dd above 31 becomes c.00 */
	static const struct { uint16_t result; uint8_t code; } errs[] = {
		{ 400, C(4, 0) }, { 401, C(4, 1) }, { 404, C(4, 4) }, { 405, C(4, 5) },
		{ 406, C(4, 6) }, { 415, C(4, 15) }, { 500, C(5, 0) }, { 503, C(5, 3) },
		{ 450, C(4, 0) }, { 599, C(5, 0) },
	};
	for(size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++){
		r = answer(LWM2M_OP_WRITE, errs[i].result);
		encode(&r, LWM2M_OP_WRITE, NULL, &a, &err);
		assert_int_equal(a.code, errs[i].code);
	}
	r = answer(LWM2M_OP_WRITE, 400);
	r.payload = op_view_str("bad value");
	r.fields |= LWM2M_F_PAYLOAD;
	encode(&r, LWM2M_OP_WRITE, NULL, &a, &err);
	assert_int_equal(a.code, C(4, 0));
	assert_view_str(a.payload, "bad value");
	assert_false(a.has_content_format);

	/* a notification */
	op_init(&r);
	r.kind = LWM2M_OP_NOTIFY;
	with_content(&r, LWM2M_CF_SENML_CBOR, "\x80");
	encode(&r, LWM2M_OP_OBSERVE, NULL, &a, &err);
	assert_int_equal(a.code, C(2, 5));
	assert_true(a.observe);
	assert_int_equal(a.content_format, LWM2M_CF_SENML_CBOR);
	assert_int_equal(a.payload.len, 1);
}

static void test_answer_refusals(void **state)
{
	struct lwm2m_op r;

	(void)state;
	r = answer(LWM2M_OP_READ, 231);
	assert_answer_fails(&r, LWM2M_OP_READ, NULL, C(5, 0), "result 231, which CoAP cannot carry");
	r = answer(LWM2M_OP_READ, 302);
	assert_answer_fails(&r, LWM2M_OP_READ, NULL, C(5, 0), "result 302");
	r = answer(LWM2M_OP_READ, 100);
	assert_answer_fails(&r, LWM2M_OP_READ, NULL, C(5, 0), "result 100");
	r = answer(LWM2M_OP_READ, 0);
	assert_answer_fails(&r, LWM2M_OP_READ, NULL, C(5, 0), "result 0");
	r = answer(LWM2M_OP_READ, 999);
	assert_answer_fails(&r, LWM2M_OP_READ, NULL, C(5, 0), "result 999");
	r = answer(LWM2M_OP_READ, 205);
	r.payload = op_view_str("x");
	r.fields |= LWM2M_F_PAYLOAD;
	assert_answer_fails(&r, LWM2M_OP_READ, NULL, C(5, 0), "a payload but no content format");
	r = answer(LWM2M_OP_REGISTER, 201);
	assert_answer_fails(&r, LWM2M_OP_REGISTER, NULL, C(5, 0),
		"Register is not a request of a CoAP server");
	assert_answer_fails(&r, LWM2M_OP_NONE, NULL, C(5, 0), "not a request of a CoAP server");
	op_init(&r);
	r.kind = LWM2M_OP_READ;
	assert_answer_fails(&r, LWM2M_OP_READ, NULL, C(5, 0), "Read is not an answer");
	r.kind = LWM2M_OP_NOTIFY;
	r.payload = op_view_str("1");
	r.fields = LWM2M_F_PAYLOAD;
	assert_answer_fails(&r, LWM2M_OP_OBSERVE, NULL, C(5, 0),
		"a notification needs a payload and a content format");
	assert_answer_fails(NULL, LWM2M_OP_READ, NULL, C(5, 0), "no answer");
}

/* Decode a Create of /3303 with this TLV body, then encode the device's answer. */
static void create_info(const uint8_t *tlv, size_t n, struct coap_request_info *info)
{
	struct tmsg t;
	struct decoded d;

	req(&t, COAP_CODEC_POST, "/3303", LWM2M_CF_TLV, NULL);
	body(&t, tlv, n);
	assert_decodes(&t, NULL, LWM2M_OP_CREATE, &d);
	*info = d.info;
	decoded_free(&d);
}

static void test_create_answers(void **state)
{
	struct coap_request_info named, none, many;
	struct lwm2m_op r;
	struct coap_answer a;
	struct lwm2m_error err;

	(void)state;
	create_info(tlv_inst5, sizeof(tlv_inst5), &named);
	create_info(tlv_no_inst, sizeof(tlv_no_inst), &none);
	create_info(tlv_inst5_6, sizeof(tlv_inst5_6), &many);

	/* the device says which instance (HTTP Location convention: resp->uri) */
	r = answer(LWM2M_OP_CREATE, 201);
	r.uri = op_view_str("/3303/12");
	r.fields |= LWM2M_F_URI;
	encode(&r, LWM2M_OP_CREATE, &none, &a, &err);
	assert_int_equal(a.code, C(2, 1));
	assert_int_equal(a.n_location, 2);
	assert_string_equal(a.location[0], "3303");
	assert_string_equal(a.location[1], "12");
	encode(&r, LWM2M_OP_CREATE, NULL, &a, &err);
	assert_string_equal(a.location[1], "12");
	r.uri = op_view_str("3303/65534/");
	encode(&r, LWM2M_OP_CREATE, &named, &a, &err);
	assert_string_equal(a.location[1], "65534");   /* the device's word wins */
	/* a 2.04 from the device is still a Create success */
	r = answer(LWM2M_OP_CREATE, 204);
	encode(&r, LWM2M_OP_CREATE, &named, &a, &err);
	assert_int_equal(a.code, C(2, 1));
	assert_int_equal(a.n_location, 2);
	assert_string_equal(a.location[0], "3303");
	assert_string_equal(a.location[1], "5");       /* the instance the server named */
	/* the server named several: 2.01 without Location */
	encode(&r, LWM2M_OP_CREATE, &many, &a, &err);
	assert_int_equal(a.code, C(2, 1));
	assert_int_equal(a.n_location, 0);
	/* nobody named it */
	assert_answer_fails(&r, LWM2M_OP_CREATE, &none, C(4, 0),
		"the device did not say which instance it created");
	assert_answer_fails(&r, LWM2M_OP_CREATE, NULL, C(4, 0), "did not say which instance");
	/* a location that is not /object/instance, or in another object */
	r.fields |= LWM2M_F_URI;
	r.uri = op_view_str("/3303");
	assert_answer_fails(&r, LWM2M_OP_CREATE, &none, C(5, 0), "\"/3303\", not /object/instance");
	r.uri = op_view_str("/3303/65535");
	assert_answer_fails(&r, LWM2M_OP_CREATE, &none, C(5, 0), "not /object/instance");
	r.uri = op_view_str("/3303/1/2");
	assert_answer_fails(&r, LWM2M_OP_CREATE, &none, C(5, 0), "not /object/instance");
	r.uri = op_view_str("/3304/1");
	assert_answer_fails(&r, LWM2M_OP_CREATE, &none, C(5, 0), "the device created /3304/1 in object 3303");
	/* a Create error passes through without Location */
	r = answer(LWM2M_OP_CREATE, 409);
	encode(&r, LWM2M_OP_CREATE, &none, &a, &err);
	assert_int_equal(a.code, C(4, 9));
	assert_int_equal(a.n_location, 0);
}

/* ---------------------------------------------------------- registration ---- */

static struct coap_reg_state state_of(const char *ep, uint64_t lt, const char *ver, bool queue)
{
	struct coap_reg_state s;

	memset(&s, 0, sizeof(s));
	s.ep = op_view_str(ep);
	s.lifetime = lt;
	s.version = op_view_str(ver);
	s.queue = queue;
	return s;
}

/* The query list in b from `from` joined by '&' (for comparisons). */
static void joined(const struct lwm2m_buf *b, size_t from, char *out, size_t size)
{
	size_t pos = from;
	const char *q;

	out[0] = '\0';
	while((q = coap_codec_query_next(b, &pos)) != NULL){
		if(out[0]) strncat(out, "&", size - strlen(out) - 1);
		strncat(out, q, size - strlen(out) - 1);
	}
}

static void assert_query(const struct coap_reg_state *old, const struct coap_reg_state *s,
	const char *expected, size_t expected_count)
{
	struct lwm2m_buf b;
	struct lwm2m_error err;
	size_t count = 99;
	char text[600];
	int rc;

	buf_init(&b, 0);
	rc = old ? coap_codec_update_query(old, s, &b, &count, &err)
		: coap_codec_register_query(s, &b, &count, &err);
	if(rc) fail_msg("query: %s", err.msg);
	assert_int_equal(count, expected_count);
	joined(&b, 0, text, sizeof(text));
	assert_string_equal(text, expected);
	if(count) assert_int_equal(b.data[b.len - 1], '\0');
	buf_free(&b);
}

static void assert_query_refused(const struct coap_reg_state *old, const struct coap_reg_state *s,
	const char *part)
{
	struct lwm2m_buf b;
	struct lwm2m_error err;
	size_t count = 99;
	int rc;

	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "keep", 4), 0);
	memset(&err, 0, sizeof(err));
	rc = old ? coap_codec_update_query(old, s, &b, &count, &err)
		: coap_codec_register_query(s, &b, &count, &err);
	assert_int_equal(rc, -LWM2M_EINVAL);
	assert_int_equal(count, 0);
	assert_int_equal(b.len, 4);
	assert_msg_has(&err, part);
	buf_free(&b);
}

static void test_register_query(void **state)
{
	struct coap_reg_state s = state_of("urn:imei:490154203237518", 300, "1.2", false);
	struct lwm2m_buf b;
	size_t count, pos;
	struct lwm2m_error err;

	(void)state;
	assert_query(NULL, &s, "ep=urn:imei:490154203237518&lt=300&lwm2m=1.2&b=U", 4);
	s.queue = true;
	s.sms = op_view_str("33612345678");
	s.pid = op_view_str("\"6:27354b9a,oma:p\"");
	assert_query(NULL, &s, "ep=urn:imei:490154203237518&lt=300&lwm2m=1.2&b=U&Q&sms=33612345678"
		"&pid=\"6:27354b9a,oma:p\"", 7);
	/* 1.0 writes queue mode into b; TCP; lifetime 0 and the largest */
	s = state_of("dev", 0, "1.0", true);
	assert_query(NULL, &s, "ep=dev&lt=0&lwm2m=1.0&b=UQ", 4);
	s.transport = 'T';
	s.lifetime = UINT64_MAX;
	assert_query(NULL, &s, "ep=dev&lt=18446744073709551615&lwm2m=1.0&b=TQ", 4);
	s = state_of("dev", 60, "1.1", false);
	s.transport = 'T';
	assert_query(NULL, &s, "ep=dev&lt=60&lwm2m=1.1&b=T", 4);

	/* exact bytes: consecutive NUL-terminated strings, appended after what b holds */
	buf_init(&b, 0);
	assert_int_equal(buf_append_byte(&b, 'x'), 0);
	s = state_of("e", 5, "1.2", true);
	assert_int_equal(coap_codec_register_query(&s, &b, &count, &err), 0);
	assert_int_equal(count, 5);
	assert_int_equal(b.len, 1 + sizeof("ep=e\0lt=5\0lwm2m=1.2\0b=U\0Q"));
	assert_memory_equal(b.data, "xep=e\0lt=5\0lwm2m=1.2\0b=U\0Q", b.len);
	pos = 1;
	assert_string_equal(coap_codec_query_next(&b, &pos), "ep=e");
	assert_int_equal(pos, 6);
	buf_free(&b);

	/* refusals, the buffer left as it was */
	char ep253[254];
	memset(ep253, 'a', 253);
	ep253[253] = '\0';
	s = state_of("", 60, "1.2", false);
	assert_query_refused(NULL, &s, "ep: not 1..252 bytes");
	s.ep = op_view_str(ep253);
	assert_query_refused(NULL, &s, "ep: not 1..252 bytes");
}

static void test_register_query_refusals(void **state)
{
	struct coap_reg_state s;

	(void)state;
	s = state_of("dev\x01", 60, "1.2", false);
	assert_query_refused(NULL, &s, "ep: not 1..252 bytes of UTF-8 without control characters");
	s = state_of("dev\xff", 60, "1.2", false);
	assert_query_refused(NULL, &s, "ep:");
	s = state_of("dev", 60, "1", false);
	assert_query_refused(NULL, &s, "lwm2m: version is not major.minor");
	s = state_of("dev", 60, "1.x", false);
	assert_query_refused(NULL, &s, "lwm2m:");
	s = state_of("dev", 60, "", false);
	assert_query_refused(NULL, &s, "lwm2m:");
	s = state_of("dev", 60, "1.2", false);
	s.transport = 'M';
	assert_query_refused(NULL, &s, "b: transport must be U or T");
	s.transport = 'U';
	s.sms = op_view_str("+3361");
	assert_query_refused(NULL, &s, "sms: not 1..15 digits");
	s.sms = op_view_str("1234567890123456");
	assert_query_refused(NULL, &s, "sms:");
	s.sms.len = 0;
	s.pid = op_view_str("6:ab cd");
	assert_query_refused(NULL, &s, "pid: not 1..251 printable characters");
	/* UTF-8 endpoint names pass, 252 bytes is the longest */
	char ep[253];
	memset(ep, 'a', 252);
	ep[252] = '\0';
	s = state_of(ep, 60, "1.2", false);
	struct lwm2m_buf b;
	struct lwm2m_error err;
	size_t count;
	buf_init(&b, 0);
	assert_int_equal(coap_codec_register_query(&s, &b, &count, &err), 0);
	assert_int_equal(strlen((const char *)b.data), 255);   /* "ep=" + 252 */
	buf_reset(&b);
	s.ep = op_view_str("capteur-\xc3\xa9t\xc3\xa9");
	assert_int_equal(coap_codec_register_query(&s, &b, &count, &err), 0);
	buf_free(&b);
}

static void test_update_query(void **state)
{
	struct coap_reg_state old = state_of("dev", 300, "1.2", false), now = old;

	(void)state;
	assert_query(&old, &now, "", 0);               /* nothing changed */
	now.lifetime = 600;
	assert_query(&old, &now, "lt=600", 1);
	now = old;
	now.queue = true;
	assert_query(&old, &now, "b=U&Q", 2);
	assert_query(&now, &old, "b=U", 1);            /* queue off: b without Q */
	now = old;
	now.transport = 'T';
	assert_query(&old, &now, "b=T", 1);
	old.transport = 'U';
	now.transport = 0;                             /* 0 = U */
	assert_query(&old, &now, "", 0);
	now = old;
	now.sms = op_view_str("123");
	now.pid = op_view_str("v:x");
	now.lifetime = 1;
	assert_query(&old, &now, "lt=1&sms=123&pid=v:x", 3);
	assert_query(&now, &old, "lt=300", 1);         /* a removed sms or pid cannot be said */
	/* 1.0: queue mode in b */
	old = state_of("dev", 300, "1.0", false);
	now = old;
	now.queue = true;
	assert_query(&old, &now, "b=UQ", 1);
	/* only what is sent is checked */
	now = old;
	now.sms = op_view_str("12a");
	assert_query_refused(&old, &now, "sms:");
	now = old;
	now.queue = true;
	now.transport = 'S';
	assert_query_refused(&old, &now, "b: transport");
	now = old;
	now.ep = op_view_str("");
	assert_query(&old, &now, "", 0);
}

static void test_reg_state_apply(void **state)
{
	struct coap_reg_state s;
	struct lwm2m_op op;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.ep = op_view_str("from-topic");
	s.transport = 'T';
	op_init(&op);
	op.kind = LWM2M_OP_REGISTER;
	op.lifetime = 86400;
	op.version = op_view_str("1.2");
	op.binding = op_view_str("MQ");
	op.sms = op_view_str("123");
	op.fields = LWM2M_F_LIFETIME | LWM2M_F_VERSION | LWM2M_F_BINDING | LWM2M_F_SMS | LWM2M_F_QUEUE;
	coap_codec_reg_state_apply(&s, &op);
	assert_view_str(s.ep, "from-topic");          /* MQTT: the topic names the endpoint */
	assert_int_equal(s.transport, 'T');
	assert_int_equal(s.lifetime, 86400);
	assert_view_str(s.version, "1.2");
	assert_true(s.queue);
	assert_view_str(s.sms, "123");
	assert_int_equal(s.pid.len, 0);
	/* HTTP style: ep and pid in the op; Q inside b alone also means queue mode */
	op.fields = LWM2M_F_EP | LWM2M_F_LIFETIME | LWM2M_F_VERSION | LWM2M_F_BINDING | LWM2M_F_PID;
	op.ep = op_view_str("dev9");
	op.binding = op_view_str("UQ");
	op.pid = op_view_str("v:1");
	coap_codec_reg_state_apply(&s, &op);
	assert_view_str(s.ep, "dev9");
	assert_true(s.queue);
	assert_int_equal(s.sms.len, 0);               /* a new Register replaces everything */
	assert_view_str(s.pid, "v:1");
	/* Update: only what is present */
	op_init(&op);
	op.kind = LWM2M_OP_UPDATE;
	op.lifetime = 60;
	op.fields = LWM2M_F_LIFETIME;
	coap_codec_reg_state_apply(&s, &op);
	assert_int_equal(s.lifetime, 60);
	assert_true(s.queue);
	assert_view_str(s.pid, "v:1");
	op.fields = LWM2M_F_BINDING;
	op.binding = op_view_str("M");
	coap_codec_reg_state_apply(&s, &op);
	assert_false(s.queue);                         /* a binding without Q: queue mode off */
	op.fields = LWM2M_F_QUEUE;
	coap_codec_reg_state_apply(&s, &op);
	assert_true(s.queue);
	op.fields = LWM2M_F_SMS;
	op.sms = op_view_str("99");
	coap_codec_reg_state_apply(&s, &op);
	assert_view_str(s.sms, "99");
	assert_int_equal(s.lifetime, 60);
	/* other kinds change nothing */
	op.kind = LWM2M_OP_SEND;
	op.fields = LWM2M_F_LIFETIME;
	op.lifetime = 1;
	coap_codec_reg_state_apply(&s, &op);
	assert_int_equal(s.lifetime, 60);
}

/* ------------------------------------------------------------ link filter ---- */

static void assert_filtered(const char *in, const char *expected)
{
	struct lwm2m_buf b, again;
	struct lwm2m_error err;

	buf_init(&b, 0);
	buf_init(&again, 0);
	if(coap_codec_filter_links(in, strlen(in), &b, &err) != 0) fail_msg("%s: %s", in, err.msg);
	assert_int_equal(b.len, strlen(expected));
	assert_non_null(b.data);
	assert_string_equal((const char *)b.data, expected);   /* NUL-terminated */
	/* filtering is idempotent */
	assert_int_equal(coap_codec_filter_links((const char *)b.data, b.len, &again, &err), 0);
	assert_int_equal(again.len, b.len);
	assert_memory_equal(again.data, b.data, b.len);
	buf_free(&b);
	buf_free(&again);
}

static void test_filter_links(void **state)
{
	struct lwm2m_buf b;
	struct lwm2m_error err;

	(void)state;
	assert_filtered("</>;rt=\"oma.lwm2m\";ct=\"60 110\",</0/0>,</1/0>,</3/0>,</21/0>,</23>,"
		"</24/0>;ver=1.0,</3303/0>",
		"</>;rt=\"oma.lwm2m\";ct=\"60 110\",</1/0>,</3/0>,</3303/0>");
	assert_filtered("</0>,</0/1>,</21>,</23/0>,</24>", "");
	assert_filtered("", "");
	/* kept byte for byte; whitespace after ',' dropped */
	assert_filtered("</1/0>;ssid=101, </3/0>;ver=\"1.1\",\t</5>;foo;bar=\"a,b\\\"</0/0>\"",
		"</1/0>;ssid=101,</3/0>;ver=\"1.1\",</5>;foo;bar=\"a,b\\\"</0/0>\"");
	assert_filtered("</3/0>;x=\"a,</0/0>\",</0/0>", "</3/0>;x=\"a,</0/0>\"");
	/* a backslash pairs with the next byte in a quoted value (lf_parse): "a\\" ends there */
	assert_filtered("</3/0>;x=\"a\\\\\",</0/0>,</1/0>;y=\"\\,\"", "</3/0>;x=\"a\\\\\",</1/0>;y=\"\\,\"");
	/* other objects whose ids start alike stay */
	assert_filtered("</2/0>,</210/0>,</240>,</10/0>,</231>", "</2/0>,</210/0>,</240>,</10/0>,</231>");
	/* under the alternate path, percent-encoded, with leading zeros */
	assert_filtered("</lwm2m>;rt=\"oma.lwm2m\",</lwm2m/0/0>,</lwm2m/3/0>,</lwm2m/24/1>",
		"</lwm2m>;rt=\"oma.lwm2m\",</lwm2m/3/0>");
	assert_filtered("</%30/0>,</2%31/0>,</00/1>,</024>,</3/0>", "</3/0>");
	/* the root link is never dropped, even with a numeric alternate path */
	assert_filtered("</0>;rt=\"oma.lwm2m\",</0/3/0>,</0/0/0>", "</0>;rt=\"oma.lwm2m\",</0/3/0>");
	/* non-numeric links are not judged */
	assert_filtered("</x/0>,</3/0>", "</x/0>,</3/0>");

	/* what lf_parse refuses, the buffer left as it was */
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "k", 1), 0);
	assert_int_equal(coap_codec_filter_links("</2/0></2/1>", 12, &b, &err), -LWM2M_EINVAL);
	assert_int_equal(b.len, 1);
	assert_int_equal(coap_codec_filter_links("</3/0>,", 7, &b, &err), -LWM2M_EINVAL);
	assert_int_equal(coap_codec_filter_links(NULL, 3, &b, &err), -LWM2M_EINVAL);
	assert_int_equal(b.len, 1);
	buf_free(&b);
}

/* --------------------------------------------------------------- location ---- */

static int location_of(const struct tmsg *t, char *out, size_t size, struct lwm2m_error *err)
{
	memset(err, 0, sizeof(*err));
	memset(out, 'z', size);
	return coap_codec_parse_location(&t->m, out, size, err);
}

static void test_parse_location(void **state)
{
	char out[COAP_CODEC_LOCATION_MAX], small[8], long_seg[300];
	struct lwm2m_error err;
	struct tmsg t;

	(void)state;
	msg_init(&t, C(2, 1));
	opt_str(&t, COAP_CODEC_OPT_LOCATION_PATH, "rd");
	opt_uint(&t, COAP_CODEC_OPT_CONTENT_FORMAT, 0);      /* other options are not looked at */
	opt_str(&t, COAP_CODEC_OPT_LOCATION_PATH, "5a3f");
	assert_int_equal(location_of(&t, out, sizeof(out), &err), 0);
	assert_string_equal(out, "rd/5a3f");
	/* too small: ETOOBIG, "" */
	assert_int_equal(location_of(&t, small, 7, &err), -LWM2M_ETOOBIG);
	assert_string_equal(small, "");
	assert_int_equal(location_of(&t, small, 8, &err), 0);
	assert_string_equal(small, "rd/5a3f");
	assert_int_equal(coap_codec_parse_location(&t.m, NULL, 0, &err), -LWM2M_ETOOBIG);
	/* pchar characters allowed */
	msg_init(&t, C(2, 1));
	opt_str(&t, COAP_CODEC_OPT_LOCATION_PATH, "a-._~!$&'()*+,;=:@Z9");
	assert_int_equal(location_of(&t, out, sizeof(out), &err), 0);
	assert_string_equal(out, "a-._~!$&'()*+,;=:@Z9");

	static const struct { const char *seg; const char *part; } bad[] = {
		{ "", "segment 1 \"\" is empty" }, { ".", "is a dot segment" },
		{ "..", "is a dot segment" }, { "a b", "outside RFC 3986 pchar" },
		{ "a%20", "pchar" }, { "a/b", "pchar" }, { "a?b", "pchar" }, { "\xc3\xa9", "pchar" },
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		msg_init(&t, C(2, 1));
		opt_str(&t, COAP_CODEC_OPT_LOCATION_PATH, bad[i].seg);
		assert_int_equal(location_of(&t, out, sizeof(out), &err), -LWM2M_EINVAL);
		assert_string_equal(out, "");
		assert_msg_has(&err, bad[i].part);
	}
	msg_init(&t, C(2, 1));
	assert_int_equal(location_of(&t, out, sizeof(out), &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "no Location-Path option");
	opt_str(&t, COAP_CODEC_OPT_LOCATION_PATH, "rd");
	opt_str(&t, COAP_CODEC_OPT_LOCATION_QUERY, "x=1");
	assert_int_equal(location_of(&t, out, sizeof(out), &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "Location-Query is not supported");
	msg_init(&t, C(2, 1));
	for(int i = 0; i < COAP_CODEC_LOCATION_MAX_SEGS; i++) opt_str(&t, COAP_CODEC_OPT_LOCATION_PATH, "s");
	assert_int_equal(location_of(&t, out, sizeof(out), &err), 0);
	assert_string_equal(out, "s/s/s/s/s/s/s/s");
	opt_str(&t, COAP_CODEC_OPT_LOCATION_PATH, "s");
	assert_int_equal(location_of(&t, out, sizeof(out), &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "more than 8 segments");
	memset(long_seg, 'a', sizeof(long_seg));
	msg_init(&t, C(2, 1));
	opt_bytes(&t, COAP_CODEC_OPT_LOCATION_PATH, long_seg, 255);
	assert_int_equal(location_of(&t, out, sizeof(out), &err), 0);
	assert_int_equal(strlen(out), 255);
	opt_bytes(&t, COAP_CODEC_OPT_LOCATION_PATH, long_seg, 256);
	assert_int_equal(location_of(&t, out, sizeof(out), &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "longer than 255 bytes");
}

/* ------------------------------------------------------- built requests ---- */

static void assert_opt(const struct coap_msg *m, size_t i, uint16_t number, const void *p, size_t n)
{
	assert_true(i < m->n_opts);
	assert_int_equal(m->opts[i].number, number);
	assert_int_equal(m->opts[i].value.len, n);
	if(n) assert_memory_equal(m->opts[i].value.ptr, p, n);
}

static void assert_opt_str(const struct coap_msg *m, size_t i, uint16_t number, const char *s)
{
	assert_opt(m, i, number, s, strlen(s));
}

static void test_register_msg(void **state)
{
	static const char links[] = "</>;ct=11544,</0/0>,</1/0>,</3/0>,</24/0>";
	struct coap_reg_state s = state_of("dev1", 300, "1.2", true);
	struct coap_msg m;
	struct lwm2m_buf st;
	struct lwm2m_error err;

	(void)state;
	buf_init(&st, 0);
	assert_int_equal(coap_codec_register_msg(&s, links, strlen(links), &m, &st, &err), 0);
	assert_int_equal(m.code, COAP_CODEC_POST);
	assert_int_equal(m.n_opts, 7);
	assert_opt_str(&m, 0, COAP_CODEC_OPT_URI_PATH, "rd");
	assert_opt(&m, 1, COAP_CODEC_OPT_CONTENT_FORMAT, "\x28", 1);
	assert_opt_str(&m, 2, COAP_CODEC_OPT_URI_QUERY, "ep=dev1");
	assert_opt_str(&m, 3, COAP_CODEC_OPT_URI_QUERY, "lt=300");
	assert_opt_str(&m, 4, COAP_CODEC_OPT_URI_QUERY, "lwm2m=1.2");
	assert_opt_str(&m, 5, COAP_CODEC_OPT_URI_QUERY, "b=U");
	assert_opt_str(&m, 6, COAP_CODEC_OPT_URI_QUERY, "Q");
	assert_view_str(m.payload, "</>;ct=11544,</1/0>,</3/0>");
	for(size_t i = 1; i < m.n_opts; i++) assert_true(points_into(m.opts[i].value, &st));
	assert_true(points_into(m.payload, &st));
	/* nothing left to list: no payload, no Content-Format */
	buf_reset(&st);
	assert_int_equal(coap_codec_register_msg(&s, "</0/0>", 6, &m, &st, &err), 0);
	assert_int_equal(m.n_opts, 6);
	assert_int_equal(m.opts[1].number, COAP_CODEC_OPT_URI_QUERY);
	assert_int_equal(m.payload.len, 0);
	/* refusals leave m empty and storage as it was */
	buf_reset(&st);
	assert_int_equal(buf_append(&st, "keep", 4), 0);
	s.version = op_view_str("x");
	assert_int_equal(coap_codec_register_msg(&s, links, strlen(links), &m, &st, &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "lwm2m:");
	assert_int_equal(m.n_opts, 0);
	assert_int_equal(m.code, 0);
	assert_int_equal(st.len, 4);
	s.version = op_view_str("1.2");
	assert_int_equal(coap_codec_register_msg(&s, "<x", 2, &m, &st, &err), -LWM2M_EINVAL);
	assert_int_equal(st.len, 4);
	/* storage with a limit */
	buf_free(&st);
	buf_init(&st, 16);
	assert_int_equal(coap_codec_register_msg(&s, links, strlen(links), &m, &st, &err), -LWM2M_ETOOBIG);
	assert_int_equal(st.len, 0);
	assert_int_equal(m.n_opts, 0);
	buf_free(&st);
}

static void test_update_deregister_send_msgs(void **state)
{
	struct coap_reg_state old = state_of("dev1", 300, "1.2", false), now = old;
	struct coap_msg m;
	struct lwm2m_buf st;
	struct lwm2m_error err;
	struct lwm2m_op send;

	(void)state;
	buf_init(&st, 0);
	now.lifetime = 60;
	assert_int_equal(coap_codec_update_msg("rd/5a3f", &old, &now, NULL, 0, &m, &st, &err), 0);
	assert_int_equal(m.code, COAP_CODEC_POST);
	assert_int_equal(m.n_opts, 3);
	assert_opt_str(&m, 0, COAP_CODEC_OPT_URI_PATH, "rd");
	assert_opt_str(&m, 1, COAP_CODEC_OPT_URI_PATH, "5a3f");
	assert_opt_str(&m, 2, COAP_CODEC_OPT_URI_QUERY, "lt=60");
	assert_int_equal(m.payload.len, 0);
	/* with a new object list, a leading '/' in the location */
	buf_reset(&st);
	assert_int_equal(coap_codec_update_msg("/rd/5a3f", &old, &old, "</3/0>,</23/0>", 14, &m, &st,
		&err), 0);
	assert_int_equal(m.n_opts, 3);
	assert_opt(&m, 2, COAP_CODEC_OPT_CONTENT_FORMAT, "\x28", 1);
	assert_view_str(m.payload, "</3/0>");
	/* bad locations */
	static const char *const bad[] = { "rd//x", "", "rd/", "rd/../x", "rd/a b", "a/b/c/d/e/f/g/h/i" };
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		buf_reset(&st);
		assert_int_equal(coap_codec_update_msg(bad[i], &old, &now, NULL, 0, &m, &st, &err),
			-LWM2M_EINVAL);
		assert_msg_has(&err, "location: ");
		assert_int_equal(st.len, 0);
		assert_int_equal(m.n_opts, 0);
	}
	assert_int_equal(coap_codec_update_msg(NULL, &old, &now, NULL, 0, &m, &st, &err), -LWM2M_EINVAL);

	/* De-register */
	buf_reset(&st);
	assert_int_equal(coap_codec_deregister_msg("rd/5a3f", &m, &st, &err), 0);
	assert_int_equal(m.code, COAP_CODEC_DELETE);
	assert_int_equal(m.n_opts, 2);
	assert_opt_str(&m, 1, COAP_CODEC_OPT_URI_PATH, "5a3f");
	assert_int_equal(m.payload.len, 0);
	assert_int_equal(coap_codec_deregister_msg("rd/.", &m, &st, &err), -LWM2M_EINVAL);

	/* Send */
	op_init(&send);
	send.kind = LWM2M_OP_SEND;
	with_content(&send, LWM2M_CF_SENML_CBOR, "\x80");
	buf_reset(&st);
	assert_int_equal(coap_codec_send_msg(&send, &m, &st, &err), 0);
	assert_int_equal(m.code, COAP_CODEC_POST);
	assert_int_equal(m.n_opts, 2);
	assert_opt_str(&m, 0, COAP_CODEC_OPT_URI_PATH, "dp");
	assert_opt(&m, 1, COAP_CODEC_OPT_CONTENT_FORMAT, "\x70", 1);
	assert_ptr_equal(m.payload.ptr, send.payload.ptr);
	assert_null(coap_codec_find_opt(&m, COAP_CODEC_OPT_URI_QUERY));
	send.content_format = LWM2M_CF_LWM2M_CBOR;
	assert_int_equal(coap_codec_send_msg(&send, &m, &st, &err), 0);
	assert_opt(&m, 1, COAP_CODEC_OPT_CONTENT_FORMAT, "\x2d\x18", 2);
	send.content_format = LWM2M_CF_TLV;
	assert_int_equal(coap_codec_send_msg(&send, &m, &st, &err), -LWM2M_ENOTSUP);
	assert_msg_has(&err, "Send: content format 11542 (tlv)");
	assert_int_equal(m.n_opts, 0);
	send.content_format = LWM2M_CF_SENML_JSON;
	send.fields = LWM2M_F_CT;
	assert_int_equal(coap_codec_send_msg(&send, &m, &st, &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "Send needs a payload and a content format");
	send.kind = LWM2M_OP_NOTIFY;
	assert_int_equal(coap_codec_send_msg(&send, &m, &st, &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "Notify is not a Send");
	buf_free(&st);
}

/* A Register built here reads back, through the same option view, as the forwarder's
 * server would see it: the queries are the list, the payload the filtered links. */
static void test_round_trip_registration(void **state)
{
	struct coap_reg_state s = state_of("dev1", 86400, "1.1", true), back;
	struct coap_msg m, answer_msg;
	struct lwm2m_buf st, list;
	struct lwm2m_error err;
	char loc[COAP_CODEC_LOCATION_MAX];
	size_t count, pos = 0;
	const char *q;

	(void)state;
	buf_init(&st, 0);
	buf_init(&list, 0);
	assert_int_equal(coap_codec_register_msg(&s, "</1/0>", 6, &m, &st, &err), 0);
	assert_int_equal(coap_codec_register_query(&s, &list, &count, &err), 0);
	for(size_t i = 0; i < m.n_opts; i++){
		if(m.opts[i].number != COAP_CODEC_OPT_URI_QUERY) continue;
		q = coap_codec_query_next(&list, &pos);
		assert_non_null(q);
		assert_view_str(m.opts[i].value, q);
	}
	assert_null(coap_codec_query_next(&list, &pos));
	/* the server answers 2.01 + Location-Path; Update and De-register go back there */
	memset(&answer_msg, 0, sizeof(answer_msg));
	answer_msg.code = C(2, 1);
	assert_int_equal(coap_codec_add_opt(&answer_msg, COAP_CODEC_OPT_LOCATION_PATH, op_view_str("rd")), 0);
	assert_int_equal(coap_codec_add_opt(&answer_msg, COAP_CODEC_OPT_LOCATION_PATH, op_view_str("x9")), 0);
	assert_int_equal(coap_codec_parse_location(&answer_msg, loc, sizeof(loc), &err), 0);
	back = s;
	back.lifetime = 60;
	buf_reset(&st);
	assert_int_equal(coap_codec_update_msg(loc, &s, &back, NULL, 0, &m, &st, &err), 0);
	for(size_t i = 0; i < 2; i++){
		assert_int_equal(m.opts[i].number, COAP_CODEC_OPT_URI_PATH);
		assert_int_equal(m.opts[i].value.len, answer_msg.opts[i].value.len);
		assert_memory_equal(m.opts[i].value.ptr, answer_msg.opts[i].value.ptr, m.opts[i].value.len);
	}
	assert_int_equal(coap_codec_result_of_code(answer_msg.code), op_success_result(LWM2M_OP_REGISTER));
	buf_free(&st);
	buf_free(&list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_option_values),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_discover),
		cmocka_unit_test(test_observe),
		cmocka_unit_test(test_get_refusals),
		cmocka_unit_test(test_kind_kept_on_refusal),
		cmocka_unit_test(test_option_refusals),
		cmocka_unit_test(test_codes_refused),
		cmocka_unit_test(test_path_refusals),
		cmocka_unit_test(test_alternate_path),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_write_refusals),
		cmocka_unit_test(test_write_attributes),
		cmocka_unit_test(test_write_attributes_refusals),
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_write_partial_and_execute),
		cmocka_unit_test(test_post_refusals),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_read_composite),
		cmocka_unit_test(test_fetch_refusals),
		cmocka_unit_test(test_write_composite),
		cmocka_unit_test(test_round_trip_to_mqtt),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_answer_refusals),
		cmocka_unit_test(test_create_answers),
		cmocka_unit_test(test_register_query),
		cmocka_unit_test(test_register_query_refusals),
		cmocka_unit_test(test_update_query),
		cmocka_unit_test(test_reg_state_apply),
		cmocka_unit_test(test_filter_links),
		cmocka_unit_test(test_parse_location),
		cmocka_unit_test(test_register_msg),
		cmocka_unit_test(test_update_deregister_send_msgs),
		cmocka_unit_test(test_round_trip_registration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
