/* Unit tests of the HTTP binding codec (binding/http_codec.c). Requests and expected
 * values are written by hand from spec/lwm2m-bindings.md section 2 and the statuses pinned
 * in the HTTP binding issue. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "binding/http_codec.h"
#include "objects/fmt.h"

/* ------------------------------------------------------------------ helpers ---- */

#define REG_ID "0123456789abcdef0123456789abcdef"
#define LINKS "</1/0>,</3/0>,</3303/0>"
#define LINK_FORMAT "application/link-format"

static struct http_request_view view(const char *method, const char *path, const char *query,
	const char *ct, const char *body)
{
	struct http_request_view v;

	memset(&v, 0, sizeof(v));
	v.method = method;
	v.path = path;
	v.query = query;
	v.content_type = ct;
	v.body = (const uint8_t *)body;
	v.body_len = body ? strlen(body) : 0;
	return v;
}

static int dec(const struct http_request_view *v, struct lwm2m_op *op, struct http_uplink *x,
	struct lwm2m_error *err)
{
	memset(err, 0, sizeof(*err));
	memset(x, 0x5a, sizeof(*x));   /* the decoder must set every field it reports */
	return http_codec_decode_request(v, op, x, err);
}

static void assert_view_str(struct lwm2m_view v, const char *s)
{
	size_t n = strlen(s);
	if(v.len != n || (n && memcmp(v.ptr, s, n) != 0)){
		fail_msg("view \"%.*s\" is not \"%s\"", (int)v.len, (const char *)v.ptr, s);
	}
}

static void assert_msg_has(const struct lwm2m_error *err, const char *part)
{
	if(!strstr(err->msg, part)) fail_msg("error message \"%s\" lacks \"%s\"", err->msg, part);
}

/* Decode v and check it is refused with this status, error code and message part. */
static void assert_refused(const struct http_request_view *v, uint16_t status, int code,
	const char *part)
{
	struct lwm2m_op op;
	struct http_uplink x;
	struct lwm2m_error err;
	int rc = dec(v, &op, &x, &err);

	if(rc != -code || x.status != status){
		fail_msg("%s %s?%s: rc %d status %u (%s), expected rc %d status %u", v->method, v->path,
			v->query ? v->query : "", rc, x.status, err.msg, -code, status);
	}
	assert_int_equal(err.code, code);
	assert_int_equal(op.fields, 0);   /* nothing half-decoded is left in op */
	if(part) assert_msg_has(&err, part);
}

static void refused_query(const char *method, const char *path, const char *query,
	uint16_t status, const char *part)
{
	struct http_request_view v = view(method, path, query, LINK_FORMAT,
		strcmp(path, "/rd") == 0 ? LINKS : NULL);
	assert_refused(&v, status, status == 415 ? LWM2M_ENOTSUP : LWM2M_EINVAL, part);
}

static struct lwm2m_op req_op(enum lwm2m_op_kind kind, const char *uri)
{
	struct lwm2m_op op;

	op_init(&op);
	op.kind = kind;
	if(uri){
		op.uri = op_view_str(uri);
		op.fields |= LWM2M_F_URI;
	}
	return op;
}

static void with_payload(struct lwm2m_op *op, uint16_t cf, const char *payload)
{
	op->content_format = cf;
	op->payload = op_view_str(payload);
	op->fields |= LWM2M_F_CT | LWM2M_F_PAYLOAD;
}

struct built {
	struct lwm2m_buf b;
	const char *method, *ct, *accept;
	int rc;
	struct lwm2m_error err;
};

static void build(struct built *o, const struct lwm2m_op *op, const char *alt)
{
	buf_init(&o->b, 0);
	memset(&o->err, 0, sizeof(o->err));
	o->rc = http_codec_encode_request(op, alt, &o->b, &o->method, &o->ct, &o->accept, &o->err);
}

/* Build op and compare method, path+query, Content-Type and Accept with the expected ones. */
static void assert_builds(const struct lwm2m_op *op, const char *alt, const char *method,
	const char *target, const char *ct, const char *accept)
{
	struct built o;

	build(&o, op, alt);
	if(o.rc) fail_msg("%s: %s", op_kind_name(op->kind), o.err.msg);
	assert_string_equal(o.method, method);
	assert_int_equal(o.b.len, strlen(target));
	assert_string_equal((const char *)o.b.data, target);
	if(ct) assert_string_equal(o.ct, ct);
	else assert_null(o.ct);
	if(accept) assert_string_equal(o.accept, accept);
	else assert_null(o.accept);
	buf_free(&o.b);
}

static void assert_build_fails(const struct lwm2m_op *op, const char *alt, int code,
	const char *part)
{
	struct built o;

	buf_init(&o.b, 0);
	assert_int_equal(buf_append(&o.b, "keep", 4), 0);
	memset(&o.err, 0, sizeof(o.err));
	o.rc = http_codec_encode_request(op, alt, &o.b, &o.method, &o.ct, &o.accept, &o.err);
	if(o.rc != -code) fail_msg("%s: rc %d (%s), expected %d", op_kind_name(op->kind), o.rc, o.err.msg, -code);
	assert_int_equal(o.b.len, 4);   /* the buffer is left as it was */
	assert_null(o.method);
	if(part) assert_msg_has(&o.err, part);
	buf_free(&o.b);
}

/* ------------------------------------------------------- uplink: Register ---- */

static void test_register_all_parameters(void **state)
{
	const char *q = "ep=urn%3Aimei%3A490154203237518&lt=86400&lwm2m=1.2&b=H&Q&sms=33612345678"
		"&pid=%226%3A27354b9a%2Coma%3Aprof-1%22";
	struct http_request_view v = view("POST", "/rd", q, LINK_FORMAT, LINKS);
	struct lwm2m_op op;
	struct http_uplink x;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(x.status, 0);
	assert_null(x.allow);
	assert_false(x.has_reg_id);
	assert_int_equal(op.kind, LWM2M_OP_REGISTER);
	assert_false(op.is_response);
	assert_int_equal(op.fields, LWM2M_F_EP | LWM2M_F_LIFETIME | LWM2M_F_VERSION | LWM2M_F_BINDING
		| LWM2M_F_QUEUE | LWM2M_F_SMS | LWM2M_F_PID | LWM2M_F_PAYLOAD | LWM2M_F_CT);
	assert_view_str(op.ep, "urn:imei:490154203237518");
	assert_int_equal(op.lifetime, 86400);
	assert_view_str(op.version, "1.2");
	assert_view_str(op.binding, "H");
	assert_view_str(op.sms, "33612345678");
	assert_view_str(op.pid, "\"6:27354b9a,oma:prof-1\"");
	assert_view_str(op.payload, LINKS);
	assert_ptr_equal(op.payload.ptr, v.body);   /* zero copy */
	assert_int_equal(op.content_format, LWM2M_CF_LINK);
	/* values without escapes are used in place */
	assert_ptr_equal(op.version.ptr, (const uint8_t *)q + strlen("ep=urn%3Aimei%3A490154203237518&lt=86400&lwm2m="));
}

static void test_register_minimal_and_variants(void **state)
{
	struct http_request_view v = view("POST", "/rd", "lt=60&lwm2m=1.1", LINK_FORMAT, "</3/0>");
	struct lwm2m_op op;
	struct http_uplink x;
	struct lwm2m_error err;

	(void)state;
	/* ep may be left out (the TLS identity names the client) */
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(op.fields, LWM2M_F_LIFETIME | LWM2M_F_VERSION | LWM2M_F_PAYLOAD | LWM2M_F_CT);
	assert_int_equal(op.lifetime, 60);
	/* 1.0 style queue mode inside b; parameters in any order; empty items skipped;
	 * lifetime 0 = never expires; media type parameters tolerated */
	v = view("POST", "/rd", "b=UQ&&lwm2m=1.0&lt=0&ep=dev-1&", "Application/Link-Format; charset=utf-8",
		"</3/0>");
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_view_str(op.binding, "UQ");
	assert_true(op.fields & LWM2M_F_QUEUE);
	assert_int_equal(op.lifetime, 0);
	assert_true(op.fields & LWM2M_F_LIFETIME);
	assert_view_str(op.ep, "dev-1");
	/* pid: a single id, unquoted; the largest lifetime */
	v = view("POST", "/rd", "lt=18446744073709551615&lwm2m=1.2&pid=v:Vendor-1", LINK_FORMAT, "</3/0>");
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(op.lifetime, UINT64_MAX);
	assert_view_str(op.pid, "v:Vendor-1");
}

