/* Vector handlers for SenML JSON (110), SenML CBOR (112) and OMA LwM2M JSON (11543).
 *
 * Types come from models, never from a vector's expected nodes: Zephyr vectors use
 * Zephyr's test object /65535/0 (resources 0-3 integers of each width, 4 string, 5 float,
 * 6 boolean, 7 objlnk, 8 opaque, 9 time, 10 a multi-instance integer), every other vector
 * the built-in core objects (Leshan's tests loaded its core models; objects it did not
 * know, 1024 and 3303, read with no type so that the wire decides).
 *
 * Encoders are run in the layout of the vector's source: Zephyr vectors with
 * SENML_LAYOUT_INSTANCE, Leshan vectors with SENML_LAYOUT_REQUEST (and, in SenML CBOR,
 * bt as a tag-4 decimal fraction, as Leshan writes it). A Leshan composite encoder takes
 * the request paths as the keys of its node map; the vectors have no field for them, so for
 * encode vectors without a request path they are read back from the bn of each group of
 * the expected payload.
 *
 * Decoded nodes are compared regardless of order (decoders sort; Leshan lists time series
 * newest first); times within 1e-6 s, floats within 1e-9 relative. Encoder output is
 * compared byte for byte. Raw shapes: {"senml": records} and {"json": document} compare
 * the parsed structure with json_equal and the written form byte for byte; {"paths": ...}
 * goes through the SenML-ETCH path-list layer. */
#include "runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objects/fmt.h"
#include "objects/fmt_omajson.h"
#include "objects/fmt_senml.h"
#include "objects/model.h"
#include "objects/node.h"
#include "objects/node_json.h"

enum vfmt { VF_SENML_JSON, VF_SENML_CBOR, VF_OMA_JSON };

/* ---- the typer ----------------------------------------------------------------------------- */

static const struct { uint16_t res; enum lwm2m_type type; bool multiple; } zephyr_object[] = {
	{ 0, LWM2M_TYPE_INTEGER, false }, { 1, LWM2M_TYPE_INTEGER, false },
	{ 2, LWM2M_TYPE_INTEGER, false }, { 3, LWM2M_TYPE_INTEGER, false },
	{ 4, LWM2M_TYPE_STRING, false }, { 5, LWM2M_TYPE_FLOAT, false },
	{ 6, LWM2M_TYPE_BOOLEAN, false }, { 7, LWM2M_TYPE_OBJLNK, false },
	{ 8, LWM2M_TYPE_OPAQUE, false }, { 9, LWM2M_TYPE_TIME, false },
	{ 10, LWM2M_TYPE_INTEGER, true },
};

#define ZEPHYR_OBJECT 65535

struct vtyper {
	struct fmt_typer reg;       /* the registry's typer */
};

static int zephyr_res(const struct lwm2m_path *p)
{
	if(p->len < 3 || p->ids[0] != ZEPHYR_OBJECT) return -1;
	for(size_t i = 0; i < sizeof(zephyr_object) / sizeof(zephyr_object[0]); i++){
		if(zephyr_object[i].res == p->ids[2]) return (int)i;
	}
	return -1;
}

static enum lwm2m_type vt_type_of(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	struct vtyper *t = ctx;
	int z = zephyr_res(p);

	if(z >= 0) return zephyr_object[z].type;
	return t->reg.type_of(t->reg.ctx, prefix, p);
}

static int vt_is_multiple(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	struct vtyper *t = ctx;
	int z = zephyr_res(p);

	if(z >= 0) return zephyr_object[z].multiple;
	return t->reg.is_multiple(t->reg.ctx, prefix, p);
}

/* ---- a case -------------------------------------------------------------------------------- */

struct scase {
	json_t *v;
	const char *id;
	enum vfmt f;
	uint16_t cf;
	bool etch, zephyr, leshan;
	struct lwm2m_path req;
	bool has_req;
	uint8_t *payload;
	size_t plen;
	bool has_payload;
	struct obj_registry *reg;
	struct vtyper vt;
	struct fmt_typer typer;
	struct senml_opts opts;
	struct lwm2m_path *groups;
};

static void case_free(struct scase *c)
{
	free(c->payload);
	free(c->groups);
	obj_registry_free(c->reg);
}

