/* Vector handlers for TLV, plain text, CBOR (60) and LwM2M CBOR.
 *
 * Types: Zephyr vectors take the type of the vector's own node (Zephyr's reader/writer call
 * fixed it; the paths are placeholders), or for must-fail vectors the call named in the id
 * ("get_s32" -> integer). Other vectors use a small table of the object models the sources
 * loaded (Leshan's core models, its test objects 65/66 and 3442); for a Leshan vector an
 * object outside the table reads as opaque, as Leshan's decoder does for unknown objects.
 *
 * Decoded nodes are compared without regard to order (decoders sort); floats match within
 * 1e-9 where the source test compared so. Single-value formats ignore node paths. */
#include "runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objects/fmt.h"
#include "objects/node.h"
#include "objects/node_json.h"
#include "objects/tlv.h"

/* ---- the typer ------------------------------------------------------------------------ */

struct model_res {
	uint16_t obj, res;
	enum lwm2m_type type;
	bool multiple;
};

#define S LWM2M_TYPE_STRING
#define I LWM2M_TYPE_INTEGER
#define U LWM2M_TYPE_UNSIGNED
#define F LWM2M_TYPE_FLOAT
#define B LWM2M_TYPE_BOOLEAN
#define O LWM2M_TYPE_OPAQUE
#define T LWM2M_TYPE_TIME
#define L LWM2M_TYPE_OBJLNK
#define C LWM2M_TYPE_CORELNK
#define N LWM2M_TYPE_NONE

static const struct model_res model[] = {
	/* 1 Server */
	{1, 0, I, 0}, {1, 1, I, 0}, {1, 2, I, 0}, {1, 3, I, 0}, {1, 4, N, 0}, {1, 5, I, 0},
	{1, 6, B, 0}, {1, 7, S, 0}, {1, 8, N, 0}, {1, 9, N, 0}, {1, 10, L, 0}, {1, 11, U, 0},
	{1, 12, T, 0}, {1, 13, U, 0}, {1, 14, U, 0}, {1, 15, B, 0}, {1, 16, B, 0}, {1, 17, U, 0},
	{1, 18, U, 0}, {1, 19, U, 0}, {1, 20, U, 0}, {1, 21, B, 0}, {1, 22, S, 0}, {1, 23, B, 0},
	{1, 24, L, 1}, {1, 25, S, 1}, {1, 26, I, 0}, {1, 27, U, 0},
	/* 2 Access Control */
	{2, 0, I, 0}, {2, 1, I, 0}, {2, 2, I, 1}, {2, 3, I, 0},
	/* 3 Device */
	{3, 0, S, 0}, {3, 1, S, 0}, {3, 2, S, 0}, {3, 3, S, 0}, {3, 4, N, 0}, {3, 5, N, 0},
	{3, 6, I, 1}, {3, 7, I, 1}, {3, 8, I, 1}, {3, 9, I, 0}, {3, 10, I, 0}, {3, 11, I, 1},
	{3, 12, N, 0}, {3, 13, T, 0}, {3, 14, S, 0}, {3, 15, S, 0}, {3, 16, S, 0}, {3, 17, S, 0},
	{3, 18, S, 0}, {3, 19, S, 0}, {3, 20, I, 0}, {3, 21, I, 0}, {3, 22, L, 1},
	/* 5 Firmware Update */
	{5, 0, O, 0}, {5, 1, S, 0}, {5, 2, N, 0}, {5, 3, I, 0}, {5, 5, I, 0}, {5, 6, S, 0},
	{5, 7, S, 0}, {5, 8, I, 1}, {5, 9, I, 0}, {5, 10, N, 0}, {5, 11, I, 0}, {5, 12, T, 0},
	{5, 13, U, 0}, {5, 14, B, 0},
	/* 65, 66: Leshan's test objects (LwM2M 1.0.1 figure 28) */
	{65, 0, L, 1}, {65, 1, S, 0}, {65, 2, I, 0},
	{66, 0, S, 0}, {66, 1, S, 0}, {66, 2, L, 0},
	/* 3442: Leshan's test object with one resource per type */
	{3442, 110, S, 0}, {3442, 120, I, 0}, {3442, 125, U, 0}, {3442, 130, F, 0},
	{3442, 140, B, 0}, {3442, 150, O, 0}, {3442, 160, T, 0}, {3442, 170, L, 0},
	{3442, 180, C, 0}, {3442, 1110, S, 1}, {3442, 1120, I, 1}, {3442, 1125, U, 1},
	{3442, 1130, F, 1}, {3442, 1140, B, 1}, {3442, 1150, O, 1}, {3442, 1160, T, 1},
	{3442, 1170, L, 1}, {3442, 1180, C, 1},
};

