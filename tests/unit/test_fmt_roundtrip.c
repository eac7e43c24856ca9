/* Round-trip properties over generated trees: for every content format that can carry a
 * tree, decode(encode(tree)) == tree. Trees come from a seeded PRNG (the seed of a failure
 * is printed); types from a typer derived from the IDs. Also the content-format names. */
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

#define TREES_PER_FORMAT 1500

/* ---- PRNG and typer ---- */

struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static unsigned pick(struct rng *r, unsigned n)
{
	return (unsigned)(next(r) % n);
}

static uint32_t mix(uint32_t a, uint32_t b)
{
	uint32_t h = a * 0x9e3779b1u ^ (b + 0x7f4a7c15u + (a << 6) + (a >> 2));
	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return h;
}

/* Every (object, resource) has a fixed type (never NONE) and multiplicity. */
static enum lwm2m_type id_type(uint16_t obj, uint16_t res)
{
	return (enum lwm2m_type)(1 + mix(obj, res) % 9);
}

static bool id_multiple(uint16_t obj, uint16_t res)
{
	return (mix(res, obj) >> 8) % 3 == 0;
}

struct typer_ctx {
	bool none_for_odd;   /* LwM2M CBOR: resources with odd id >= 60 are typeless (wire type) */
	bool all_opaque;     /* opaque (42) carries Opaque resources only */
};

static enum lwm2m_type rt_type(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	struct typer_ctx *c = ctx;
	(void)prefix;
	if(p->len < 3) return LWM2M_TYPE_NONE;
	if(c && c->none_for_odd && p->ids[2] >= 60 && (p->ids[2] & 1)) return LWM2M_TYPE_NONE;
	if(c && c->all_opaque) return LWM2M_TYPE_OPAQUE;
	return id_type(p->ids[0], p->ids[2]);
}

static int rt_multiple(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	(void)ctx;
	(void)prefix;
	return id_multiple(p->ids[0], p->ids[2]);
}

/* ---- format capabilities ---- */

struct caps {
	uint16_t cf;
	const char *name;
	bool composite;      /* several objects (root request) */
	bool markers;        /* empty instances / empty multiple resources */
	bool prefixes;       /* gateway prefixes */
	bool none_values;    /* null values */
	bool nonfinite;      /* NaN / Infinity */
	bool single;         /* exactly one resource value */
	bool opaque_only;
	bool times;
	bool untyped;        /* typeless resources come back with their wire type */
};

static const struct caps formats[] = {
	{ LWM2M_CF_TLV, "tlv", false, true, false, false, true, false, false, false, false },
	{ LWM2M_CF_LWM2M_CBOR, "lwm2m-cbor", true, true, true, true, true, false, false, false, true },
	{ LWM2M_CF_TEXT, "text", false, false, false, false, true, true, false, false, false },
	{ LWM2M_CF_CBOR, "cbor", false, false, false, false, true, true, false, false, false },
	{ LWM2M_CF_OPAQUE, "opaque", false, false, false, false, false, true, true, false, false },
	{ LWM2M_CF_SENML_CBOR, "senml-cbor", true, false, false, false, true, false, false, true, false },
	{ LWM2M_CF_SENML_JSON, "senml-json", true, false, false, false, false, false, false, true, false },
	{ LWM2M_CF_OMA_JSON, "oma-json", true, false, false, false, false, false, false, true, false },
};

/* ---- generation ---- */

static void random_bytes(struct rng *r, struct lwm2m_value *v, enum lwm2m_type t)
{
	static const char *const texts[] = { "", "a", "h\xc3\xa9llo", "\xe2\x82\xac 1", "</3/0>;ver=1.1",
		"quote\" back\\slash", "\xf0\x9f\x91\xa8 long text that goes past twenty-three bytes" };
	uint8_t raw[40];
	size_t n;

	if(t == LWM2M_TYPE_OPAQUE){
		n = pick(r, sizeof(raw));
		for(size_t i = 0; i < n; i++) raw[i] = (uint8_t)next(r);
		assert_int_equal(value_set_bytes(v, t, raw, n), 0);
		return;
	}
	n = pick(r, sizeof(texts) / sizeof(texts[0]));
	assert_int_equal(value_set_bytes(v, t, texts[n], strlen(texts[n])), 0);
}

