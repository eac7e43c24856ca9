/* Fuzz target: the HTTP binding codec.
 *
 * Input encoding: byte 0 holds flags, then NUL-separated fields, then the body:
 *   flags bit 0  the query is present (else NULL)
 *         bit 1  Content-Type is present
 *         bit 2  Accept is present
 *         bits 3-4  max_body: none, 8, 64, 1024 bytes
 *         bit 5  the downlink answer is to a Create (else to a Read)
 *   method \0 path \0 query \0 content-type \0 accept \0 body...
 * Missing separators leave the remaining fields empty.
 *
 * Checks: a request that decodes re-encodes with http_codec_encode_uplink, decodes again
 * to the same op (and the same registration id: /rd/{id}, or Send's ?rid=), and re-encodes
 * to the same bytes; a registration id is 32 lowercase hex digits; a refusal carries a
 * status that matches its error code. The same fields also drive
 * http_codec_decode_response (status from the body length, Location = the query) and
 * http_codec_encode_request (a Read of the query text behind the path as alternate path). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binding/http_codec.h"
#include "binding/mqtt_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { \
	if(!(cond)){ \
		fprintf(stderr, "fuzz_http_codec: %s failed at line %d\n", #cond, __LINE__); \
		abort(); \
	} \
} while(0)

#define N_FIELDS 5

struct input {
	char *fields[N_FIELDS];   /* NUL-terminated copies */
	const uint8_t *body;
	size_t body_len;
	uint8_t flags;
};

static void split(const uint8_t *data, size_t size, struct input *in, char *store)
{
	size_t pos = size ? 1 : 0, k = 0;

	in->flags = size ? data[0] : 0;
	for(int f = 0; f < N_FIELDS; f++){
		in->fields[f] = store + k;
		while(pos < size && data[pos] != 0) store[k++] = (char)data[pos++];
		store[k++] = '\0';
		if(pos < size) pos++;
	}
	in->body = data + pos;
	in->body_len = size - pos;
}

static bool within(const uint8_t *p, size_t n, const void *base, size_t len)
{
	const uint8_t *b = base;
	return n == 0 || (p >= b && p + n <= b + len);
}