static int case_init(struct scase *c, json_t *v, enum vfmt f, char *why, size_t why_len)
{
	const char *src = vec_str(v, "source"), *path = vec_str(v, "path"), *text;
	json_t *cf = json_object_get(v, "content_format");
	struct lwm2m_error err;
	size_t tlen;

	memset(c, 0, sizeof(*c));
	c->v = v;
	c->id = vec_str(v, "id") ? vec_str(v, "id") : "?";
	c->f = f;
	c->cf = json_is_integer(cf) ? (uint16_t)json_integer_value(cf) : 0;
	c->etch = c->cf == LWM2M_CF_SENML_ETCH_JSON || c->cf == LWM2M_CF_SENML_ETCH_CBOR;
	c->zephyr = src && !strncmp(src, "zephyr/", 7);
	c->leshan = src && !strncmp(src, "leshan/", 7);
	if((text = vec_text(v, &tlen)) != NULL){
		c->payload = malloc(tlen + 1);
		if(!c->payload) return vec_fail(why, why_len, "out of memory");
		memcpy(c->payload, text, tlen);
		c->plen = tlen;
		c->has_payload = true;
	} else if(json_object_get(v, "bytes_hex")){
		if(vec_hex(v, &c->payload, &c->plen) != 0) return vec_fail(why, why_len, "bad bytes_hex");
		c->has_payload = true;
	}
	if(path && path[0]){
		if(path_parse(path, strlen(path), &c->req, &err) != 0)
			return vec_fail(why, why_len, "bad path: %s", err.msg);
		c->has_req = true;
	}
	c->reg = obj_registry_new();
	if(!c->reg) return vec_fail(why, why_len, "out of memory");
	c->vt.reg = obj_registry_typer(c->reg);
	c->typer = (struct fmt_typer){ vt_type_of, vt_is_multiple, &c->vt };
	c->opts.layout = c->zephyr ? SENML_LAYOUT_INSTANCE : SENML_LAYOUT_REQUEST;
	c->opts.cbor_bt_tag4 = c->leshan && f == VF_SENML_CBOR;
	return VEC_PASS;
}

static const struct lwm2m_path *case_req(const struct scase *c)
{
	return c->has_req ? &c->req : NULL;
}

static int case_decode(struct scase *c, struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	switch(c->f){
	case VF_SENML_JSON:
		return senml_json_decode_ex(c->payload, c->plen, case_req(c), &c->typer, NULL, &c->opts,
				c->etch, out, err);
	case VF_SENML_CBOR:
		return senml_cbor_decode_ex(c->payload, c->plen, case_req(c), &c->typer, NULL, &c->opts,
				c->etch, out, err);
	default:
		return omajson_decode_ex(c->payload, c->plen, case_req(c), &c->typer, NULL, &c->opts,
				out, err);
	}
}

static int case_encode(struct scase *c, const struct lwm2m_nodes *in, struct lwm2m_buf *out,
		struct lwm2m_error *err)
{
	int rc = fmt_nodes_check_input(in, case_req(c), err);

	if(rc) return rc;
	switch(c->f){
	case VF_SENML_JSON:
		return senml_json_encode_ex(in, case_req(c), &c->typer, NULL, &c->opts, c->etch, out, err);
	case VF_SENML_CBOR:
		return senml_cbor_encode_ex(in, case_req(c), &c->typer, NULL, &c->opts, c->etch, out, err);
	default:
		return omajson_encode_ex(in, case_req(c), &c->typer, NULL, &c->opts, out, err);
	}
}

static int parse_pack(const struct scase *c, const uint8_t *buf, size_t len,
		struct senml_pack *p, struct lwm2m_error *err)
{
	return c->f == VF_SENML_CBOR ? senml_cbor_parse(buf, len, NULL, p, err)
			: senml_json_parse(buf, len, NULL, p, err);
}

