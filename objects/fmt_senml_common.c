/* The SenML record model shared by SenML JSON/CBOR, SenML-ETCH and OMA JSON: record
 * resolution (base fields, names, times, types) into nodes, the encoders' naming walk,
 * record packs and base64. */
#include "fmt_senml.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest gateway end-device prefix accepted (they are short identifiers, "d01"). */
#define SENML_PREFIX_MAX 255

/* ---- packs ------------------------------------------------------------------------------ */

struct senml_pack_blk {
	struct senml_pack_blk *next;
	char data[];
};

void senml_pack_init(struct senml_pack *p)
{
	memset(p, 0, sizeof(*p));
}

void senml_pack_free(struct senml_pack *p)
{
	if(!p) return;
	while(p->blocks){
		struct senml_pack_blk *next = p->blocks->next;
		free(p->blocks);
		p->blocks = next;
	}
	free(p->recs);
	memset(p, 0, sizeof(*p));
}

static int pack_copy_str(struct senml_pack *p, struct senml_str *dst, const struct senml_str *src)
{
	struct senml_pack_blk *b;

	b = malloc(sizeof(*b) + src->len + 1);
	if(!b) return -LWM2M_ENOMEM;
	if(src->len) memcpy(b->data, src->p, src->len);
	b->data[src->len] = '\0';
	b->next = p->blocks;
	p->blocks = b;
	dst->p = b->data;
	dst->len = src->len;
	return 0;
}

/* Only what the flags say is present is read from `r` (readers leave the rest unset). */
int senml_pack_add(struct senml_pack *p, const struct senml_rec *r)
{
	static const struct { uint32_t bit; size_t off; } strs[] = {
		{ SENML_HAS_BN, offsetof(struct senml_rec, bn) }, { SENML_HAS_BU, offsetof(struct senml_rec, bu) },
		{ SENML_HAS_N, offsetof(struct senml_rec, n) }, { SENML_HAS_U, offsetof(struct senml_rec, u) },
	};
	static const struct { uint32_t bit; size_t off; } nums[] = {
		{ SENML_HAS_BT, offsetof(struct senml_rec, bt) }, { SENML_HAS_BV, offsetof(struct senml_rec, bv) },
		{ SENML_HAS_BS, offsetof(struct senml_rec, bs) }, { SENML_HAS_BVER, offsetof(struct senml_rec, bver) },
		{ SENML_HAS_S, offsetof(struct senml_rec, s) }, { SENML_HAS_T, offsetof(struct senml_rec, t) },
		{ SENML_HAS_UT, offsetof(struct senml_rec, ut) },
	};
	struct senml_rec *c;
	int rc = 0;

	if(p->count == p->cap){
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct senml_rec *recs = realloc(p->recs, cap * sizeof(*recs));
		if(!recs) return -LWM2M_ENOMEM;
		p->recs = recs;
		p->cap = cap;
	}
	c = &p->recs[p->count];
	memset(c, 0, sizeof(*c));
	c->has = r->has;
	c->vkind = r->vkind;
	c->offset = r->offset;
	for(size_t i = 0; i < sizeof(strs) / sizeof(strs[0]) && !rc; i++){
		if(r->has & strs[i].bit)
			rc = pack_copy_str(p, (struct senml_str *)((char *)c + strs[i].off),
					(const struct senml_str *)((const char *)r + strs[i].off));
	}
	for(size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++){
		if(r->has & nums[i].bit)
			memcpy((char *)c + nums[i].off, (const char *)r + nums[i].off, sizeof(struct json_num));
	}
	switch(r->vkind){
	case SENML_V_NUM:
		c->v = r->v;
		break;
	case SENML_V_BOOL:
		c->vb = r->vb;
		break;
	case SENML_V_STR:
	case SENML_V_DATA:
	case SENML_V_OBJLNK:
	case SENML_V_NUMTEXT:
		c->data_b64 = r->data_b64;
		if(!rc) rc = pack_copy_str(p, &c->vs, &r->vs);
		break;
	default:
		break;
	}
	if(rc) return rc;
	p->count++;
	return 0;
}

int senml_pack_add_cb(void *pack, const struct senml_rec *r)
{
	return senml_pack_add(pack, r);
}

/* ---- base64 ----------------------------------------------------------------------------- */

int senml_base64_encode(const uint8_t *p, size_t len, bool url, struct lwm2m_buf *out)
{
	const char *abc = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i = 0;
	int rc = buf_reserve(out, (len + 2) / 3 * 4);

	for(; !rc && i + 3 <= len; i += 3){
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		char q[4] = { abc[v >> 18], abc[(v >> 12) & 63], abc[(v >> 6) & 63], abc[v & 63] };
		rc = buf_append(out, q, 4);
	}
	if(!rc && len - i == 1){
		uint32_t v = (uint32_t)p[i] << 16;
		char q[4] = { abc[v >> 18], abc[(v >> 12) & 63], '=', '=' };
		rc = buf_append(out, q, url ? 2 : 4);
	} else if(!rc && len - i == 2){
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		char q[4] = { abc[v >> 18], abc[(v >> 12) & 63], abc[(v >> 6) & 63], '=' };
		rc = buf_append(out, q, url ? 3 : 4);
	}
	return rc;
}

static int b64_val(char c)
{
	if(c >= 'A' && c <= 'Z') return c - 'A';
	if(c >= 'a' && c <= 'z') return c - 'a' + 26;
	if(c >= '0' && c <= '9') return c - '0' + 52;
	if(c == '+' || c == '-') return 62;
	if(c == '/' || c == '_') return 63;
	return -1;
}