static int64_t random_int(struct rng *r)
{
	static const int64_t edges[] = { 0, 1, -1, 23, 24, -24, -25, 127, 128, -128, -129, 255, 256,
		32767, 32768, -32768, -32769, 65535, 65536, 2147483647LL, 2147483648LL, -2147483648LL,
		-2147483649LL, 9007199254740993LL, INT64_MAX, INT64_MIN };
	if(pick(r, 2)) return edges[pick(r, sizeof(edges) / sizeof(edges[0]))];
	return (int64_t)next(r) >> pick(r, 63);
}

static double random_float(struct rng *r, bool nonfinite)
{
	static const double edges[] = { 0.0, -0.0, 1.5, -10.0, 0.1, 65504.0, 65520.0, 100000.0,
		5.960464477539063e-8, 1e-300, 1.7976931348623157e308, 3.4028234663852886e+38, 123.125 };
	double d;
	uint64_t bits;

	switch(pick(r, 4)){
	case 0:
		return edges[pick(r, sizeof(edges) / sizeof(edges[0]))];
	case 1:
		if(nonfinite) return pick(r, 3) == 0 ? NAN : pick(r, 2) ? INFINITY : -INFINITY;
		/* fall through */
	case 2:
		return (double)(int32_t)next(r) / 64.0;
	default:
		do{
			bits = next(r);
			memcpy(&d, &bits, sizeof(d));
		}while(!isfinite(d));
		return d;
	}
}

static void random_value(struct rng *r, const struct caps *c, struct lwm2m_value *v, enum lwm2m_type t)
{
	v->type = t;
	switch(t){
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_OPAQUE:
	case LWM2M_TYPE_CORELNK:
		random_bytes(r, v, t);
		break;
	case LWM2M_TYPE_INTEGER:
		v->v.i = random_int(r);
		break;
	case LWM2M_TYPE_TIME:
		v->v.i = pick(r, 2) ? (int64_t)(1600000000 + pick(r, 100000000)) : random_int(r);
		break;
	case LWM2M_TYPE_UNSIGNED:
		v->v.u = pick(r, 3) == 0 ? UINT64_MAX - pick(r, 3) : (uint64_t)random_int(r) >> 1;
		break;
	case LWM2M_TYPE_FLOAT:
		v->v.f = random_float(r, c->nonfinite);
		break;
	case LWM2M_TYPE_BOOLEAN:
		v->v.b = pick(r, 2);
		break;
	case LWM2M_TYPE_OBJLNK:
		v->v.lnk.obj = (uint16_t)next(r);
		v->v.lnk.inst = pick(r, 4) ? (uint16_t)pick(r, 10) : 65535;
		break;
	case LWM2M_TYPE_NONE:
		break;
	}
}

static struct lwm2m_node *push(struct lwm2m_nodes *n, const char *prefix, uint8_t len, uint16_t o,
		uint16_t i, uint16_t res, uint16_t ri)
{
	struct lwm2m_node *node = nodes_push(n);
	assert_non_null(node);
	node->path = (struct lwm2m_path){ len, { o, i, res, ri } };
	if(prefix) node->prefix = strdup(prefix);
	return node;
}

static void gen_leaf(struct rng *r, const struct caps *c, struct lwm2m_nodes *n, const char *prefix,
		uint8_t len, uint16_t o, uint16_t i, uint16_t res, uint16_t ri, bool untyped)
{
	struct lwm2m_node *node = push(n, prefix, len, o, i, res, ri);
	enum lwm2m_type t = c->opaque_only ? LWM2M_TYPE_OPAQUE : id_type(o, res);

	if(untyped){
		/* a resource the typer does not know: only types the wire says by itself */
		static const enum lwm2m_type wire[] = { LWM2M_TYPE_STRING, LWM2M_TYPE_INTEGER, LWM2M_TYPE_FLOAT,
			LWM2M_TYPE_BOOLEAN, LWM2M_TYPE_OPAQUE, LWM2M_TYPE_NONE };
		t = wire[pick(r, sizeof(wire) / sizeof(wire[0]))];
		if(t == LWM2M_TYPE_NONE && !c->none_values) t = LWM2M_TYPE_STRING;
	}
	random_value(r, c, &node->value, t);
	if(c->times && pick(r, 4) == 0){
		node->has_time = true;
		node->time = 1600000000.0 + pick(r, 1000000);
	}
}