/* ----------------------------------------------- uplink: Update, De-register ---- */

static void test_update_and_deregister(void **state)
{
	struct http_request_view v = view("POST", "/rd/" REG_ID, "lt=600&b=HQ&sms=4912345&pid=6:ab01",
		NULL, NULL);
	struct lwm2m_op op;
	struct http_uplink x;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_UPDATE);
	assert_true(x.has_reg_id);
	assert_string_equal(x.reg_id, REG_ID);
	assert_int_equal(op.fields, LWM2M_F_LIFETIME | LWM2M_F_BINDING | LWM2M_F_QUEUE | LWM2M_F_SMS
		| LWM2M_F_PID);
	assert_int_equal(op.lifetime, 600);
	/* an Update without anything refreshes the lifetime */
	v = view("POST", "/rd/" REG_ID, NULL, NULL, NULL);
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_UPDATE);
	assert_int_equal(op.fields, 0);
	/* with a new object list (the Q flag alone, as 1.1+ sends it) */
	v = view("POST", "/rd/" REG_ID, "Q", LINK_FORMAT, "</3/0>,</5/0>");
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(op.fields, LWM2M_F_QUEUE | LWM2M_F_PAYLOAD | LWM2M_F_CT);
	assert_view_str(op.payload, "</3/0>,</5/0>");
	/* De-register */
	v = view("DELETE", "/rd/" REG_ID, "", NULL, NULL);
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_DEREGISTER);
	assert_int_equal(op.fields, 0);
	assert_string_equal(x.reg_id, REG_ID);
}

/* ------------------------------------------------ uplink: Send, Bootstrap ---- */

static void test_send_formats(void **state)
{
	static const struct { const char *ct; uint16_t cf; } ok[] = {
		{ "application/senml+cbor", LWM2M_CF_SENML_CBOR },
		{ "application/senml+json", LWM2M_CF_SENML_JSON },
		{ "application/vnd.oma.lwm2m+cbor", LWM2M_CF_LWM2M_CBOR },
	};
	struct lwm2m_op op;
	struct http_uplink x;
	struct lwm2m_error err;

	(void)state;
	for(size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++){
		struct http_request_view v = view("POST", "/dp", NULL, ok[i].ct, "\xa1\x01\x02");
		assert_int_equal(dec(&v, &op, &x, &err), 0);
		assert_int_equal(op.kind, LWM2M_OP_SEND);
		assert_int_equal(op.fields, LWM2M_F_PAYLOAD | LWM2M_F_CT);
		assert_int_equal(op.content_format, ok[i].cf);
		assert_int_equal(op.payload.len, 3);
		assert_false(x.has_reg_id);
	}
}

/* Plain HTTP: the sender names itself by ep and registration id; both round-trip. */
static void test_send_names_sender(void **state)
{
	struct http_request_view v = view("POST", "/dp", "ep=dev1&rid=" REG_ID, "application/senml+cbor", "\xa1\x01\x02");
	struct http_request_view back;
	struct lwm2m_op op;
	struct http_uplink x, y;
	struct lwm2m_error err;
	struct lwm2m_buf storage;

	(void)state;
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(op.fields, LWM2M_F_EP | LWM2M_F_PAYLOAD | LWM2M_F_CT);
	assert_true(x.has_reg_id);
	assert_string_equal(x.reg_id, REG_ID);
	buf_init(&storage, 0);
	assert_true(http_codec_encode_uplink(&op, &x, &storage, &back, &err) >= 0);
	assert_string_equal(back.query, "ep=dev1&rid=" REG_ID);
	assert_int_equal(dec(&back, &op, &y, &err), 0);
	assert_string_equal(y.reg_id, REG_ID);
	buf_free(&storage);
}

static void test_bootstrap_request(void **state)
{
	struct http_request_view v = view("POST", "/bs", "ep=dev1&pct=112", NULL, NULL);
	struct lwm2m_op op;
	struct http_uplink x;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_BOOTSTRAP_REQUEST);
	assert_int_equal(op.fields, LWM2M_F_EP | LWM2M_F_PCT);
	assert_int_equal(op.pct, LWM2M_CF_SENML_CBOR);
	/* pct as a (percent-encoded) media type */
	v = view("POST", "/bs", "pct=application%2Fvnd.oma.lwm2m%2Bcbor&ep=dev1", NULL, NULL);
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(op.pct, LWM2M_CF_LWM2M_CBOR);
	v = view("POST", "/bs", "pct=11542", NULL, NULL);
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(op.pct, LWM2M_CF_TLV);
	/* nothing at all: the TLS identity names the client */
	v = view("POST", "/bs", NULL, NULL, NULL);
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(op.fields, 0);
}

static void test_bootstrap_pack_request(void **state)
{
	struct http_request_view v = view("GET", "/bspack", "ep=dev1&acc=%3C%2F0%2F0%3E%2C%3C%2F21%2F0%3E",
		NULL, NULL);
	struct lwm2m_op op;
	struct http_uplink x;
	struct lwm2m_error err;

	(void)state;
	v.accept = "application/senml+cbor";
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_BOOTSTRAP_PACK_REQUEST);
	assert_int_equal(op.fields, LWM2M_F_EP | LWM2M_F_PAYLOAD | LWM2M_F_CT);
	assert_view_str(op.payload, "</0/0>,</21/0>");
	assert_int_equal(op.content_format, LWM2M_CF_LINK);
	assert_int_equal(x.accept_cf, LWM2M_CF_SENML_CBOR);
	/* the highest q wins; unknown types are skipped */
	v.accept = "text/html, application/senml+json;q=0.5, application/vnd.oma.lwm2m+cbor;q=0.8";
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(x.accept_cf, LWM2M_CF_LWM2M_CBOR);
	/* wildcards and no Accept: the server picks */
	v.accept = "*/*";
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(x.accept_cf, -1);
	v.accept = NULL;
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(x.accept_cf, -1);
	/* nothing acceptable: 406 */
	v.accept = "application/json";
	assert_refused(&v, 406, LWM2M_ENOTSUP, "Accept");
	v.accept = "application/senml+cbor;q=0";
	assert_refused(&v, 406, LWM2M_ENOTSUP, NULL);
}

/* --------------------------------------------------- percent-encoding ---- */

static void test_percent_encoding(void **state)
{
	struct http_request_view v = view("POST", "/bs", "ep=%41b%63%3a%3A%2d", NULL, NULL);
	struct lwm2m_op op;
	struct http_uplink x;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_view_str(op.ep, "Abc::-");
	assert_ptr_equal(op.ep.ptr, (const uint8_t *)x.scratch);   /* decoded into the scratch */
	/* UTF-8 endpoint names */
	v = view("POST", "/bs", "ep=caf%C3%A9", NULL, NULL);
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_view_str(op.ep, "caf\xc3\xa9");
	/* '+' stays a plus (RFC 3986), so "a+b" is not the valid name "a b" */
	v = view("POST", "/bs", "ep=a+b", NULL, NULL);
	assert_refused(&v, 400, LWM2M_EINVAL, "'ep'");
	v = view("POST", "/bs", "ep=a%20b", NULL, NULL);
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_view_str(op.ep, "a b");
	/* bad escapes name the parameter and the byte */
	v = view("POST", "/bs", "pct=112&ep=ab%4", NULL, NULL);
	assert_refused(&v, 400, LWM2M_EINVAL, "'ep': bad percent-escape at byte 13");
	v = view("POST", "/bs", "ep=%zz", NULL, NULL);
	assert_refused(&v, 400, LWM2M_EINVAL, "bad percent-escape");
	v = view("POST", "/bs", "ep=%", NULL, NULL);
	assert_refused(&v, 400, LWM2M_EINVAL, "bad percent-escape");
	/* decoded control bytes (NUL included) and invalid UTF-8 */
	v = view("POST", "/bs", "ep=a%00b", NULL, NULL);
	assert_refused(&v, 400, LWM2M_EINVAL, "control byte 0x00");
	v = view("POST", "/bs", "ep=a%0Ab", NULL, NULL);
	assert_refused(&v, 400, LWM2M_EINVAL, "control byte");
	v = view("POST", "/bs", "ep=%C3", NULL, NULL);
	assert_refused(&v, 400, LWM2M_EINVAL, "endpoint name");
	/* names are exact: an escaped or differently cased name is unknown */
	v = view("POST", "/bs", "%65p=x", NULL, NULL);
	assert_refused(&v, 400, LWM2M_EINVAL, "unknown query parameter '%65p'");
	v = view("POST", "/bs", "EP=x", NULL, NULL);
	assert_refused(&v, 400, LWM2M_EINVAL, "'EP'");
}

