/* OMA LwM2M JSON (11543): a two-pass reader (the top-level keys first, so that a "bt" after
 * "e" applies to the entries), the SenML resolver for names, times and types, and a
 * writer. */
#include "fmt_omajson.h"

#include <stdlib.h>
#include <string.h>

/* Levels: the document is 1, "e" 2, an entry 3, an entry's value 4. */
#define TOP_FIELD_DEPTH 2
#define ENTRY_FIELD_DEPTH 4

static int jfail(struct json_rd *rd, const char *what)
{
	return lwm2m_fail(rd->err, LWM2M_EINVAL, (long)json_rd_off(rd), "OMA JSON: %s at byte %zu",
			what, json_rd_off(rd));
}

static bool key_is(const char *k, size_t n, const char *want)
{
	return strlen(want) == n && !memcmp(k, want, n);
}

struct top {
	bool has_bn, has_bt, has_e;
	struct senml_str bn;      /* valid while the reader's blocks live */
	struct json_num bt;
	size_t e_off;
};

/* Pass 1: bn, bt and where "e" starts. */
static int read_top(struct json_rd *rd, struct top *t)
{
	int rc;

	memset(t, 0, sizeof(*t));
	if(!json_rd_ws(rd)) return jfail(rd, "empty payload");
	rc = json_rd_expect(rd, '{', "'{' (an OMA JSON document)");
	if(rc) return rc;
	if(!json_rd_accept(rd, '}')){
		do {
			const char *k;
			size_t kl;
			rc = json_rd_string(rd, &k, &kl);
			if(!rc) rc = json_rd_expect(rd, ':', "':'");
			if(rc) return rc;
			if(key_is(k, kl, "bn")){
				if(t->has_bn) return jfail(rd, "\"bn\" twice");
				t->has_bn = true;
				rc = json_rd_string(rd, &t->bn.p, &t->bn.len);
			} else if(key_is(k, kl, "bt")){
				if(t->has_bt) return jfail(rd, "\"bt\" twice");
				t->has_bt = true;
				rc = json_rd_number(rd, &t->bt);
			} else if(key_is(k, kl, "e")){
				if(t->has_e) return jfail(rd, "\"e\" twice");
				t->has_e = true;
				json_rd_ws(rd);
				t->e_off = json_rd_off(rd);
				if(json_rd_peek(rd) != '[') return jfail(rd, "\"e\" is not an array");
				rc = json_rd_skip(rd, TOP_FIELD_DEPTH);
			} else {
				rc = json_rd_skip(rd, TOP_FIELD_DEPTH);
			}
			if(rc) return rc;
		} while(json_rd_accept(rd, ','));
		rc = json_rd_expect(rd, '}', "',' or '}'");
		if(rc) return rc;
	}
	if(json_rd_ws(rd)) return jfail(rd, "data after the document");
	if(!t->has_e) return lwm2m_fail(rd->err, LWM2M_EINVAL, 0, "OMA JSON: no \"e\" array");
	return 0;
}

static int read_entry_field(struct json_rd *rd, struct senml_rec *r, const char *k, size_t kl)
{
	enum senml_vkind kind = SENML_V_NONE;
	char lit;
	int rc;

	if(key_is(k, kl, "n") || key_is(k, kl, "t")){
		uint32_t bit = k[0] == 'n' ? SENML_HAS_N : SENML_HAS_T;
		if(r->has & bit) return jfail(rd, k[0] == 'n' ? "\"n\" twice" : "\"t\" twice");
		r->has |= bit;
		return bit == SENML_HAS_N ? json_rd_string(rd, &r->n.p, &r->n.len)
				: json_rd_number(rd, &r->t);
	}
	if(key_is(k, kl, "v")) kind = SENML_V_NUM;
	else if(key_is(k, kl, "sv")) kind = SENML_V_STR;
	else if(key_is(k, kl, "bv")) kind = SENML_V_BOOL;
	else if(key_is(k, kl, "ov")) kind = SENML_V_OBJLNK;
	else return json_rd_skip(rd, ENTRY_FIELD_DEPTH);
	if(r->vkind != SENML_V_NONE) return jfail(rd, "an entry carries two values");
	r->vkind = kind;
	switch(kind){
	case SENML_V_NUM:
		return json_rd_number(rd, &r->v);
	case SENML_V_BOOL:
		rc = json_rd_literal(rd, &lit);
		if(rc) return rc;
		if(lit == 'n') return jfail(rd, "\"bv\" is not a boolean");
		r->vb = lit == 't';
		return 0;
	default:
		return json_rd_string(rd, &r->vs.p, &r->vs.len);
	}
}

