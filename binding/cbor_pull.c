/* CBOR pull reader over cbor_stream_decode; see cbor_pull.h. */
#include "cbor_pull.h"

#include <cbor.h>
#include <string.h>

const char *pull_kind_name(enum pull_words words, enum pull_kind kind)
{
	static const char *const names[] = {
		[PULL_UINT] = "uint", [PULL_NEGINT] = "negative int", [PULL_BSTR] = "byte string",
		[PULL_TSTR] = "text string", [PULL_BSTR_INDEF] = "indefinite byte string",
		[PULL_TSTR_INDEF] = "indefinite text string", [PULL_ARRAY] = "array",
		[PULL_ARRAY_INDEF] = "indefinite array", [PULL_MAP] = "map",
		[PULL_MAP_INDEF] = "indefinite map", [PULL_TAG] = "tag", [PULL_FLOAT] = "float",
		[PULL_BOOL] = "bool", [PULL_NULL] = "null", [PULL_UNDEF] = "undefined",
		[PULL_BREAK] = "break",
	};

	if(words == PULL_WORDS_COSE &&
		(kind == PULL_FLOAT || kind == PULL_BOOL || kind == PULL_UNDEF)){
		return "simple value or float";
	}
	return names[kind];
}

static const char *malformed_words(enum pull_words words)
{
	return words == PULL_WORDS_COSE ? "malformed CBOR" : "malformed or unsupported CBOR";
}

static void set_kind(void *c, enum pull_kind k, uint64_t u)
{
	struct pull_item *it = c;
	it->kind = k;
	it->u = u;
}

static void set_string(void *c, enum pull_kind k, cbor_data p, size_t n)
{
	struct pull_item *it = c;
	set_kind(c, k, 0);
	it->ptr = p;
	it->len = n;
}

static void set_float(void *c, double v)
{
	struct pull_item *it = c;
	set_kind(c, PULL_FLOAT, 0);
	it->f = v;
}

static void cb_u8(void *c, uint8_t v) { set_kind(c, PULL_UINT, v); }
static void cb_u16(void *c, uint16_t v) { set_kind(c, PULL_UINT, v); }
static void cb_u32(void *c, uint32_t v) { set_kind(c, PULL_UINT, v); }
static void cb_u64(void *c, uint64_t v) { set_kind(c, PULL_UINT, v); }
static void cb_n8(void *c, uint8_t v) { set_kind(c, PULL_NEGINT, v); }
static void cb_n16(void *c, uint16_t v) { set_kind(c, PULL_NEGINT, v); }
static void cb_n32(void *c, uint32_t v) { set_kind(c, PULL_NEGINT, v); }
static void cb_n64(void *c, uint64_t v) { set_kind(c, PULL_NEGINT, v); }
static void cb_bstr(void *c, cbor_data p, size_t n) { set_string(c, PULL_BSTR, p, n); }
static void cb_tstr(void *c, cbor_data p, size_t n) { set_string(c, PULL_TSTR, p, n); }
static void cb_bstr_indef(void *c) { set_kind(c, PULL_BSTR_INDEF, 0); }
static void cb_tstr_indef(void *c) { set_kind(c, PULL_TSTR_INDEF, 0); }
static void cb_array(void *c, size_t n) { set_kind(c, PULL_ARRAY, n); }
static void cb_array_indef(void *c) { set_kind(c, PULL_ARRAY_INDEF, 0); }
static void cb_map(void *c, size_t n) { set_kind(c, PULL_MAP, n); }
static void cb_map_indef(void *c) { set_kind(c, PULL_MAP_INDEF, 0); }
static void cb_tag(void *c, uint64_t v) { set_kind(c, PULL_TAG, v); }
static void cb_f4(void *c, float v) { set_float(c, v); }
static void cb_f8(void *c, double v) { set_float(c, v); }
static void cb_bool(void *c, bool v) { set_kind(c, PULL_BOOL, v); }
static void cb_null(void *c) { set_kind(c, PULL_NULL, 0); }
static void cb_undef(void *c) { set_kind(c, PULL_UNDEF, 0); }
static void cb_break(void *c) { set_kind(c, PULL_BREAK, 0); }