/* The composite request paths of a Leshan encoder: the bn of each group of the payload. */
static int derive_groups(struct scase *c, char *why, size_t why_len)
{
	struct senml_pack p;
	struct lwm2m_error err;
	size_t n = 0;

	if(c->has_req || c->f == VF_OMA_JSON || !c->leshan) return VEC_PASS;
	senml_pack_init(&p);
	if(parse_pack(c, c->payload, c->plen, &p, &err)){
		senml_pack_free(&p);
		return vec_fail(why, why_len, "cannot read the expected payload: %s", err.msg);
	}
	c->groups = calloc(p.count ? p.count : 1, sizeof(*c->groups));
	if(!c->groups){
		senml_pack_free(&p);
		return vec_fail(why, why_len, "out of memory");
	}
	for(size_t i = 0; i < p.count; i++){
		struct lwm2m_path g;
		bool dup = false;
		if(!(p.recs[i].has & SENML_HAS_BN)) continue;
		if(path_parse(p.recs[i].bn.p, p.recs[i].bn.len, &g, &err)) continue;
		for(size_t k = 0; k < n; k++) dup |= !path_compare(&c->groups[k], &g);
		if(!dup) c->groups[n++] = g;
	}
	senml_pack_free(&p);
	c->opts.groups = c->groups;
	c->opts.ngroups = n;
	return VEC_PASS;
}

/* ---- comparisons --------------------------------------------------------------------------- */

static int pfx_cmp(const char *a, const char *b)
{
	if(!a || !b) return a ? 1 : b ? -1 : 0;
	return strcmp(a, b);
}

static double node_time(const struct lwm2m_node *n)
{
	return n->has_time ? n->time : 0.0;
}

static int node_order(const void *pa, const void *pb)
{
	const struct lwm2m_node *a = *(const struct lwm2m_node *const *)pa;
	const struct lwm2m_node *b = *(const struct lwm2m_node *const *)pb;
	int c = pfx_cmp(a->prefix, b->prefix);

	if(!c) c = path_compare(&a->path, &b->path);
	if(!c) c = node_time(a) < node_time(b) ? -1 : node_time(a) > node_time(b);
	return c;
}

static bool float_close(double a, double b)
{
	if(isnan(a) || isnan(b)) return isnan(a) && isnan(b);
	return fabs(a - b) <= 1e-9 * (fabs(a) > 1 ? fabs(a) : 1);
}

static void show_value(const struct lwm2m_value *v, char *buf, size_t size)
{
	json_t *j = node_json_value(v);
	char *s = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	snprintf(buf, size, "%s %.80s", lwm2m_type_name(v->type), s ? s : "?");
	free(s);
	json_decref(j);
}

static int compare_nodes(const struct lwm2m_nodes *got, const struct lwm2m_nodes *want,
		char *why, size_t why_len)
{
	const struct lwm2m_node **a, **b;
	char pa[LWM2M_PATH_STR_MAX], pb[LWM2M_PATH_STR_MAX], va[128], vb[128];
	int verdict = VEC_PASS;

	if(got->count != want->count)
		return vec_fail(why, why_len, "decoded %zu nodes, expected %zu", got->count, want->count);
	if(got->count == 0) return VEC_PASS;
	a = calloc(got->count, sizeof(*a));
	b = calloc(got->count, sizeof(*b));
	if(!a || !b){
		free(a);
		free(b);
		return vec_fail(why, why_len, "out of memory");
	}
	for(size_t i = 0; i < got->count; i++){
		a[i] = &got->items[i];
		b[i] = &want->items[i];
	}
	qsort(a, got->count, sizeof(*a), node_order);
	qsort(b, got->count, sizeof(*b), node_order);
	for(size_t i = 0; i < got->count && verdict == VEC_PASS; i++){
		const struct lwm2m_node *x = a[i], *y = b[i];
		path_format(&x->path, pa, sizeof(pa));
		path_format(&y->path, pb, sizeof(pb));
		if(path_compare(&x->path, &y->path) || pfx_cmp(x->prefix, y->prefix)){
			verdict = vec_fail(why, why_len, "node %zu: got %s%s%s, expected %s%s%s", i,
					x->prefix ? x->prefix : "", x->prefix ? ":" : "", pa,
					y->prefix ? y->prefix : "", y->prefix ? ":" : "", pb);
		} else if(x->kind != y->kind){
			verdict = vec_fail(why, why_len, "%s: got node kind %d, expected %d", pb, x->kind,
					y->kind);
		} else if(x->has_time != y->has_time || fabs(node_time(x) - node_time(y)) > 1e-6){
			verdict = vec_fail(why, why_len, "%s: got time %s%.6f, expected %s%.6f", pb,
					x->has_time ? "" : "none ", node_time(x), y->has_time ? "" : "none ",
					node_time(y));
		} else if(x->kind == LWM2M_NODE_VALUE && !value_equal(&x->value, &y->value) &&
				!(x->value.type == LWM2M_TYPE_FLOAT && y->value.type == LWM2M_TYPE_FLOAT &&
				float_close(x->value.v.f, y->value.v.f))){
			show_value(&x->value, va, sizeof(va));
			show_value(&y->value, vb, sizeof(vb));
			verdict = vec_fail(why, why_len, "%s: got %s, expected %s", pb, va, vb);
		}
	}
	free(a);
	free(b);
	return verdict;
}