static int read_entry(struct json_rd *rd, struct senml_rec *r)
{
	return senml_json_read_object(rd, r, "'{' (an entry)", read_entry_field);
}

/* Both passes; `top_fn` sees bn/bt first (may be NULL), then `fn` every entry (the first
 * entry also carries bn and bt as base fields). */
static int omajson_records(const uint8_t *buf, size_t len, const struct fmt_limits *lim,
		struct top *t, senml_rec_fn fn, void *ctx, struct omajson_doc *doc,
		struct lwm2m_error *err)
{
	struct json_rd top_rd, rd;
	struct senml_rec r;
	bool first = true;
	int rc;

	json_rd_init(&top_rd, buf, len, fmt_limits_depth(lim), err);
	rc = read_top(&top_rd, t);
	if(rc){
		json_rd_free(&top_rd);
		return rc;
	}
	if(doc && t->has_bn){
		/* Not strndup: a decoded "\u0000" would cut the copy short of bn_len. */
		doc->bn = malloc(t->bn.len + 1);
		if(doc->bn){
			memcpy(doc->bn, t->bn.p, t->bn.len);
			doc->bn[t->bn.len] = '\0';
		}
		if(!doc->bn){
			json_rd_free(&top_rd);
			return lwm2m_fail(err, LWM2M_ENOMEM, -1, "OMA JSON: out of memory");
		}
		doc->bn_len = t->bn.len;
		doc->has_bn = true;
	}
	if(doc && t->has_bt){
		doc->has_bt = true;
		doc->bt = t->bt;
	}
	json_rd_init(&rd, buf, len, fmt_limits_depth(lim), err);
	rd.p = rd.start + t->e_off + 1;     /* just after '[' */
	if(!json_rd_accept(&rd, ']')){
		do {
			rc = read_entry(&rd, &r);
			if(!rc && first){
				if(t->has_bn){
					r.has |= SENML_HAS_BN;
					r.bn = t->bn;
				}
				if(t->has_bt){
					r.has |= SENML_HAS_BT;
					r.bt = t->bt;
				}
				first = false;
			}
			if(!rc) rc = fn(ctx, &r);
			json_rd_release(&rd);
		} while(!rc && json_rd_accept(&rd, ','));
		if(!rc) rc = json_rd_expect(&rd, ']', "',' or ']'");
	}
	json_rd_free(&rd);
	json_rd_free(&top_rd);
	return rc;
}

/* ---- decode ------------------------------------------------------------------------------ */

int omajson_decode_ex(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		const struct senml_opts *opts, struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	struct senml_dec s;
	struct top t;
	int rc;

	senml_dec_init(&s, len, req, typer, lim, opts ? opts->alt_path : NULL, SENML_MODE_VALUES,
			"OMA JSON", out, err);
	s.oma = true;
	rc = omajson_records(buf, len, lim, &t, senml_dec_record_cb, &s, NULL, err);
	if(!rc) rc = senml_dec_finish(&s);
	senml_dec_done(&s, rc);
	return rc;
}

int omajson_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	return omajson_decode_ex(buf, len, req, typer, lim, NULL, out, err);
}

/* ---- the document layer ------------------------------------------------------------------ */

void omajson_doc_init(struct omajson_doc *d)
{
	memset(d, 0, sizeof(*d));
	senml_pack_init(&d->e);
}

void omajson_doc_free(struct omajson_doc *d)
{
	if(!d) return;
	free(d->bn);
	senml_pack_free(&d->e);
	memset(d, 0, sizeof(*d));
}

