/* Fuzz target: the CoAP binding codec.
 *
 * Input encoding:
 *   byte 0   the message code
 *   byte 1   flags: bit 0 alternate path "/lwm2m"; bit 1 full_attributes; bits 2-3 the
 *            device answer to encode (success with the payload, success with a created
 *            instance, an error, a notification); bit 4 scratch limited to 64 bytes;
 *            bit 5 version "1.0" for the registration queries
 *   options  repeated: delta byte (0xff ends the options), length byte, value bytes; the
 *            option number is the running sum of the deltas (so repeats are delta 0)
 *   payload  everything after the 0xff (or after the 40th option)
 *
 * Checks: a decoded request has views inside the message or scratch, a uri that parses to
 * info->path, a path list that decodes, and the MQTT codec accepts it; a refusal has an
 * answer code that matches its error code and leaves op and scratch clean; answers are
 * CoAP codes with a non-NULL payload; the link filter is idempotent and its output parses;
 * locations and registration queries stay within CoAP's option limits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binding/coap_codec.h"
#include "binding/mqtt_codec.h"
#include "objects/fmt.h"
#include "objects/fmt_senml.h"
#include "objects/link_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { \
	if(!(cond)){ \
		fprintf(stderr, "fuzz_coap_codec: %s failed at line %d\n", #cond, __LINE__); \
		abort(); \
	} \
} while(0)

struct input {
	struct coap_msg m;
	uint8_t flags;
	const uint8_t *data;
	size_t size;
};

static void parse_input(const uint8_t *data, size_t size, struct input *in)
{
	size_t pos = 2;
	uint32_t number = 0;

	memset(in, 0, sizeof(*in));
	in->data = data;
	in->size = size;
	in->m.code = size > 0 ? data[0] : 0;
	in->flags = size > 1 ? data[1] : 0;
	while(pos < size && in->m.n_opts < COAP_CODEC_MAX_OPTS){
		uint8_t delta = data[pos++];
		size_t len;
		struct coap_opt_view *o;

		if(delta == 0xff) break;
		len = pos < size ? data[pos++] : 0;
		if(len > size - pos) len = size - pos;
		number += delta;
		o = &in->m.opts[in->m.n_opts++];
		o->number = (uint16_t)number;
		o->value.ptr = data + pos;
		o->value.len = len;
		pos += len;
	}
	in->m.payload.ptr = data + (pos < size ? pos : size);
	in->m.payload.len = pos < size ? size - pos : 0;
}

static bool within(struct lwm2m_view v, const void *base, size_t len)
{
	const uint8_t *b = base;
	return v.len == 0 || (v.ptr >= b && v.ptr + v.len <= b + len);
}

/* The error code each answer code goes with (coap_codec.h). */
static void check_answer_code(int rc, uint8_t answer)
{
	switch(answer){
		case COAP_CODEC_CODE(4, 0): CHECK(rc == -LWM2M_EINVAL); break;
		case COAP_CODEC_CODE(4, 4): CHECK(rc == -LWM2M_ENOENT); break;
		case COAP_CODEC_CODE(4, 13): CHECK(rc == -LWM2M_ETOOBIG); break;
		case COAP_CODEC_CODE(5, 0): CHECK(rc == -LWM2M_ENOMEM); break;
		case COAP_CODEC_CODE(4, 2):
		case COAP_CODEC_CODE(4, 5):
		case COAP_CODEC_CODE(4, 6):
		case COAP_CODEC_CODE(4, 15):
		case COAP_CODEC_CODE(5, 5): CHECK(rc == -LWM2M_ENOTSUP); break;
		default: CHECK(0);
	}
}

static bool has_mqtt_gaps(const struct lwm2m_op *op)
{
	uint32_t bits = LWM2M_ATTR_BIT(LWM2M_ATTR_LT) | LWM2M_ATTR_BIT(LWM2M_ATTR_CON);
	return (op->fields & LWM2M_F_ATTRS) && (op->attrs.unset || (op->attrs.set & bits));
}

