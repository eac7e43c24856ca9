/* SenML CBOR (112) and SenML-ETCH CBOR (322): the CBOR record reader and writer, and the
 * decode/encode entry points.
 *
 * Reading uses the bounded zero-copy reader of fmt_internal.h: definite strings are slices
 * of the input; only indefinite strings are joined into a heap copy that lives until the
 * record has been handed over. Labels are RFC 8428 table 6; LwM2M's objlnk field "vlo" has
 * no integer label and comes as a text key (Zephyr writes it so). Numbers may be integers
 * of any width (negative ones down to -2^64), half/single/double floats, tag 4 decimal
 * fractions (Leshan writes bt so) and tag 1 epoch times. */
#include "fmt_senml.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum label {
	L_BVER = -1, L_BN = -2, L_BT = -3, L_BU = -4, L_BV = -5, L_BS = -6,
	L_N = 0, L_U = 1, L_V = 2, L_VS = 3, L_VB = 4, L_S = 5, L_T = 6, L_UT = 7, L_VD = 8,
	L_VLO = 100,     /* text key "vlo" */
	L_UNKNOWN = 101,
};

#define MAX_OWNED 8

struct crd {
	struct fmt_cbor_rd rd;
	size_t max_depth;
	uint8_t *owned[MAX_OWNED];   /* joined indefinite strings of the current record */
	size_t nowned;
};

/* The next item's head. Heads with their argument in the initial byte (labels, short
 * strings, small integers, map and array headers, simple values) or in the 1 to 8 bytes
 * after it (floats, longer strings) are read inline; the shared bounded reader takes the
 * rest: truncated, reserved or indefinite heads, and the two-byte simple value it checks. */
static inline int head(struct crd *c, struct fmt_cbor_head *h)
{
	const uint8_t *p = c->rd.p;
	size_t avail = (size_t)(c->rd.end - p), n;
	uint8_t ib, ai;

	if(avail == 0) return fmt_cbor_head(&c->rd, h);
	ib = *p;
	ai = ib & 0x1f;
	if(ai < 24){
		n = 0;
		h->arg = ai;
	}else if(ai <= 27 && ib != 0xf8 && avail > ((size_t)1 << (ai - 24))){
		n = (size_t)1 << (ai - 24);
		h->arg = fmt_cbor_be(p + 1, n);
	}else{
		return fmt_cbor_head(&c->rd, h);
	}
	h->off = (size_t)(p - c->rd.start);
	h->major = ib >> 5;
	h->ai = ai;
	h->indef = false;
	c->rd.p = p + 1 + n;
	return 0;
}

static void crd_release(struct crd *c)
{
	for(size_t i = 0; i < c->nowned; i++) free(c->owned[i]);
	c->nowned = 0;
}

static int cfail(struct crd *c, size_t off, int code, const char *what)
{
	return lwm2m_fail(c->rd.err, code, (long)off, "SenML CBOR: %s at byte %zu", what, off);
}

/* A text (major 3) or byte (major 2) string. UTF-8 is checked for values (names are
 * checked when they are resolved: digits, and a prefix that is checked there). */
static int read_string(struct crd *c, const struct fmt_cbor_head *h, struct senml_str *s,
		bool check_utf8)
{
	const uint8_t *d;
	uint8_t *owned = NULL;
	size_t n;
	int rc;

	if(!h->indef && h->arg <= (uint64_t)(c->rd.end - c->rd.p)){
		/* definite and within the input (nearly every string): a slice, no call */
		d = c->rd.p;
		n = (size_t)h->arg;
		c->rd.p += n;
	}else{
		rc = fmt_cbor_string(&c->rd, h, &d, &n, &owned);
		if(rc) return rc;
	}
	if(owned){
		if(c->nowned == MAX_OWNED){
			free(owned);
			return cfail(c, h->off, LWM2M_EINVAL, "too many strings in a record");
		}
		c->owned[c->nowned++] = owned;
	}
	if(check_utf8 && h->major == FMT_CBOR_TEXT && !fmt_text_valid(d, n))
		return cfail(c, h->off, LWM2M_EINVAL, "text string is not UTF-8");
	s->p = (const char *)d;
	s->len = n;
	return 0;
}