static int doc_add_entry(void *ctx, const struct senml_rec *r)
{
	struct omajson_doc *d = ctx;
	struct senml_rec c = *r;

	/* bn and bt belong to the document, not to its first entry. */
	c.has &= ~(SENML_HAS_BN | SENML_HAS_BT);
	memset(&c.bn, 0, sizeof(c.bn));
	return senml_pack_add(&d->e, &c);
}

int omajson_parse(const uint8_t *buf, size_t len, const struct fmt_limits *lim,
		struct omajson_doc *out, struct lwm2m_error *err)
{
	struct top t;
	int rc = omajson_records(buf, len, lim, &t, doc_add_entry, out, out, err);

	if(rc == -LWM2M_ENOMEM && err && !err->msg[0])
		lwm2m_fail(err, rc, -1, "OMA JSON: out of memory");
	return rc;
}

static int write_entry(struct lwm2m_buf *b, const struct senml_rec *r, struct lwm2m_error *err)
{
	bool first = true;
	int rc = buf_append_byte(b, '{');

	if(!rc && (r->has & SENML_HAS_N)){
		rc = senml_json_put_key(b, &first, "n");
		if(!rc) rc = json_put_string(b, r->n.p, r->n.len);
	}
	if(rc) return rc;
	switch(r->vkind){
	case SENML_V_NUM:
		rc = senml_json_put_key(b, &first, "v");
		if(!rc) rc = json_put_num(b, &r->v, err);
		break;
	case SENML_V_STR:
	case SENML_V_OBJLNK:
		rc = senml_json_put_key(b, &first, r->vkind == SENML_V_STR ? "sv" : "ov");
		if(!rc) rc = json_put_string(b, r->vs.p, r->vs.len);
		break;
	case SENML_V_BOOL:
		rc = senml_json_put_key(b, &first, "bv");
		if(!rc) rc = buf_append(b, r->vb ? "true" : "false", r->vb ? 4 : 5);
		break;
	default:
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "OMA JSON: an entry without a value");
	}
	if(!rc && (r->has & SENML_HAS_T)){
		rc = senml_json_put_key(b, &first, "t");
		if(!rc) rc = json_put_num(b, &r->t, err);
	}
	if(!rc) rc = buf_append_byte(b, '}');
	return rc;
}

int omajson_write(const struct omajson_doc *d, struct lwm2m_buf *out, struct lwm2m_error *err)
{
	bool first = true;
	int rc = buf_append_byte(out, '{');

	if(!rc && d->has_bn){
		rc = senml_json_put_key(out, &first, "bn");
		if(!rc) rc = json_put_string(out, d->bn, d->bn_len);
	}
	if(!rc) rc = senml_json_put_key(out, &first, "e");
	if(!rc) rc = buf_append_byte(out, '[');
	for(size_t i = 0; !rc && i < d->e.count; i++){
		if(i) rc = buf_append_byte(out, ',');
		if(!rc) rc = write_entry(out, &d->e.recs[i], err);
	}
	if(!rc) rc = buf_append_byte(out, ']');
	if(!rc && d->has_bt){
		rc = senml_json_put_key(out, &first, "bt");
		if(!rc) rc = json_put_num(out, &d->bt, err);
	}
	if(!rc) rc = buf_append_byte(out, '}');
	return rc;
}

/* ---- encode ------------------------------------------------------------------------------ */

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The group every name is relative to: its depth, and the prefix shared by all nodes. */
static void choose_base(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct senml_opts *o, size_t *depth, const char **prefix, bool *leaf)
{
	const struct lwm2m_node *first = NULL;
	bool same_prefix = true, same_inst = true;

	*leaf = true;
	for(size_t i = 0; i < in->count; i++){
		const struct lwm2m_node *n = &in->items[i];
		if(n->kind != LWM2M_NODE_VALUE) continue;
		if(!first){
			first = n;
			continue;
		}
		if(!same_str(n->prefix, first->prefix)) same_prefix = false;
		if(n->path.ids[0] != first->path.ids[0] || n->path.ids[1] != first->path.ids[1])
			same_inst = false;
	}
	*prefix = first && same_prefix ? first->prefix : NULL;
	*depth = req ? req->len : 0;
	if(o->layout == SENML_LAYOUT_INSTANCE && first && same_inst) *depth = LWM2M_PATH_INSTANCE;
	if(!same_prefix) *depth = 0;
	for(size_t i = 0; i < in->count; i++){
		if(in->items[i].kind == LWM2M_NODE_VALUE && in->items[i].path.len > *depth) *leaf = false;
	}
	if(!first) *leaf = false;
}