static void show_bytes(const struct scase *c, const uint8_t *p, size_t n, char *buf, size_t size)
{
	size_t k = 0;

	buf[0] = '\0';
	if(c->f != VF_SENML_CBOR){
		snprintf(buf, size, "%.*s", (int)(n > 300 ? 300 : n), (const char *)p);
		return;
	}
	for(size_t i = 0; i < n && k + 3 < size; i++) k += (size_t)snprintf(buf + k, size - k, "%02x", p[i]);
}

static int compare_output(const struct scase *c, const struct lwm2m_buf *out, char *why,
		size_t why_len)
{
	char got[640], want[640];

	if(out->len == c->plen && (out->len == 0 || !memcmp(out->data, c->payload, out->len)))
		return VEC_PASS;
	show_bytes(c, out->data, out->len, got, sizeof(got));
	show_bytes(c, c->payload, c->plen, want, sizeof(want));
	return vec_fail(why, why_len, "encoded\n      %s\n    expected\n      %s", got, want);
}

/* ---- node vectors -------------------------------------------------------------------------- */

static int run_nodes(struct scase *c, json_t *exp, char *why, size_t why_len)
{
	struct lwm2m_nodes want, got;
	struct lwm2m_error err;
	struct lwm2m_buf out;
	int verdict = VEC_PASS;

	nodes_init(&want);
	nodes_init(&got);
	buf_init(&out, 0);
	if(node_json_to_nodes(exp, &want, &err) != 0){
		verdict = vec_fail(why, why_len, "bad expected nodes: %s", err.msg);
		goto done;
	}
	if(vec_decodes(c->v)){
		memset(&err, 0, sizeof(err));
		if(case_decode(c, &got, &err) != 0){
			verdict = vec_fail(why, why_len, "decode failed: %s", err.msg);
			goto done;
		}
		verdict = compare_nodes(&got, &want, why, why_len);
		if(verdict != VEC_PASS) goto done;
	}
	if(vec_encodes(c->v)){
		verdict = derive_groups(c, why, why_len);
		if(verdict != VEC_PASS) goto done;
		memset(&err, 0, sizeof(err));
		if(case_encode(c, &want, &out, &err) != 0){
			verdict = vec_fail(why, why_len, "encode failed: %s", err.msg);
			goto done;
		}
		verdict = compare_output(c, &out, why, why_len);
	}
done:
	nodes_free(&want);
	nodes_free(&got);
	buf_free(&out);
	return verdict;
}

static int run_error(struct scase *c, char *why, size_t why_len)
{
	struct lwm2m_nodes got;
	struct lwm2m_error err;
	int rc;

	if(!vec_decodes(c->v)) return vec_fail(why, why_len, "encode-error vectors are not handled");
	/* Leshan's decodePaths vectors test the path-list layer. */
	if(vec_str(c->v, "notes") && strstr(vec_str(c->v, "notes"), "decodePaths")){
		struct lwm2m_path *paths = NULL;
		size_t n = 0;
		memset(&err, 0, sizeof(err));
		rc = senml_etch_paths_decode(c->cf, c->payload, c->plen, &paths, &n, &err);
		free(paths);
		if(rc == 0) return vec_fail(why, why_len, "path list decoded without error (%zu paths)", n);
		return err.msg[0] ? VEC_PASS : vec_fail(why, why_len, "failed without a message");
	}
	nodes_init(&got);
	memset(&err, 0, sizeof(err));
	rc = case_decode(c, &got, &err);
	if(rc == 0){
		nodes_free(&got);
		return vec_fail(why, why_len, "decoded without error (%zu nodes)", got.count);
	}
	if(got.count != 0 || err.msg[0] == '\0'){
		size_t left = got.count;
		nodes_free(&got);
		return vec_fail(why, why_len, "failed (%d) but left %zu nodes or no message", rc, left);
	}
	nodes_free(&got);
	return VEC_PASS;
}