#undef S
#undef I
#undef U
#undef F
#undef B
#undef O
#undef T
#undef L
#undef C
#undef N

static const struct model_res *model_find(const struct lwm2m_path *p, bool *object_known)
{
	*object_known = false;
	if(p->len < 1) return NULL;
	for(size_t i = 0; i < sizeof(model) / sizeof(model[0]); i++){
		if(model[i].obj != p->ids[0]) continue;
		*object_known = true;
		if(p->len >= 3 && model[i].res == p->ids[2]) return &model[i];
	}
	return NULL;
}

struct vec_typer {
	bool zephyr;                   /* types come from the vector's nodes */
	bool leshan;                   /* unknown objects read as opaque */
	enum lwm2m_type hint;          /* Zephyr: the call's type when there are no nodes */
	const struct lwm2m_nodes *nodes;
};

static enum lwm2m_type vt_type_of(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	struct vec_typer *t = ctx;
	const struct model_res *m;
	bool known;

	(void)prefix;
	if(t->zephyr){
		if(t->nodes){
			for(size_t i = 0; i < t->nodes->count; i++){
				if(!path_compare(&t->nodes->items[i].path, p)) return t->nodes->items[i].value.type;
			}
			if(t->nodes->count) return t->nodes->items[0].value.type;
		}
		return t->hint;
	}
	m = model_find(p, &known);
	if(m) return m->type;
	return t->leshan && !known ? LWM2M_TYPE_OPAQUE : LWM2M_TYPE_NONE;
}

static int vt_is_multiple(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	bool known;
	const struct model_res *m = model_find(p, &known);

	(void)ctx;
	(void)prefix;
	return m ? m->multiple : -1;
}

/* The type of a Zephyr reader/writer call named in a vector id ("...-get-s32-..."). */
static enum lwm2m_type type_from_id(const char *id)
{
	static const struct { const char *word; enum lwm2m_type type; } words[] = {
		{"-s8-", LWM2M_TYPE_INTEGER}, {"-s16-", LWM2M_TYPE_INTEGER}, {"-s32-", LWM2M_TYPE_INTEGER},
		{"-s64-", LWM2M_TYPE_INTEGER}, {"-float-", LWM2M_TYPE_FLOAT}, {"-bool-", LWM2M_TYPE_BOOLEAN},
		{"-string-", LWM2M_TYPE_STRING}, {"-opaque-", LWM2M_TYPE_OPAQUE},
		{"-objlnk-", LWM2M_TYPE_OBJLNK}, {"-time-", LWM2M_TYPE_TIME},
	};
	char tmp[128];

	snprintf(tmp, sizeof(tmp), "%s-", id);
	for(size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++){
		if(strstr(tmp, words[i].word)) return words[i].type;
	}
	return LWM2M_TYPE_NONE;
}

/* ---- helpers -------------------------------------------------------------------------- */

struct vec_case {
	json_t *v;
	const char *id;
	uint16_t cf;
	bool single;                   /* single-value format: node paths are not compared */
	struct lwm2m_path req;
	bool has_req;
	struct lwm2m_nodes expected;
	bool has_nodes;
	struct vec_typer vt;
	struct fmt_typer typer;
	uint8_t *payload;
	size_t payload_len;
	bool has_payload;
	bool float_tolerance;
};

static void case_free(struct vec_case *c)
{
	nodes_free(&c->expected);
	free(c->payload);
}

static void to_hex(const uint8_t *p, size_t n, char *out, size_t size)
{
	size_t k = 0;

	out[0] = '\0';
	for(size_t i = 0; i < n && k + 3 < size; i++) k += (size_t)snprintf(out + k, size - k, "%02x", p[i]);
	if(2 * n >= size && size > 4) memcpy(out + size - 4, "...", 4);
}