/* ---------------------------------------------------------- refusals ---- */

static void test_refused_routes(void **state)
{
	struct http_request_view v;
	struct lwm2m_op op;
	struct http_uplink x;
	struct lwm2m_error err;

	(void)state;
	v = view("POST", "/foo", NULL, NULL, NULL);
	assert_refused(&v, 404, LWM2M_ENOENT, "/foo");
	v = view("POST", "/rd/", NULL, NULL, NULL);
	assert_refused(&v, 404, LWM2M_ENOENT, "no registration");
	v = view("POST", "/rd/0123456789ABCDEF0123456789ABCDEF", NULL, NULL, NULL);
	assert_refused(&v, 404, LWM2M_ENOENT, NULL);
	v = view("DELETE", "/rd/" REG_ID "/", NULL, NULL, NULL);
	assert_refused(&v, 404, LWM2M_ENOENT, NULL);
	v = view("POST", "/rd/", NULL, NULL, NULL);
	v.path = "/rd/" REG_ID "0";
	assert_refused(&v, 404, LWM2M_ENOENT, NULL);
	v = view("POST", "/dp/", NULL, NULL, NULL);
	assert_refused(&v, 404, LWM2M_ENOENT, NULL);
	/* known paths, other methods: 405 with Allow */
	v = view("GET", "/rd", NULL, NULL, NULL);
	assert_int_equal(dec(&v, &op, &x, &err), -LWM2M_ENOTSUP);
	assert_int_equal(x.status, 405);
	assert_string_equal(x.allow, "POST");
	v = view("PUT", "/rd/" REG_ID, NULL, NULL, NULL);
	assert_int_equal(dec(&v, &op, &x, &err), -LWM2M_ENOTSUP);
	assert_int_equal(x.status, 405);
	assert_string_equal(x.allow, "POST, DELETE");
	v = view("POST", "/bspack", NULL, NULL, NULL);
	assert_int_equal(dec(&v, &op, &x, &err), -LWM2M_ENOTSUP);
	assert_string_equal(x.allow, "GET");
	v = view("post", "/dp", NULL, NULL, NULL);   /* methods are case-sensitive */
	assert_refused(&v, 405, LWM2M_ENOTSUP, "'post'");
	v = view("DELETE", "/bs", NULL, NULL, NULL);
	assert_refused(&v, 405, LWM2M_ENOTSUP, NULL);
	v = view(NULL, "/rd", NULL, NULL, NULL);
	assert_refused(&v, 400, LWM2M_EINVAL, NULL);
	assert_int_equal(http_codec_decode_request(NULL, &op, &x, &err), -LWM2M_EINVAL);
	assert_int_equal(x.status, 400);
}

static void test_refused_parameters(void **state)
{
	(void)state;
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&foo=1", 400, "unknown query parameter 'foo'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&lt=70", 400, "'lt' repeated at byte 16");
	refused_query("POST", "/rd", "lt=60&Q&lwm2m=1.2&Q", 400, "'Q' repeated");
	refused_query("POST", "/rd", "lwm2m=1.2", 400, "without the query parameter 'lt'");
	refused_query("POST", "/rd", "lt=60", 400, "without the query parameter 'lwm2m'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&Q=1", 400, "'Q' at byte 16 takes no value");
	refused_query("POST", "/rd", "lt&lwm2m=1.2", 400, "'lt' at byte 0 needs a value");
	refused_query("POST", "/rd", "lt=&lwm2m=1.2", 400, "'lt'");
	refused_query("POST", "/rd", "lt=-1&lwm2m=1.2", 400, "'lt'");
	refused_query("POST", "/rd", "lt=18446744073709551616&lwm2m=1.2", 400, "'lt'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1", 400, "'lwm2m'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2.1", 400, "'lwm2m'");
	refused_query("POST", "/rd", "lt=60&lwm2m=v1.2", 400, "'lwm2m'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&b=HH", 400, "'b'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&b=X", 400, "'b'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&b=", 400, "'b'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&sms=%2B33612", 400, "'sms'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&sms=1234567890123456", 400, "'sms'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&pid=6:ABCD", 400, "'pid'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&pid=%226:ab,%20v:x%22", 400, "'pid'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&pid=foo:1", 400, "'pid'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&pid=%22%22", 400, "'pid'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&pid=6:", 400, "'pid'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&ep=a%2Fb", 400, "'ep'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&ep=", 400, "is empty");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&ep=%24SYS", 400, "'ep'");
	refused_query("POST", "/rd", "lt=60&lwm2m=1.2&pct=112", 400, "'pct' at byte 16 is not allowed in Register");
	/* parameters of another operation */
	refused_query("POST", "/rd/" REG_ID, "ep=dev1", 400, "'ep' at byte 0 is not allowed in Update");
	refused_query("POST", "/rd/" REG_ID, "lwm2m=1.2", 400, "not allowed in Update");
	refused_query("DELETE", "/rd/" REG_ID, "lt=60", 400, "not allowed in De-register");
	refused_query("POST", "/bs", "ep=a&acc=%3C%2F0%2F0%3E", 400, "'acc' at byte 5 is not allowed");
	refused_query("GET", "/bspack", "pct=112", 400, "'pct'");
	refused_query("POST", "/bs", "pct=abc", 400, "'pct'");
	refused_query("POST", "/bs", "pct=99999", 400, "'pct'");
	refused_query("POST", "/bs", "pct=60", 415, "not a bootstrap format");
	refused_query("POST", "/bs", "pct=application%2Fcbor", 415, "'pct'");
	refused_query("POST", "/bs", "pct=application%2Fx-unknown", 415, "'pct'");
	refused_query("GET", "/bspack", "acc=%3C%2F0%3E", 400, "'acc'");
	refused_query("GET", "/bspack", "acc=%3C%2F0%2F0%3E%3Bssid%3D1", 400, "'acc'");
	refused_query("GET", "/bspack", "acc=%3C%2F0%2F0%3E%2C", 400, "'acc'");
	refused_query("GET", "/bspack", "acc=%3C0%2F0%3E", 400, "'acc'");
}

static void test_refused_sizes(void **state)
{
	struct http_request_view v = view("POST", "/rd", "lt=60&lwm2m=1.2", LINK_FORMAT, LINKS);
	char ep[300], *q;

	(void)state;
	v.max_body = strlen(LINKS) - 1;
	assert_refused(&v, 413, LWM2M_ETOOBIG, "above the limit");
	v.max_body = strlen(LINKS);   /* exactly the limit is fine */
	{
		struct lwm2m_op op;
		struct http_uplink x;
		struct lwm2m_error err;
		assert_int_equal(dec(&v, &op, &x, &err), 0);
	}
	/* a query above HTTP_CODEC_QUERY_MAX: 414 */
	q = malloc(HTTP_CODEC_QUERY_MAX + 16);
	assert_non_null(q);
	memset(q, 'a', HTTP_CODEC_QUERY_MAX + 1);
	memcpy(q, "ep=", 3);
	q[HTTP_CODEC_QUERY_MAX + 1] = '\0';
	v = view("POST", "/bs", q, NULL, NULL);
	assert_refused(&v, 414, LWM2M_ETOOBIG, NULL);
	free(q);
	/* an endpoint name of 256 bytes */
	memcpy(ep, "ep=", 3);
	memset(ep + 3, 'e', 256);
	ep[259] = '\0';
	v = view("POST", "/bs", ep, NULL, NULL);
	assert_refused(&v, 400, LWM2M_EINVAL, "longer than 255");
	ep[258] = '\0';   /* 255 bytes are fine */
	{
		struct lwm2m_op op;
		struct http_uplink x;
		struct lwm2m_error err;
		assert_int_equal(dec(&v, &op, &x, &err), 0);
		assert_int_equal(op.ep.len, 255);
	}
}