/* ---- path lists ---------------------------------------------------------------------------- */

static int run_paths(struct scase *c, json_t *list, char *why, size_t why_len)
{
	size_t n = json_array_size(list), got_n = 0;
	struct lwm2m_path *want = calloc(n ? n : 1, sizeof(*want)), *got = NULL;
	struct lwm2m_error err;
	struct lwm2m_buf out;
	int verdict = VEC_PASS;

	buf_init(&out, 0);
	if(!want) return vec_fail(why, why_len, "out of memory");
	for(size_t i = 0; i < n; i++){
		const char *s = json_string_value(json_array_get(list, i));
		if(!s || path_parse(s, strlen(s), &want[i], &err)){
			free(want);
			return vec_fail(why, why_len, "bad expected path %zu", i);
		}
	}
	if(vec_decodes(c->v)){
		memset(&err, 0, sizeof(err));
		if(senml_etch_paths_decode(c->cf, c->payload, c->plen, &got, &got_n, &err)){
			verdict = vec_fail(why, why_len, "path list decode failed: %s", err.msg);
		} else if(got_n != n){
			verdict = vec_fail(why, why_len, "decoded %zu paths, expected %zu", got_n, n);
		} else {
			for(size_t i = 0; i < n && verdict == VEC_PASS; i++){
				if(path_compare(&got[i], &want[i])) verdict = vec_fail(why, why_len, "path %zu differs", i);
			}
		}
	}
	if(verdict == VEC_PASS && vec_encodes(c->v)){
		memset(&err, 0, sizeof(err));
		if(senml_etch_paths_encode(c->cf, want, n, &out, &err))
			verdict = vec_fail(why, why_len, "path list encode failed: %s", err.msg);
		else
			verdict = compare_output(c, &out, why, why_len);
	}
	free(want);
	free(got);
	buf_free(&out);
	return verdict;
}

/* ---- raw SenML records ----------------------------------------------------------------------- */

static json_t *num_json(const struct json_num *n)
{
	char tmp[32];

	switch(n->kind){
	case JSON_NUM_INT:
		return json_integer(n->i);
	case JSON_NUM_UINT:
		snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)n->u);
		return json_string(tmp);
	default:
		return json_real(n->f);
	}
}

static json_t *str_json(const struct senml_str *s)
{
	return json_stringn(s->p ? s->p : "", s->len);
}

static json_t *hex_json(const struct senml_str *s)
{
	char *h = malloc(2 * s->len + 1);
	json_t *j;

	if(!h) return NULL;
	for(size_t i = 0; i < s->len; i++) snprintf(h + 2 * i, 3, "%02x", (unsigned char)s->p[i]);
	h[2 * s->len] = '\0';
	j = json_string(h);
	free(h);
	return j;
}

static const struct { uint32_t bit; const char *key; bool num; } rec_fields[] = {
	{ SENML_HAS_BN, "bn", false }, { SENML_HAS_BT, "bt", true }, { SENML_HAS_BU, "bu", false },
	{ SENML_HAS_BV, "bv", true }, { SENML_HAS_BS, "bs", true }, { SENML_HAS_BVER, "bver", true },
	{ SENML_HAS_N, "n", false }, { SENML_HAS_U, "u", false }, { SENML_HAS_S, "s", true },
	{ SENML_HAS_T, "t", true }, { SENML_HAS_UT, "ut", true },
};

static struct senml_str *rec_str(struct senml_rec *r, uint32_t bit)
{
	return bit == SENML_HAS_BN ? &r->bn : bit == SENML_HAS_BU ? &r->bu : bit == SENML_HAS_N ? &r->n
			: &r->u;
}

static struct json_num *rec_num(struct senml_rec *r, uint32_t bit)
{
	switch(bit){
	case SENML_HAS_BT: return &r->bt;
	case SENML_HAS_BV: return &r->bv;
	case SENML_HAS_BS: return &r->bs;
	case SENML_HAS_BVER: return &r->bver;
	case SENML_HAS_S: return &r->s;
	case SENML_HAS_T: return &r->t;
	default: return &r->ut;
	}
}