static const struct cbor_callbacks item_callbacks = {
	.uint8 = cb_u8, .uint16 = cb_u16, .uint32 = cb_u32, .uint64 = cb_u64,
	.negint8 = cb_n8, .negint16 = cb_n16, .negint32 = cb_n32, .negint64 = cb_n64,
	/* libcbor 0.8 names these the other way round from their comments: byte_string is
	 * the definite string, byte_string_start the indefinite start. */
	.byte_string = cb_bstr, .byte_string_start = cb_bstr_indef,
	.string = cb_tstr, .string_start = cb_tstr_indef,
	.array_start = cb_array, .indef_array_start = cb_array_indef,
	.map_start = cb_map, .indef_map_start = cb_map_indef,
	.tag = cb_tag,
	.float2 = cb_f4, .float4 = cb_f4, .float8 = cb_f8,
	.undefined = cb_undef, .null = cb_null, .boolean = cb_bool,
	.indef_break = cb_break,
};

/* A tag head (major type 6), any number. */
static int read_tag(struct pull_reader *r, struct pull_item *it, struct lwm2m_error *err)
{
	uint8_t info = r->buf[r->pos] & 0x1f;
	size_t extra = info < 24 ? 0 : info <= 27 ? (size_t)1 << (info - 24) : SIZE_MAX;
	uint64_t v = info;

	if(extra == SIZE_MAX){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)r->pos,
			"%s (initial byte 0x%02x) at byte %zu", malformed_words(r->words), r->buf[r->pos],
			r->pos);
	}
	if(extra >= r->end - r->pos){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)r->pos,
			"truncated CBOR at byte %zu (item needs %zu bytes, %zu left)", r->pos,
			extra + 1, r->end - r->pos);
	}
	if(extra) v = 0;
	for(size_t i = 1; i <= extra; i++) v = (v << 8) | r->buf[r->pos + i];
	it->kind = PULL_TAG;
	it->u = v;
	r->pos += extra + 1;
	return 0;
}

int pull_next(struct pull_reader *r, struct pull_item *it, struct lwm2m_error *err)
{
	struct cbor_decoder_result res;

	memset(it, 0, sizeof(*it));
	it->off = r->pos;
	if(r->pos >= r->end){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)r->pos,
			"truncated CBOR: item expected at byte %zu", r->pos);
	}
	if(r->every_tag && (r->buf[r->pos] >> 5) == 6) return read_tag(r, it, err);
	res = cbor_stream_decode(r->buf + r->pos, r->end - r->pos, &item_callbacks, it);
	switch(res.status){
		case CBOR_DECODER_FINISHED:
			r->pos += res.read;
			return 0;
		case CBOR_DECODER_NEDATA:
			return lwm2m_fail(err, LWM2M_EINVAL, (long)r->pos,
				"truncated CBOR at byte %zu (item needs %zu bytes, %zu left)", r->pos,
				res.required, r->end - r->pos);
		default:
			return lwm2m_fail(err, LWM2M_EINVAL, (long)r->pos,
				"%s (initial byte 0x%02x) at byte %zu", malformed_words(r->words),
				r->buf[r->pos], r->pos);
	}
}

static bool is_map(enum pull_kind k) { return k == PULL_MAP || k == PULL_MAP_INDEF; }

int pull_members_start(const struct pull_reader *r, const struct pull_item *c,
	struct pull_members *m, struct lwm2m_error *err)
{
	uint64_t avail = r->end - r->pos;

	m->indef = c->kind == PULL_ARRAY_INDEF || c->kind == PULL_MAP_INDEF;
	m->left = 0;
	if(m->indef) return 0;
	/* every member takes at least one byte: refuse impossible counts before looping */
	if(c->u > (is_map(c->kind) ? avail / 2 : avail)){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)c->off,
			"truncated CBOR: %s of %llu entries at byte %zu exceeds the input",
			pull_kind_name(r->words, c->kind), (unsigned long long)c->u, c->off);
	}
	m->left = is_map(c->kind) ? c->u * 2 : c->u;
	return 0;
}

