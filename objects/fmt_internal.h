/* Private helpers shared by the data-format codecs (not part of the library's API).
 *
 * - decoding context: typer lookups, node limits, node pushes;
 * - node-list checks (duplicates, request path, marker consistency);
 * - text forms of numbers, object links and RFC 3339 times;
 * - a bounded, zero-copy CBOR reader and a CBOR writer, and the LwM2M value <-> CBOR
 *   item mapping used by CBOR (60), LwM2M CBOR and SenML CBOR.
 *
 * Every reader here checks lengths against the end of the buffer before touching bytes. */
#ifndef OBJ_FMT_INTERNAL_H
#define OBJ_FMT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fmt.h"
#include "node.h"
#include "path.h"
#include "types.h"
#include "../util/buf.h"
#include "../util/lwm2m_err.h"

#define FMT_DEFAULT_MAX_NODES 65536u
#define FMT_DEFAULT_MAX_DEPTH 16u

/* ---- typer ---------------------------------------------------------------------------- */

/* typer->type_of, or LWM2M_TYPE_NONE when there is no typer (or it answers out of range). */
static inline enum lwm2m_type fmt_type_of(const struct fmt_typer *t, const char *prefix,
		const struct lwm2m_path *p)
{
	enum lwm2m_type type;

	if(!t || !t->type_of) return LWM2M_TYPE_NONE;
	type = t->type_of(t->ctx, prefix, p);
	return (unsigned)type <= (unsigned)LWM2M_TYPE_CORELNK ? type : LWM2M_TYPE_NONE;
}
/* typer->is_multiple for /o/i/r (1, 0, or -1 when unknown or no typer). */
int fmt_is_multiple(const struct fmt_typer *t, const char *prefix, const struct lwm2m_path *p);

/* ---- decoding context ----------------------------------------------------------------- */

struct fmt_dec {
	const struct fmt_typer *typer;
	struct lwm2m_nodes *out;
	struct lwm2m_error *err;
	size_t max_nodes;   /* the smaller of the configured limit and the input size + 1 */
	size_t max_depth;
	bool unsorted;      /* fmt_dec_placed saw nodes out of order ... */
	bool nested;        /* ... or a node equal to or inside the one before it */
	uint8_t last_len;   /* the last placed node's path length and key */
	uint64_t last_key;
	/* Where string values are copied (NULL: an allocation each). fmt_dec_init leaves it
	 * alone: a decoder that reads it sets it first. */
	struct node_pool *pool;
};

/* Limits from `lim` (NULL = defaults); the node bound also never exceeds input_len + 1, so
 * memory use is bounded by the input size whatever the input says. */
void fmt_dec_init(struct fmt_dec *d, const struct fmt_typer *typer, const struct fmt_limits *lim,
		size_t input_len, struct lwm2m_nodes *out, struct lwm2m_error *err);
/* Room for about `n` more nodes (capped by the node limit), so that a large payload does
 * not regrow the list many times; a hint only: failure is not an error. */
void fmt_dec_reserve(struct fmt_dec *d, size_t n);
/* A new zeroed node in *node; fails (limit or memory) with d->err filled. */
int fmt_dec_push_slow(struct fmt_dec *d, size_t offset, struct lwm2m_node **node);
static inline int fmt_dec_push(struct fmt_dec *d, size_t offset, struct lwm2m_node **node)
{
	struct lwm2m_nodes *n = d->out;

	if(n->count < n->cap && n->count < d->max_nodes){
		*node = &n->items[n->count++];
		**node = (struct lwm2m_node){ 0 };
		return 0;
	}
	return fmt_dec_push_slow(d, offset, node);
}
/* The IDs of a path packed into one number, absent levels 0: comparing keys, then
 * lengths, gives the node order (parents before children, then by IDs). */
static inline uint64_t fmt_path_key(const struct lwm2m_path *p)
{
	uint8_t n = p->len < LWM2M_PATH_MAX_DEPTH ? p->len : LWM2M_PATH_MAX_DEPTH;
	uint64_t k = (uint64_t)p->ids[0] << 48 | (uint64_t)p->ids[1] << 32 | (uint64_t)p->ids[2] << 16 |
		p->ids[3];
	/* IDs past the length may hold anything: clear them */
	return n ? k & (~0ull << (16u * (LWM2M_PATH_MAX_DEPTH - n))) : 0;
}

/* Call once the last pushed node has its path and prefix: compares it with the one before
 * (whose key is kept), so that fmt_dec_finish needs no pass of its own. */