static json_t *rec_json(const struct scase *c, const struct senml_rec *cr)
{
	struct senml_rec r = *cr;
	json_t *o = json_object();

	for(size_t i = 0; o && i < sizeof(rec_fields) / sizeof(rec_fields[0]); i++){
		if(!(r.has & rec_fields[i].bit)) continue;
		json_object_set_new(o, rec_fields[i].key, rec_fields[i].num ?
				num_json(rec_num(&r, rec_fields[i].bit)) : str_json(rec_str(&r, rec_fields[i].bit)));
	}
	switch(r.vkind){
	case SENML_V_NUM: json_object_set_new(o, "v", num_json(&r.v)); break;
	case SENML_V_NULL: json_object_set_new(o, "v", json_null()); break;
	case SENML_V_NUMTEXT: json_object_set_new(o, "v", str_json(&r.vs)); break;
	case SENML_V_STR: json_object_set_new(o, "vs", str_json(&r.vs)); break;
	case SENML_V_OBJLNK: json_object_set_new(o, "vlo", str_json(&r.vs)); break;
	case SENML_V_BOOL: json_object_set_new(o, "vb", json_boolean(r.vb)); break;
	case SENML_V_DATA:
		json_object_set_new(o, "vd", c->f == VF_SENML_CBOR ? hex_json(&r.vs) : str_json(&r.vs));
		break;
	default: break;
	}
	return o;
}

static int json_to_num(json_t *j, struct json_num *n)
{
	if(json_is_integer(j)) json_num_from_int(n, json_integer_value(j));
	else if(json_is_real(j)) json_num_from_double(n, json_real_value(j));
	else return -1;
	return 0;
}

static int from_hex(const char *h, uint8_t **out, size_t *len)
{
	size_t n = strlen(h);
	uint8_t *b;

	if(n % 2) return -1;
	b = malloc(n / 2 + 1);
	if(!b) return -1;
	for(size_t i = 0; i < n / 2; i++){
		unsigned v;
		if(sscanf(h + 2 * i, "%2x", &v) != 1){
			free(b);
			return -1;
		}
		b[i] = (uint8_t)v;
	}
	*out = b;
	*len = n / 2;
	return 0;
}

/* Expected records -> senml_rec; strings stay owned by the JSON (or by *owned for hex). */
static int json_to_rec(const struct scase *c, json_t *o, struct senml_rec *r, uint8_t **owned)
{
	json_t *val;

	memset(r, 0, sizeof(*r));
	*owned = NULL;
	if(!json_is_object(o)) return -1;
	for(size_t i = 0; i < sizeof(rec_fields) / sizeof(rec_fields[0]); i++){
		json_t *f = json_object_get(o, rec_fields[i].key);
		if(!f) continue;
		r->has |= rec_fields[i].bit;
		if(rec_fields[i].num){
			if(json_to_num(f, rec_num(r, rec_fields[i].bit))) return -1;
		} else {
			struct senml_str *s = rec_str(r, rec_fields[i].bit);
			if(!json_is_string(f)) return -1;
			s->p = json_string_value(f);
			s->len = json_string_length(f);
		}
	}
	if((val = json_object_get(o, "v")) != NULL){
		if(json_is_null(val)) r->vkind = SENML_V_NULL;
		else if(json_is_string(val)) r->vkind = SENML_V_NUMTEXT;
		else r->vkind = SENML_V_NUM;
		if(r->vkind == SENML_V_NUM && json_to_num(val, &r->v)) return -1;
		if(r->vkind == SENML_V_NUMTEXT){
			r->vs.p = json_string_value(val);
			r->vs.len = json_string_length(val);
		}
	} else if((val = json_object_get(o, "vb")) != NULL){
		r->vkind = SENML_V_BOOL;
		r->vb = json_is_true(val);
	} else if((val = json_object_get(o, "vs")) || (val = json_object_get(o, "vlo"))){
		r->vkind = json_object_get(o, "vs") ? SENML_V_STR : SENML_V_OBJLNK;
		r->vs.p = json_string_value(val);
		r->vs.len = json_string_length(val);
	} else if((val = json_object_get(o, "vd")) != NULL){
		r->vkind = SENML_V_DATA;
		if(!json_is_string(val)) return -1;
		if(c->f == VF_SENML_CBOR){
			size_t n;
			if(from_hex(json_string_value(val), owned, &n)) return -1;
			r->vs.p = (const char *)*owned;
			r->vs.len = n;
		} else {
			r->data_b64 = true;
			r->vs.p = json_string_value(val);
			r->vs.len = json_string_length(val);
		}
	}
	return 0;
}