static int read_int(struct crd *c, struct json_num *out)
{
	struct fmt_cbor_head h;
	int rc = head(c, &h);

	if(rc) return rc;
	if(h.major == FMT_CBOR_UINT){
		json_num_from_uint(out, h.arg);
		return 0;
	}
	if(h.major == FMT_CBOR_NEGINT && h.arg <= (uint64_t)INT64_MAX){
		json_num_from_int(out, -1 - (int64_t)h.arg);
		return 0;
	}
	return cfail(c, h.off, LWM2M_EINVAL, "expected an integer in a decimal fraction");
}

/* Tag 4: [exponent, mantissa] = mantissa * 10^exponent. */
static int read_decimal_fraction(struct crd *c, size_t off, struct json_num *out)
{
	struct fmt_cbor_head h;
	struct json_num e, m;
	int rc = head(c, &h);

	if(rc) return rc;
	if(h.major != FMT_CBOR_ARRAY || h.indef || h.arg != 2)
		return cfail(c, off, LWM2M_EINVAL, "decimal fraction is not a two-item array");
	rc = read_int(c, &e);
	if(!rc) rc = read_int(c, &m);
	if(rc) return rc;
	if(e.kind != JSON_NUM_INT || e.i < -400 || e.i > 400)
		return cfail(c, off, LWM2M_ERANGE, "decimal fraction exponent out of range");
	if(e.i == 0){
		*out = m;
		return 0;
	}
	if(e.i > 0){
		int64_t v = m.kind == JSON_NUM_INT ? m.i : 0;
		bool exact = m.kind == JSON_NUM_INT;
		for(int64_t k = 0; exact && k < e.i; k++){
			if(__builtin_mul_overflow(v, (int64_t)10, &v)) exact = false;
		}
		if(exact){
			json_num_from_int(out, v);
			return 0;
		}
		json_num_from_double(out, m.f * pow(10.0, (double)e.i));
	} else {
		json_num_from_double(out, m.f / pow(10.0, (double)-e.i));
	}
	if(!isfinite(out->f)) return cfail(c, off, LWM2M_ERANGE, "decimal fraction out of range");
	return 0;
}

static double bits_to_double(uint64_t b)
{
	double d;
	memcpy(&d, &b, sizeof(d));
	return d;
}

static double bits_to_float(uint32_t b)
{
	float f;
	memcpy(&f, &b, sizeof(f));
	return f;
}

/* A number whose head was read (tags: 4 and 1 only). */
static int read_number(struct crd *c, const struct fmt_cbor_head *h, struct json_num *out,
		int tags)
{
	struct fmt_cbor_head inner;
	int rc;

	switch(h->major){
	case FMT_CBOR_UINT:
		json_num_from_uint(out, h->arg);
		return 0;
	case FMT_CBOR_NEGINT:
		if(h->arg <= (uint64_t)INT64_MAX){
			json_num_from_int(out, -1 - (int64_t)h->arg);
		} else {
			memset(out, 0, sizeof(*out));
			out->kind = JSON_NUM_BIGINT;
			out->f = -1.0 - (double)h->arg;
		}
		return 0;
	case FMT_CBOR_SIMPLE:
		if(h->ai == 25) json_num_from_double(out, fmt_half_to_double((uint16_t)h->arg));
		else if(h->ai == 26) json_num_from_double(out, bits_to_float((uint32_t)h->arg));
		else if(h->ai == 27) json_num_from_double(out, bits_to_double(h->arg));
		else break;
		return 0;
	case FMT_CBOR_TAG:
		if(tags > 2) break;
		if(h->arg == 4) return read_decimal_fraction(c, h->off, out);
		if(h->arg == 1){
			rc = head(c, &inner);
			return rc ? rc : read_number(c, &inner, out, tags + 1);
		}
		return cfail(c, h->off, LWM2M_ENOTSUP, "unsupported tag on a number");
	default:
		break;
	}
	return cfail(c, h->off, LWM2M_EINVAL, "expected a number");
}