/* Resources of instance o/i; unique ids in increasing order. */
static void gen_instance(struct rng *r, const struct caps *c, struct lwm2m_nodes *n, const char *prefix,
		uint16_t o, uint16_t i, bool untyped_ok)
{
	unsigned count = pick(r, 6);
	uint16_t res = (uint16_t)pick(r, 3);

	if(count == 0 && c->markers){
		push(n, prefix, 2, o, i, 0, 0)->kind = LWM2M_NODE_EMPTY_INSTANCE;
		return;
	}
	if(count == 0) count = 1;
	for(unsigned k = 0; k < count; k++, res = (uint16_t)(res + 1 + pick(r, pick(r, 8) ? 4 : 400))){
		bool untyped = untyped_ok && res >= 60 && (res & 1);
		if(id_multiple(o, res)){
			unsigned m = pick(r, 4);
			uint16_t ri = (uint16_t)pick(r, 2);
			if(m == 0 && c->markers){
				push(n, prefix, 3, o, i, res, 0)->kind = LWM2M_NODE_EMPTY_MULTIPLE;
				continue;
			}
			if(m == 0) m = 1;
			for(unsigned q = 0; q < m; q++, ri = (uint16_t)(ri + 1 + pick(r, 300))){
				gen_leaf(r, c, n, prefix, 4, o, i, res, ri, untyped);
			}
		}else{
			gen_leaf(r, c, n, prefix, 3, o, i, res, 0, untyped);
		}
	}
}

/* A tree and the request path it answers. */
static void gen_tree(struct rng *r, const struct caps *c, struct lwm2m_nodes *n, struct lwm2m_path *req,
		bool untyped_ok)
{
	if(c->single){
		uint16_t o = (uint16_t)pick(r, 70000), res = (uint16_t)pick(r, 70000);
		if(id_multiple(o, res)){
			*req = (struct lwm2m_path){ 4, { o, 0, res, (uint16_t)pick(r, 9) } };
		}else{
			*req = (struct lwm2m_path){ 3, { o, (uint16_t)pick(r, 3), res, 0 } };
		}
		gen_leaf(r, c, n, NULL, req->len, req->ids[0], req->ids[1], req->ids[2], req->ids[3], false);
		return;
	}
	if(c->composite && pick(r, 2)){
		unsigned objects = 1 + pick(r, 3);
		uint16_t o = (uint16_t)pick(r, 5);
		*req = (struct lwm2m_path){ 0, { 0 } };
		for(unsigned k = 0; k < objects; k++, o = (uint16_t)(o + 1 + pick(r, 3000))){
			const char *prefix = c->prefixes && pick(r, 3) == 0 ? (pick(r, 2) ? "dev-1" : "gw7") : NULL;
			unsigned instances = 1 + pick(r, 3);
			uint16_t i = (uint16_t)pick(r, 2);
			for(unsigned q = 0; q < instances; q++, i = (uint16_t)(i + 1 + pick(r, 100))){
				gen_instance(r, c, n, prefix, o, i, untyped_ok);
			}
		}
		return;
	}
	/* one object: request at the object, the instance, or one resource */
	{
		uint16_t o = (uint16_t)(pick(r, 2) ? pick(r, 10) : pick(r, 65536));
		switch(pick(r, 3)){
		case 0: {
			unsigned instances = 1 + pick(r, 3);
			uint16_t i = (uint16_t)pick(r, 3);
			*req = (struct lwm2m_path){ 1, { o, 0, 0, 0 } };
			for(unsigned q = 0; q < instances; q++, i = (uint16_t)(i + 1 + pick(r, 70))){
				gen_instance(r, c, n, NULL, o, i, untyped_ok);
			}
			break;
		}
		case 1:
			*req = (struct lwm2m_path){ 2, { o, (uint16_t)pick(r, 65536), 0, 0 } };
			gen_instance(r, c, n, NULL, o, req->ids[1], untyped_ok);
			break;
		default: {
			struct lwm2m_nodes all;
			/* the first resource of a generated instance */
			nodes_init(&all);
			gen_instance(r, c, &all, NULL, o, (uint16_t)pick(r, 4), untyped_ok);
			if(all.items[0].path.len < 3){
				*req = all.items[0].path;
			}else{
				*req = all.items[0].path;
				req->len = 3;
			}
			for(size_t k = 0; k < all.count; k++){
				struct lwm2m_node *src = &all.items[k];
				if(path_starts_with(&src->path, req)){
					struct lwm2m_node *dst = nodes_push(n);
					*dst = *src;
					memset(src, 0, sizeof(*src));
				}
			}
			nodes_free(&all);
			break;
		}
		}
	}
}

