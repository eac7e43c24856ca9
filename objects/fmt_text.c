/* Plain text (content format 0) and opaque (42): one resource value, its type from the
 * object model.
 *
 * Plain text forms: decimal integers (strict, full 64-bit range), floats as the shortest
 * decimal that reads back exactly ("3.0" for integral values), booleans "1"/"0", times as
 * epoch seconds, object links "oid:iid", opaque as base64 (as Leshan does). */
#include "fmt_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_digit(uint8_t c)
{
	if(c >= 'A' && c <= 'Z') return c - 'A';
	if(c >= 'a' && c <= 'z') return c - 'a' + 26;
	if(c >= '0' && c <= '9') return c - '0' + 52;
	if(c == '+') return 62;
	if(c == '/') return 63;
	return -1;
}

/* Standard base64; '=' padding optional but, when present, exact. */
static int b64_decode(const uint8_t *s, size_t len, uint8_t **out, size_t *out_len)
{
	size_t pad = 0, n = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	uint8_t *dst;

	while(pad < 2 && len > 0 && s[len - 1] == '='){
		len--;
		pad++;
	}
	if(pad && (len + pad) % 4 != 0) return -LWM2M_EINVAL;
	if(len % 4 == 1) return -LWM2M_EINVAL;
	dst = malloc(len / 4 * 3 + 3);
	if(!dst) return -LWM2M_ENOMEM;
	for(size_t i = 0; i < len; i++){
		int d = b64_digit(s[i]);
		if(d < 0){
			free(dst);
			return -LWM2M_EINVAL;
		}
		acc = (acc << 6) | (uint32_t)d;
		bits += 6;
		if(bits >= 8){
			bits -= 8;
			dst[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* leftover bits must be zero: otherwise the text is not what an encoder writes */
	if(bits && (acc & ((1u << bits) - 1))){
		free(dst);
		return -LWM2M_EINVAL;
	}
	*out = dst;
	*out_len = n;
	return 0;
}

static int b64_encode(struct lwm2m_buf *b, const uint8_t *p, size_t len)
{
	char q[4];
	int rc;

	for(size_t i = 0; i < len; i += 3){
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = len - i;
		if(left > 1) v |= (uint32_t)p[i + 1] << 8;
		if(left > 2) v |= p[i + 2];
		q[0] = b64_alphabet[(v >> 18) & 63];
		q[1] = b64_alphabet[(v >> 12) & 63];
		q[2] = left > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
		q[3] = left > 2 ? b64_alphabet[v & 63] : '=';
		rc = buf_append(b, q, 4);
		if(rc) return rc;
	}
	return 0;
}

static int text_value(const uint8_t *buf, size_t len, enum lwm2m_type type, const char *where,
		struct lwm2m_value *v, struct lwm2m_error *err)
{
	const char *s = (const char *)buf;
	int rc = 0;

	switch(type){
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
		if(!fmt_utf8_valid(buf, len)){
			return lwm2m_fail(err, LWM2M_EINVAL, 0, "plain text %s: invalid UTF-8", where);
		}
		rc = value_set_bytes(v, type, buf, len);
		break;
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		rc = fmt_parse_int64(s, len, &v->v.i);
		break;
	case LWM2M_TYPE_UNSIGNED:
		rc = fmt_parse_uint64(s, len, &v->v.u);
		break;
	case LWM2M_TYPE_FLOAT:
		rc = fmt_parse_double(s, len, &v->v.f);
		break;
	case LWM2M_TYPE_BOOLEAN:
		if(len == 1 && (s[0] == '0' || s[0] == '1')) v->v.b = s[0] == '1';
		else rc = -LWM2M_EINVAL;
		break;
	case LWM2M_TYPE_OBJLNK:
		rc = fmt_parse_objlnk(s, len, &v->v.lnk.obj, &v->v.lnk.inst);
		break;
	case LWM2M_TYPE_OPAQUE: {
		uint8_t *data;
		size_t n;
		rc = b64_decode(buf, len, &data, &n);
		if(rc == 0){
			value_free(v);
			v->type = type;
			v->v.bytes.data = data;
			v->v.bytes.len = n;
			data[n] = '\0';
		}
		break;
	}
	case LWM2M_TYPE_NONE:
		return lwm2m_fail(err, LWM2M_ETYPE, -1,
				"plain text %s: the resource type is unknown, and plain text does not say it",
				where);
	}
	if(rc == -LWM2M_ENOMEM) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	if(rc){
		return lwm2m_fail(err, rc == -LWM2M_ERANGE ? LWM2M_ERANGE : LWM2M_EINVAL, 0,
				"plain text %s: %s%.*s%s is not a valid %s", where, len ? "\"" : "",
				len > 40 ? 40 : (int)len, s, len ? (len > 40 ? "...\"" : "\"") : "an empty payload",
				lwm2m_type_name(type));
	}
	v->type = type;
	return 0;
}

int fmt_text_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	struct fmt_dec d;
	struct lwm2m_path path;
	enum lwm2m_type type;
	struct lwm2m_node *node = NULL;
	char where[LWM2M_PATH_STR_MAX];
	int rc;

	rc = fmt_single_target(req, typer, "plain text", &path, &type, err);
	if(rc) return rc;
	path_format(&path, where, sizeof(where));
	fmt_dec_init(&d, typer, lim, len, out, err);
	rc = fmt_dec_push(&d, 0, &node);
	if(rc) return rc;
	node->path = path;
	return text_value(buf, len, type, where, &node->value, err);
}

int fmt_text_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err)
{
	const struct lwm2m_node *node;
	const struct lwm2m_value *v;
	char tmp[FMT_DOUBLE_STR_MAX];
	size_t n;
	int rc = fmt_single_node(in, req, "plain text", &node, err);

	if(rc) return rc;
	v = &node->value;
	switch(v->type){
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
		return buf_append(out, v->v.bytes.data, v->v.bytes.len);
	case LWM2M_TYPE_OPAQUE:
		return b64_encode(out, v->v.bytes.data, v->v.bytes.len);
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		return buf_printf(out, "%" PRId64, v->v.i);
	case LWM2M_TYPE_UNSIGNED:
		return buf_printf(out, "%" PRIu64, v->v.u);
	case LWM2M_TYPE_FLOAT:
		n = fmt_format_double(v->v.f, tmp, sizeof(tmp));
		return buf_append(out, tmp, n);
	case LWM2M_TYPE_BOOLEAN:
		return buf_append_byte(out, v->v.b ? '1' : '0');
	case LWM2M_TYPE_OBJLNK:
		return buf_printf(out, "%u:%u", (unsigned)v->v.lnk.obj, (unsigned)v->v.lnk.inst);
	case LWM2M_TYPE_NONE:
		break;
	}
	return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "plain text cannot carry a value without a type");
}