static int run_records(struct scase *c, json_t *want, char *why, size_t why_len)
{
	size_t n = json_array_size(want);
	struct senml_rec *recs = calloc(n ? n : 1, sizeof(*recs));
	uint8_t **owned = calloc(n ? n : 1, sizeof(*owned));
	struct senml_pack p;
	struct lwm2m_error err;
	struct lwm2m_buf out;
	int verdict = VEC_PASS;

	senml_pack_init(&p);
	buf_init(&out, 0);
	if(!recs || !owned){
		verdict = vec_fail(why, why_len, "out of memory");
		goto done;
	}
	if(vec_decodes(c->v)){
		json_t *got = json_array();
		memset(&err, 0, sizeof(err));
		if(parse_pack(c, c->payload, c->plen, &p, &err)){
			verdict = vec_fail(why, why_len, "record parse failed: %s", err.msg);
		} else {
			for(size_t i = 0; i < p.count; i++) json_array_append_new(got, rec_json(c, &p.recs[i]));
			if(!json_equal(got, want)){
				char *s = json_dumps(got, JSON_COMPACT);
				verdict = vec_fail(why, why_len, "records differ: got %.400s", s ? s : "?");
				free(s);
			}
		}
		json_decref(got);
		if(verdict != VEC_PASS) goto done;
	}
	if(vec_encodes(c->v)){
		for(size_t i = 0; i < n; i++){
			if(json_to_rec(c, json_array_get(want, i), &recs[i], &owned[i])){
				verdict = vec_fail(why, why_len, "bad expected record %zu", i);
				goto done;
			}
		}
		memset(&err, 0, sizeof(err));
		if((c->f == VF_SENML_CBOR ? senml_cbor_write(recs, n, &out, &err)
				: senml_json_write(recs, n, &out, &err)) != 0)
			verdict = vec_fail(why, why_len, "record write failed: %s", err.msg);
		else
			verdict = compare_output(c, &out, why, why_len);
	}
done:
	for(size_t i = 0; owned && i < n; i++) free(owned[i]);
	free(owned);
	free(recs);
	senml_pack_free(&p);
	buf_free(&out);
	return verdict;
}

/* ---- raw OMA JSON documents ------------------------------------------------------------------ */

static json_t *doc_json(const struct omajson_doc *d)
{
	json_t *o = json_object(), *e = json_array();

	if(d->has_bn) json_object_set_new(o, "bn", json_stringn(d->bn, d->bn_len));
	if(d->has_bt) json_object_set_new(o, "bt", num_json(&d->bt));
	for(size_t i = 0; i < d->e.count; i++){
		const struct senml_rec *r = &d->e.recs[i];
		json_t *x = json_object();
		if(r->has & SENML_HAS_N) json_object_set_new(x, "n", str_json(&r->n));
		if(r->has & SENML_HAS_T) json_object_set_new(x, "t", num_json(&r->t));
		switch(r->vkind){
		case SENML_V_NUM: json_object_set_new(x, "v", num_json(&r->v)); break;
		case SENML_V_STR: json_object_set_new(x, "sv", str_json(&r->vs)); break;
		case SENML_V_OBJLNK: json_object_set_new(x, "ov", str_json(&r->vs)); break;
		case SENML_V_BOOL: json_object_set_new(x, "bv", json_boolean(r->vb)); break;
		default: break;
		}
		json_array_append_new(e, x);
	}
	json_object_set_new(o, "e", e);
	return o;
}