/* ---- comparison ---- */

static void describe(const struct lwm2m_node *x, char *buf, size_t size)
{
	char p[LWM2M_PATH_STR_MAX];
	path_format(&x->path, p, sizeof(p));
	snprintf(buf, size, "%s%s%s kind %d type %s", x->prefix ? x->prefix : "", x->prefix ? ":" : "", p,
			(int)x->kind, lwm2m_type_name(x->value.type));
}

static bool nodes_same(const struct caps *c, struct lwm2m_nodes *a, struct lwm2m_nodes *b, char *why,
		size_t why_len)
{
	nodes_sort(a);
	nodes_sort(b);
	if(a->count != b->count){
		snprintf(why, why_len, "%zu nodes became %zu", a->count, b->count);
		return false;
	}
	for(size_t i = 0; i < a->count; i++){
		const struct lwm2m_node *x = &a->items[i], *y = &b->items[i];
		char dx[96], dy[96];
		bool prefix_ok = (!x->prefix && !y->prefix) ||
			(x->prefix && y->prefix && !strcmp(x->prefix, y->prefix));
		describe(x, dx, sizeof(dx));
		describe(y, dy, sizeof(dy));
		if(path_compare(&x->path, &y->path) || !prefix_ok || x->kind != y->kind ||
				!value_equal(&x->value, &y->value)){
			snprintf(why, why_len, "node %zu: %s became %s", i, dx, dy);
			return false;
		}
		if(c->times && (x->has_time != y->has_time || (x->has_time && x->time != y->time))){
			snprintf(why, why_len, "node %zu: %s lost its time", i, dx);
			return false;
		}
	}
	return true;
}

static void run_format(const struct caps *c, uint64_t seed)
{
	struct rng r = { seed };
	struct typer_ctx tctx = { c->untyped, c->opaque_only };
	struct fmt_typer typer = { rt_type, rt_multiple, &tctx };

	for(int t = 0; t < TREES_PER_FORMAT; t++){
		struct lwm2m_nodes tree, back;
		struct lwm2m_path req;
		struct lwm2m_buf out;
		struct lwm2m_error err = { 0 };
		char why[300];
		uint64_t tree_seed = next(&r);
		struct rng tr = { tree_seed | 1 };

		nodes_init(&tree);
		nodes_init(&back);
		buf_init(&out, 0);
		gen_tree(&tr, c, &tree, &req, c->untyped);
		if(fmt_encode(c->cf, &tree, &req, &typer, NULL, &out, &err) != 0){
			fail_msg("%s tree seed %#llx: encode: %s", c->name, (unsigned long long)tree_seed, err.msg);
		}
		if(fmt_decode(c->cf, out.data, out.len, &req, &typer, NULL, &back, &err) != 0){
			fail_msg("%s tree seed %#llx: decode: %s", c->name, (unsigned long long)tree_seed, err.msg);
		}
		if(!nodes_same(c, &tree, &back, why, sizeof(why))){
			fail_msg("%s tree seed %#llx: %s", c->name, (unsigned long long)tree_seed, why);
		}
		/* and the encoding is stable */
		{
			struct lwm2m_buf again;
			buf_init(&again, 0);
			assert_int_equal(fmt_encode(c->cf, &back, &req, &typer, NULL, &again, &err), 0);
			if(req.len > 0){
				/* a composite's groups follow the given order, which sorting changed */
				assert_int_equal(again.len, out.len);
			}
			buf_free(&again);
		}
		nodes_free(&tree);
		nodes_free(&back);
		buf_free(&out);
	}
}