static bool view_same(struct lwm2m_view a, struct lwm2m_view b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* 32 lowercase hex digits, as the codec promises for every registration id it returns. */
static bool reg_id_shaped(const char *id)
{
	size_t n = strlen(id);

	if(n != HTTP_CODEC_REG_ID_LEN) return false;
	for(size_t i = 0; i < n; i++){
		if(!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return false;
	}
	return true;
}

static void check_refusal(int rc, const struct lwm2m_op *op, const struct http_uplink *x,
	const struct lwm2m_error *err)
{
	CHECK(rc < 0 && err->code == -rc && err->msg[0] != '\0');
	CHECK(op->fields == 0);
	switch(x->status){
		case 400: CHECK(rc == -LWM2M_EINVAL); break;
		case 404: CHECK(rc == -LWM2M_ENOENT); break;
		case 405: CHECK(rc == -LWM2M_ENOTSUP && x->allow != NULL); break;
		case 406: case 415: CHECK(rc == -LWM2M_ENOTSUP); break;
		case 413: case 414: CHECK(rc == -LWM2M_ETOOBIG); break;
		default: CHECK(0);
	}
}

static void check_same(const struct lwm2m_op *a, const struct lwm2m_op *b)
{
	CHECK(a->kind == b->kind && a->fields == b->fields);
	if(a->fields & LWM2M_F_EP) CHECK(view_same(a->ep, b->ep));
	if(a->fields & LWM2M_F_LIFETIME) CHECK(a->lifetime == b->lifetime);
	if(a->fields & LWM2M_F_VERSION) CHECK(view_same(a->version, b->version));
	if(a->fields & LWM2M_F_BINDING) CHECK(view_same(a->binding, b->binding));
	if(a->fields & LWM2M_F_SMS) CHECK(view_same(a->sms, b->sms));
	if(a->fields & LWM2M_F_PID) CHECK(view_same(a->pid, b->pid));
	if(a->fields & LWM2M_F_PCT) CHECK(a->pct == b->pct);
	if(a->fields & LWM2M_F_CT) CHECK(a->content_format == b->content_format);
	if(a->fields & LWM2M_F_PAYLOAD) CHECK(view_same(a->payload, b->payload));
}

static void check_uplink(const struct input *in)
{
	static const size_t limits[] = { 0, 8, 64, 1024 };
	struct http_request_view v = {
		.method = in->fields[0], .path = in->fields[1],
		.query = (in->flags & 1) ? in->fields[2] : NULL,
		.content_type = (in->flags & 2) ? in->fields[3] : NULL,
		.accept = (in->flags & 4) ? in->fields[4] : NULL,
		.body = in->body, .body_len = in->body_len,
		.max_body = limits[(in->flags >> 3) & 3],
	};
	struct http_request_view v2, v3;
	struct lwm2m_op op, op2;
	struct http_uplink *x = malloc(sizeof(*x)), *x2 = malloc(sizeof(*x2));
	struct lwm2m_buf one, two;
	struct lwm2m_error err;
	const char *q = v.query ? v.query : "";
	int rc;

	CHECK(x && x2);
	memset(&err, 0, sizeof(err));
	rc = http_codec_decode_request(&v, &op, x, &err);
	if(rc){
		check_refusal(rc, &op, x, &err);
		free(x);
		free(x2);
		return;
	}
	CHECK(x->status == 0 && !op.is_response && !(op.fields & LWM2M_F_TOKEN));
	CHECK(op_kind_from_device(op.kind) && op.kind != LWM2M_OP_NOTIFY);
	if(op.kind == LWM2M_OP_SEND){
		/* Send names its registration only through ?rid= */
		CHECK(!x->has_reg_id || strstr(q, "rid=") != NULL);
	}else{
		CHECK(x->has_reg_id == (op.kind == LWM2M_OP_UPDATE || op.kind == LWM2M_OP_DEREGISTER));
	}
	if(x->has_reg_id) CHECK(reg_id_shaped(x->reg_id));
	if(op.kind == LWM2M_OP_UPDATE || op.kind == LWM2M_OP_DEREGISTER){
		CHECK(strcmp(x->reg_id, v.path + 4) == 0);
	}
	if(op.fields & LWM2M_F_EP){
		CHECK(mqtt_endpoint_name_valid((const char *)op.ep.ptr, op.ep.len));
		CHECK(within(op.ep.ptr, op.ep.len, q, strlen(q))
			|| within(op.ep.ptr, op.ep.len, x->scratch, sizeof(x->scratch)));
	}
	if(op.kind == LWM2M_OP_REGISTER) CHECK((op.fields & LWM2M_F_LIFETIME) && (op.fields & LWM2M_F_VERSION));
	if((op.fields & LWM2M_F_PAYLOAD) && op.kind != LWM2M_OP_BOOTSTRAP_PACK_REQUEST){
		CHECK(op.payload.ptr == v.body && op.payload.len == v.body_len);
	}

	/* re-encode, decode again, re-encode to the same bytes */
	buf_init(&one, 0);
	buf_init(&two, 0);
	rc = http_codec_encode_uplink(&op, x, &one, &v2, &err);
	if(rc) fprintf(stderr, "re-encode failed: %s\n", err.msg);
	CHECK(rc == 0);
	rc = http_codec_decode_request(&v2, &op2, x2, &err);
	if(rc) fprintf(stderr, "decode of re-encoded failed: %s\n", err.msg);
	CHECK(rc == 0);
	check_same(&op, &op2);
	CHECK(x->accept_cf == x2->accept_cf && x->has_reg_id == x2->has_reg_id);
	if(x->has_reg_id) CHECK(strcmp(x->reg_id, x2->reg_id) == 0);
	CHECK(http_codec_encode_uplink(&op2, x2, &two, &v3, &err) == 0);
	CHECK(strcmp(v2.method, v3.method) == 0 && strcmp(v2.path, v3.path) == 0);
	CHECK((v2.query == NULL) == (v3.query == NULL));
	if(v2.query) CHECK(strcmp(v2.query, v3.query) == 0);
	buf_free(&one);
	buf_free(&two);
	free(x);
	free(x2);
}

static void check_downlink(const struct input *in)
{
	struct lwm2m_op req, resp;
	struct lwm2m_error err;
	struct lwm2m_buf b;
	const char *method, *ct, *accept;
	const char *loc = in->fields[2];
	unsigned status = (unsigned)(in->body_len * 7 + in->flags) % 620;
	int rc;

	op_init(&req);
	req.kind = (in->flags & 0x20) ? LWM2M_OP_CREATE : LWM2M_OP_READ;
	req.uri = op_view_str((in->flags & 0x20) ? "/3303" : "/3/0/0");
	req.fields = LWM2M_F_URI;
	rc = http_codec_decode_response(&req, status, (in->flags & 2) ? in->fields[3] : NULL,
		(in->flags & 1) ? loc : NULL, in->body, in->body_len, &resp, &err);
	if(rc == 0){
		CHECK(resp.is_response && resp.kind == req.kind && (resp.fields & LWM2M_F_RESULT));
		CHECK(resp.result >= 200 && resp.result <= 531 && resp.result % 100 <= 31);
		if(resp.fields & LWM2M_F_URI) CHECK(within(resp.uri.ptr, resp.uri.len, loc, strlen(loc)));
	}else{
		CHECK(err.code == -rc && err.msg[0] != '\0');
	}
	CHECK(http_codec_cf_from_content_type(in->fields[3]) >= -1);

	/* a Read of the query text, behind the path as alternate path */
	op_init(&req);
	req.kind = LWM2M_OP_READ;
	req.uri = op_view_str(loc);
	req.fields = LWM2M_F_URI;
	buf_init(&b, 0);
	rc = http_codec_encode_request(&req, in->fields[1], &b, &method, &ct, &accept, &err);
	if(rc == 0){
		CHECK(strcmp(method, "GET") == 0 && b.len > 0 && b.data[0] == '/' && b.data[b.len] == '\0');
		CHECK(strlen((const char *)b.data) == b.len);
	}else{
		CHECK(b.len == 0 && method == NULL);
	}
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;
	char *store = malloc(size + N_FIELDS + 1);

	if(!store) return 0;
	split(data, size, &in, store);
	check_uplink(&in);
	check_downlink(&in);
	free(store);
	return 0;
}
