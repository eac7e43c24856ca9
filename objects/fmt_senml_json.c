/* SenML JSON (110) and SenML-ETCH JSON (320): the JSON record reader and writer, and the
 * decode/encode entry points. Numbers are lexed exactly (json_num.h). */
#include "fmt_senml.h"

#include <string.h>

/* Levels: the pack array is 1, a record 2, a field's value 3. */
#define FIELD_DEPTH 3

enum field {
	F_BN, F_BT, F_BU, F_BV, F_BS, F_BVER, F_N, F_U, F_S, F_T, F_UT,
	F_V, F_VS, F_VB, F_VD, F_VLO, F_UNKNOWN,
};

static const struct { const char *name; enum field f; } field_names[] = {
	{ "bn", F_BN }, { "bt", F_BT }, { "bu", F_BU }, { "bv", F_BV }, { "bs", F_BS },
	{ "bver", F_BVER }, { "n", F_N }, { "u", F_U }, { "s", F_S }, { "t", F_T },
	{ "ut", F_UT }, { "v", F_V }, { "vs", F_VS }, { "vb", F_VB }, { "vd", F_VD },
	{ "vlo", F_VLO },
};

static enum field field_of(const char *k, size_t n)
{
	for(size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++){
		if(strlen(field_names[i].name) == n && !memcmp(field_names[i].name, k, n))
			return field_names[i].f;
	}
	return F_UNKNOWN;
}

/* The has-bit of a non-value field. */
static uint32_t field_bit(enum field f)
{
	static const uint32_t bits[] = {
		[F_BN] = SENML_HAS_BN, [F_BT] = SENML_HAS_BT, [F_BU] = SENML_HAS_BU,
		[F_BV] = SENML_HAS_BV, [F_BS] = SENML_HAS_BS, [F_BVER] = SENML_HAS_BVER,
		[F_N] = SENML_HAS_N, [F_U] = SENML_HAS_U, [F_S] = SENML_HAS_S, [F_T] = SENML_HAS_T,
		[F_UT] = SENML_HAS_UT,
	};
	return f < sizeof(bits) / sizeof(bits[0]) ? bits[f] : 0;
}

static int rec_err(struct json_rd *rd, const char *key_name, size_t klen, const char *what)
{
	return lwm2m_fail(rd->err, LWM2M_EINVAL, (long)json_rd_off(rd), "SenML JSON: \"%.*s\" %s at byte %zu",
			(int)(klen > 16 ? 16 : klen), key_name, what, json_rd_off(rd));
}

static int read_str(struct json_rd *rd, struct senml_str *s)
{
	return json_rd_string(rd, &s->p, &s->len);
}

static int read_field(struct json_rd *rd, struct senml_rec *r, const char *k, size_t klen)
{
	enum field f = field_of(k, klen);
	uint32_t bit = field_bit(f);
	int c;

	if(f == F_UNKNOWN){
		/* RFC 8428 4.4: a field ending in '_' must be understood. */
		if(klen && k[klen - 1] == '_') return rec_err(rd, k, klen, "is a must-understand field");
		return json_rd_skip(rd, FIELD_DEPTH);
	}
	if(bit){
		if(r->has & bit) return rec_err(rd, k, klen, "appears twice");
		r->has |= bit;
		switch(f){
		case F_BN: return read_str(rd, &r->bn);
		case F_BU: return read_str(rd, &r->bu);
		case F_N: return read_str(rd, &r->n);
		case F_U: return read_str(rd, &r->u);
		case F_BT: return json_rd_number(rd, &r->bt);
		case F_BV: return json_rd_number(rd, &r->bv);
		case F_BS: return json_rd_number(rd, &r->bs);
		case F_BVER: return json_rd_number(rd, &r->bver);
		case F_S: return json_rd_number(rd, &r->s);
		case F_T: return json_rd_number(rd, &r->t);
		case F_UT: return json_rd_number(rd, &r->ut);
		default: return rec_err(rd, k, klen, "is not handled");
		}
	}
	if(r->vkind != SENML_V_NONE) return rec_err(rd, k, klen, "is a second value");
	c = json_rd_peek(rd);
	if(c == 'n'){
		char kind;
		int rc = json_rd_literal(rd, &kind);
		if(rc) return rc;
		if(kind != 'n') return rec_err(rd, k, klen, "has a wrong type");
		r->vkind = SENML_V_NULL;
		return 0;
	}
	switch(f){
	case F_V:
		r->vkind = SENML_V_NUM;
		if(c != '-' && (c < '0' || c > '9')) return rec_err(rd, k, klen, "is not a number");
		return json_rd_number(rd, &r->v);
	case F_VS:
	case F_VD:
	case F_VLO:
		r->vkind = f == F_VS ? SENML_V_STR : f == F_VD ? SENML_V_DATA : SENML_V_OBJLNK;
		r->data_b64 = f == F_VD;
		if(c != '"') return rec_err(rd, k, klen, "is not a string");
		return read_str(rd, &r->vs);
	case F_VB: {
		char kind;
		int rc;
		r->vkind = SENML_V_BOOL;
		if(c != 't' && c != 'f') return rec_err(rd, k, klen, "is not a boolean");
		rc = json_rd_literal(rd, &kind);
		if(rc) return rc;
		if(kind == 'n') return rec_err(rd, k, klen, "is not a boolean");
		r->vb = kind == 't';
		return 0;
	}
	default:
		return rec_err(rd, k, klen, "is not handled");
	}
}