static inline void fmt_dec_placed(struct fmt_dec *d)
{
	const struct lwm2m_node *b = &d->out->items[d->out->count - 1];
	uint64_t ka = d->last_key, kb = fmt_path_key(&b->path);
	uint8_t la = d->last_len;
	unsigned shift;

	d->last_key = kb;
	d->last_len = b->path.len;
	if(d->out->count < 2 || d->unsorted) return;
	if(b->prefix || d->out->items[d->out->count - 2].prefix){
		d->unsorted = true;        /* gateway content: let fmt_dec_finish sort and check */
		return;
	}
	if(ka > kb || (ka == kb && la > b->path.len)){
		d->unsorted = true;
		return;
	}
	shift = 16u * (unsigned)(LWM2M_PATH_MAX_DEPTH - la);
	if(la <= b->path.len && (la == 0 || (ka >> shift) == (kb >> shift))) d->nested = true;
}

/* Sorts and checks for duplicates only when fmt_dec_placed saw a reason to. */
int fmt_dec_finish(struct fmt_dec *d, const char *fmt_name);

/* Depth bound of `lim` (NULL or 0 = FMT_DEFAULT_MAX_DEPTH). */
size_t fmt_limits_depth(const struct fmt_limits *lim);

/* ---- node lists ----------------------------------------------------------------------- */

/* Text form of a node's path with its prefix ("dev1:/3/0/1" or "/3/0/1"), for messages. */
const char *fmt_node_name(const struct lwm2m_node *n, char *buf, size_t size);
#define FMT_NODE_NAME_MAX 96

/* On a list sorted with nodes_sort: fails when two nodes have the same prefix and path, or
 * when a node sits inside another (a value at /3/0/6 and one at /3/0/6/0, an empty
 * instance next to its resources). */
int fmt_nodes_check_unique(const struct lwm2m_nodes *n, const char *fmt_name,
		struct lwm2m_error *err);

/* Encoder input check: every node has a path of the right depth for its kind (values at
 * /o/i/r or /o/i/r/ri, empty multiple at /o/i/r, empty instance at /o/i) and lies at or
 * below `req` (NULL = root). */
int fmt_nodes_check_input(const struct lwm2m_nodes *n, const struct lwm2m_path *req,
		struct lwm2m_error *err);

/* nodes_sort followed by fmt_nodes_check_unique, in one pass when the list is sorted
 * already (the usual case for a decoder's output). */
int fmt_nodes_sort_unique(struct lwm2m_nodes *n, const char *fmt_name, struct lwm2m_error *err);
/* nodes_sort's order: <0, 0, >0. */
int fmt_node_cmp(const struct lwm2m_node *a, const struct lwm2m_node *b);

/* Moves every node of `from` to the end of `to` (from is left empty). */
int fmt_nodes_move(struct lwm2m_nodes *to, struct lwm2m_nodes *from);

/* ---- text forms ----------------------------------------------------------------------- */

bool fmt_utf8_valid(const uint8_t *p, size_t len);

/* Strict decimal forms: optional '-', digits only (no '+', no spaces); 0 or -LWM2M_E*. */
int fmt_parse_int64(const char *s, size_t len, int64_t *out);
int fmt_parse_uint64(const char *s, size_t len, uint64_t *out);
/* Decimal number ([-]digits[.digits][(e|E)[+-]digits], also ".5" and "5.") or "NaN",
 * "Infinity", "-Infinity". */
int fmt_parse_double(const char *s, size_t len, double *out);
/* Shortest text that reads back as the same double; integral values keep ".0" ("3.0"),
 * non-finite ones are "NaN", "Infinity", "-Infinity". Returns the length (buf >= 32). */
#define FMT_DOUBLE_STR_MAX 32
size_t fmt_format_double(double v, char *buf, size_t size);
/* "oid:iid", each 0..65535, nothing else. */
int fmt_parse_objlnk(const char *s, size_t len, uint16_t *obj, uint16_t *inst);
/* RFC 3339 date-time to seconds since the epoch (fractions truncated). */
int fmt_parse_rfc3339(const char *s, size_t len, int64_t *out);
/* "YYYY-MM-DDTHH:MM:SS-00:00" (0 when the year is outside 0..9999). */
size_t fmt_format_rfc3339(int64_t t, char *buf, size_t size);
/* Lowercase hex of bytes; returns the length written (buf >= 2*len+1). */
size_t fmt_hex(const uint8_t *p, size_t len, char *buf);

/* ---- CBOR reader ---------------------------------------------------------------------- */

enum fmt_cbor_major {
	FMT_CBOR_UINT = 0,
	FMT_CBOR_NEGINT = 1,
	FMT_CBOR_BYTES = 2,
	FMT_CBOR_TEXT = 3,
	FMT_CBOR_ARRAY = 4,
	FMT_CBOR_MAP = 5,
	FMT_CBOR_TAG = 6,
	FMT_CBOR_SIMPLE = 7,     /* simple values and floats */
};

struct fmt_cbor_rd {
	const uint8_t *start;    /* for offsets in messages */
	const uint8_t *p;
	const uint8_t *end;
	struct lwm2m_error *err;
	struct node_pool *pool;  /* fmt_cbor_read_value's strings (NULL, the default: malloc) */
};