static enum label label_of(struct crd *c, const struct fmt_cbor_head *h, int *rc,
		bool *must_understand)
{
	struct senml_str k;

	*rc = 0;
	*must_understand = false;
	if(h->major == FMT_CBOR_UINT) return h->arg <= 8 ? (enum label)h->arg : L_UNKNOWN;
	if(h->major == FMT_CBOR_NEGINT) return h->arg <= 5 ? (enum label)(-1 - (int)h->arg) : L_UNKNOWN;
	if(h->major == FMT_CBOR_TEXT){
		*rc = read_string(c, h, &k, false);
		if(*rc) return L_UNKNOWN;
		if(k.len == 3 && !memcmp(k.p, "vlo", 3)) return L_VLO;
		*must_understand = k.len && k.p[k.len - 1] == '_';
		return L_UNKNOWN;
	}
	*rc = cfail(c, h->off, LWM2M_EINVAL, "a record key must be an integer or a text");
	return L_UNKNOWN;
}

static uint32_t label_bit(enum label l)
{
	switch(l){
	case L_BVER: return SENML_HAS_BVER;
	case L_BN: return SENML_HAS_BN;
	case L_BT: return SENML_HAS_BT;
	case L_BU: return SENML_HAS_BU;
	case L_BV: return SENML_HAS_BV;
	case L_BS: return SENML_HAS_BS;
	case L_N: return SENML_HAS_N;
	case L_U: return SENML_HAS_U;
	case L_S: return SENML_HAS_S;
	case L_T: return SENML_HAS_T;
	case L_UT: return SENML_HAS_UT;
	default: return 0;
	}
}

static struct json_num *num_field(struct senml_rec *r, enum label l)
{
	switch(l){
	case L_BVER: return &r->bver;
	case L_BT: return &r->bt;
	case L_BV: return &r->bv;
	case L_BS: return &r->bs;
	case L_S: return &r->s;
	case L_T: return &r->t;
	case L_UT: return &r->ut;
	default: return NULL;
	}
}

static struct senml_str *str_field(struct senml_rec *r, enum label l)
{
	switch(l){
	case L_BN: return &r->bn;
	case L_BU: return &r->bu;
	case L_N: return &r->n;
	case L_U: return &r->u;
	default: return NULL;
	}
}

static bool is_simple(const struct fmt_cbor_head *h, unsigned v)
{
	return h->major == FMT_CBOR_SIMPLE && h->ai == v;
}

/* The value of one of v, vs, vb, vd, vlo. */
static int read_value(struct crd *c, struct senml_rec *r, enum label l)
{
	struct fmt_cbor_head h;
	int rc;

	if(r->vkind != SENML_V_NONE) return cfail(c, fmt_cbor_off(&c->rd), LWM2M_EINVAL,
			"a record carries two values");
	rc = head(c, &h);
	if(rc) return rc;
	if(is_simple(&h, 22)){
		r->vkind = SENML_V_NULL;
		return 0;
	}
	switch(l){
	case L_V:
		if(h.major == FMT_CBOR_TEXT){
			r->vkind = SENML_V_NUMTEXT;
			return read_string(c, &h, &r->vs, true);
		}
		r->vkind = SENML_V_NUM;
		return read_number(c, &h, &r->v, 0);
	case L_VS:
	case L_VLO:
		if(h.major != FMT_CBOR_TEXT) return cfail(c, h.off, LWM2M_EINVAL,
				l == L_VS ? "vs is not a text string" : "vlo is not a text string");
		r->vkind = l == L_VS ? SENML_V_STR : SENML_V_OBJLNK;
		return read_string(c, &h, &r->vs, true);
	case L_VD:
		if(h.major != FMT_CBOR_BYTES) return cfail(c, h.off, LWM2M_EINVAL,
				"vd is not a byte string");
		r->vkind = SENML_V_DATA;
		return read_string(c, &h, &r->vs, false);
	case L_VB:
		if(!is_simple(&h, 20) && !is_simple(&h, 21))
			return cfail(c, h.off, LWM2M_EINVAL, "vb is not a boolean");
		r->vkind = SENML_V_BOOL;
		r->vb = h.ai == 21;
		return 0;
	default:
		return cfail(c, h.off, LWM2M_EINVAL, "unexpected value field");
	}
}