static void test_tlv(void **state) { (void)state; run_format(&formats[0], 0x7101); }
static void test_lwm2m_cbor(void **state) { (void)state; run_format(&formats[1], 0x11544); }
static void test_text(void **state) { (void)state; run_format(&formats[2], 0x7e47); }
static void test_cbor(void **state) { (void)state; run_format(&formats[3], 0x60); }
static void test_opaque(void **state) { (void)state; run_format(&formats[4], 0x42); }
static void test_senml_cbor(void **state) { (void)state; run_format(&formats[5], 0x112); }
static void test_senml_json(void **state) { (void)state; run_format(&formats[6], 0x110); }
static void test_oma_json(void **state) { (void)state; run_format(&formats[7], 0x11543); }

/* Converting between every pair of formats that carry a tree keeps it. */
static void test_convert_pairs(void **state)
{
	struct rng r = { 0xc0ffee };
	struct fmt_typer typer = { rt_type, rt_multiple, NULL };
	static const uint16_t multi[] = { LWM2M_CF_TLV, LWM2M_CF_LWM2M_CBOR, LWM2M_CF_SENML_CBOR,
		LWM2M_CF_SENML_JSON, LWM2M_CF_OMA_JSON, LWM2M_CF_SENML_ETCH_CBOR, LWM2M_CF_SENML_ETCH_JSON };
	const struct caps plain = { LWM2M_CF_TLV, "common", false, false, false, false, false, false, false,
		false, false };

	(void)state;
	for(int t = 0; t < 300; t++){
		struct lwm2m_nodes tree, back;
		struct lwm2m_path req;
		struct lwm2m_buf a, b;
		struct lwm2m_error err;
		uint16_t from = multi[pick(&r, 7)], to = multi[pick(&r, 7)];
		char why[300];

		nodes_init(&tree);
		nodes_init(&back);
		buf_init(&a, 0);
		buf_init(&b, 0);
		gen_tree(&r, &plain, &tree, &req, false);
		assert_int_equal(fmt_encode(from, &tree, &req, &typer, NULL, &a, &err), 0);
		if(fmt_convert(from, to, a.data, a.len, &req, &typer, NULL, &b, &err) != 0){
			fail_msg("convert %u -> %u: %s", from, to, err.msg);
		}
		assert_int_equal(fmt_decode(to, b.data, b.len, &req, &typer, NULL, &back, &err), 0);
		if(!nodes_same(&plain, &tree, &back, why, sizeof(why))) fail_msg("%u -> %u: %s", from, to, why);
		nodes_free(&tree);
		nodes_free(&back);
		buf_free(&a);
		buf_free(&b);
	}
}

static enum lwm2m_type all_integer(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	(void)ctx;
	(void)prefix;
	(void)p;
	return LWM2M_TYPE_INTEGER;
}