static int value_to_entry(const struct lwm2m_value *v, struct senml_rec *r, char *lnk,
		struct lwm2m_buf *tmp, struct lwm2m_error *err)
{
	int rc;

	if(v->type != LWM2M_TYPE_OPAQUE) return senml_value_to_rec(v, false, r, lnk, err);
	/* LwM2M 1.0 JSON carries opaque as base64 in sv. */
	buf_reset(tmp);
	rc = senml_base64_encode(v->v.bytes.data, v->v.bytes.len, false, tmp);
	if(rc) return rc;
	r->vkind = SENML_V_STR;
	r->vs.p = tmp->data ? (const char *)tmp->data : "";
	r->vs.len = tmp->len;
	return 0;
}

int omajson_encode_ex(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		const struct senml_opts *opts, struct lwm2m_buf *out, struct lwm2m_error *err)
{
	static const struct senml_opts defaults;
	const struct senml_opts *o = opts ? opts : &defaults;
	struct lwm2m_buf base, full, tmp;
	const struct lwm2m_node *first = NULL;
	const char *prefix;
	size_t depth, nout = 0;
	bool leaf;
	int rc;

	if(req && req->len == 0) req = NULL;
	choose_base(in, req, o, &depth, &prefix, &leaf);
	for(size_t i = 0; i < in->count && !first; i++){
		if(in->items[i].kind == LWM2M_NODE_VALUE) first = &in->items[i];
	}
	buf_init(&base, 0);
	buf_init(&full, 0);
	buf_init(&tmp, 0);
	if(first) rc = senml_name_build(&base, o->alt_path, prefix, &first->path, depth);
	else rc = senml_name_build(&base, o->alt_path, NULL, req ? req : &(struct lwm2m_path){ 0 },
			req ? req->len : 0);
	if(!rc && !leaf) rc = buf_append_byte(&base, '/');
	if(!rc && base.len == 0) rc = buf_append_byte(&base, '/');
	if(!rc) rc = buf_append(out, "{\"bn\":", 6);
	if(!rc) rc = json_put_string(out, (const char *)base.data, base.len);
	if(!rc) rc = buf_append(out, ",\"e\":[", 6);
	for(size_t i = 0; i < in->count && !rc; i++){
		const struct lwm2m_node *n = &in->items[i];
		struct senml_rec r;
		char lnk[16];

		if(n->kind != LWM2M_NODE_VALUE) continue;
		memset(&r, 0, sizeof(r));
		buf_reset(&full);
		rc = senml_name_build(&full, o->alt_path, n->prefix, &n->path, n->path.len);
		if(rc) break;
		/* The base is built from the same parts, so it is a text prefix of every name. */
		if(full.len < base.len || memcmp(full.data, base.data, base.len)){
			rc = lwm2m_fail(err, LWM2M_EINVAL, -1, "OMA JSON: node %zu is outside the base name", i);
			break;
		}
		if(full.len > base.len){
			r.has |= SENML_HAS_N;
			r.n.p = (const char *)full.data + base.len;
			r.n.len = full.len - base.len;
		}
		if(n->has_time && n->time != 0.0){
			r.has |= SENML_HAS_T;
			json_num_from_double_int(&r.t, n->time);
		}
		rc = value_to_entry(&n->value, &r, lnk, &tmp, err);
		if(!rc && nout++) rc = buf_append_byte(out, ',');
		if(!rc) rc = write_entry(out, &r, err);
	}
	if(!rc) rc = buf_append(out, "]}", 2);
	buf_free(&base);
	buf_free(&full);
	buf_free(&tmp);
	return rc;
}

int omajson_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err)
{
	return omajson_encode_ex(in, req, typer, lim, NULL, out, err);
}