static int read_field(struct crd *c, struct senml_rec *r)
{
	struct fmt_cbor_head h;
	bool must;
	enum label l;
	uint32_t bit;
	int rc = head(c, &h);

	if(rc) return rc;
	l = label_of(c, &h, &rc, &must);
	if(rc) return rc;
	if(l == L_UNKNOWN){
		if(must) return cfail(c, h.off, LWM2M_EINVAL, "must-understand field");
		return fmt_cbor_skip(&c->rd, c->max_depth > 2 ? c->max_depth - 2 : 1);
	}
	bit = label_bit(l);
	if(!bit) return read_value(c, r, l);
	if(r->has & bit) return cfail(c, h.off, LWM2M_EINVAL, "a field appears twice");
	r->has |= bit;
	rc = head(c, &h);
	if(rc) return rc;
	if(num_field(r, l)) return read_number(c, &h, num_field(r, l), 0);
	if(h.major != FMT_CBOR_TEXT) return cfail(c, h.off, LWM2M_EINVAL, "a name or unit is not a text string");
	return read_string(c, &h, str_field(r, l), false);
}

static int read_record(struct crd *c, struct senml_rec *r)
{
	struct fmt_cbor_head h;
	int rc = head(c, &h);

	if(rc) return rc;
	/* Only what says which fields are present: the rest is read under those flags. */
	r->has = 0;
	r->vkind = SENML_V_NONE;
	r->data_b64 = false;
	r->offset = h.off;
	if(h.major != FMT_CBOR_MAP) return cfail(c, h.off, LWM2M_EINVAL, "a record is not a map");
	if(h.indef){
		while(!fmt_cbor_break(&c->rd)){
			rc = read_field(c, r);
			if(rc) return rc;
		}
		return 0;
	}
	/* Every pair takes at least two bytes: a larger count cannot be right. */
	if(h.arg > (uint64_t)(c->rd.end - c->rd.p) / 2)
		return cfail(c, h.off, LWM2M_EINVAL, "record map has more pairs than the input has bytes");
	for(uint64_t i = 0; i < h.arg; i++){
		rc = read_field(c, r);
		if(rc) return rc;
	}
	return 0;
}

int senml_cbor_records(const uint8_t *buf, size_t len, const struct fmt_limits *lim,
		senml_rec_fn fn, void *ctx, struct lwm2m_error *err)
{
	struct fmt_cbor_head h;
	struct senml_rec r;
	struct crd c;
	uint64_t i = 0;
	int rc;

	/* An empty payload is an empty pack (Leshan: an empty object, instance, resource). */
	if(len == 0) return 0;
	memset(&c, 0, sizeof(c));
	fmt_cbor_rd_init(&c.rd, buf, len, err);
	c.max_depth = fmt_limits_depth(lim);
	rc = head(&c, &h);
	if(rc) return rc;
	if(h.major != FMT_CBOR_ARRAY) return cfail(&c, h.off, LWM2M_EINVAL, "the pack is not an array");
	if(!h.indef && h.arg > (uint64_t)(c.rd.end - c.rd.p))
		return cfail(&c, h.off, LWM2M_EINVAL, "the pack has more records than the input has bytes");
	while(!rc && (h.indef ? !fmt_cbor_break(&c.rd) : i < h.arg)){
		rc = read_record(&c, &r);
		if(!rc) rc = fn(ctx, &r);
		crd_release(&c);
		i++;
	}
	if(!rc && !fmt_cbor_at_end(&c.rd))
		rc = cfail(&c, fmt_cbor_off(&c.rd), LWM2M_EINVAL, "data after the pack");
	return rc;
}

