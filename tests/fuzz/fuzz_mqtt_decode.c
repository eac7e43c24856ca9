/* Fuzz target: the MQTT binding codec. Every input is decoded as a message on both
 * interfaces (default and tight limits); a message that decodes must re-encode, decode
 * again to the same op, and re-encode to the same bytes. The input is also parsed as a
 * topic, and a parsed topic must format back to the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binding/mqtt_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { \
	if(!(cond)){ \
		fprintf(stderr, "fuzz_mqtt_decode: %s failed at line %d\n", #cond, __LINE__); \
		abort(); \
	} \
} while(0)

static bool view_same(struct lwm2m_view a, struct lwm2m_view b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* The fields an encoder writes for this op (responses carry only four keys). */
static uint32_t encoded_fields(const struct lwm2m_op *op)
{
	if(op->is_response){
		return op->fields & (LWM2M_F_TOKEN | LWM2M_F_RESULT | LWM2M_F_CT | LWM2M_F_PAYLOAD);
	}
	return op->fields;
}

static void check_same(const struct lwm2m_op *a, const struct lwm2m_op *b)
{
	CHECK(a->kind == b->kind);
	CHECK(a->is_response == b->is_response);
	CHECK(a->result == b->result);
	CHECK(a->token == b->token);
	CHECK(encoded_fields(a) == b->fields);
	if(b->fields & LWM2M_F_EP) CHECK(view_same(a->ep, b->ep));
	if(b->fields & LWM2M_F_URI) CHECK(view_same(a->uri, b->uri));
	if(b->fields & LWM2M_F_PATHS) CHECK(view_same(a->paths, b->paths));
	if(b->fields & LWM2M_F_PAYLOAD) CHECK(view_same(a->payload, b->payload));
	if(b->fields & LWM2M_F_VERSION) CHECK(view_same(a->version, b->version));
	if(b->fields & LWM2M_F_BINDING) CHECK(view_same(a->binding, b->binding));
	if(b->fields & LWM2M_F_SMS) CHECK(view_same(a->sms, b->sms));
	if(b->fields & LWM2M_F_CT) CHECK(a->content_format == b->content_format);
	if(b->fields & LWM2M_F_PCT) CHECK(a->pct == b->pct);
	if(b->fields & LWM2M_F_LIFETIME) CHECK(a->lifetime == b->lifetime);
	if(b->fields & LWM2M_F_DEPTH) CHECK(a->depth == b->depth);
	if(b->fields & LWM2M_F_ATTRS){
		CHECK(a->attrs.set == b->attrs.set);
		CHECK(a->attrs.gt == b->attrs.gt || !(b->attrs.set & LWM2M_ATTR_BIT(LWM2M_ATTR_GT)));
		CHECK(a->attrs.st == b->attrs.st || !(b->attrs.set & LWM2M_ATTR_BIT(LWM2M_ATTR_ST)));
		CHECK(a->attrs.pmin == b->attrs.pmin && a->attrs.pmax == b->attrs.pmax);
		CHECK(a->attrs.epmin == b->attrs.epmin && a->attrs.epmax == b->attrs.epmax);
		CHECK(a->attrs.edge == b->attrs.edge && a->attrs.hqmax == b->attrs.hqmax);
	}
}

static void check_message(const uint8_t *data, size_t size, enum lwm2m_iface iface,
	const struct mqtt_codec_limits *lim)
{
	struct lwm2m_op a, b;
	struct lwm2m_error err;
	struct lwm2m_buf one, two;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = mqtt_codec_decode(data, size, iface, lim, &a, &err);
	if(rc){
		CHECK(rc < 0 && err.code == -rc && err.msg[0] != '\0');
		CHECK((a.fields & ~(uint32_t)LWM2M_F_TOKEN) == 0);
		CHECK(!(a.is_response && a.kind != LWM2M_OP_NONE));
		return;
	}
	CHECK(a.is_response == (a.kind == LWM2M_OP_NONE));
	CHECK(a.fields & LWM2M_F_TOKEN);
	buf_init(&one, 0);
	buf_init(&two, 0);
	rc = mqtt_codec_encode(&a, iface, &one, &err);
	if(rc) fprintf(stderr, "re-encode failed: %s\n", err.msg);
	CHECK(rc == 0);
	rc = mqtt_codec_decode(one.data, one.len, iface, lim, &b, &err);
	if(rc) fprintf(stderr, "decode of re-encoded failed: %s\n", err.msg);
	CHECK(rc == 0);
	check_same(&a, &b);
	/* the encoding is canonical: encoding what it decodes to gives the same bytes */
	CHECK(mqtt_codec_encode(&b, iface, &two, &err) == 0);
	CHECK(one.len == two.len && memcmp(one.data, two.data, one.len) == 0);
	buf_free(&one);
	buf_free(&two);
}

static void check_topic(const uint8_t *data, size_t size)
{
	struct mqtt_topic t;
	struct lwm2m_error err;
	struct lwm2m_buf out;
	char prefix[256];

	if(mqtt_topic_parse((const char *)data, size, &t, &err) != 0) return;
	CHECK(mqtt_endpoint_name_valid((const char *)t.endpoint.ptr, t.endpoint.len));
	if(t.has_prefix){
		if(t.prefix.len >= sizeof(prefix)) return;
		memcpy(prefix, t.prefix.ptr, t.prefix.len);
		prefix[t.prefix.len] = '\0';
	}
	buf_init(&out, 0);
	CHECK(mqtt_topic_format(&out, t.has_prefix ? prefix : NULL, t.iface,
		(const char *)t.endpoint.ptr, t.endpoint.len) == 0);
	CHECK(out.len == size && memcmp(out.data, data, size) == 0 && out.data[size] == '\0');
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mqtt_codec_limits tight = { 3, 2 };

	check_message(data, size, LWM2M_IFACE_RD, NULL);
	check_message(data, size, LWM2M_IFACE_BS, NULL);
	check_message(data, size, LWM2M_IFACE_RD, &tight);
	check_topic(data, size);
	return 0;
}