static bool float_close(double a, double b)
{
	if(isnan(a) || isnan(b)) return isnan(a) && isnan(b);
	return fabs(a - b) <= 1e-9 * (fabs(a) > 1 ? fabs(a) : 1);
}

static int prefix_cmp(const char *a, const char *b)
{
	if(!a || !b) return a ? 1 : b ? -1 : 0;
	return strcmp(a, b);
}

static int node_copy(struct lwm2m_nodes *dst, const struct lwm2m_node *src)
{
	struct lwm2m_node *n = nodes_push(dst);

	if(!n) return -1;
	n->path = src->path;
	n->kind = src->kind;
	n->has_time = src->has_time;
	n->time = src->time;
	if(src->prefix && !(n->prefix = strdup(src->prefix))) return -1;
	return value_copy(&n->value, &src->value) ? -1 : 0;
}

/* Compares got with want regardless of order. */
static int compare_nodes(const struct vec_case *c, const struct lwm2m_nodes *got,
		const struct lwm2m_nodes *want, char *why, size_t why_len)
{
	struct lwm2m_nodes a, b;
	char pa[LWM2M_PATH_STR_MAX], pb[LWM2M_PATH_STR_MAX];
	int verdict = VEC_PASS;

	if(got->count != want->count){
		return vec_fail(why, why_len, "decoded %zu nodes, expected %zu", got->count, want->count);
	}
	nodes_init(&a);
	nodes_init(&b);
	for(size_t i = 0; i < got->count; i++){
		if(node_copy(&a, &got->items[i]) || node_copy(&b, &want->items[i])){
			verdict = vec_fail(why, why_len, "out of memory");
			goto done;
		}
	}
	nodes_sort(&a);
	nodes_sort(&b);
	for(size_t i = 0; i < a.count; i++){
		const struct lwm2m_node *x = &a.items[i], *y = &b.items[i];
		path_format(&x->path, pa, sizeof(pa));
		path_format(&y->path, pb, sizeof(pb));
		if(!c->single && (path_compare(&x->path, &y->path) || prefix_cmp(x->prefix, y->prefix))){
			verdict = vec_fail(why, why_len, "node %zu: got %s%s%s, expected %s%s%s", i,
					x->prefix ? x->prefix : "", x->prefix ? ":" : "", pa,
					y->prefix ? y->prefix : "", y->prefix ? ":" : "", pb);
			goto done;
		}
		if(x->kind != y->kind){
			verdict = vec_fail(why, why_len, "%s: got node kind %d, expected %d", pb, x->kind, y->kind);
			goto done;
		}
		if(x->kind != LWM2M_NODE_VALUE) continue;
		if(value_equal(&x->value, &y->value)) continue;
		if(c->float_tolerance && x->value.type == LWM2M_TYPE_FLOAT &&
				y->value.type == LWM2M_TYPE_FLOAT && float_close(x->value.v.f, y->value.v.f)){
			continue;
		}
		{
			json_t *jx = node_json_value(&x->value), *jy = node_json_value(&y->value);
			char *sx = jx ? json_dumps(jx, JSON_ENCODE_ANY) : NULL;
			char *sy = jy ? json_dumps(jy, JSON_ENCODE_ANY) : NULL;
			verdict = vec_fail(why, why_len, "%s: got %s %.80s, expected %s %.80s", pb,
					lwm2m_type_name(x->value.type), sx ? sx : "?",
					lwm2m_type_name(y->value.type), sy ? sy : "?");
			free(sx);
			free(sy);
			json_decref(jx);
			json_decref(jy);
			goto done;
		}
	}
done:
	nodes_free(&a);
	nodes_free(&b);
	return verdict;
}