static int json_to_doc(json_t *j, struct omajson_doc *d)
{
	json_t *bn = json_object_get(j, "bn"), *bt = json_object_get(j, "bt");
	json_t *e = json_object_get(j, "e"), *x;
	size_t i;

	if(bn){
		if(!json_is_string(bn) || !(d->bn = strdup(json_string_value(bn)))) return -1;
		d->bn_len = json_string_length(bn);
		d->has_bn = true;
	}
	if(bt){
		if(json_to_num(bt, &d->bt)) return -1;
		d->has_bt = true;
	}
	json_array_foreach(e, i, x){
		struct senml_rec r;
		json_t *f;
		memset(&r, 0, sizeof(r));
		if((f = json_object_get(x, "n")) != NULL){
			r.has |= SENML_HAS_N;
			r.n.p = json_string_value(f);
			r.n.len = json_string_length(f);
		}
		if((f = json_object_get(x, "t")) != NULL){
			r.has |= SENML_HAS_T;
			if(json_to_num(f, &r.t)) return -1;
		}
		if((f = json_object_get(x, "v")) != NULL){
			r.vkind = SENML_V_NUM;
			if(json_to_num(f, &r.v)) return -1;
		} else if((f = json_object_get(x, "bv")) != NULL){
			r.vkind = SENML_V_BOOL;
			r.vb = json_is_true(f);
		} else if((f = json_object_get(x, "sv")) || (f = json_object_get(x, "ov"))){
			r.vkind = json_object_get(x, "sv") ? SENML_V_STR : SENML_V_OBJLNK;
			r.vs.p = json_string_value(f);
			r.vs.len = json_string_length(f);
		}
		if(senml_pack_add(&d->e, &r)) return -1;
	}
	return 0;
}

static int run_document(struct scase *c, json_t *want, char *why, size_t why_len)
{
	struct omajson_doc d;
	struct lwm2m_error err;
	struct lwm2m_buf out;
	int verdict = VEC_PASS;

	omajson_doc_init(&d);
	buf_init(&out, 0);
	if(vec_decodes(c->v)){
		memset(&err, 0, sizeof(err));
		if(omajson_parse(c->payload, c->plen, NULL, &d, &err)){
			verdict = vec_fail(why, why_len, "document parse failed: %s", err.msg);
		} else {
			json_t *got = doc_json(&d);
			if(!json_equal(got, want)){
				char *s = json_dumps(got, JSON_COMPACT);
				verdict = vec_fail(why, why_len, "document differs: got %.400s", s ? s : "?");
				free(s);
			}
			json_decref(got);
		}
		omajson_doc_free(&d);
		omajson_doc_init(&d);
		if(verdict != VEC_PASS) goto done;
	}
	if(vec_encodes(c->v)){
		memset(&err, 0, sizeof(err));
		if(json_to_doc(want, &d)) verdict = vec_fail(why, why_len, "bad expected document");
		else if(omajson_write(&d, &out, &err)) verdict = vec_fail(why, why_len, "write failed: %s", err.msg);
		else verdict = compare_output(c, &out, why, why_len);
	}
done:
	omajson_doc_free(&d);
	buf_free(&out);
	return verdict;
}

/* ---- entry points ---------------------------------------------------------------------------- */

static int run(json_t *v, enum vfmt f, char *why, size_t why_len)
{
	json_t *exp = json_object_get(v, "expected");
	struct scase c;
	int verdict = case_init(&c, v, f, why, why_len);

	if(verdict != VEC_PASS){
		case_free(&c);
		return verdict;
	}
	if(!c.has_payload) verdict = vec_fail(why, why_len, "no payload");
	else if(vec_expects_error(v)) verdict = run_error(&c, why, why_len);
	else if(json_is_array(exp)) verdict = run_nodes(&c, exp, why, why_len);
	else if(json_is_array(json_object_get(exp, "paths")))
		verdict = run_paths(&c, json_object_get(exp, "paths"), why, why_len);
	else if(f != VF_OMA_JSON && json_is_array(json_object_get(exp, "senml")))
		verdict = run_records(&c, json_object_get(exp, "senml"), why, why_len);
	else if(f == VF_OMA_JSON && json_is_object(json_object_get(exp, "json")))
		verdict = run_document(&c, json_object_get(exp, "json"), why, why_len);
	else verdict = vec_fail(why, why_len, "unknown expected shape");
	case_free(&c);
	return verdict;
}

int vec_run_senml_json(json_t *vector, char *why, size_t why_len)
{
	return run(vector, VF_SENML_JSON, why, why_len);
}

int vec_run_senml_cbor(json_t *vector, char *why, size_t why_len)
{
	return run(vector, VF_SENML_CBOR, why, why_len);
}

int vec_run_oma_json(json_t *vector, char *why, size_t why_len)
{
	return run(vector, VF_OMA_JSON, why, why_len);
}