int senml_cbor_parse(const uint8_t *buf, size_t len, const struct fmt_limits *lim,
		struct senml_pack *out, struct lwm2m_error *err)
{
	int rc = senml_cbor_records(buf, len, lim, senml_pack_add_cb, out, err);

	if(rc == -LWM2M_ENOMEM && err && !err->msg[0])
		lwm2m_fail(err, rc, -1, "SenML CBOR: out of memory");
	return rc;
}

/* ---- writer ------------------------------------------------------------------------------ */

static int put_num(struct lwm2m_buf *b, const struct json_num *n)
{
	switch(n->kind){
	case JSON_NUM_INT: return fmt_cbor_put_int(b, n->i);
	case JSON_NUM_UINT: return fmt_cbor_put_head(b, FMT_CBOR_UINT, n->u);
	default: return fmt_cbor_put_double(b, n->f);
	}
}

static int put_label_num(struct lwm2m_buf *b, int label, const struct json_num *n)
{
	int rc = fmt_cbor_put_int(b, label);
	return rc ? rc : put_num(b, n);
}

static int put_label_str(struct lwm2m_buf *b, int label, uint8_t major, const struct senml_str *s)
{
	int rc = fmt_cbor_put_int(b, label);
	return rc ? rc : fmt_cbor_put_string(b, major, s->p ? s->p : "", s->len);
}

static int put_value(struct lwm2m_buf *b, const struct senml_rec *r, struct lwm2m_error *err)
{
	static const struct senml_str vlo = { "vlo", 3 };
	uint8_t *data;
	size_t n;
	int rc;

	switch(r->vkind){
	case SENML_V_NONE:
		return 0;
	case SENML_V_NUM:
		return put_label_num(b, L_V, &r->v);
	case SENML_V_NULL:
		rc = fmt_cbor_put_int(b, L_V);
		return rc ? rc : fmt_cbor_put_head(b, FMT_CBOR_SIMPLE, 22);
	case SENML_V_NUMTEXT:
		return put_label_str(b, L_V, FMT_CBOR_TEXT, &r->vs);
	case SENML_V_STR:
		return put_label_str(b, L_VS, FMT_CBOR_TEXT, &r->vs);
	case SENML_V_BOOL:
		rc = fmt_cbor_put_int(b, L_VB);
		return rc ? rc : fmt_cbor_put_head(b, FMT_CBOR_SIMPLE, r->vb ? 21 : 20);
	case SENML_V_OBJLNK:
		rc = fmt_cbor_put_string(b, FMT_CBOR_TEXT, vlo.p, vlo.len);
		return rc ? rc : fmt_cbor_put_string(b, FMT_CBOR_TEXT, r->vs.p, r->vs.len);
	case SENML_V_DATA:
		if(!r->data_b64) return put_label_str(b, L_VD, FMT_CBOR_BYTES, &r->vs);
		rc = senml_base64_decode(r->vs.p, r->vs.len, &data, &n);
		if(rc) return lwm2m_fail(err, rc, -1, "SenML CBOR: vd is not base64");
		rc = fmt_cbor_put_int(b, L_VD);
		if(!rc) rc = fmt_cbor_put_string(b, FMT_CBOR_BYTES, data, n);
		free(data);
		return rc;
	}
	return lwm2m_fail(err, LWM2M_EINVAL, -1, "SenML CBOR: unknown value kind %d", (int)r->vkind);
}

/* bt as Leshan writes it: tag 4 [0, m] for an integral time. */
static int put_bt(struct lwm2m_buf *b, const struct json_num *bt, bool tag4)
{
	int rc = fmt_cbor_put_int(b, L_BT);

	if(rc) return rc;
	if(!tag4 || bt->kind != JSON_NUM_INT) return put_num(b, bt);
	rc = fmt_cbor_put_head(b, FMT_CBOR_TAG, 4);
	if(!rc) rc = fmt_cbor_put_head(b, FMT_CBOR_ARRAY, 2);
	if(!rc) rc = fmt_cbor_put_int(b, 0);
	if(!rc) rc = fmt_cbor_put_int(b, bt->i);
	return rc;
}