/* Common set-up: payload, expected nodes, request path, typer. */
static int case_init(struct vec_case *c, json_t *v, uint16_t cf, bool single, char *why,
		size_t why_len)
{
	json_t *exp = json_object_get(v, "expected");
	const char *src = vec_str(v, "source");
	const char *path = vec_str(v, "path");
	const char *text;
	size_t tlen;
	struct lwm2m_error err;

	memset(c, 0, sizeof(*c));
	c->v = v;
	c->id = vec_str(v, "id") ? vec_str(v, "id") : "?";
	c->cf = cf;
	c->single = single;
	nodes_init(&c->expected);
	if(json_is_array(exp)){
		if(node_json_to_nodes(exp, &c->expected, &err) != 0){
			return vec_fail(why, why_len, "bad expected nodes: %s", err.msg);
		}
		c->has_nodes = true;
	}
	if((text = vec_text(v, &tlen)) != NULL){
		c->payload = malloc(tlen + 1);
		if(!c->payload) return vec_fail(why, why_len, "out of memory");
		memcpy(c->payload, text, tlen);
		c->payload_len = tlen;
		c->has_payload = true;
	}else if(json_object_get(v, "bytes_hex")){
		if(vec_hex(v, &c->payload, &c->payload_len) != 0) return vec_fail(why, why_len, "bad bytes_hex");
		c->has_payload = true;
	}
	if(path && path[0]){
		if(path_parse(path, strlen(path), &c->req, &err) != 0) {
			return vec_fail(why, why_len, "bad path: %s", err.msg);
		}
		c->has_req = true;
	}else if(single){
		/* single-value formats: the Zephyr placeholder path */
		if(c->has_nodes && c->expected.count && c->expected.items[0].path.len >= 3){
			c->req = c->expected.items[0].path;
		}else{
			c->req = (struct lwm2m_path){ 3, { 0, 0, 0, 0 } };
		}
		c->has_req = true;
	}
	if(single && c->has_nodes){
		for(size_t i = 0; i < c->expected.count; i++) c->expected.items[i].path = c->req;
	}
	c->vt.zephyr = src && !strncmp(src, "zephyr/", 7);
	c->vt.leshan = src && !strncmp(src, "leshan/", 7);
	c->vt.nodes = c->has_nodes ? &c->expected : NULL;
	c->vt.hint = type_from_id(c->id);
	c->typer = (struct fmt_typer){ vt_type_of, vt_is_multiple, &c->vt };
	c->float_tolerance = c->vt.zephyr;
	return VEC_PASS;
}

static int run_decode(struct vec_case *c, char *why, size_t why_len)
{
	struct lwm2m_nodes got;
	struct lwm2m_error err = { 0 };
	int rc, verdict;

	if(!c->has_payload) return vec_fail(why, why_len, "decode vector without a payload");
	nodes_init(&got);
	rc = fmt_decode(c->cf, c->payload, c->payload_len, c->has_req ? &c->req : NULL, &c->typer, NULL,
			&got, &err);
	if(vec_expects_error(c->v)){
		nodes_free(&got);
		if(rc == 0) return vec_fail(why, why_len, "decoded although the vector must fail");
		if(err.msg[0] == '\0') return vec_fail(why, why_len, "failed (%d) without a message", rc);
		if(getenv("VEC_VERBOSE")) fprintf(stderr, "%s: rejected: %s\n", c->id, err.msg);
		return VEC_PASS;
	}
	if(rc){
		nodes_free(&got);
		return vec_fail(why, why_len, "decode failed: %s", err.msg);
	}
	verdict = compare_nodes(c, &got, &c->expected, why, why_len);
	nodes_free(&got);
	return verdict;
}

static int encode_case(struct vec_case *c, const struct lwm2m_nodes *in, struct lwm2m_buf *out,
		struct lwm2m_error *err)
{
	buf_init(out, 0);
	return fmt_encode(c->cf, in, c->has_req ? &c->req : NULL, &c->typer, NULL, out, err);
}

static int compare_bytes(const struct vec_case *c, const struct lwm2m_buf *out, char *why,
		size_t why_len)
{
	char want[200], got[200];

	if(out->len == c->payload_len && (out->len == 0 || !memcmp(out->data, c->payload, out->len))){
		return VEC_PASS;
	}
	to_hex(c->payload, c->payload_len, want, sizeof(want));
	to_hex(out->data, out->len, got, sizeof(got));
	return vec_fail(why, why_len, "encoded %s, expected %s", got, want);
}

static int run_encode(struct vec_case *c, char *why, size_t why_len)
{
	struct lwm2m_buf out;
	struct lwm2m_error err = { 0 };
	int rc, verdict;

	if(!c->has_nodes) return vec_fail(why, why_len, "encode vector without nodes");
	if(!c->has_payload) return vec_fail(why, why_len, "encode vector without a payload");
	rc = encode_case(c, &c->expected, &out, &err);
	if(rc){
		buf_free(&out);
		return vec_fail(why, why_len, "encode failed: %s", err.msg);
	}
	verdict = compare_bytes(c, &out, why, why_len);
	buf_free(&out);
	return verdict;
}