static void test_refused_bodies(void **state)
{
	struct http_request_view v;
	struct lwm2m_op op;
	struct http_uplink x;
	struct lwm2m_error err;

	(void)state;
	v = view("POST", "/rd", "lt=60&lwm2m=1.2", LINK_FORMAT, NULL);
	assert_refused(&v, 400, LWM2M_EINVAL, "object list");
	v = view("POST", "/rd", "lt=60&lwm2m=1.2", "text/plain", LINKS);
	assert_refused(&v, 415, LWM2M_ENOTSUP, "text/plain");
	v = view("POST", "/rd", "lt=60&lwm2m=1.2", NULL, LINKS);
	assert_refused(&v, 415, LWM2M_ENOTSUP, "missing");
	v = view("POST", "/rd/" REG_ID, NULL, "application/json", "</3/0>");
	assert_refused(&v, 415, LWM2M_ENOTSUP, NULL);
	v = view("POST", "/dp", NULL, "application/senml+cbor", NULL);
	assert_refused(&v, 400, LWM2M_EINVAL, "Send without data");
	v = view("POST", "/dp", NULL, "application/json", "[]");
	assert_refused(&v, 415, LWM2M_ENOTSUP, "application/json");
	v = view("POST", "/dp", NULL, "application/vnd.oma.lwm2m+tlv", "\x08\x00");
	assert_refused(&v, 415, LWM2M_ENOTSUP, NULL);
	v = view("POST", "/dp", NULL, NULL, "[]");
	assert_refused(&v, 415, LWM2M_ENOTSUP, "missing");
	v = view("POST", "/dp", "lt=5", "application/senml+json", "[]");
	assert_refused(&v, 400, LWM2M_EINVAL, "not allowed in Send");
	v = view("POST", "/dp", "ep=x&rid=0123", "application/senml+json", "[]");
	assert_refused(&v, 400, LWM2M_EINVAL, "'rid'");
	v = view("POST", "/dp", "ep=x&rid=" REG_ID "&rid=" REG_ID, "application/senml+json", "[]");
	assert_refused(&v, 400, LWM2M_EINVAL, "repeated");
	v = view("DELETE", "/rd/" REG_ID, NULL, NULL, "x");
	assert_refused(&v, 400, LWM2M_EINVAL, "carries no body");
	v = view("POST", "/bs", "ep=a", NULL, "x");
	assert_refused(&v, 400, LWM2M_EINVAL, "Bootstrap-Request carries no body");
	/* the kind survives a refusal, for the log line */
	v = view("POST", "/rd", "lwm2m=1.2", LINK_FORMAT, LINKS);
	assert_int_equal(dec(&v, &op, &x, &err), -LWM2M_EINVAL);
	assert_int_equal(op.kind, LWM2M_OP_REGISTER);
	assert_int_equal(op.fields, 0);
	/* an Update without body ignores a stray Content-Type */
	v = view("POST", "/rd/" REG_ID, NULL, "text/plain", NULL);
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(op.fields, 0);
}

static void test_check_order(void **state)
{
	struct http_request_view v;

	(void)state;
	/* route before size, size before query, query before body */
	v = view("GET", "/rd", "junk=1", NULL, "body");
	v.max_body = 1;
	assert_refused(&v, 405, LWM2M_ENOTSUP, NULL);
	v.method = "POST";
	assert_refused(&v, 413, LWM2M_ETOOBIG, NULL);
	v.max_body = 0;
	assert_refused(&v, 400, LWM2M_EINVAL, "'junk'");
	v.query = "lt=1&lwm2m=1.2";
	assert_refused(&v, 415, LWM2M_ENOTSUP, NULL);
}

/* ----------------------------------------------------- uplink answers ---- */

static void test_status_uplink_pinned(void **state)
{
	struct lwm2m_op reg = req_op(LWM2M_OP_REGISTER, NULL), upd = req_op(LWM2M_OP_UPDATE, NULL);
	struct lwm2m_op der = req_op(LWM2M_OP_DEREGISTER, NULL), send = req_op(LWM2M_OP_SEND, NULL);
	struct lwm2m_op bs = req_op(LWM2M_OP_BOOTSTRAP_REQUEST, NULL);
	struct lwm2m_op pack = req_op(LWM2M_OP_BOOTSTRAP_PACK_REQUEST, NULL);

	(void)state;
	assert_int_equal(http_codec_status_for(&reg, 201), 201);
	assert_int_equal(http_codec_status_for(&upd, 204), 204);
	assert_int_equal(http_codec_status_for(&der, 202), 204);
	assert_int_equal(http_codec_status_for(&send, 204), 204);
	assert_int_equal(http_codec_status_for(&bs, 204), 200);
	assert_int_equal(http_codec_status_for(&pack, 205), 200);
	/* refusals */
	assert_int_equal(http_codec_status_for(&reg, 400), 400);
	assert_int_equal(http_codec_status_for(&reg, 412), 412);
	assert_int_equal(http_codec_status_for(&reg, 403), 403);
	assert_int_equal(http_codec_status_for(&reg, 409), 409);
	assert_int_equal(http_codec_status_for(&upd, 404), 404);
	assert_int_equal(http_codec_status_for(&der, 404), 404);
	assert_int_equal(http_codec_status_for(&send, 413), 413);
	assert_int_equal(http_codec_status_for(&send, 415), 415);
	assert_int_equal(http_codec_status_for(&pack, 501), 501);
	assert_int_equal(http_codec_status_for(&reg, 503), 503);
	/* CoAP codes whose HTTP number means something else */
	assert_int_equal(http_codec_status_for(&reg, 402), 400);
	assert_int_equal(http_codec_status_for(&reg, 408), 400);
	assert_int_equal(http_codec_status_for(&reg, 505), 502);
	/* not final or not codes at all */
	assert_int_equal(http_codec_status_for(&reg, 231), 500);
	assert_int_equal(http_codec_status_for(&reg, 0), 500);
	assert_int_equal(http_codec_status_for(&reg, 132), 500);
	assert_int_equal(http_codec_status_for(&reg, 304), 500);
	assert_int_equal(http_codec_status_for(&reg, 999), 500);
	assert_int_equal(http_codec_status_for(&reg, 450), 400);   /* dd > 31: c.00 */
	assert_int_equal(http_codec_status_for(&reg, 299), 500);
	assert_int_equal(http_codec_status_for(NULL, 205), 200);
}

static void test_status_downlink_table(void **state)
{
	static const struct { enum lwm2m_op_kind kind; uint16_t result; int status; } rows[] = {
		{ LWM2M_OP_READ, 205, 200 }, { LWM2M_OP_DISCOVER, 205, 200 },
		{ LWM2M_OP_WRITE, 204, 204 }, { LWM2M_OP_WRITE_PARTIAL, 204, 204 },
		{ LWM2M_OP_WRITE_ATTRIBUTES, 204, 204 }, { LWM2M_OP_EXECUTE, 204, 200 },
		{ LWM2M_OP_CREATE, 201, 201 }, { LWM2M_OP_DELETE, 202, 204 },
		{ LWM2M_OP_BOOTSTRAP_WRITE, 204, 204 }, { LWM2M_OP_BOOTSTRAP_READ, 205, 200 },
		{ LWM2M_OP_BOOTSTRAP_DELETE, 202, 204 }, { LWM2M_OP_BOOTSTRAP_DISCOVER, 205, 200 },
		{ LWM2M_OP_BOOTSTRAP_FINISH, 204, 204 },
		{ LWM2M_OP_READ, 406, 406 }, { LWM2M_OP_WRITE, 413, 413 }, { LWM2M_OP_CREATE, 415, 415 },
		{ LWM2M_OP_BOOTSTRAP_FINISH, 406, 406 }, { LWM2M_OP_EXECUTE, 405, 405 },
		{ LWM2M_OP_DELETE, 401, 401 },
	};

	(void)state;
	for(size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++){
		struct lwm2m_op op = req_op(rows[i].kind, NULL);
		int got = http_codec_status_for(&op, rows[i].result);
		if(got != rows[i].status){
			fail_msg("%s %u: %d, expected %d", op_kind_name(rows[i].kind), rows[i].result, got,
				rows[i].status);
		}
	}
}