int senml_base64_decode(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t *o;
	size_t n = 0, pad = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	/* Padding, when present, completes the last quantum exactly. */
	while(pad < 2 && len > 0 && s[len - 1] == '='){
		len--;
		pad++;
	}
	if(len % 4 == 1 || (pad && (len + pad) % 4)) return -LWM2M_EINVAL;
	o = malloc(len / 4 * 3 + 3);
	if(!o) return -LWM2M_ENOMEM;
	for(size_t i = 0; i < len; i++){
		int v = b64_val(s[i]);
		if(v < 0){
			free(o);
			return -LWM2M_EINVAL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if(bits >= 8){
			bits -= 8;
			o[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero (canonical form). */
	if(bits && (acc & ((1u << bits) - 1))){
		free(o);
		return -LWM2M_EINVAL;
	}
	o[n] = '\0';
	*out = o;
	*out_len = n;
	return 0;
}

/* ---- names ------------------------------------------------------------------------------ */

void senml_alt_trim(const char *alt_path, const char **core, size_t *len)
{
	size_t n;

	*core = "";
	*len = 0;
	if(!alt_path) return;
	while(*alt_path == '/') alt_path++;
	n = strlen(alt_path);
	while(n > 0 && alt_path[n - 1] == '/') n--;
	*core = alt_path;
	*len = n;
}

int senml_name_build(struct lwm2m_buf *b, const char *alt_path, const char *prefix,
		const struct lwm2m_path *p, size_t depth)
{
	const char *alt;
	size_t alt_len;
	int rc = 0;

	senml_alt_trim(alt_path, &alt, &alt_len);
	if(alt_len){
		rc = buf_append_byte(b, '/');
		if(!rc) rc = buf_append(b, alt, alt_len);
	}
	if(!rc && prefix){
		rc = buf_append_byte(b, '/');
		if(!rc) rc = buf_append(b, prefix, strlen(prefix));
	}
	for(size_t i = 0; !rc && i < depth && i < p->len; i++){
		char id[8];
		int w = snprintf(id, sizeof(id), "/%u", (unsigned)p->ids[i]);
		rc = buf_append(b, id, (size_t)w);
	}
	return rc;
}

/* Name -> [prefix] path, in one pass over the text. Returns a static description of what
 * is wrong, or NULL. */
static const char *parse_name(const char *s, size_t len, const char *alt, size_t alt_len,
		struct lwm2m_path *p, const char **pfx, size_t *pfx_len)
{
	size_t pos = 0;

	p->len = 0;
	*pfx = NULL;
	*pfx_len = 0;
	if(pos < len && s[pos] == '/') pos++;
	if(alt_len && len - pos >= alt_len && !memcmp(s + pos, alt, alt_len) &&
			(len - pos == alt_len || s[pos + alt_len] == '/')){
		pos += alt_len;
		if(pos < len) pos++;
	}
	while(pos < len){
		size_t start = pos;
		uint32_t v = 0;
		unsigned d;

		/* Digits first (the common case), clamping above the ID range. */
		while(pos < len && (d = (unsigned)(unsigned char)s[pos] - '0') <= 9){
			v = v <= LWM2M_ID_MAX ? v * 10u + d : v;
			pos++;
		}
		if(pos < len && s[pos] != '/'){
			/* Only the first segment may be a gateway end-device prefix. */
			if(*pfx || p->len) return "non-numeric ID";
			while(pos < len && s[pos] != '/') pos++;
			for(size_t i = start; i < pos; i++){
				if((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return "control character";
			}
			if(pos - start > SENML_PREFIX_MAX) return "gateway prefix longer than 255 bytes";
			if(!fmt_utf8_valid((const uint8_t *)s + start, pos - start)) return "prefix is not UTF-8";
			*pfx = s + start;
			*pfx_len = pos - start;
		} else if(pos == start){
			return "empty segment";
		} else {
			if(p->len == LWM2M_PATH_MAX_DEPTH) return "more than four levels";
			if(v > LWM2M_ID_MAX) return "ID above 65535";
			p->ids[p->len++] = (uint16_t)v;
		}
		if(pos < len) pos++;   /* the '/'; one trailing '/' is tolerated */
	}
	if(*pfx && p->len == 0) return "prefix without a path";
	return NULL;
}

/* ---- decoding --------------------------------------------------------------------------- */

void senml_dec_init(struct senml_dec *s, size_t input_len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim, const char *alt_path,
		enum senml_mode mode, const char *fmt_name, struct lwm2m_nodes *out,
		struct lwm2m_error *err)
{
	memset(s, 0, sizeof(*s));
	fmt_dec_init(&s->d, typer, lim, input_len, out, err);
	s->req = req && req->len ? req : NULL;
	senml_alt_trim(alt_path, &s->alt, &s->alt_len);
	s->mode = mode;
	s->fmt_name = fmt_name;
	s->first = out ? out->count : 0;
}

static int rec_fail(struct senml_dec *s, const struct senml_rec *r, int code, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));

static int rec_fail(struct senml_dec *s, const struct senml_rec *r, int code, const char *fmt,
		...)
{
	char what[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return lwm2m_fail(s->d.err, code, (long)r->offset, "%s: record %zu (byte %zu): %s",
			s->fmt_name, s->nrec, r->offset, what);
}

static int set_bn(struct senml_dec *s, const struct senml_str *bn)
{
	const char *pfx;
	size_t pfx_len;

	if(bn->len >= s->bn_cap){
		size_t cap = bn->len + 1 < 64 ? 64 : bn->len + 1;
		char *p = realloc(s->bn, cap);
		if(!p) return -LWM2M_ENOMEM;
		s->bn = p;
		s->bn_cap = cap;
	}
	if(bn->len) memcpy(s->bn, bn->p, bn->len);
	s->bn_len = bn->len;
	s->bn_fast = bn->len >= 2 && s->bn[bn->len - 1] == '/' &&
			!parse_name(s->bn, bn->len, s->alt, s->alt_len, &s->bn_path, &pfx, &pfx_len) &&
			s->bn_path.len >= 1;
	if(s->bn_fast){
		s->bn_pfx_off = pfx ? (size_t)(pfx - s->bn) : 0;
		s->bn_pfx_len = pfx ? pfx_len : 0;
	}
	return 0;
}

/* n after a resolved base name: numeric segments only, or false (the full parser then
 * decides, with its message). */
static bool parse_rest(const struct senml_dec *s, const struct senml_str *n, struct lwm2m_path *p)
{
	size_t pos = 0;

	*p = s->bn_path;
	while(pos < n->len){
		size_t start = pos;
		uint32_t v = 0;
		for(; pos < n->len && n->p[pos] != '/'; pos++){
			unsigned d = (unsigned)(unsigned char)n->p[pos] - '0';
			if(d > 9) return false;
			v = v * 10u + d;
			if(v > LWM2M_ID_MAX) return false;
		}
		if(pos == start || p->len == LWM2M_PATH_MAX_DEPTH) return false;
		p->ids[p->len++] = (uint16_t)v;
		if(pos < n->len) pos++;
	}
	return true;
}

/* v + bv (RFC 8428 base value), exactly when both are integers; false when the sum
 * overflows a double. */
static bool apply_bv(const struct senml_dec *s, const struct json_num *v, struct json_num *out)
{
	int64_t sum;

	*out = *v;
	if(!s->has_bv) return true;
	if(v->kind == JSON_NUM_INT && s->bv.kind == JSON_NUM_INT &&
			!__builtin_add_overflow(v->i, s->bv.i, &sum)){
		json_num_from_int(out, sum);
		return true;
	}
	json_num_from_double(out, v->f + s->bv.f);
	return isfinite(out->f) || !isfinite(v->f);
}

/* The record's name (bn + n), printable and bounded, for messages. */
static const char *rec_name(const struct senml_dec *s, const struct senml_rec *r, char *dst,
		size_t cap)
{
	size_t k = 0;

	for(size_t part = 0; part < 2; part++){
		const char *p = part ? ((r->has & SENML_HAS_N) ? r->n.p : NULL) : s->bn;
		size_t n = part ? ((r->has & SENML_HAS_N) ? r->n.len : 0) : s->bn_len;
		for(size_t i = 0; i < n && k + 4 < cap; i++){
			unsigned char c = (unsigned char)p[i];
			dst[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		}
	}
	if(k + 4 >= cap) memcpy(dst + k, "...", 3), k += 3;
	dst[k] = '\0';
	return dst;
}

#define NAME rec_name(s, r, nbuf, sizeof(nbuf))

static bool integral(double f)
{
	return isfinite(f) && f == floor(f);
}

static int num_value(struct senml_dec *s, const struct senml_rec *r, const struct json_num *n,
		enum lwm2m_type want, struct lwm2m_value *out)
{
	char nbuf[64];

	switch(want){
	case LWM2M_TYPE_NONE:
		if(s->oma || n->kind == JSON_NUM_FLOAT || n->kind == JSON_NUM_BIGINT){
			out->type = LWM2M_TYPE_FLOAT;
			out->v.f = n->f;
		} else if(n->kind == JSON_NUM_UINT){
			out->type = LWM2M_TYPE_UNSIGNED;
			out->v.u = n->u;
		} else {
			out->type = LWM2M_TYPE_INTEGER;
			out->v.i = n->i;
		}
		return 0;
	case LWM2M_TYPE_FLOAT:
		out->type = want;
		out->v.f = n->f;
		return 0;
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		out->type = want;
		if(n->kind == JSON_NUM_INT){
			out->v.i = n->i;
			return 0;
		}
		if(n->kind == JSON_NUM_FLOAT && (integral(n->f) || (want == LWM2M_TYPE_TIME && isfinite(n->f)))){
			double t = trunc(n->f);
			if(t >= -9223372036854775808.0 && t < 9223372036854775808.0){
				out->v.i = (int64_t)t;
				return 0;
			}
		} else if(n->kind == JSON_NUM_FLOAT){
			return rec_fail(s, r, LWM2M_ETYPE, "%s: %s expects an integer", NAME,
					lwm2m_type_name(want));
		}
		return rec_fail(s, r, LWM2M_ERANGE, "%s: value out of range for %s", NAME,
				lwm2m_type_name(want));
	case LWM2M_TYPE_UNSIGNED:
		out->type = want;
		if(n->kind == JSON_NUM_INT && n->i >= 0){
			out->v.u = (uint64_t)n->i;
			return 0;
		}
		if(n->kind == JSON_NUM_UINT){
			out->v.u = n->u;
			return 0;
		}
		if(n->kind == JSON_NUM_FLOAT && !integral(n->f))
			return rec_fail(s, r, LWM2M_ETYPE, "%s: unsigned expects an integer", NAME);
		if(n->kind == JSON_NUM_FLOAT && n->f >= 0 && n->f < 18446744073709551616.0){
			out->v.u = (uint64_t)n->f;
			return 0;
		}
		return rec_fail(s, r, LWM2M_ERANGE, "%s: value out of range for unsigned", NAME);
	default:
		return rec_fail(s, r, LWM2M_ETYPE, "%s: a number for a resource of type %s", NAME,
				lwm2m_type_name(want));
	}
}

static int objlnk_value(struct senml_dec *s, const struct senml_rec *r, struct lwm2m_value *out)
{
	char nbuf[64];
	size_t len = r->vs.len;
	uint16_t o, i;

	/* Zephyr's CBOR writer appends a NUL to object links. */
	if(len && r->vs.p[len - 1] == '\0') len--;
	if(fmt_parse_objlnk(r->vs.p, len, &o, &i))
		return rec_fail(s, r, LWM2M_EINVAL, "%s: bad object link", NAME);
	out->type = LWM2M_TYPE_OBJLNK;
	out->v.lnk.obj = o;
	out->v.lnk.inst = i;
	return 0;
}

static int bytes_value(struct senml_dec *s, const struct senml_rec *r, enum lwm2m_type t,
		bool b64, struct lwm2m_value *out)
{
	char nbuf[64];
	uint8_t *data;
	size_t n;

	if(!b64){
		if(s->d.pool ? node_pool_set_bytes(s->d.pool, out, t, r->vs.p, r->vs.len) :
				value_set_bytes(out, t, r->vs.p, r->vs.len))
			return lwm2m_fail(s->d.err, LWM2M_ENOMEM, -1, "%s: out of memory", s->fmt_name);
		return 0;
	}
	int rc = senml_base64_decode(r->vs.p, r->vs.len, &data, &n);
	if(rc == -LWM2M_ENOMEM) return lwm2m_fail(s->d.err, rc, -1, "%s: out of memory", s->fmt_name);
	if(rc) return rec_fail(s, r, LWM2M_EINVAL, "%s: bad base64 in %s", NAME, s->oma ? "sv" : "vd");
	out->type = t;
	out->v.bytes.data = data;
	out->v.bytes.len = n;
	return 0;
}

static int rec_value(struct senml_dec *s, const struct senml_rec *r, enum lwm2m_type want,
		struct lwm2m_value *out)
{
	char nbuf[64];
	struct json_num n;

	switch(r->vkind){
	case SENML_V_NUM:
		if(!apply_bv(s, &r->v, &n))
			return rec_fail(s, r, LWM2M_ERANGE, "%s: v + bv is out of range", NAME);
		return num_value(s, r, &n, want, out);
	case SENML_V_STR:
		if(want == LWM2M_TYPE_NONE || want == LWM2M_TYPE_STRING || want == LWM2M_TYPE_CORELNK)
			return bytes_value(s, r, want == LWM2M_TYPE_NONE ? LWM2M_TYPE_STRING : want,
					false, out);
		if(want == LWM2M_TYPE_OBJLNK) return objlnk_value(s, r, out);
		if(want == LWM2M_TYPE_OPAQUE && s->oma)
			return bytes_value(s, r, LWM2M_TYPE_OPAQUE, true, out);
		break;
	case SENML_V_NUMTEXT:
		if(want == LWM2M_TYPE_OBJLNK) return objlnk_value(s, r, out);
		return rec_fail(s, r, LWM2M_ETYPE, "%s: v holds a text string", NAME);
	case SENML_V_BOOL:
		if(want == LWM2M_TYPE_NONE || want == LWM2M_TYPE_BOOLEAN){
			out->type = LWM2M_TYPE_BOOLEAN;
			out->v.b = r->vb;
			return 0;
		}
		break;
	case SENML_V_DATA:
		if(want == LWM2M_TYPE_NONE || want == LWM2M_TYPE_OPAQUE)
			return bytes_value(s, r, LWM2M_TYPE_OPAQUE, r->data_b64, out);
		break;
	case SENML_V_OBJLNK:
		if(want == LWM2M_TYPE_NONE || want == LWM2M_TYPE_OBJLNK)
			return objlnk_value(s, r, out);
		break;
	default:
		break;
	}
	static const char *const field[] = {
		[SENML_V_STR] = "a string", [SENML_V_BOOL] = "a boolean",
		[SENML_V_DATA] = "opaque data", [SENML_V_OBJLNK] = "an object link",
	};
	const char *what = (size_t)r->vkind < sizeof(field) / sizeof(field[0]) && field[r->vkind] ?
			field[r->vkind] : "a value";
	return rec_fail(s, r, LWM2M_ETYPE, "%s: %s for a resource of type %s", NAME, what,
			lwm2m_type_name(want));
}

static int dec_fail_nomem(struct senml_dec *s)
{
	return lwm2m_fail(s->d.err, LWM2M_ENOMEM, -1, "%s: out of memory", s->fmt_name);
}

static int push_path(struct senml_dec *s, const struct senml_rec *r, const struct lwm2m_path *p,
		const char *pfx, size_t pfx_len)
{
	if(s->npaths >= s->d.max_nodes)
		return rec_fail(s, r, LWM2M_ETOOBIG, "more than %zu paths", s->d.max_nodes);
	if(s->npaths == s->paths_cap){
		size_t cap = s->paths_cap ? s->paths_cap * 2 : 8;
		struct lwm2m_path *np = realloc(s->paths, cap * sizeof(*np));
		if(!np) return dec_fail_nomem(s);
		s->paths = np;
		if(s->want_prefixes){
			char **pp = realloc(s->prefixes, cap * sizeof(*pp));
			if(!pp) return dec_fail_nomem(s);
			s->prefixes = pp;
		}
		s->paths_cap = cap;
	}
	if(s->want_prefixes){
		s->prefixes[s->npaths] = NULL;
		if(pfx && !(s->prefixes[s->npaths] = strndup(pfx, pfx_len))) return dec_fail_nomem(s);
	}
	s->paths[s->npaths++] = *p;
	return 0;
}

/* bn + n -> [prefix] path. *why says what is wrong with the name (NULL when nothing is);
 * the return value is non-zero only when memory runs out. */
static int resolve_name(struct senml_dec *s, const struct senml_rec *r, struct lwm2m_path *p,
		const char **pfx, size_t *pfx_len, const char **why)
{
	bool has_n = (r->has & SENML_HAS_N) && r->n.len;
	size_t nlen = s->bn_len + (has_n ? r->n.len : 0);

	/* A base name resolved once, plus plain IDs in n: no text to join. */
	if(s->bn_fast && (!has_n || r->n.p[0] != '/') && (!has_n || parse_rest(s, &r->n, p))){
		if(!has_n) *p = s->bn_path;
		*pfx = s->bn_pfx_len ? s->bn + s->bn_pfx_off : NULL;
		*pfx_len = s->bn_pfx_len;
		*why = NULL;
		return 0;
	}
	if(nlen == 0){
		*why = "no name (bn + n is empty)";
		return 0;
	}
	if(!has_n){
		*why = parse_name(s->bn, s->bn_len, s->alt, s->alt_len, p, pfx, pfx_len);
		return 0;
	}
	if(nlen > s->name_cap){
		char *nm = realloc(s->name, nlen);
		if(!nm) return dec_fail_nomem(s);
		s->name = nm;
		s->name_cap = nlen;
	}
	if(s->bn_len) memcpy(s->name, s->bn, s->bn_len);
	memcpy(s->name + s->bn_len, r->n.p, r->n.len);
	*why = parse_name(s->name, nlen, s->alt, s->alt_len, p, pfx, pfx_len);
	return 0;
}

/* A record of a path list: a name and nothing else. */
static int path_record(struct senml_dec *s, const struct senml_rec *r, const struct lwm2m_path *p,
		const char *pfx, size_t pfx_len)
{
	char shown[64];

	if(r->vkind != SENML_V_NONE)
		return rec_fail(s, r, LWM2M_EINVAL, "%s: a path list record carries a value",
				rec_name(s, r, shown, sizeof(shown)));
	if(r->has & (SENML_HAS_T | SENML_HAS_BT))
		return rec_fail(s, r, LWM2M_EINVAL, "%s: a path list record carries a time",
				rec_name(s, r, shown, sizeof(shown)));
	if(pfx && !s->want_prefixes)
		return rec_fail(s, r, LWM2M_ENOTSUP, "%s: gateway prefix in a path list",
				rec_name(s, r, shown, sizeof(shown)));
	return push_path(s, r, p, pfx, pfx_len);
}

/* A record with a value (or, in SenML-ETCH, without one): one node. */
static int value_record(struct senml_dec *s, const struct senml_rec *r, const struct lwm2m_path *p,
		const char *pfx, size_t pfx_len, double time)
{
	char pbuf[SENML_PREFIX_MAX + 1], shown[64];
	struct lwm2m_value val = { 0 };
	struct lwm2m_node *node;
	int rc;

	if(p->len < LWM2M_PATH_RESOURCE)
		return rec_fail(s, r, LWM2M_EINVAL, "\"%s\" is not a resource path",
				rec_name(s, r, shown, sizeof(shown)));
	if(pfx){
		memcpy(pbuf, pfx, pfx_len);     /* parse_name bounds it */
		pbuf[pfx_len] = '\0';
	}
	if(r->vkind == SENML_V_NONE || r->vkind == SENML_V_NULL){
		if(s->mode != SENML_MODE_ETCH)
			return rec_fail(s, r, LWM2M_EINVAL, "%s: %s", rec_name(s, r, shown, sizeof(shown)),
					r->vkind == SENML_V_NULL ? "null value" : "no value");
		rc = fmt_dec_push(&s->d, r->offset, &node);
		if(rc) return rc;
	} else {
		enum lwm2m_type want = fmt_type_of(s->d.typer, pfx ? pbuf : NULL, p);
		/* The value goes straight into the node: built aside and copied over, its fields
		 * would be read back right after being written one by one, which stalls. */
		rc = fmt_dec_push(&s->d, r->offset, &node);
		if(rc){
			/* a bad value is what this record reports, even when the list is full */
			int vrc = rec_value(s, r, want, &val);
			value_free(&val);
			return vrc ? vrc : rc;
		}
		rc = rec_value(s, r, want, &node->value);
		if(rc){
			value_free(&node->value);
			s->d.out->count--;
			return rc;
		}
	}
	node->path = *p;
	node->kind = LWM2M_NODE_VALUE;
	node->has_time = time != 0.0;
	node->time = time;
	if(pfx && !(node->prefix = strdup(pbuf))) return dec_fail_nomem(s);
	return 0;
}

int senml_dec_record(struct senml_dec *s, const struct senml_rec *r)
{
	char shown[64];
	struct lwm2m_path p;
	const char *pfx = NULL, *why = NULL;
	size_t pfx_len = 0;
	double time;
	int rc;

	s->nrec++;
	if((r->has & SENML_HAS_BN) && set_bn(s, &r->bn)) return dec_fail_nomem(s);
	if(r->has & SENML_HAS_BT) s->bt = r->bt.f;
	if(r->has & SENML_HAS_BV){
		s->has_bv = true;
		s->bv = r->bv;
	}
	rc = resolve_name(s, r, &p, &pfx, &pfx_len, &why);
	if(rc) return rc;
	if(why) return rec_fail(s, r, LWM2M_EINVAL, "name \"%s\": %s",
			rec_name(s, r, shown, sizeof(shown)), why);
	time = s->bt + ((r->has & SENML_HAS_T) ? r->t.f : 0.0);
	if(!isfinite(time)) return rec_fail(s, r, LWM2M_ERANGE, "%s: time out of range",
			rec_name(s, r, shown, sizeof(shown)));
	if(s->mode == SENML_MODE_PATHS) return path_record(s, r, &p, pfx, pfx_len);
	return value_record(s, r, &p, pfx, pfx_len, time);
}

int senml_dec_record_cb(void *s, const struct senml_rec *r)
{
	return senml_dec_record(s, r);
}

/* No records: what the request path says an empty payload means. */
static int empty_payload(struct senml_dec *s)
{
	char shown[LWM2M_PATH_STR_MAX];
	struct lwm2m_node *node;
	int multiple, rc;

	if(!s->req || s->req->len <= LWM2M_PATH_OBJECT) return 0;
	path_format(s->req, shown, sizeof(shown));
	if(s->req->len == LWM2M_PATH_RESOURCE_INSTANCE)
		return lwm2m_fail(s->d.err, LWM2M_EINVAL, 0, "%s: no value for %s", s->fmt_name, shown);
	if(s->req->len == LWM2M_PATH_RESOURCE){
		multiple = fmt_is_multiple(s->d.typer, NULL, s->req);
		if(multiple != 1)
			return lwm2m_fail(s->d.err, LWM2M_EINVAL, 0, "%s: no value for the %sresource %s",
					s->fmt_name, multiple == 0 ? "single " : "", shown);
	}
	rc = fmt_dec_push(&s->d, 0, &node);
	if(rc) return rc;
	node->path = *s->req;
	node->kind = s->req->len == LWM2M_PATH_RESOURCE ? LWM2M_NODE_EMPTY_MULTIPLE
			: LWM2M_NODE_EMPTY_INSTANCE;
	return 0;
}

static int prefix_cmp(const char *a, const char *b)
{
	if(a == b) return 0;
	if(!a) return -1;
	if(!b) return 1;
	return strcmp(a, b);
}

static int time_key_cmp(const struct lwm2m_node *a, const struct lwm2m_node *b)
{
	double ta = a->has_time ? a->time : 0.0, tb = b->has_time ? b->time : 0.0;
	return ta < tb ? -1 : ta > tb;
}

static int node_ptr_cmp(const void *pa, const void *pb)
{
	const struct lwm2m_node *a = *(const struct lwm2m_node *const *)pa;
	const struct lwm2m_node *b = *(const struct lwm2m_node *const *)pb;
	int c = prefix_cmp(a->prefix, b->prefix);

	if(!c) c = path_compare(&a->path, &b->path);
	if(!c) c = time_key_cmp(a, b);
	return c;
}

/* Nodes in (prefix, path, time) order: the same path at the same time twice fails (a and b
 * adjacent), and so does a value below another value. `valued` is the last node with a value
 * before b: in this order an ancestor holding a value comes before its descendants, with
 * only value-less ("delete") nodes possibly in between. */
static int check_pair(struct senml_dec *s, const struct lwm2m_node *a, const struct lwm2m_node *b,
		const struct lwm2m_node *valued)
{
	char na[FMT_NODE_NAME_MAX], nb[FMT_NODE_NAME_MAX];

	if(!prefix_cmp(a->prefix, b->prefix) && !path_compare(&a->path, &b->path) && !time_key_cmp(a, b)){
		return lwm2m_fail(s->d.err, LWM2M_EINVAL, -1, "%s: %s given twice%s", s->fmt_name,
				fmt_node_name(a, na, sizeof(na)), a->has_time ? " at the same time" : "");
	}
	if(valued && b->value.type != LWM2M_TYPE_NONE && !prefix_cmp(valued->prefix, b->prefix)
			&& valued->path.len < b->path.len && path_starts_with(&b->path, &valued->path)){
		return lwm2m_fail(s->d.err, LWM2M_EINVAL, -1, "%s: a value at %s and below it at %s",
				s->fmt_name, fmt_node_name(valued, na, sizeof(na)), fmt_node_name(b, nb, sizeof(nb)));
	}
	return 0;
}

static int check_sorted(struct senml_dec *s, const struct lwm2m_node *const *v, size_t n)
{
	const struct lwm2m_node *valued = n && v[0]->value.type != LWM2M_TYPE_NONE ? v[0] : NULL;
	int rc = 0;

	for(size_t i = 1; i < n && !rc; i++){
		rc = check_pair(s, v[i - 1], v[i], valued);
		if(v[i]->value.type != LWM2M_TYPE_NONE) valued = v[i];
	}
	return rc;
}

/* The usual list: no gateway prefixes, in order, no path twice at one time, no node below
 * the one before it. One pass over packed path keys; false when any of that does not hold
 * (check_nodes then looks closer, and says what is wrong). In this order everything between
 * a node and one of its descendants descends from it too, so a value with values below it
 * always has a descendant right after it. */
static bool plainly_ordered(const struct lwm2m_node *items, size_t n)
{
	uint64_t prev = 0;
	uint8_t prev_len = 0;

	for(size_t i = 0; i < n; i++){
		const struct lwm2m_node *b = &items[i];
		uint64_t key = fmt_path_key(&b->path);
		uint8_t len = b->path.len;

		if(b->prefix || len == 0 || len > LWM2M_PATH_MAX_DEPTH) return false;
		if(i > 0){
			unsigned shift = 16u * (unsigned)(LWM2M_PATH_MAX_DEPTH - prev_len);
			if(key < prev || (key == prev && len < prev_len)) return false;
			if(key == prev && len == prev_len){
				if(time_key_cmp(b - 1, b) >= 0) return false;
			}else if(prev_len < len && (prev >> shift) == (key >> shift)){
				return false;
			}
		}
		prev = key;
		prev_len = len;
	}
	return true;
}

/* Returns 1 when the new nodes were already in order (nothing to sort), 0 when they were
 * not, or a negative error. */
static int check_nodes(struct senml_dec *s)
{
	struct lwm2m_nodes *out = s->d.out;
	const struct lwm2m_node *items = out->items + s->first;
	size_t n = out->count - s->first;
	const struct lwm2m_node **v;
	bool ordered = true;
	int rc = 0;

	if(plainly_ordered(items, n)) return 1;
	/* Payloads are mostly in order already: then no sort is needed. */
	for(size_t i = 1; i < n && ordered; i++){
		const struct lwm2m_node *pa = &items[i - 1], *pb = &items[i];
		if(node_ptr_cmp(&pa, &pb) >= 0) ordered = false;
	}
	v = malloc((n ? n : 1) * sizeof(*v));
	if(!v) return dec_fail_nomem(s);
	for(size_t i = 0; i < n; i++) v[i] = &items[i];
	if(!ordered) qsort(v, n, sizeof(*v), node_ptr_cmp);
	rc = check_sorted(s, v, n);
	free(v);
	if(rc) return rc;
	return ordered ? 1 : 0;
}

int senml_dec_finish(struct senml_dec *s)
{
	int rc;

	if(s->mode == SENML_MODE_PATHS) return 0;
	if(s->d.out->count == s->first) return empty_payload(s);
	rc = check_nodes(s);
	if(rc < 0) return rc;
	/* Appended to nodes of its own, or out of order: sort (stable, as fmt_decode does). */
	if(rc == 0 || s->first > 0) nodes_sort(s->d.out);
	return 0;
}

void senml_dec_done(struct senml_dec *s, int rc)
{
	struct lwm2m_nodes *out = s->d.out;

	if(rc && out){
		for(size_t i = s->first; i < out->count; i++){
			free(out->items[i].prefix);
			value_free(&out->items[i].value);
		}
		out->count = s->first;
	}
	free(s->bn);
	s->bn = NULL;
	free(s->name);
	s->name = NULL;
	free(s->paths);
	s->paths = NULL;
	senml_prefixes_free(s->prefixes, s->npaths);
	s->prefixes = NULL;
	s->npaths = 0;
}

int senml_decode_nodes(senml_records_fn records, const char *fmt_name, const uint8_t *buf,
		size_t len, const struct lwm2m_path *req, const struct fmt_typer *typer,
		const struct fmt_limits *lim, const struct senml_opts *opts, bool etch,
		struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	struct senml_dec s;
	struct node_pool pool;
	bool had_list = out && out->items;
	int rc;

	senml_dec_init(&s, len, req, typer, lim, opts ? opts->alt_path : NULL,
			etch ? SENML_MODE_ETCH : SENML_MODE_VALUES, fmt_name, out, err);
	node_pool_init(&pool, len);
	s.d.pool = &pool;
	/* a record takes 16 bytes or more in practice (name, value, keys): one allocation of
	 * the list instead of a dozen regrowths */
	if(out) fmt_dec_reserve(&s.d, len / 16 + 1);
	rc = records(buf, len, lim, senml_dec_record_cb, &s, err);
	if(!rc) rc = senml_dec_finish(&s);
	senml_dec_done(&s, rc);
	node_pool_done(&pool);
	if(!had_list && out && out->count == 0){
		/* nothing came of the reserved list: `out` stays as it was given */
		free(out->items);
		nodes_init(out);
	}
	return rc;
}

void senml_prefixes_free(char **prefixes, size_t n)
{
	if(!prefixes) return;
	for(size_t i = 0; i < n; i++) free(prefixes[i]);
	free(prefixes);
}

/* ---- encoding --------------------------------------------------------------------------- */

int senml_value_to_rec(const struct lwm2m_value *v, bool etch, struct senml_rec *r,
		char *lnkbuf, struct lwm2m_error *err)
{
	switch(v->type){
	case LWM2M_TYPE_NONE:
		if(!etch) return lwm2m_fail(err, LWM2M_ETYPE, -1, "SenML: a node without a value");
		r->vkind = SENML_V_NULL;
		return 0;
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
		if(!fmt_utf8_valid(v->v.bytes.data, v->v.bytes.len))
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "SenML: a string value is not UTF-8");
		r->vkind = SENML_V_STR;
		r->vs.p = (const char *)v->v.bytes.data;
		r->vs.len = v->v.bytes.len;
		return 0;
	case LWM2M_TYPE_OPAQUE:
		r->vkind = SENML_V_DATA;
		r->vs.p = (const char *)v->v.bytes.data;
		r->vs.len = v->v.bytes.len;
		r->data_b64 = false;
		return 0;
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		r->vkind = SENML_V_NUM;
		json_num_from_int(&r->v, v->v.i);
		return 0;
	case LWM2M_TYPE_UNSIGNED:
		r->vkind = SENML_V_NUM;
		json_num_from_uint(&r->v, v->v.u);
		return 0;
	case LWM2M_TYPE_FLOAT:
		r->vkind = SENML_V_NUM;
		json_num_from_double(&r->v, v->v.f);
		return 0;
	case LWM2M_TYPE_BOOLEAN:
		r->vkind = SENML_V_BOOL;
		r->vb = v->v.b;
		return 0;
	case LWM2M_TYPE_OBJLNK:
		r->vkind = SENML_V_OBJLNK;
		r->vs.p = lnkbuf;
		r->vs.len = (size_t)snprintf(lnkbuf, 12, "%u:%u", (unsigned)v->v.lnk.obj,
				(unsigned)v->v.lnk.inst);
		return 0;
	}
	return lwm2m_fail(err, LWM2M_ETYPE, -1, "SenML: unknown value type %d", (int)v->type);
}

size_t senml_enc_count(const struct lwm2m_nodes *in)
{
	size_t n = 0;

	for(size_t i = 0; in && i < in->count; i++){
		if(in->items[i].kind == LWM2M_NODE_VALUE) n++;
	}
	return n;
}

/* Depth of the path each node is named relative to. */
static size_t group_depth(const struct lwm2m_node *node, const struct lwm2m_path *req,
		const struct senml_opts *o)
{
	size_t g = LWM2M_PATH_INSTANCE;

	if(o->layout == SENML_LAYOUT_REQUEST){
		if(o->groups && o->ngroups){
			size_t best = 0;
			bool found = false;
			for(size_t i = 0; i < o->ngroups; i++){
				if(path_starts_with(&node->path, &o->groups[i]) &&
						(!found || o->groups[i].len > best)){
					best = o->groups[i].len;
					found = true;
				}
			}
			if(found) g = best;
		} else if(req && req->len >= LWM2M_PATH_INSTANCE && path_starts_with(&node->path, req)){
			g = req->len;
		}
	}
	return g < node->path.len ? g : node->path.len;
}

static bool buf_same(const struct lwm2m_buf *a, const struct lwm2m_buf *b)
{
	return a->len == b->len && (a->len == 0 || !memcmp(a->data, b->data, a->len));
}

static int buf_copy(struct lwm2m_buf *dst, const struct lwm2m_buf *src)
{
	buf_reset(dst);
	return buf_append(dst, src->data, src->len);
}

int senml_enc_walk(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct senml_opts *o, bool etch, senml_emit_fn emit, void *ctx,
		struct lwm2m_error *err)
{
	static const struct senml_opts defaults;
	struct lwm2m_buf full, base, cur;
	bool have_bn = false;
	double grp_time = 0.0, cur_bt = 0.0;
	int rc = 0;

	if(!o) o = &defaults;
	buf_init(&full, 0);
	buf_init(&base, 0);
	buf_init(&cur, 0);
	for(size_t i = 0; in && i < in->count && !rc; i++){
		const struct lwm2m_node *node = &in->items[i];
		struct senml_rec r;
		char lnk[16];
		size_t g;
		double t;
		bool new_bn;

		if(node->kind != LWM2M_NODE_VALUE) continue;
		memset(&r, 0, sizeof(r));
		r.offset = i;
		g = group_depth(node, req, o);
		buf_reset(&full);
		buf_reset(&base);
		rc = senml_name_build(&full, o->alt_path, node->prefix, &node->path, node->path.len);
		if(!rc) rc = senml_name_build(&base, o->alt_path, node->prefix, &node->path, g);
		if(!rc && g < node->path.len) rc = buf_append_byte(&base, '/');
		if(rc) break;
		t = node->has_time ? node->time : 0.0;
		new_bn = !have_bn || !buf_same(&base, &cur);
		if(o->layout == SENML_LAYOUT_REQUEST){
			if(new_bn || t != grp_time){
				new_bn = true;
				if(t != 0.0 || cur_bt != 0.0){
					r.has |= SENML_HAS_BT;
					json_num_from_double_int(&r.bt, t);
					cur_bt = t;
				}
				grp_time = t;
			}
		} else if(t != 0.0 && cur_bt == 0.0){
			r.has |= SENML_HAS_BT;
			json_num_from_double_int(&r.bt, t);
			cur_bt = t;
		} else if(t != 0.0 && t != cur_bt){
			r.has |= SENML_HAS_T;
			json_num_from_double_int(&r.t, t - cur_bt);
		} else if(t == 0.0 && cur_bt != 0.0){
			r.has |= SENML_HAS_BT;
			json_num_from_int(&r.bt, 0);
			cur_bt = 0.0;
		}
		if(new_bn){
			r.has |= SENML_HAS_BN;
			r.bn.p = (const char *)base.data;
			r.bn.len = base.len;
			have_bn = true;
			rc = buf_copy(&cur, &base);
			if(rc) break;
		}
		if(full.len > base.len){
			r.has |= SENML_HAS_N;
			r.n.p = (const char *)full.data + base.len;
			r.n.len = full.len - base.len;
		}
		rc = senml_value_to_rec(&node->value, etch, &r, lnk, err);
		if(!rc) rc = emit(ctx, &r);
	}
	if(rc == -LWM2M_ENOMEM && err && !err->code)
		lwm2m_fail(err, LWM2M_ENOMEM, -1, "SenML: out of memory");
	buf_free(&full);
	buf_free(&base);
	buf_free(&cur);
	return rc;
}

/* ---- SenML-ETCH path lists -------------------------------------------------------------- */

static int cf_is_json(uint16_t cf, int *json)
{
	if(cf == LWM2M_CF_SENML_JSON || cf == LWM2M_CF_SENML_ETCH_JSON) *json = 1;
	else if(cf == LWM2M_CF_SENML_CBOR || cf == LWM2M_CF_SENML_ETCH_CBOR) *json = 0;
	else return -LWM2M_ENOTSUP;
	return 0;
}

int senml_etch_paths_decode_ex(uint16_t cf, const uint8_t *buf, size_t len,
		const char *alt_path, struct lwm2m_path **paths, char ***prefixes, size_t *n,
		struct lwm2m_error *err)
{
	struct senml_dec s;
	int json, rc;

	*paths = NULL;
	*n = 0;
	if(prefixes) *prefixes = NULL;
	if(cf_is_json(cf, &json))
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "a path list cannot be in content format %u",
				(unsigned)cf);
	if(!buf) buf = (const uint8_t *)"";
	senml_dec_init(&s, len, NULL, NULL, NULL, alt_path, SENML_MODE_PATHS,
			json ? "SenML-ETCH JSON path list" : "SenML-ETCH CBOR path list", NULL, err);
	s.want_prefixes = prefixes != NULL;
	rc = json ? senml_json_records(buf, len, NULL, senml_dec_record_cb, &s, err)
			: senml_cbor_records(buf, len, NULL, senml_dec_record_cb, &s, err);
	if(!rc){
		*paths = s.paths;
		*n = s.npaths;
		if(prefixes) *prefixes = s.prefixes;
		s.paths = NULL;
		s.prefixes = NULL;
		s.npaths = 0;
	}
	senml_dec_done(&s, rc);
	return rc;
}

int senml_etch_paths_decode(uint16_t cf, const uint8_t *buf, size_t len,
		struct lwm2m_path **paths, size_t *n, struct lwm2m_error *err)
{
	return senml_etch_paths_decode_ex(cf, buf, len, NULL, paths, NULL, n, err);
}

int senml_etch_paths_encode(uint16_t cf, const struct lwm2m_path *paths, size_t n,
		struct lwm2m_buf *out, struct lwm2m_error *err)
{
	struct senml_rec *recs;
	char (*names)[LWM2M_PATH_STR_MAX];
	int json, rc;

	if(cf_is_json(cf, &json))
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "a path list cannot be in content format %u",
				(unsigned)cf);
	recs = calloc(n ? n : 1, sizeof(*recs));
	names = calloc(n ? n : 1, sizeof(*names));
	if(!recs || !names){
		free(recs);
		free(names);
		return lwm2m_fail(err, LWM2M_ENOMEM, -1, "SenML-ETCH: out of memory");
	}
	for(size_t i = 0; i < n; i++){
		recs[i].has = SENML_HAS_N;
		recs[i].n.p = names[i];
		recs[i].n.len = path_format(&paths[i], names[i], sizeof(names[i]));
	}
	rc = json ? senml_json_write(recs, n, out, err) : senml_cbor_write(recs, n, out, err);
	free(recs);
	free(names);
	return rc;
}