struct fmt_cbor_head {
	uint8_t major;           /* enum fmt_cbor_major */
	uint8_t ai;              /* additional information (low 5 bits) */
	bool indef;              /* indefinite length (ai 31) for strings, arrays and maps */
	uint64_t arg;            /* argument: value, length, count, tag, or raw float bits */
	size_t off;              /* offset of the initial byte */
};

void fmt_cbor_rd_init(struct fmt_cbor_rd *r, const uint8_t *buf, size_t len,
		struct lwm2m_error *err);
static inline size_t fmt_cbor_off(const struct fmt_cbor_rd *r)
{
	return (size_t)(r->p - r->start);
}
static inline bool fmt_cbor_at_end(const struct fmt_cbor_rd *r)
{
	return r->p >= r->end;
}
/* Reads the head of the next item. A break byte (0xff) is an error here: use
 * fmt_cbor_break first where one may appear. Rejects reserved additional information and
 * indefinite lengths on majors that have none. The one-byte heads are handled inline
 * (they are most of a payload); fmt_cbor_head_full does the rest. */
int fmt_cbor_head_full(struct fmt_cbor_rd *r, struct fmt_cbor_head *h);
static inline int fmt_cbor_head(struct fmt_cbor_rd *r, struct fmt_cbor_head *h)
{
	if(r->p < r->end && (*r->p & 0x1f) < 24){
		uint8_t ib = *r->p;
		h->off = (size_t)(r->p - r->start);
		h->major = ib >> 5;
		h->ai = ib & 0x1f;
		h->indef = false;
		h->arg = h->ai;
		r->p++;
		return 0;
	}
	return fmt_cbor_head_full(r, h);
}
/* True (and consumed) when the next byte is a break; false at the end of input too. */
bool fmt_cbor_break(struct fmt_cbor_rd *r);

/* The bytes of a string whose head was read. Definite strings point into the input
 * (*owned = NULL); indefinite ones are joined into *owned (malloc, NUL-terminated), which
 * the caller frees. Chunks must be definite strings of the same major. */
int fmt_cbor_string(struct fmt_cbor_rd *r, const struct fmt_cbor_head *h, const uint8_t **data,
		size_t *len, uint8_t **owned);

/* Skips one whole item (nesting bounded by max_depth). */
int fmt_cbor_skip(struct fmt_cbor_rd *r, size_t max_depth);

double fmt_half_to_double(uint16_t h);

/* Names a value in messages ("LwM2M CBOR dev1:/3/0/1"); formatted only when a message is
 * written, so decoders pay nothing for it on the good path. */
struct fmt_where {
	const char *fmt_name;            /* NULL: none */
	const char *prefix;              /* NULL: none */
	const struct lwm2m_path *path;   /* NULL: none */
};
const char *fmt_where_str(const struct fmt_where *w, char *buf, size_t size);

/* Reads one value item and converts it to `want` (LWM2M_TYPE_NONE: the wire type, with
 * null giving a NONE value). `what` (may be NULL) names the value in messages. Accepts
 * integers of any argument width, half/single/double floats, tag 0/1 times, tag 4 decimal
 * fractions, indefinite strings; a trailing NUL on an object link is dropped (Zephyr
 * writes one). */
int fmt_cbor_read_value(struct fmt_cbor_rd *r, enum lwm2m_type want, const struct fmt_where *what,
		struct lwm2m_value *out);