static int write_rec(struct lwm2m_buf *b, const struct senml_rec *r, bool tag4,
		struct lwm2m_error *err)
{
	uint64_t pairs = (uint64_t)__builtin_popcount(r->has & 0x7ffu) + (r->vkind != SENML_V_NONE);
	int rc = fmt_cbor_put_head(b, FMT_CBOR_MAP, pairs);

	if(!rc && (r->has & SENML_HAS_BVER)) rc = put_label_num(b, L_BVER, &r->bver);
	if(!rc && (r->has & SENML_HAS_BN)) rc = put_label_str(b, L_BN, FMT_CBOR_TEXT, &r->bn);
	if(!rc && (r->has & SENML_HAS_BT)) rc = put_bt(b, &r->bt, tag4);
	if(!rc && (r->has & SENML_HAS_BU)) rc = put_label_str(b, L_BU, FMT_CBOR_TEXT, &r->bu);
	if(!rc && (r->has & SENML_HAS_BV)) rc = put_label_num(b, L_BV, &r->bv);
	if(!rc && (r->has & SENML_HAS_BS)) rc = put_label_num(b, L_BS, &r->bs);
	if(!rc && (r->has & SENML_HAS_N)) rc = put_label_str(b, L_N, FMT_CBOR_TEXT, &r->n);
	if(!rc && (r->has & SENML_HAS_U)) rc = put_label_str(b, L_U, FMT_CBOR_TEXT, &r->u);
	if(!rc && (r->has & SENML_HAS_T)) rc = put_label_num(b, L_T, &r->t);
	if(!rc && (r->has & SENML_HAS_UT)) rc = put_label_num(b, L_UT, &r->ut);
	if(!rc) rc = put_value(b, r, err);
	if(!rc && (r->has & SENML_HAS_S)) rc = put_label_num(b, L_S, &r->s);
	return rc;
}

int senml_cbor_write(const struct senml_rec *recs, size_t n, struct lwm2m_buf *out,
		struct lwm2m_error *err)
{
	int rc = fmt_cbor_put_head(out, FMT_CBOR_ARRAY, n);

	for(size_t i = 0; !rc && i < n; i++) rc = write_rec(out, &recs[i], false, err);
	return rc;
}

/* ---- entry points ------------------------------------------------------------------------ */

int senml_cbor_decode_ex(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		const struct senml_opts *opts, bool etch, struct lwm2m_nodes *out,
		struct lwm2m_error *err)
{
	return senml_decode_nodes(senml_cbor_records, etch ? "SenML-ETCH CBOR" : "SenML CBOR", buf, len,
			req, typer, lim, opts, etch, out, err);
}

struct cbor_emit {
	struct lwm2m_buf *out;
	struct lwm2m_error *err;
	bool tag4;
};

static int cbor_emit_rec(void *ctx, const struct senml_rec *r)
{
	struct cbor_emit *e = ctx;
	return write_rec(e->out, r, e->tag4, e->err);
}

int senml_cbor_encode_ex(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		const struct senml_opts *opts, bool etch, struct lwm2m_buf *out,
		struct lwm2m_error *err)
{
	struct cbor_emit e = { out, err, opts && opts->cbor_bt_tag4 };
	int rc = fmt_cbor_put_head(out, FMT_CBOR_ARRAY, senml_enc_count(in));

	if(!rc) rc = senml_enc_walk(in, req, opts, etch, cbor_emit_rec, &e, err);
	return rc;
}

int senml_cbor_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	return senml_cbor_decode_ex(buf, len, req, typer, lim, NULL, false, out, err);
}

int senml_cbor_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err)
{
	return senml_cbor_encode_ex(in, req, typer, lim, NULL, false, out, err);
}

int senml_etch_cbor_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	return senml_cbor_decode_ex(buf, len, req, typer, lim, NULL, true, out, err);
}

int senml_etch_cbor_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err)
{
	return senml_cbor_encode_ex(in, req, typer, lim, NULL, true, out, err);
}