/* Encode vectors that must fail carry no nodes: their input is described in the notes. */
static int encode_error_input(const char *id, struct lwm2m_nodes *in, struct lwm2m_path *req)
{
	if(!strcmp(id, "text-leshan-encode-multiple-error")){
		/* Multi-instance resource /3/0/6 {0: 1, 1: 5} */
		for(uint16_t ri = 0; ri < 2; ri++){
			struct lwm2m_node *n = nodes_push(in);
			if(!n) return -1;
			n->path = (struct lwm2m_path){ 4, { 3, 0, 6, ri } };
			n->value.type = LWM2M_TYPE_INTEGER;
			n->value.v.i = ri ? 5 : 1;
		}
		*req = (struct lwm2m_path){ 3, { 3, 0, 6, 0 } };
		return 0;
	}
	return -1;
}

static int run_encode_error(struct vec_case *c, char *why, size_t why_len)
{
	struct lwm2m_nodes in;
	struct lwm2m_buf out;
	struct lwm2m_error err = { 0 };
	int rc;

	nodes_init(&in);
	if(encode_error_input(c->id, &in, &c->req) != 0){
		nodes_free(&in);
		return vec_fail(why, why_len, "no input known for this encode-error vector");
	}
	c->has_req = true;
	rc = encode_case(c, &in, &out, &err);
	buf_free(&out);
	nodes_free(&in);
	if(rc == 0) return vec_fail(why, why_len, "encoded although the vector must fail");
	if(err.msg[0] == '\0') return vec_fail(why, why_len, "failed (%d) without a message", rc);
	if(getenv("VEC_VERBOSE")) fprintf(stderr, "%s: rejected: %s\n", c->id, err.msg);
	return VEC_PASS;
}

/* Runs a node-based vector in the directions it names. */
static int run_nodes_vector(json_t *v, uint16_t cf, bool single, char *why, size_t why_len)
{
	struct vec_case c;
	int verdict = case_init(&c, v, cf, single, why, why_len);

	if(verdict != VEC_PASS){
		case_free(&c);
		return verdict;
	}
	if(vec_expects_error(v)){
		if(vec_decodes(v)) verdict = run_decode(&c, why, why_len);
		else verdict = run_encode_error(&c, why, why_len);
		case_free(&c);
		return verdict;
	}
	if(vec_decodes(v)) verdict = run_decode(&c, why, why_len);
	if(verdict == VEC_PASS && vec_encodes(v)) verdict = run_encode(&c, why, why_len);
	case_free(&c);
	return verdict;
}

/* ---- TLV structure and value vectors --------------------------------------------------- */