/* The n (1, 2, 4 or 8) big-endian argument bytes at p. */
static inline uint64_t fmt_cbor_be(const uint8_t *p, size_t n)
{
	switch(n){
	case 1: return p[0];
	case 2: return (uint64_t)p[0] << 8 | p[1];
	case 4: return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
	default:
		return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
			(uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
			(uint64_t)p[6] << 8 | p[7];
	}
}

/* fmt_utf8_valid, with text that is all ASCII (nearly all of it) settled here, eight bytes
 * at a time. */
static inline bool fmt_text_valid(const uint8_t *p, size_t len)
{
	uint64_t any = 0, w;
	size_t i = 0;

	for(; i + 8 <= len; i += 8){
		memcpy(&w, p + i, 8);
		any |= w;
	}
	for(; i < len; i++) any |= p[i];
	return !(any & 0x8080808080808080ull) || fmt_utf8_valid(p, len);
}

/* fmt_cbor_read_value with the items of most values decoded in place: an integer for an
 * Integer (or untyped) resource, a float for a Float, a boolean for a Boolean, valid text
 * for a String. Anything else, malformed input included, goes to fmt_cbor_read_value from
 * the item's start. */
static inline int fmt_cbor_read_value_inline(struct fmt_cbor_rd *r, enum lwm2m_type want,
		const struct fmt_where *what, struct lwm2m_value *out)
{
	const uint8_t *p = r->p;
	size_t avail = (size_t)(r->end - p), n = 0;
	uint64_t arg;
	uint8_t ib, ai;

	if(avail == 0) return fmt_cbor_read_value(r, want, what, out);
	ib = *p;
	ai = ib & 0x1f;
	if(ai < 24){
		arg = ai;
	}else if(ai <= 27 && avail > ((size_t)1 << (ai - 24))){
		n = (size_t)1 << (ai - 24);
		arg = fmt_cbor_be(p + 1, n);
	}else{
		return fmt_cbor_read_value(r, want, what, out);
	}
	switch(ib >> 5){
	case FMT_CBOR_UINT:
	case FMT_CBOR_NEGINT:
		if((want != LWM2M_TYPE_INTEGER && want != LWM2M_TYPE_NONE) || arg > (uint64_t)INT64_MAX) break;
		out->type = LWM2M_TYPE_INTEGER;
		out->v.i = ib >> 5 == FMT_CBOR_UINT ? (int64_t)arg : -1 - (int64_t)arg;
		r->p = p + 1 + n;
		return 0;
	case FMT_CBOR_SIMPLE:
		if(ai >= 25 && ai <= 27){
			float f;
			uint32_t b32 = (uint32_t)arg;
			if(want != LWM2M_TYPE_FLOAT && want != LWM2M_TYPE_NONE) break;
			out->type = LWM2M_TYPE_FLOAT;
			if(ai == 27){
				memcpy(&out->v.f, &arg, sizeof(out->v.f));
			}else if(ai == 26){
				memcpy(&f, &b32, sizeof(f));
				out->v.f = f;
			}else{
				out->v.f = fmt_half_to_double((uint16_t)arg);
			}
			r->p = p + 1 + n;
			return 0;
		}
		if(ib != 0xf4 && ib != 0xf5) break;
		if(want != LWM2M_TYPE_BOOLEAN && want != LWM2M_TYPE_NONE) break;
		out->type = LWM2M_TYPE_BOOLEAN;
		out->v.b = ib == 0xf5;
		r->p = p + 1;
		return 0;
	case FMT_CBOR_TEXT:
		if((want != LWM2M_TYPE_STRING && want != LWM2M_TYPE_NONE) || arg > avail - 1 - n) break;
		if(!r->pool || !fmt_text_valid(p + 1 + n, (size_t)arg)) break;
		if(node_pool_set_bytes(r->pool, out, LWM2M_TYPE_STRING, p + 1 + n, (size_t)arg) != 0) break;
		r->p = p + 1 + n + arg;
		return 0;
	default:
		break;
	}
	return fmt_cbor_read_value(r, want, what, out);
}

/* ---- CBOR writer ---------------------------------------------------------------------- */

int fmt_cbor_put_head(struct lwm2m_buf *b, uint8_t major, uint64_t arg);
int fmt_cbor_put_int(struct lwm2m_buf *b, int64_t v);
/* Shortest of half/single/double that holds v exactly (NaN as f97e00). */
int fmt_cbor_put_float_shortest(struct lwm2m_buf *b, double v);
int fmt_cbor_put_double(struct lwm2m_buf *b, double v);
int fmt_cbor_put_string(struct lwm2m_buf *b, uint8_t major, const void *p, size_t len);

enum fmt_cbor_style {
	FMT_CBOR_STYLE_LWM2M = 0,   /* shortest floats, time as plain integer */
	FMT_CBOR_STYLE_SINGLE,      /* CF 60 as Zephyr: double floats, time as tag 0 RFC 3339 */
};
/* Writes one LwM2M value (NONE = null). */
int fmt_cbor_put_value(struct lwm2m_buf *b, const struct lwm2m_value *v, enum fmt_cbor_style st);

/* ---- per-format entry points (called by fmt.c) ---------------------------------------- */

int fmt_text_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err);
int fmt_text_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err);
int fmt_opaque_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err);
int fmt_opaque_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err);
int fmt_cbor_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err);
int fmt_cbor_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err);
int fmt_tlv_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err);
int fmt_tlv_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err);
int fmt_lwm2m_cbor_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err);
int fmt_lwm2m_cbor_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err);

/* Single-value formats (text, opaque, CBOR): the one node of `in`, checked against the
 * request path; fmt_name is used in messages. */
int fmt_single_node(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const char *fmt_name, const struct lwm2m_node **node, struct lwm2m_error *err);
/* Single-value formats: path and type for a decoded value at `req` (NULL = root); fails
 * for a multi-instance resource or an object/instance path. */
int fmt_single_target(const struct lwm2m_path *req, const struct fmt_typer *typer,
		const char *fmt_name, struct lwm2m_path *path, enum lwm2m_type *type,
		struct lwm2m_error *err);

#endif