int senml_json_read_object(struct json_rd *rd, struct senml_rec *r, const char *what,
		senml_json_field_fn field)
{
	int rc;

	memset(r, 0, sizeof(*r));
	json_rd_ws(rd);
	r->offset = json_rd_off(rd);
	rc = json_rd_expect(rd, '{', what);
	if(rc || json_rd_accept(rd, '}')) return rc;
	do {
		const char *k;
		size_t klen;
		rc = json_rd_string(rd, &k, &klen);
		if(!rc) rc = json_rd_expect(rd, ':', "':'");
		if(!rc) rc = field(rd, r, k, klen);
		if(rc) return rc;
	} while(json_rd_accept(rd, ','));
	return json_rd_expect(rd, '}', "',' or '}'");
}

static int read_record(struct json_rd *rd, struct senml_rec *r)
{
	return senml_json_read_object(rd, r, "'{' (a record)", read_field);
}

int senml_json_records(const uint8_t *buf, size_t len, const struct fmt_limits *lim,
		senml_rec_fn fn, void *ctx, struct lwm2m_error *err)
{
	struct json_rd rd;
	struct senml_rec r;
	int rc = 0;

	json_rd_init(&rd, buf, len, fmt_limits_depth(lim), err);
	/* An empty payload is an empty pack (Leshan: an empty object, instance, resource). */
	if(!json_rd_ws(&rd)) return 0;
	rc = json_rd_expect(&rd, '[', "'[' (a SenML pack)");
	if(!rc && !json_rd_accept(&rd, ']')){
		do {
			rc = read_record(&rd, &r);
			if(!rc) rc = fn(ctx, &r);
			json_rd_release(&rd);
		} while(!rc && json_rd_accept(&rd, ','));
		if(!rc) rc = json_rd_expect(&rd, ']', "',' or ']'");
	}
	/* One trailing comma after the pack is tolerated: Leshan accepts it (a literal in its
	 * tests ends with "],"), and it cannot change the meaning of the pack. */
	if(!rc){
		json_rd_accept(&rd, ',');
		if(json_rd_ws(&rd))
			rc = lwm2m_fail(err, LWM2M_EINVAL, (long)json_rd_off(&rd),
					"SenML JSON: data after the pack at byte %zu", json_rd_off(&rd));
	}
	json_rd_free(&rd);
	return rc;
}

int senml_json_parse(const uint8_t *buf, size_t len, const struct fmt_limits *lim,
		struct senml_pack *out, struct lwm2m_error *err)
{
	int rc = senml_json_records(buf, len, lim, senml_pack_add_cb, out, err);

	if(rc == -LWM2M_ENOMEM && err && !err->msg[0])
		lwm2m_fail(err, rc, -1, "SenML JSON: out of memory");
	return rc;
}

/* ---- writer ------------------------------------------------------------------------------ */

int senml_json_put_key(struct lwm2m_buf *b, bool *first, const char *key)
{
	int rc = 0;

	if(!*first) rc = buf_append_byte(b, ',');
	*first = false;
	if(!rc) rc = buf_append_byte(b, '"');
	if(!rc) rc = buf_append(b, key, strlen(key));
	if(!rc) rc = buf_append(b, "\":", 2);
	return rc;
}

static int put_str_field(struct lwm2m_buf *b, bool *first, const char *key,
		const struct senml_str *s)
{
	int rc = senml_json_put_key(b, first, key);
	return rc ? rc : json_put_string(b, s->p ? s->p : "", s->len);
}

static int put_num_field(struct lwm2m_buf *b, bool *first, const char *key,
		const struct json_num *n, struct lwm2m_error *err)
{
	int rc = senml_json_put_key(b, first, key);
	return rc ? rc : json_put_num(b, n, err);
}

static int put_value(struct lwm2m_buf *b, bool *first, const struct senml_rec *r,
		struct lwm2m_error *err)
{
	int rc;