static void test_location(void **state)
{
	uint8_t id[HTTP_CODEC_REG_ID_BYTES];
	char text[HTTP_CODEC_REG_ID_LEN + 1];
	struct lwm2m_buf b;
	struct http_request_view v;
	struct lwm2m_op op;
	struct http_uplink x;
	struct lwm2m_error err;

	(void)state;
	for(size_t i = 0; i < sizeof(id); i++) id[i] = (uint8_t)(i * 17);
	http_codec_reg_id_text(id, text);
	assert_string_equal(text, "00112233445566778899aabbccddeeff");
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "x", 1), 0);
	assert_int_equal(http_codec_format_location(id, &b), 0);
	assert_int_equal(b.len, 1 + 4 + 32);
	assert_string_equal((const char *)b.data + 1, "/rd/00112233445566778899aabbccddeeff");
	/* the Location a device got is the path it updates */
	v = view("POST", (const char *)b.data + 1, "lt=30", NULL, NULL);
	assert_int_equal(dec(&v, &op, &x, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_UPDATE);
	assert_string_equal(x.reg_id, text);
	buf_free(&b);
	/* a buffer at its limit is left as it was */
	buf_init(&b, 10);
	assert_int_equal(http_codec_format_location(id, &b), -LWM2M_ETOOBIG);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

/* ------------------------------------------------- downlink requests ---- */

static void test_build_read_discover(void **state)
{
	struct lwm2m_op op = req_op(LWM2M_OP_READ, "/3/0/0");

	(void)state;
	assert_builds(&op, NULL, "GET", "/3/0/0", NULL, NULL);
	assert_builds(&op, "/lwm2m", "GET", "/lwm2m/3/0/0", NULL, NULL);
	assert_builds(&op, "/lwm2m/", "GET", "/lwm2m/3/0/0", NULL, NULL);
	assert_builds(&op, "/", "GET", "/3/0/0", NULL, NULL);
	assert_builds(&op, "", "GET", "/3/0/0", NULL, NULL);
	assert_builds(&op, "/a/b-c", "GET", "/a/b-c/3/0/0", NULL, NULL);
	/* Accept from the content format of a Read without payload */
	op.content_format = LWM2M_CF_SENML_JSON;
	op.fields |= LWM2M_F_CT;
	assert_builds(&op, NULL, "GET", "/3/0/0", NULL, "application/senml+json");
	/* the path is written canonically */
	op = req_op(LWM2M_OP_READ, "3/0/1/");
	assert_builds(&op, NULL, "GET", "/3/0/1", NULL, NULL);
	op = req_op(LWM2M_OP_READ, "/3/0/6/1");
	assert_builds(&op, NULL, "GET", "/3/0/6/1", NULL, NULL);
	op = req_op(LWM2M_OP_DISCOVER, "/3/0");
	op.depth = 2;
	op.fields |= LWM2M_F_DEPTH;
	assert_builds(&op, "/lwm2m", "GET", "/lwm2m/3/0?depth=2", NULL, "application/link-format");
}

static void test_build_writes(void **state)
{
	struct lwm2m_op op = req_op(LWM2M_OP_WRITE, "/3/0/14");

	(void)state;
	with_payload(&op, LWM2M_CF_TEXT, "+02");
	assert_builds(&op, "/lwm2m", "PUT", "/lwm2m/3/0/14", "text/plain;charset=utf-8", NULL);
	op = req_op(LWM2M_OP_WRITE_PARTIAL, "/3/0");
	with_payload(&op, LWM2M_CF_TLV, "\xc1\x0e\x30");
	assert_builds(&op, NULL, "POST", "/3/0", "application/vnd.oma.lwm2m+tlv", NULL);
	op = req_op(LWM2M_OP_CREATE, "/3303");
	with_payload(&op, LWM2M_CF_SENML_CBOR, "\x81");
	assert_builds(&op, "/lwm2m", "POST", "/lwm2m/3303", "application/senml+cbor", NULL);
	op = req_op(LWM2M_OP_EXECUTE, "/3/0/4");
	assert_builds(&op, NULL, "POST", "/3/0/4", NULL, NULL);
	op.payload = op_view_str("0='a',1");
	op.fields |= LWM2M_F_PAYLOAD;
	assert_builds(&op, NULL, "POST", "/3/0/4", "text/plain;charset=utf-8", NULL);
	op = req_op(LWM2M_OP_DELETE, "/3303/1");
	assert_builds(&op, "/lwm2m", "DELETE", "/lwm2m/3303/1", NULL, NULL);
	op = req_op(LWM2M_OP_DELETE, "/3/0/6/2");
	assert_builds(&op, NULL, "DELETE", "/3/0/6/2", NULL, NULL);
}

static void test_build_write_attributes(void **state)
{
	struct lwm2m_op op = req_op(LWM2M_OP_WRITE_ATTRIBUTES, "/3303/0/5700");

	(void)state;
	op.fields |= LWM2M_F_ATTRS;
	op.attrs.set = LWM2M_ATTR_BIT(LWM2M_ATTR_PMIN) | LWM2M_ATTR_BIT(LWM2M_ATTR_PMAX)
		| LWM2M_ATTR_BIT(LWM2M_ATTR_LT) | LWM2M_ATTR_BIT(LWM2M_ATTR_GT)
		| LWM2M_ATTR_BIT(LWM2M_ATTR_CON);
	op.attrs.unset = LWM2M_ATTR_BIT(LWM2M_ATTR_HQMAX);
	op.attrs.pmin = 10;
	op.attrs.pmax = 60;
	op.attrs.lt = 5;
	op.attrs.gt = 50.5;
	op.attrs.con = 1;
	/* lt and con travel over HTTP (MQTT has no key for them); no body */
	assert_builds(&op, "/lwm2m", "PUT", "/lwm2m/3303/0/5700?pmin=10&pmax=60&lt=5&gt=50.5&con=1&hqmax",
		NULL, NULL);
	/* gt on an instance is refused */
	op.uri = op_view_str("/3303/0");
	assert_build_fails(&op, NULL, LWM2M_EINVAL, NULL);
	op.attrs.set = LWM2M_ATTR_BIT(LWM2M_ATTR_PMIN);
	op.attrs.unset = 0;
	assert_builds(&op, NULL, "PUT", "/3303/0?pmin=10", NULL, NULL);
	op.attrs.set = 0;
	assert_build_fails(&op, NULL, LWM2M_EINVAL, "without attributes");
	op.attrs.set = LWM2M_ATTR_BIT(LWM2M_ATTR_EDGE);
	op.attrs.edge = 2;
	op.uri = op_view_str("/3303/0/5700");
	assert_build_fails(&op, NULL, LWM2M_EINVAL, "invalid attribute");
}

static void test_build_bootstrap(void **state)
{
	struct lwm2m_op op = req_op(LWM2M_OP_BOOTSTRAP_WRITE, "/1/0");

	(void)state;
	with_payload(&op, LWM2M_CF_SENML_CBOR, "\x81");
	/* the Bootstrap-Server never uses the alternate path */
	assert_builds(&op, "/lwm2m", "PUT", "/1/0", "application/senml+cbor", NULL);
	op = req_op(LWM2M_OP_BOOTSTRAP_READ, "/2");
	assert_builds(&op, "/lwm2m", "GET", "/2", NULL, NULL);
	op = req_op(LWM2M_OP_BOOTSTRAP_READ, "/1/0");
	op.content_format = LWM2M_CF_TLV;
	op.fields |= LWM2M_F_CT;
	assert_builds(&op, NULL, "GET", "/1/0", NULL, "application/vnd.oma.lwm2m+tlv");
	op = req_op(LWM2M_OP_BOOTSTRAP_READ, "/3");
	assert_build_fails(&op, NULL, LWM2M_EINVAL, "objects 1 and 2");
	op = req_op(LWM2M_OP_BOOTSTRAP_DELETE, "/");
	assert_builds(&op, NULL, "DELETE", "/", NULL, NULL);
	op = req_op(LWM2M_OP_BOOTSTRAP_DELETE, "/0/1");
	assert_builds(&op, NULL, "DELETE", "/0/1", NULL, NULL);
	op = req_op(LWM2M_OP_BOOTSTRAP_DISCOVER, "/");
	assert_builds(&op, "/lwm2m", "GET", "/", NULL, "application/link-format");
	op = req_op(LWM2M_OP_BOOTSTRAP_FINISH, NULL);
	assert_builds(&op, "/lwm2m", "POST", "/bs", NULL, NULL);
}

static void test_build_refusals(void **state)
{
	static const enum lwm2m_op_kind not_http[] = {
		LWM2M_OP_OBSERVE, LWM2M_OP_OBSERVE_COMPOSITE, LWM2M_OP_CANCEL_OBSERVE,
		LWM2M_OP_READ_COMPOSITE, LWM2M_OP_WRITE_COMPOSITE, LWM2M_OP_NOTIFY,
	};
	struct lwm2m_op op;

	(void)state;
	for(size_t i = 0; i < sizeof(not_http) / sizeof(not_http[0]); i++){
		op = req_op(not_http[i], "/3/0");
		assert_build_fails(&op, NULL, LWM2M_ENOTSUP, "cannot be carried over HTTP");
	}
	op = req_op(LWM2M_OP_REGISTER, NULL);
	assert_build_fails(&op, NULL, LWM2M_ENOTSUP, "comes from one");
	op = req_op(LWM2M_OP_READ, "/3/0/0");
	op.is_response = true;
	assert_build_fails(&op, NULL, LWM2M_EINVAL, NULL);
	/* wrong levels */
	op = req_op(LWM2M_OP_READ, NULL);
	assert_build_fails(&op, NULL, LWM2M_EINVAL, "without uri");
	op = req_op(LWM2M_OP_READ, "/");
	assert_build_fails(&op, NULL, LWM2M_EINVAL, "0 level");
	op = req_op(LWM2M_OP_READ, "/3/x");
	assert_build_fails(&op, NULL, LWM2M_EINVAL, NULL);
	op = req_op(LWM2M_OP_WRITE, "/3");
	with_payload(&op, LWM2M_CF_TLV, "");
	assert_build_fails(&op, NULL, LWM2M_EINVAL, NULL);
	op = req_op(LWM2M_OP_WRITE_PARTIAL, "/3/0/1/2");
	with_payload(&op, LWM2M_CF_TLV, "");
	assert_build_fails(&op, NULL, LWM2M_EINVAL, NULL);
	op = req_op(LWM2M_OP_EXECUTE, "/3/0");
	assert_build_fails(&op, NULL, LWM2M_EINVAL, NULL);
	op = req_op(LWM2M_OP_CREATE, "/3303/0");
	with_payload(&op, LWM2M_CF_TLV, "");
	assert_build_fails(&op, NULL, LWM2M_EINVAL, NULL);
	op = req_op(LWM2M_OP_DELETE, "/3303/0/1");
	assert_build_fails(&op, NULL, LWM2M_EINVAL, "not a resource");
	op = req_op(LWM2M_OP_BOOTSTRAP_DISCOVER, "/1/0");
	assert_build_fails(&op, NULL, LWM2M_EINVAL, NULL);
	/* missing payload or format, unknown format */
	op = req_op(LWM2M_OP_WRITE, "/3/0/1");
	assert_build_fails(&op, NULL, LWM2M_EINVAL, "needs a payload");
	with_payload(&op, 1234, "x");
	assert_build_fails(&op, NULL, LWM2M_EINVAL, "no media type");
	op = req_op(LWM2M_OP_EXECUTE, "/3/0/4");
	with_payload(&op, LWM2M_CF_CBOR, "x");
	assert_build_fails(&op, NULL, LWM2M_EINVAL, "text/plain");
	op = req_op(LWM2M_OP_DISCOVER, "/3");
	op.depth = 4;
	op.fields |= LWM2M_F_DEPTH;
	assert_build_fails(&op, NULL, LWM2M_EINVAL, "depth");
	/* alternate paths */
	op = req_op(LWM2M_OP_READ, "/3/0/0");
	assert_build_fails(&op, "lwm2m", LWM2M_EINVAL, "start with '/'");
	assert_build_fails(&op, "/lwm2m/12", LWM2M_EINVAL, "numeric segment");
	assert_build_fails(&op, "/a b", LWM2M_EINVAL, "escaping");
	assert_build_fails(&op, "/a//b", LWM2M_EINVAL, "empty segment");
	assert_build_fails(&op, "/a?x", LWM2M_EINVAL, NULL);
}

/* ------------------------------------------------ downlink answers ---- */

static int answer(const struct lwm2m_op *req, unsigned status, const char *ct, const char *loc,
	const char *body, struct lwm2m_op *resp, struct lwm2m_error *err)
{
	memset(err, 0, sizeof(*err));
	return http_codec_decode_response(req, status, ct, loc, (const uint8_t *)body,
		body ? strlen(body) : 0, resp, err);
}

static void test_answers_success(void **state)
{
	struct lwm2m_op req = req_op(LWM2M_OP_READ, "/3/0/0"), resp;
	struct lwm2m_error err;

	(void)state;
	req.token = 77;
	req.fields |= LWM2M_F_TOKEN;
	assert_int_equal(answer(&req, 200, "application/senml+json", NULL, "[{\"v\":1}]", &resp, &err), 0);
	assert_true(resp.is_response);
	assert_int_equal(resp.kind, LWM2M_OP_READ);
	assert_int_equal(resp.result, 205);
	assert_int_equal(resp.token, 77);
	assert_int_equal(resp.fields, LWM2M_F_RESULT | LWM2M_F_TOKEN | LWM2M_F_PAYLOAD | LWM2M_F_CT);
	assert_int_equal(resp.content_format, LWM2M_CF_SENML_JSON);
	assert_view_str(resp.payload, "[{\"v\":1}]");
	/* an empty answer (an object without instances) */
	assert_int_equal(answer(&req, 204, NULL, NULL, NULL, &resp, &err), 0);
	assert_int_equal(resp.result, 205);
	assert_false(resp.fields & LWM2M_F_PAYLOAD);
	/* tolerated labels */
	assert_int_equal(answer(&req, 200, "application/json", NULL, "{}", &resp, &err), 0);
	assert_int_equal(resp.content_format, LWM2M_CF_OMA_JSON);
	assert_int_equal(answer(&req, 200, "1542", NULL, "x", &resp, &err), 0);
	assert_int_equal(resp.content_format, LWM2M_CF_TLV);
	assert_int_equal(answer(&req, 200, "text/plain", NULL, "Acme", &resp, &err), 0);
	assert_int_equal(resp.content_format, LWM2M_CF_TEXT);
	/* a body needs a known Content-Type */
	assert_int_equal(answer(&req, 200, NULL, NULL, "x", &resp, &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "without Content-Type");
	assert_int_equal(answer(&req, 200, "text/html", NULL, "x", &resp, &err), -LWM2M_ENOTSUP);
	assert_msg_has(&err, "text/html");
	/* operations without content: the body is not looked at */
	req = req_op(LWM2M_OP_WRITE, "/3/0/14");
	assert_int_equal(answer(&req, 200, "text/html", NULL, "<p>ok</p>", &resp, &err), 0);
	assert_int_equal(resp.result, 204);
	assert_int_equal(resp.fields, LWM2M_F_RESULT);
	req = req_op(LWM2M_OP_DELETE, "/3303/0");
	assert_int_equal(answer(&req, 200, NULL, NULL, NULL, &resp, &err), 0);
	assert_int_equal(resp.result, 202);
	req = req_op(LWM2M_OP_EXECUTE, "/3/0/4");
	assert_int_equal(answer(&req, 200, NULL, NULL, NULL, &resp, &err), 0);
	assert_int_equal(resp.result, 204);
	req = req_op(LWM2M_OP_DISCOVER, "/3");
	assert_int_equal(answer(&req, 200, "application/link-format", NULL, "</3/0>", &resp, &err), 0);
	assert_int_equal(resp.result, 205);
	assert_int_equal(resp.content_format, LWM2M_CF_LINK);
	req = req_op(LWM2M_OP_BOOTSTRAP_FINISH, NULL);
	assert_int_equal(answer(&req, 204, NULL, NULL, NULL, &resp, &err), 0);
	assert_int_equal(resp.result, 204);
}

static void test_answers_create_location(void **state)
{
	struct lwm2m_op req = req_op(LWM2M_OP_CREATE, "/3303"), resp;
	struct lwm2m_error err;

	(void)state;
	with_payload(&req, LWM2M_CF_SENML_CBOR, "\x81");
	assert_int_equal(answer(&req, 201, NULL, "/3303/1", NULL, &resp, &err), 0);
	assert_int_equal(resp.result, 201);
	assert_true(resp.fields & LWM2M_F_URI);
	assert_view_str(resp.uri, "/3303/1");
	assert_int_equal(answer(&req, 201, NULL, "http://dev.example:8080/lwm2m/3303/12?x=1", NULL,
		&resp, &err), 0);
	assert_view_str(resp.uri, "/3303/12");
	assert_int_equal(answer(&req, 201, NULL, "/3303/65534/", NULL, &resp, &err), 0);
	assert_view_str(resp.uri, "/3303/65534");
	assert_int_equal(answer(&req, 200, NULL, "3303/2", NULL, &resp, &err), 0);
	assert_view_str(resp.uri, "3303/2");
	/* 200/204 without Location is allowed by the table */
	assert_int_equal(answer(&req, 204, NULL, NULL, NULL, &resp, &err), 0);
	assert_int_equal(resp.result, 201);
	assert_false(resp.fields & LWM2M_F_URI);
	/* a Location that does not name an instance of the object */
	assert_int_equal(answer(&req, 201, NULL, "/3304/1", NULL, &resp, &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "object 3304, not 3303");
	assert_int_equal(answer(&req, 201, NULL, "/3303", NULL, &resp, &err), -LWM2M_EINVAL);
	assert_int_equal(answer(&req, 201, NULL, "/3303/70000", NULL, &resp, &err), -LWM2M_EINVAL);
	assert_int_equal(answer(&req, 201, NULL, "/x3303/1", NULL, &resp, &err), -LWM2M_EINVAL);
	assert_int_equal(answer(&req, 201, NULL, "http://dev.example", NULL, &resp, &err), -LWM2M_EINVAL);
}

static void test_answers_errors(void **state)
{
	struct lwm2m_op req = req_op(LWM2M_OP_READ, "/3/0/0"), resp;
	struct lwm2m_error err;

	(void)state;
	assert_int_equal(answer(&req, 404, NULL, NULL, NULL, &resp, &err), 0);
	assert_int_equal(resp.result, 404);
	assert_true(resp.is_response);
	assert_int_equal(answer(&req, 406, NULL, NULL, NULL, &resp, &err), 0);
	assert_int_equal(resp.result, 406);
	assert_int_equal(answer(&req, 503, NULL, NULL, NULL, &resp, &err), 0);
	assert_int_equal(resp.result, 503);
	assert_int_equal(answer(&req, 451, NULL, NULL, NULL, &resp, &err), 0);
	assert_int_equal(resp.result, 400);   /* dd > 31: 4.00 */
	assert_int_equal(answer(&req, 599, NULL, NULL, NULL, &resp, &err), 0);
	assert_int_equal(resp.result, 500);
	/* the error text is kept as diagnostic payload */
	assert_int_equal(answer(&req, 400, "text/plain", NULL, "bad path", &resp, &err), 0);
	assert_int_equal(resp.fields, LWM2M_F_RESULT | LWM2M_F_PAYLOAD | LWM2M_F_CT);
	assert_view_str(resp.payload, "bad path");
	assert_int_equal(answer(&req, 500, "text/html", NULL, "<h1>x</h1>", &resp, &err), 0);
	assert_int_equal(resp.fields, LWM2M_F_RESULT | LWM2M_F_PAYLOAD);
	/* not final answers */
	assert_int_equal(answer(&req, 302, NULL, NULL, NULL, &resp, &err), -LWM2M_EINVAL);
	assert_int_equal(answer(&req, 100, NULL, NULL, NULL, &resp, &err), -LWM2M_EINVAL);
	assert_int_equal(answer(&req, 600, NULL, NULL, NULL, &resp, &err), -LWM2M_EINVAL);
	assert_int_equal(answer(&req, 0, NULL, NULL, NULL, &resp, &err), -LWM2M_EINVAL);
	/* requests HTTP does not carry */
	req = req_op(LWM2M_OP_OBSERVE, "/3/0/0");
	assert_int_equal(answer(&req, 200, NULL, NULL, NULL, &resp, &err), -LWM2M_ENOTSUP);
	assert_int_equal(answer(NULL, 200, NULL, NULL, NULL, &resp, &err), -LWM2M_EINVAL);
}

static void test_content_type_mapping(void **state)
{
	(void)state;
	assert_int_equal(http_codec_cf_from_content_type("application/vnd.oma.lwm2m+tlv"), LWM2M_CF_TLV);
	assert_int_equal(http_codec_cf_from_content_type("Application/SenML+CBOR"), LWM2M_CF_SENML_CBOR);
	assert_int_equal(http_codec_cf_from_content_type("text/plain; charset=utf-8"), LWM2M_CF_TEXT);
	assert_int_equal(http_codec_cf_from_content_type("application/senml-etch+json"), 320);
	assert_int_equal(http_codec_cf_from_content_type("application/octet-stream"), LWM2M_CF_OPAQUE);
	assert_int_equal(http_codec_cf_from_content_type("application/json;charset=utf-8"), LWM2M_CF_OMA_JSON);
	assert_int_equal(http_codec_cf_from_content_type("application/vnd.oma.lwm2m+text"), LWM2M_CF_TEXT);
	assert_int_equal(http_codec_cf_from_content_type("application/vnd.oma.lwm2m+opaque"), LWM2M_CF_OPAQUE);
	assert_int_equal(http_codec_cf_from_content_type("1541"), LWM2M_CF_TEXT);
	assert_int_equal(http_codec_cf_from_content_type("1543"), LWM2M_CF_OMA_JSON);
	assert_int_equal(http_codec_cf_from_content_type("1544"), LWM2M_CF_OPAQUE);
	assert_int_equal(http_codec_cf_from_content_type("11544"), LWM2M_CF_LWM2M_CBOR);
	assert_int_equal(http_codec_cf_from_content_type("110"), LWM2M_CF_SENML_JSON);
	assert_int_equal(http_codec_cf_from_content_type("1545"), -1);
	assert_int_equal(http_codec_cf_from_content_type("123456"), -1);
	assert_int_equal(http_codec_cf_from_content_type("text/html"), -1);
	assert_int_equal(http_codec_cf_from_content_type(""), -1);
	assert_int_equal(http_codec_cf_from_content_type(NULL), -1);
}

/* ---------------------------------------------------------- round trips ---- */

/* The status a device answers with, read back by the server, is the operation's success. */
static void test_round_trip_statuses(void **state)
{
	static const enum lwm2m_op_kind kinds[] = {
		LWM2M_OP_READ, LWM2M_OP_DISCOVER, LWM2M_OP_WRITE, LWM2M_OP_WRITE_PARTIAL,
		LWM2M_OP_WRITE_ATTRIBUTES, LWM2M_OP_EXECUTE, LWM2M_OP_CREATE, LWM2M_OP_DELETE,
		LWM2M_OP_BOOTSTRAP_WRITE, LWM2M_OP_BOOTSTRAP_READ, LWM2M_OP_BOOTSTRAP_DELETE,
		LWM2M_OP_BOOTSTRAP_DISCOVER, LWM2M_OP_BOOTSTRAP_FINISH,
	};
	static const uint16_t errors[] = { 400, 401, 403, 404, 405, 406, 409, 412, 413, 415, 500, 501,
		503 };
	struct lwm2m_op resp;
	struct lwm2m_error err;

	(void)state;
	for(size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++){
		struct lwm2m_op req = req_op(kinds[i], "/3303");
		uint16_t ok = op_success_result(kinds[i]);
		int status = http_codec_status_for(&req, ok);
		assert_true(status >= 200 && status < 300);
		assert_int_equal(answer(&req, (unsigned)status, NULL, NULL, NULL, &resp, &err), 0);
		assert_int_equal(resp.result, ok);
		for(size_t k = 0; k < sizeof(errors) / sizeof(errors[0]); k++){
			status = http_codec_status_for(&req, errors[k]);
			assert_int_equal(answer(&req, (unsigned)status, NULL, NULL, NULL, &resp, &err), 0);
			assert_int_equal(resp.result, errors[k]);
		}
	}
}

static void decode_built(const struct http_request_view *v, struct lwm2m_op *op, struct http_uplink *x)
{
	struct lwm2m_error err;
	if(dec(v, op, x, &err) != 0) fail_msg("%s %s?%s: %s", v->method, v->path, v->query, err.msg);
}

static void test_round_trip_uplink(void **state)
{
	struct lwm2m_op op, back;
	struct http_uplink in, x;
	struct http_request_view v;
	struct lwm2m_buf b;
	struct lwm2m_error err;

	(void)state;
	buf_init(&b, 0);
	op = req_op(LWM2M_OP_REGISTER, NULL);
	op.ep = op_view_str("urn:dev:ops:32473-Pi 4&x=y");
	op.lifetime = 86400;
	op.version = op_view_str("1.2");
	op.binding = op_view_str("H");
	op.sms = op_view_str("4912345");
	op.pid = op_view_str("\"6:27354b9a,v:a-1\"");
	op.fields |= LWM2M_F_EP | LWM2M_F_LIFETIME | LWM2M_F_VERSION | LWM2M_F_BINDING | LWM2M_F_QUEUE
		| LWM2M_F_SMS | LWM2M_F_PID;
	with_payload(&op, LWM2M_CF_LINK, LINKS);
	assert_int_equal(http_codec_encode_uplink(&op, NULL, &b, &v, &err), 0);
	assert_string_equal(v.method, "POST");
	assert_string_equal(v.path, "/rd");
	assert_string_equal(v.query, "ep=urn:dev:ops:32473-Pi%204%26x%3Dy&lt=86400&lwm2m=1.2&b=H&Q"
		"&sms=4912345&pid=%226:27354b9a,v:a-1%22");
	assert_string_equal(v.content_type, "application/link-format");
	assert_ptr_equal(v.body, op.payload.ptr);
	decode_built(&v, &back, &x);
	assert_int_equal(back.kind, LWM2M_OP_REGISTER);
	assert_int_equal(back.fields, op.fields);
	assert_view_str(back.ep, "urn:dev:ops:32473-Pi 4&x=y");
	assert_view_str(back.pid, "\"6:27354b9a,v:a-1\"");
	assert_int_equal(back.lifetime, 86400);
	assert_view_str(back.payload, LINKS);

	/* Update and De-register carry the registration id */
	memset(&in, 0, sizeof(in));
	in.has_reg_id = true;
	strcpy(in.reg_id, REG_ID);
	op = req_op(LWM2M_OP_UPDATE, NULL);
	op.binding = op_view_str("HQ");
	op.fields |= LWM2M_F_BINDING | LWM2M_F_QUEUE;
	buf_reset(&b);
	assert_int_equal(http_codec_encode_uplink(&op, &in, &b, &v, &err), 0);
	assert_string_equal(v.path, "/rd/" REG_ID);
	assert_string_equal(v.query, "b=HQ");   /* the Q in b carries queue mode */
	assert_null(v.content_type);
	decode_built(&v, &back, &x);
	assert_int_equal(back.fields, op.fields);
	assert_string_equal(x.reg_id, REG_ID);
	op = req_op(LWM2M_OP_DEREGISTER, NULL);
	assert_int_equal(http_codec_encode_uplink(&op, &in, &b, &v, &err), 0);
	assert_string_equal(v.method, "DELETE");
	assert_null(v.query);
	decode_built(&v, &back, &x);
	assert_int_equal(back.kind, LWM2M_OP_DEREGISTER);

	/* Send, Bootstrap-Request, Bootstrap-Pack-Request */
	op = req_op(LWM2M_OP_SEND, NULL);
	with_payload(&op, LWM2M_CF_LWM2M_CBOR, "\xa1\x03\x01");
	assert_int_equal(http_codec_encode_uplink(&op, NULL, &b, &v, &err), 0);
	assert_string_equal(v.path, "/dp");
	assert_string_equal(v.content_type, "application/vnd.oma.lwm2m+cbor");
	decode_built(&v, &back, &x);
	assert_int_equal(back.content_format, LWM2M_CF_LWM2M_CBOR);
	op = req_op(LWM2M_OP_BOOTSTRAP_REQUEST, NULL);
	op.ep = op_view_str("dev1");
	op.pct = LWM2M_CF_SENML_JSON;
	op.fields |= LWM2M_F_EP | LWM2M_F_PCT;
	assert_int_equal(http_codec_encode_uplink(&op, NULL, &b, &v, &err), 0);
	assert_string_equal(v.query, "ep=dev1&pct=110");
	decode_built(&v, &back, &x);
	assert_int_equal(back.pct, LWM2M_CF_SENML_JSON);
	op = req_op(LWM2M_OP_BOOTSTRAP_PACK_REQUEST, NULL);
	with_payload(&op, LWM2M_CF_LINK, "</0/0>,</21/0>");
	in.accept_cf = LWM2M_CF_SENML_CBOR;
	assert_int_equal(http_codec_encode_uplink(&op, &in, &b, &v, &err), 0);
	assert_string_equal(v.method, "GET");
	assert_string_equal(v.query, "acc=%3C/0/0%3E,%3C/21/0%3E");
	assert_string_equal(v.accept, "application/senml+cbor");
	assert_null(v.body);
	decode_built(&v, &back, &x);
	assert_view_str(back.payload, "</0/0>,</21/0>");
	assert_int_equal(x.accept_cf, LWM2M_CF_SENML_CBOR);
	buf_free(&b);
}

static void test_encode_uplink_refusals(void **state)
{
	struct lwm2m_op op;
	struct http_request_view v;
	struct lwm2m_buf b;
	struct lwm2m_error err;

	(void)state;
	buf_init(&b, 0);
	op = req_op(LWM2M_OP_UPDATE, NULL);
	assert_int_equal(http_codec_encode_uplink(&op, NULL, &b, &v, &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "registration id");
	op = req_op(LWM2M_OP_REGISTER, NULL);
	op.version = op_view_str("1.2");
	op.fields |= LWM2M_F_VERSION;
	with_payload(&op, LWM2M_CF_LINK, LINKS);
	assert_int_equal(http_codec_encode_uplink(&op, NULL, &b, &v, &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "'lt'");
	op.lifetime = 1;
	op.fields |= LWM2M_F_LIFETIME | LWM2M_F_PCT;
	op.pct = 112;
	assert_int_equal(http_codec_encode_uplink(&op, NULL, &b, &v, &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "'pct'");
	op.fields &= ~(uint32_t)LWM2M_F_PCT;
	op.binding = op_view_str("HX");
	op.fields |= LWM2M_F_BINDING;
	assert_int_equal(http_codec_encode_uplink(&op, NULL, &b, &v, &err), -LWM2M_EINVAL);
	op = req_op(LWM2M_OP_SEND, NULL);
	with_payload(&op, LWM2M_CF_TLV, "x");
	assert_int_equal(http_codec_encode_uplink(&op, NULL, &b, &v, &err), -LWM2M_EINVAL);
	op = req_op(LWM2M_OP_READ, "/3/0");
	assert_int_equal(http_codec_encode_uplink(&op, NULL, &b, &v, &err), -LWM2M_ENOTSUP);
	assert_int_equal(b.len, 0);
	assert_null(v.path);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_all_parameters),
		cmocka_unit_test(test_register_minimal_and_variants),
		cmocka_unit_test(test_update_and_deregister),
		cmocka_unit_test(test_send_formats),
		cmocka_unit_test(test_send_names_sender),
		cmocka_unit_test(test_bootstrap_request),
		cmocka_unit_test(test_bootstrap_pack_request),
		cmocka_unit_test(test_percent_encoding),
		cmocka_unit_test(test_refused_routes),
		cmocka_unit_test(test_refused_parameters),
		cmocka_unit_test(test_refused_sizes),
		cmocka_unit_test(test_refused_bodies),
		cmocka_unit_test(test_check_order),
		cmocka_unit_test(test_status_uplink_pinned),
		cmocka_unit_test(test_status_downlink_table),
		cmocka_unit_test(test_location),
		cmocka_unit_test(test_build_read_discover),
		cmocka_unit_test(test_build_writes),
		cmocka_unit_test(test_build_write_attributes),
		cmocka_unit_test(test_build_bootstrap),
		cmocka_unit_test(test_build_refusals),
		cmocka_unit_test(test_answers_success),
		cmocka_unit_test(test_answers_create_location),
		cmocka_unit_test(test_answers_errors),
		cmocka_unit_test(test_content_type_mapping),
		cmocka_unit_test(test_round_trip_statuses),
		cmocka_unit_test(test_round_trip_uplink),
		cmocka_unit_test(test_encode_uplink_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