int fmt_opaque_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	struct fmt_dec d;
	struct lwm2m_path path;
	enum lwm2m_type type;
	struct lwm2m_node *node = NULL;
	char where[LWM2M_PATH_STR_MAX];
	int rc;

	rc = fmt_single_target(req, typer, "opaque", &path, &type, err);
	if(rc) return rc;
	if(type != LWM2M_TYPE_NONE && type != LWM2M_TYPE_OPAQUE){
		path_format(&path, where, sizeof(where));
		return lwm2m_fail(err, LWM2M_ETYPE, -1, "opaque (42) carries only Opaque resources; %s is %s",
				where, lwm2m_type_name(type));
	}
	fmt_dec_init(&d, typer, lim, len, out, err);
	rc = fmt_dec_push(&d, 0, &node);
	if(rc) return rc;
	node->path = path;
	if(value_set_bytes(&node->value, LWM2M_TYPE_OPAQUE, buf, len) != 0){
		return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	}
	return 0;
}

int fmt_opaque_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err)
{
	const struct lwm2m_node *node;
	char name[FMT_NODE_NAME_MAX];
	int rc = fmt_single_node(in, req, "opaque (42)", &node, err);

	if(rc) return rc;
	if(node->value.type != LWM2M_TYPE_OPAQUE){
		return lwm2m_fail(err, LWM2M_ETYPE, -1, "opaque (42) carries only Opaque values; %s is %s",
				fmt_node_name(node, name, sizeof(name)), lwm2m_type_name(node->value.type));
	}
	return buf_append(out, node->value.v.bytes.data, node->value.v.bytes.len);
}