	switch(r->vkind){
	case SENML_V_NONE:
		return 0;
	case SENML_V_NUM:
		return put_num_field(b, first, "v", &r->v, err);
	case SENML_V_NULL:
		rc = senml_json_put_key(b, first, "v");
		return rc ? rc : buf_append(b, "null", 4);
	case SENML_V_NUMTEXT:
		return put_str_field(b, first, "v", &r->vs);
	case SENML_V_STR:
		return put_str_field(b, first, "vs", &r->vs);
	case SENML_V_OBJLNK:
		return put_str_field(b, first, "vlo", &r->vs);
	case SENML_V_BOOL:
		rc = senml_json_put_key(b, first, "vb");
		return rc ? rc : buf_append(b, r->vb ? "true" : "false", r->vb ? 4 : 5);
	case SENML_V_DATA:
		if(r->data_b64) return put_str_field(b, first, "vd", &r->vs);
		rc = senml_json_put_key(b, first, "vd");
		if(!rc) rc = buf_append_byte(b, '"');
		if(!rc) rc = senml_base64_encode((const uint8_t *)r->vs.p, r->vs.len, true, b);
		if(!rc) rc = buf_append_byte(b, '"');
		return rc;
	}
	return lwm2m_fail(err, LWM2M_EINVAL, -1, "SenML JSON: unknown value kind %d", (int)r->vkind);
}

static int write_rec(struct lwm2m_buf *b, const struct senml_rec *r, struct lwm2m_error *err)
{
	bool first = true;
	int rc = buf_append_byte(b, '{');

	if(!rc && (r->has & SENML_HAS_BVER)) rc = put_num_field(b, &first, "bver", &r->bver, err);
	if(!rc && (r->has & SENML_HAS_BN)) rc = put_str_field(b, &first, "bn", &r->bn);
	if(!rc && (r->has & SENML_HAS_BT)) rc = put_num_field(b, &first, "bt", &r->bt, err);
	if(!rc && (r->has & SENML_HAS_BU)) rc = put_str_field(b, &first, "bu", &r->bu);
	if(!rc && (r->has & SENML_HAS_BV)) rc = put_num_field(b, &first, "bv", &r->bv, err);
	if(!rc && (r->has & SENML_HAS_BS)) rc = put_num_field(b, &first, "bs", &r->bs, err);
	if(!rc && (r->has & SENML_HAS_N)) rc = put_str_field(b, &first, "n", &r->n);
	if(!rc && (r->has & SENML_HAS_U)) rc = put_str_field(b, &first, "u", &r->u);
	if(!rc && (r->has & SENML_HAS_T)) rc = put_num_field(b, &first, "t", &r->t, err);
	if(!rc && (r->has & SENML_HAS_UT)) rc = put_num_field(b, &first, "ut", &r->ut, err);
	if(!rc) rc = put_value(b, &first, r, err);
	if(!rc && (r->has & SENML_HAS_S)) rc = put_num_field(b, &first, "s", &r->s, err);
	if(!rc) rc = buf_append_byte(b, '}');
	return rc;
}

int senml_json_write(const struct senml_rec *recs, size_t n, struct lwm2m_buf *out,
		struct lwm2m_error *err)
{
	int rc = buf_append_byte(out, '[');

	for(size_t i = 0; !rc && i < n; i++){
		if(i) rc = buf_append_byte(out, ',');
		if(!rc) rc = write_rec(out, &recs[i], err);
	}
	if(!rc) rc = buf_append_byte(out, ']');
	return rc;
}

/* ---- entry points ------------------------------------------------------------------------ */

int senml_json_decode_ex(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		const struct senml_opts *opts, bool etch, struct lwm2m_nodes *out,
		struct lwm2m_error *err)
{
	return senml_decode_nodes(senml_json_records, etch ? "SenML-ETCH JSON" : "SenML JSON", buf, len,
			req, typer, lim, opts, etch, out, err);
}

struct json_emit {
	struct lwm2m_buf *out;
	struct lwm2m_error *err;
	bool first;
};

static int json_emit_rec(void *ctx, const struct senml_rec *r)
{
	struct json_emit *e = ctx;
	int rc = 0;

	if(!e->first) rc = buf_append_byte(e->out, ',');
	e->first = false;
	return rc ? rc : write_rec(e->out, r, e->err);
}

int senml_json_encode_ex(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		const struct senml_opts *opts, bool etch, struct lwm2m_buf *out,
		struct lwm2m_error *err)
{
	struct json_emit e = { out, err, true };
	int rc = buf_append_byte(out, '[');

	if(!rc) rc = senml_enc_walk(in, req, opts, etch, json_emit_rec, &e, err);
	if(!rc) rc = buf_append_byte(out, ']');
	return rc;
}

int senml_json_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	return senml_json_decode_ex(buf, len, req, typer, lim, NULL, false, out, err);
}

int senml_json_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err)
{
	return senml_json_encode_ex(in, req, typer, lim, NULL, false, out, err);
}

int senml_etch_json_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	return senml_json_decode_ex(buf, len, req, typer, lim, NULL, true, out, err);
}

int senml_etch_json_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err)
{
	return senml_json_encode_ex(in, req, typer, lim, NULL, true, out, err);
}