static void check_request(const struct input *in, const struct lwm2m_op *op,
	const struct coap_request_info *info, const struct lwm2m_buf *scratch)
{
	struct lwm2m_path p, *paths = NULL;
	struct lwm2m_buf out;
	struct lwm2m_error err;
	struct lwm2m_op copy = *op;
	size_t n = 0;

	CHECK(info->answer_code == 0 && !op->is_response);
	CHECK(op->kind >= LWM2M_OP_READ && op->kind <= LWM2M_OP_CANCEL_OBSERVE);
	CHECK(!(op->fields & LWM2M_F_TOKEN));
	CHECK(info->path.len <= LWM2M_PATH_MAX_DEPTH);
	for(uint8_t i = 0; i < info->path.len; i++) CHECK(info->path.ids[i] <= 65534);
	CHECK(((op->fields & LWM2M_F_URI) != 0) == (info->path.len > 0));
	if(op->fields & LWM2M_F_URI){
		CHECK(within(op->uri, scratch->data, scratch->len));
		CHECK(path_parse((const char *)op->uri.ptr, op->uri.len, &p, NULL) == 0);
		CHECK(path_compare(&p, &info->path) == 0);
	}
	if(op->fields & LWM2M_F_PAYLOAD){
		CHECK(op->payload.ptr != NULL && within(op->payload, in->data, in->size));
	}
	if(op->fields & LWM2M_F_PATHS){
		CHECK(within(op->paths, scratch->data, scratch->len));
		CHECK(senml_etch_paths_decode(LWM2M_CF_SENML_ETCH_CBOR, op->paths.ptr, op->paths.len,
			&paths, &n, NULL) == 0);
		CHECK(n >= 1);
		free(paths);
	}
	CHECK(((op->fields & LWM2M_F_ATTRS) != 0) == (op->kind == LWM2M_OP_WRITE_ATTRIBUTES));
	if(op->kind == LWM2M_OP_CREATE) CHECK(info->create_iid >= -2 && info->create_iid <= 65534);
	else CHECK(info->create_iid == COAP_CODEC_IID_NONE);
	CHECK(info->observe >= -1 && info->observe <= 1);

	/* whatever comes out is something the MQTT binding can send */
	if(has_mqtt_gaps(op)) return;
	copy.token = 1;
	copy.fields |= LWM2M_F_TOKEN;
	buf_init(&out, 0);
	if(mqtt_codec_encode(&copy, LWM2M_IFACE_RD, &out, &err) != 0){
		fprintf(stderr, "MQTT refuses %s: %s\n", op_kind_name(op->kind), err.msg);
		CHECK(0);
	}
	buf_free(&out);
}

static void check_answer(const struct input *in, const struct lwm2m_op *op,
	const struct coap_request_info *info)
{
	static const uint16_t errors[] = { 400, 404, 405, 415, 450, 500, 503, 231, 302, 0, 699 };
	struct lwm2m_op r;
	struct coap_answer a;
	struct lwm2m_error err;
	char uri[16];
	unsigned variant = (in->flags >> 2) & 3;
	int rc;

	op_init(&r);
	r.kind = op->kind;
	r.is_response = true;
	r.fields = LWM2M_F_RESULT;
	r.result = op_success_result(op->kind);
	switch(variant){
		case 0:
			r.payload = in->m.payload;
			r.content_format = (uint16_t)in->size;
			r.fields |= LWM2M_F_PAYLOAD | (in->size & 1 ? LWM2M_F_CT : 0);
			break;
		case 1:
			snprintf(uri, sizeof(uri), "/%u/%u", (unsigned)(in->size % 4 ? info->path.ids[0] : 7),
				(unsigned)(in->m.payload.len * 4099u % 65536u));
			r.uri = op_view_str(uri);
			r.fields |= in->size % 3 ? LWM2M_F_URI : 0;
			break;
		case 2:
			r.result = errors[in->size % (sizeof(errors) / sizeof(errors[0]))];
			break;
		default:
			r.is_response = false;
			r.kind = LWM2M_OP_NOTIFY;
			r.payload = in->m.payload;
			r.fields = LWM2M_F_PAYLOAD | (in->size & 1 ? LWM2M_F_CT : 0);
			break;
	}
	memset(&err, 0, sizeof(err));
	rc = coap_codec_encode_response(&r, op->kind, (in->size & 4) ? NULL : info, &a, &err);
	CHECK(a.payload.ptr != NULL);
	if(rc){
		CHECK(err.code == -rc && err.msg[0] != '\0');
		CHECK(a.payload.ptr == (const uint8_t *)err.msg && a.payload.len == strlen(err.msg));
		CHECK(a.code == COAP_CODEC_CODE(4, 0) || a.code == COAP_CODEC_CODE(5, 0));
		CHECK(!a.observe && a.n_location == 0 && !a.has_content_format);
		return;
	}
	CHECK((a.code >> 5) == 2 || (a.code >> 5) == 4 || (a.code >> 5) == 5);
	CHECK(a.code != COAP_CODEC_CODE(2, 31));
	CHECK(a.n_location == 0 || a.n_location == 2);
	if(a.n_location){
		CHECK(op->kind == LWM2M_OP_CREATE && a.code == COAP_CODEC_CODE(2, 1));
		CHECK(strtoul(a.location[1], NULL, 10) <= 65534);
	}
	if(a.observe) CHECK(a.code == COAP_CODEC_CODE(2, 5));
}