int pull_members_next(struct pull_reader *r, struct pull_members *m, struct pull_item *it,
	bool *done, struct lwm2m_error *err)
{
	int rc;

	*done = false;
	if(!m->indef){
		if(m->left == 0){
			*done = true;
			return 0;
		}
		m->left--;
	}
	rc = pull_next(r, it, err);
	if(rc) return rc;
	if(it->kind == PULL_BREAK){
		if(!m->indef){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)it->off,
				"malformed CBOR: unexpected break at byte %zu", it->off);
		}
		*done = true;
	}
	return 0;
}

/* The chunks of an indefinite string: definite strings of the same major type, then
 * a break. */
static int skip_chunks(struct pull_reader *r, const struct pull_item *start,
	struct lwm2m_error *err)
{
	enum pull_kind chunk = start->kind == PULL_BSTR_INDEF ? PULL_BSTR : PULL_TSTR;
	struct pull_item it;
	int rc;

	for(;;){
		rc = pull_next(r, &it, err);
		if(rc) return rc;
		if(it.kind == PULL_BREAK) return 0;
		if(it.kind != chunk){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)it.off,
				"malformed CBOR: %s inside an %s at byte %zu",
				pull_kind_name(r->words, it.kind), pull_kind_name(r->words, start->kind),
				it.off);
		}
	}
}

/* An indefinite map whose break came after a key; brk is that break. */
static int map_ends_after_key(const struct pull_reader *r, const struct pull_item *c,
	const struct pull_item *brk, struct lwm2m_error *err)
{
	if(r->words == PULL_WORDS_COSE){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)r->pos,
			"malformed CBOR: map at byte %zu ends after a key", c->off);
	}
	return lwm2m_fail(err, LWM2M_EINVAL, (long)brk->off,
		"malformed CBOR: unexpected break at byte %zu", brk->off);
}

/* The members of the array or map whose head is c, nested at the given level. */
static int skip_members(struct pull_reader *r, const struct pull_item *c, unsigned level,
	struct lwm2m_error *err)
{
	struct pull_members m;
	struct pull_item it;
	uint64_t count = 0;
	bool done;
	int rc;

	rc = pull_members_start(r, c, &m, err);
	if(rc) return rc;
	for(;;){
		rc = pull_members_next(r, &m, &it, &done, err);
		if(rc) return rc;
		if(done) break;
		rc = pull_skip(r, &it, level, err);
		if(rc) return rc;
		count++;
	}
	if(is_map(c->kind) && count % 2) return map_ends_after_key(r, c, &it, err);
	return 0;
}

int pull_skip(struct pull_reader *r, const struct pull_item *it, unsigned level,
	struct lwm2m_error *err)
{
	struct pull_item cur = *it;
	int rc;

	while(cur.kind == PULL_TAG){   /* a tag is followed by its content */
		rc = pull_next(r, &cur, err);
		if(rc) return rc;
	}
	switch(cur.kind){
		case PULL_BSTR_INDEF:
		case PULL_TSTR_INDEF:
			return skip_chunks(r, &cur, err);
		case PULL_ARRAY:
		case PULL_ARRAY_INDEF:
		case PULL_MAP:
		case PULL_MAP_INDEF:
			if(level + 1 > r->max_depth){
				return lwm2m_fail(err, LWM2M_EINVAL, (long)cur.off,
					"CBOR nested deeper than %u levels at byte %zu", r->max_depth,
					cur.off);
			}
			return skip_members(r, &cur, level + 1, err);
		case PULL_BREAK:
			return lwm2m_fail(err, LWM2M_EINVAL, (long)cur.off,
				"malformed CBOR: unexpected break at byte %zu", cur.off);
		default:
			return 0;
	}
}