static void test_convert_refusals_are_clear(void **state)
{
	/* {[3, 0, 9]: 100, [4, 0, 1]: 1} */
	static const uint8_t two_objects[] = { 0xa2, 0x83, 0x03, 0x00, 0x09, 0x18, 0x64, 0x83, 0x04, 0x00,
		0x01, 0x01 };
	struct fmt_typer typer = { all_integer, NULL, NULL };
	struct lwm2m_path root = { 0, { 0 } };
	struct lwm2m_buf out;
	struct lwm2m_error err;

	(void)state;
	buf_init(&out, 0);
	assert_int_equal(fmt_convert(LWM2M_CF_LWM2M_CBOR, LWM2M_CF_TLV, two_objects, sizeof(two_objects), &root,
			&typer, NULL, &out, &err), -LWM2M_ENOTSUP);
	assert_non_null(strstr(err.msg, "TLV cannot carry a composite of two objects"));
	assert_int_equal(fmt_convert(LWM2M_CF_LWM2M_CBOR, LWM2M_CF_TEXT, two_objects, sizeof(two_objects), &root,
			&typer, NULL, &out, &err), -LWM2M_ENOTSUP);
	assert_non_null(strstr(err.msg, "plain text"));
	assert_int_equal(fmt_convert(LWM2M_CF_LWM2M_CBOR, LWM2M_CF_LINK, two_objects, sizeof(two_objects), &root,
			&typer, NULL, &out, &err), -LWM2M_ENOTSUP);
	assert_non_null(strstr(err.msg, "link"));
	assert_int_equal(fmt_convert(LWM2M_CF_LWM2M_CBOR, 9999, two_objects, sizeof(two_objects), &root,
			&typer, NULL, &out, &err), -LWM2M_ENOTSUP);
	assert_non_null(strstr(err.msg, "9999"));
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void test_cf_names(void **state)
{
	(void)state;
	assert_int_equal(fmt_cf_parse("tlv"), 11542);
	assert_int_equal(fmt_cf_parse("LwM2M-CBOR"), 11544);
	assert_int_equal(fmt_cf_parse("senml-etch-cbor"), 322);
	assert_int_equal(fmt_cf_parse("text"), 0);
	assert_int_equal(fmt_cf_parse("60"), 60);
	assert_int_equal(fmt_cf_parse("65535"), 65535);
	assert_int_equal(fmt_cf_parse("65536"), -1);
	assert_int_equal(fmt_cf_parse("-1"), -1);
	assert_int_equal(fmt_cf_parse("xml"), -1);
	assert_int_equal(fmt_cf_parse(""), -1);
	assert_int_equal(fmt_cf_parse(NULL), -1);
	assert_string_equal(fmt_cf_name(11543), "oma-json");
	assert_string_equal(fmt_cf_name(40), "link");
	assert_null(fmt_cf_name(41));
	assert_string_equal(fmt_cf_media_type(11544), "application/vnd.oma.lwm2m+cbor");
	assert_string_equal(fmt_cf_media_type(110), "application/senml+json");
	assert_null(fmt_cf_media_type(1));
	assert_int_equal(fmt_cf_from_media_type("application/vnd.oma.lwm2m+tlv"), 11542);
	assert_int_equal(fmt_cf_from_media_type(" Application/SenML+CBOR ; foo=bar"), 112);
	assert_int_equal(fmt_cf_from_media_type("text/plain"), 0);
	assert_int_equal(fmt_cf_from_media_type("text/plain; charset=utf-8"), 0);
	assert_int_equal(fmt_cf_from_media_type("application/octet-stream"), 42);
	assert_int_equal(fmt_cf_from_media_type("application/cbor"), 60);
	assert_int_equal(fmt_cf_from_media_type("application/senml-etch+json"), 320);
	assert_int_equal(fmt_cf_from_media_type("application/json"), -1);
	assert_int_equal(fmt_cf_from_media_type("application/cbor-seq"), -1);
	assert_int_equal(fmt_cf_from_media_type(NULL), -1);
	for(unsigned cf = 0; cf < 65536; cf++){
		const char *mt = fmt_cf_media_type((uint16_t)cf), *name = fmt_cf_name((uint16_t)cf);
		if(!mt) continue;
		assert_int_equal(fmt_cf_from_media_type(mt), (int)cf);
		assert_int_equal(fmt_cf_parse(name), (int)cf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlv),
		cmocka_unit_test(test_lwm2m_cbor),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_cbor),
		cmocka_unit_test(test_opaque),
		cmocka_unit_test(test_senml_cbor),
		cmocka_unit_test(test_senml_json),
		cmocka_unit_test(test_oma_json),
		cmocka_unit_test(test_convert_pairs),
		cmocka_unit_test(test_convert_refusals_are_clear),
		cmocka_unit_test(test_cf_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