static void check_decode(const struct input *in)
{
	struct coap_decode_opts opts = {
		.alt_path = (in->flags & 1) ? "/lwm2m" : NULL,
		.full_attributes = (in->flags & 2) != 0,
	};
	struct lwm2m_op op;
	struct coap_request_info info;
	struct lwm2m_buf scratch;
	struct lwm2m_error err;
	int rc;

	buf_init(&scratch, (in->flags & 0x10) ? 64 : 0);
	memset(&err, 0, sizeof(err));
	rc = coap_codec_decode_request_ex(&in->m, &opts, &op, &info, &scratch, &err);
	if(rc == 0){
		check_request(in, &op, &info, &scratch);
		check_answer(in, &op, &info);
	}else{
		CHECK(err.code == -rc && err.msg[0] != '\0');
		check_answer_code(rc, info.answer_code);
		CHECK(op.fields == 0 && scratch.len == 0);
	}
	buf_free(&scratch);
}

static void check_links(const struct input *in)
{
	const char *text = (const char *)in->m.payload.ptr;
	size_t len = in->m.payload.len;
	struct lwm2m_buf once, twice;
	struct lf_links links;
	struct lwm2m_error err;

	buf_init(&once, 0);
	buf_init(&twice, 0);
	if(coap_codec_filter_links(text, len, &once, &err) == 0){
		CHECK(once.len <= len + 1);
		CHECK(coap_codec_filter_links((const char *)once.data, once.len, &twice, &err) == 0);
		CHECK(twice.len == once.len && memcmp(twice.data, once.data, once.len) == 0);
		CHECK(lf_parse((const char *)once.data, once.len, NULL, &links, NULL) == 0);
		lf_links_free(&links);
	}else{
		CHECK(once.len == 0);
	}
	buf_free(&once);
	buf_free(&twice);
}

static void check_location(const struct input *in)
{
	char out[COAP_CODEC_LOCATION_MAX];
	struct lwm2m_buf st;
	struct coap_msg m;
	struct lwm2m_error err;

	if(coap_codec_parse_location(&in->m, out, sizeof(out), &err) != 0){
		CHECK(out[0] == '\0');
		return;
	}
	CHECK(out[0] != '\0' && out[0] != '/' && strstr(out, "//") == NULL);
	/* what parses is a location the Update and De-register builders take */
	buf_init(&st, 0);
	CHECK(coap_codec_deregister_msg(out, &m, &st, &err) == 0);
	CHECK(m.n_opts >= 1 && m.n_opts <= COAP_CODEC_LOCATION_MAX_SEGS);
	buf_free(&st);
}

static void check_registration(const struct input *in)
{
	struct coap_reg_state s;
	struct lwm2m_buf q, st;
	struct lwm2m_error err;
	struct coap_msg m;
	size_t count = 0, pos = 0, seen = 0;
	const char *item;

	memset(&s, 0, sizeof(s));
	s.ep = in->m.payload;
	if(s.ep.len > 300) s.ep.len = 300;
	s.lifetime = in->size;
	s.version = op_view_str((in->flags & 0x20) ? "1.0" : "1.2");
	s.queue = in->flags & 1;
	s.transport = (in->flags & 2) ? 'T' : 'U';
	if(in->m.n_opts) s.sms = in->m.opts[0].value;
	if(in->m.n_opts > 1) s.pid = in->m.opts[1].value;
	buf_init(&q, 0);
	if(coap_codec_register_query(&s, &q, &count, &err) == 0){
		while((item = coap_codec_query_next(&q, &pos)) != NULL){
			CHECK(strlen(item) <= 255);
			seen++;
		}
		CHECK(seen == count && count >= 4);
		buf_init(&st, 0);
		CHECK(coap_codec_register_msg(&s, "</3/0>", 6, &m, &st, &err) == 0);
		CHECK(m.n_opts == count + 2);
		buf_free(&st);
	}else{
		CHECK(q.len == 0 && count == 0);
	}
	buf_free(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;

	parse_input(data, size, &in);
	check_decode(&in);
	check_links(&in);
	check_location(&in);
	check_registration(&in);
	return 0;
}