static json_t *tlv_tree(const uint8_t *buf, size_t len, size_t base)
{
	json_t *arr = json_array();
	struct tlv_record rec;
	size_t pos = 0;
	char *hex;

	while(arr && pos < len){
		json_t *o;
		if(tlv_read(buf, len, &pos, base, &rec, NULL) != 0){
			json_decref(arr);
			return NULL;
		}
		o = json_object();
		json_object_set_new(o, "type", json_string(tlv_kind_name(rec.kind)));
		json_object_set_new(o, "id", json_integer(rec.id));
		if(rec.kind == TLV_OBJECT_INSTANCE || rec.kind == TLV_MULTIPLE_RESOURCE){
			json_t *kids = tlv_tree(rec.value, rec.len, base + (size_t)(rec.value - buf));
			if(!kids){
				json_decref(o);
				json_decref(arr);
				return NULL;
			}
			json_object_set_new(o, "children", kids);
		}else{
			hex = malloc(2 * rec.len + 1);
			if(hex){
				for(size_t i = 0; i < rec.len; i++) snprintf(hex + 2 * i, 3, "%02x", rec.value[i]);
				hex[2 * rec.len] = '\0';
				json_object_set_new(o, "value_hex", json_string(hex));
				free(hex);
			}
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

static int tlv_build(json_t *arr, struct lwm2m_buf *out)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o){
		int kind = tlv_kind_parse(json_string_value(json_object_get(o, "type")));
		json_int_t id = json_integer_value(json_object_get(o, "id"));
		json_t *kids = json_object_get(o, "children");
		struct lwm2m_buf inner;
		int rc;

		if(kind < 0 || id < 0 || id > 65535) return -1;
		buf_init(&inner, 0);
		if(kids){
			rc = tlv_build(kids, &inner);
		}else{
			const char *h = json_string_value(json_object_get(o, "value_hex"));
			rc = h ? 0 : -1;
			for(size_t k = 0; h && rc == 0 && h[k] && h[k + 1]; k += 2){
				unsigned byte;
				rc = sscanf(h + k, "%2x", &byte) == 1 ? buf_append_byte(&inner, (uint8_t)byte) : -1;
			}
		}
		if(rc == 0) rc = tlv_write(out, (enum tlv_kind)kind, (uint16_t)id, inner.data, inner.len);
		buf_free(&inner);
		if(rc) return rc;
	}
	return 0;
}

static int run_tlv_raw(json_t *v, json_t *want, char *why, size_t why_len)
{
	uint8_t *bytes;
	size_t len;
	struct lwm2m_error err = { 0 };
	int verdict = VEC_PASS;

	if(vec_hex(v, &bytes, &len) != 0) return vec_fail(why, why_len, "bad bytes_hex");
	if(vec_decodes(v)){
		int rc = tlv_validate(bytes, len, 0, &err);
		if(vec_expects_error(v)){
			verdict = rc ? VEC_PASS : vec_fail(why, why_len, "TLV structure accepted although it must fail");
			if(rc && getenv("VEC_VERBOSE")) fprintf(stderr, "%s: rejected: %s\n", vec_str(v, "id"), err.msg);
		}else if(rc){
			verdict = vec_fail(why, why_len, "TLV structure rejected: %s", err.msg);
		}else{
			json_t *got = tlv_tree(bytes, len, 0);
			if(!got || !json_equal(got, json_object_get(want, "tlv"))){
				char *s = got ? json_dumps(got, JSON_COMPACT) : NULL;
				verdict = vec_fail(why, why_len, "TLV tree differs: %.300s", s ? s : "(none)");
				free(s);
			}
			json_decref(got);
		}
	}
	if(verdict == VEC_PASS && vec_encodes(v) && !vec_expects_error(v)){
		struct lwm2m_buf out;
		buf_init(&out, 0);
		if(tlv_build(json_object_get(want, "tlv"), &out) != 0){
			verdict = vec_fail(why, why_len, "cannot build the TLV tree");
		}else if(out.len != len || (len && memcmp(out.data, bytes, len))){
			char got[200];
			to_hex(out.data, out.len, got, sizeof(got));
			verdict = vec_fail(why, why_len, "TLV records encoded as %s", got);
		}
		buf_free(&out);
	}
	free(bytes);
	return verdict;
}

static int run_tlv_value(json_t *v, json_t *want, char *why, size_t why_len)
{
	json_t *tv = json_object_get(want, "tlv_value");
	enum lwm2m_type type = tv ? lwm2m_type_from_name(json_string_value(json_object_get(tv, "type"))) :
		type_from_id(vec_str(v, "id"));
	struct lwm2m_value exp = { 0 }, got = { 0 };
	struct lwm2m_error err = { 0 };
	uint8_t *bytes;
	size_t len;
	int verdict = VEC_PASS, rc;

	if(vec_hex(v, &bytes, &len) != 0) return vec_fail(why, why_len, "bad bytes_hex");
	if(type == LWM2M_TYPE_NONE){
		free(bytes);
		return vec_fail(why, why_len, "no value type");
	}
	if(tv && node_json_parse_value(type, json_object_get(tv, "value"), &exp, &err) != 0){
		free(bytes);
		return vec_fail(why, why_len, "bad expected value: %s", err.msg);
	}
	if(vec_decodes(v)){
		rc = tlv_value_decode(type, bytes, len, "value", 0, &got, &err);
		if(vec_expects_error(v)){
			if(rc == 0) verdict = vec_fail(why, why_len, "value decoded although it must fail");
			else if(getenv("VEC_VERBOSE")) fprintf(stderr, "%s: rejected: %s\n", vec_str(v, "id"), err.msg);
		}else if(rc){
			verdict = vec_fail(why, why_len, "value decode failed: %s", err.msg);
		}else if(!value_equal(&got, &exp)){
			verdict = vec_fail(why, why_len, "decoded value differs");
		}
	}
	if(verdict == VEC_PASS && vec_encodes(v) && tv){
		struct lwm2m_buf out;
		buf_init(&out, 0);
		rc = tlv_value_encode(&exp, &out, &err);
		if(rc){
			verdict = vec_fail(why, why_len, "value encode failed: %s", err.msg);
		}else if(out.len != len || (len && memcmp(out.data, bytes, len))){
			char hex[64];
			to_hex(out.data, out.len, hex, sizeof(hex));
			verdict = vec_fail(why, why_len, "value encoded as %s", hex);
		}
		buf_free(&out);
	}
	value_free(&exp);
	value_free(&got);
	free(bytes);
	return verdict;
}

/* ---- handlers ------------------------------------------------------------------------- */

int vec_run_tlv(json_t *vector, char *why, size_t why_len)
{
	json_t *want = json_object_get(vector, "expected");
	const char *id = vec_str(vector, "id");

	if(json_is_object(want) && json_object_get(want, "tlv")) return run_tlv_raw(vector, want, why, why_len);
	if(json_is_object(want) && json_object_get(want, "tlv_value")) {
		return run_tlv_value(vector, want, why, why_len);
	}
	/* must-fail vectors of the raw and value layers have no path and say so in their id */
	if(id && vec_expects_error(vector) && !vec_str(vector, "path")){
		if(strstr(id, "-value-")) return run_tlv_value(vector, want, why, why_len);
		if(strstr(id, "-raw-")) return run_tlv_raw(vector, want, why, why_len);
	}
	return run_nodes_vector(vector, LWM2M_CF_TLV, false, why, why_len);
}

int vec_run_plain_text(json_t *vector, char *why, size_t why_len)
{
	return run_nodes_vector(vector, LWM2M_CF_TEXT, true, why, why_len);
}

/* Zephyr's CBOR writer puts the C string's NUL into an object link's text (length 4 for
 * "0:0"); we write the text alone and read both forms. */
static int cbor_objlnk_nul_deviation(json_t *vector, char *why, size_t why_len)
{
	struct vec_case c;
	struct lwm2m_buf out;
	struct lwm2m_error err = { 0 };
	int verdict = case_init(&c, vector, LWM2M_CF_CBOR, true, why, why_len);
	bool ok;

	if(verdict != VEC_PASS){
		case_free(&c);
		return verdict;
	}
	/* 1. our decoder reads Zephyr's bytes */
	verdict = run_decode(&c, why, why_len);
	if(verdict != VEC_PASS){
		case_free(&c);
		return verdict;
	}
	/* 2. our encoder writes the same text without the NUL */
	if(encode_case(&c, &c.expected, &out, &err) != 0){
		buf_free(&out);
		case_free(&c);
		return vec_fail(why, why_len, "encode failed: %s", err.msg);
	}
	ok = c.payload_len >= 2 && out.len == c.payload_len - 1 && out.data[0] == c.payload[0] - 1 &&
		!memcmp(out.data + 1, c.payload + 1, out.len - 1) && c.payload[c.payload_len - 1] == 0;
	buf_free(&out);
	case_free(&c);
	if(!ok) return vec_fail(why, why_len, "object link not encoded as the text without NUL");
	return vec_deviation(why, why_len, "Zephyr counts a trailing NUL into the object link text; "
			"we write \"oid:iid\" alone (as Leshan and the LwM2M CBOR rules do) and accept the NUL on decode");
}

int vec_run_cbor(json_t *vector, char *why, size_t why_len)
{
	const char *id = vec_str(vector, "id");

	if(id && !strncmp(id, "cbor-zephyr-put-objlnk-", 23)) return cbor_objlnk_nul_deviation(vector, why, why_len);
	return run_nodes_vector(vector, LWM2M_CF_CBOR, true, why, why_len);
}

int vec_run_lwm2m_cbor(json_t *vector, char *why, size_t why_len)
{
	return run_nodes_vector(vector, LWM2M_CF_LWM2M_CBOR, false, why, why_len);
}
