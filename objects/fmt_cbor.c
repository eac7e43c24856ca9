/* CBOR (content format 60): one resource value as one CBOR data item; and the bounded CBOR
 * reader/writer and value mapping shared with LwM2M CBOR and SenML CBOR (fmt_internal.h).
 *
 * The reader is hand-rolled rather than libcbor's callback decoder: the formats need
 * look-ahead (break bytes, tags before values) and the zero-copy string access is simpler
 * to keep bounded here; every read checks the remaining length first. */
#include "fmt_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* ---- reader --------------------------------------------------------------------------- */

void fmt_cbor_rd_init(struct fmt_cbor_rd *r, const uint8_t *buf, size_t len,
		struct lwm2m_error *err)
{
	r->start = buf;
	r->p = buf;
	r->end = buf + len;
	r->err = err;
	r->pool = NULL;
}

static const char *const major_names[] = {
	"unsigned integer", "negative integer", "byte string", "text string",
	"array", "map", "tag", "simple value or float",
};

int fmt_cbor_head_full(struct fmt_cbor_rd *r, struct fmt_cbor_head *h)
{
	size_t off = fmt_cbor_off(r);
	uint8_t ib, major, ai;
	uint64_t v = 0;
	bool indef = false;

	if(r->p >= r->end){
		return lwm2m_fail(r->err, LWM2M_EINVAL, (long)off, "CBOR: truncated, an item is missing at byte %zu",
				off);
	}
	/* Work in locals and store h once: reading back fields just written byte by byte
	 * stalls store forwarding on this hot path. */
	ib = *r->p++;
	major = ib >> 5;
	ai = ib & 0x1f;
	if(ai < 24){
		v = ai;
	}else if(ai <= 27){
		size_t n = (size_t)1 << (ai - 24);
		const uint8_t *p = r->p;
		if((size_t)(r->end - p) < n){
			return lwm2m_fail(r->err, LWM2M_EINVAL, (long)off,
					"CBOR: truncated %s head at byte %zu", major_names[major], off);
		}
		switch(n){
		case 1: v = p[0]; break;
		case 2: v = (uint64_t)p[0] << 8 | p[1]; break;
		case 4: v = (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3]; break;
		default: for(size_t i = 0; i < 8; i++) v = (v << 8) | p[i]; break;
		}
		r->p += n;
		if(major == FMT_CBOR_SIMPLE && ai == 24 && v < 32){
			return lwm2m_fail(r->err, LWM2M_EINVAL, (long)off,
					"CBOR: simple value %" PRIu64 " in two bytes at byte %zu", v, off);
		}
	}else if(ai < 31){
		return lwm2m_fail(r->err, LWM2M_EINVAL, (long)off,
				"CBOR: reserved additional information %u at byte %zu", (unsigned)ai, off);
	}else{
		if(major == FMT_CBOR_SIMPLE){
			return lwm2m_fail(r->err, LWM2M_EINVAL, (long)off, "CBOR: unexpected break at byte %zu", off);
		}
		if(major < FMT_CBOR_BYTES || major == FMT_CBOR_TAG){
			return lwm2m_fail(r->err, LWM2M_EINVAL, (long)off,
					"CBOR: %s with indefinite length at byte %zu", major_names[major], off);
		}
		indef = true;
	}
	h->off = off;
	h->major = major;
	h->ai = ai;
	h->indef = indef;
	h->arg = v;
	return 0;
}

bool fmt_cbor_break(struct fmt_cbor_rd *r)
{
	if(r->p < r->end && *r->p == 0xff){
		r->p++;
		return true;
	}
	return false;
}

int fmt_cbor_string(struct fmt_cbor_rd *r, const struct fmt_cbor_head *h, const uint8_t **data,
		size_t *len, uint8_t **owned)
{
	uint8_t *acc = NULL;
	size_t total = 0, cap = 0;

	*owned = NULL;
	if(!h->indef){
		if(h->arg > (uint64_t)(r->end - r->p)){
			return lwm2m_fail(r->err, LWM2M_EINVAL, (long)h->off,
					"CBOR: %s at byte %zu is longer than the input", major_names[h->major], h->off);
		}
		*data = r->p;
		*len = (size_t)h->arg;
		r->p += h->arg;
		return 0;
	}
	/* Indefinite: definite chunks of the same major until a break. The joined size never
	 * exceeds the input size. */
	for(;;){
		struct fmt_cbor_head c = { 0 };
		uint8_t *grown;
		int rc;

		if(fmt_cbor_break(r)) break;
		rc = fmt_cbor_head(r, &c);
		if(rc){
			free(acc);
			return rc;
		}
		if(c.major != h->major || c.indef){
			free(acc);
			return lwm2m_fail(r->err, LWM2M_EINVAL, (long)c.off,
					"CBOR: bad chunk in an indefinite %s at byte %zu", major_names[h->major], c.off);
		}
		if(c.arg > (uint64_t)(r->end - r->p)){
			free(acc);
			return lwm2m_fail(r->err, LWM2M_EINVAL, (long)c.off,
					"CBOR: string chunk at byte %zu is longer than the input", c.off);
		}
		if(total + (size_t)c.arg + 1 > cap){
			/* doubling: many tiny chunks must not cost a copy each */
			size_t want = total + (size_t)c.arg + 1;
			cap = cap * 2 > want ? cap * 2 : want;
			grown = realloc(acc, cap);
			if(!grown){
				free(acc);
				return lwm2m_fail(r->err, LWM2M_ENOMEM, (long)c.off, "out of memory");
			}
			acc = grown;
		}
		memcpy(acc + total, r->p, (size_t)c.arg);
		total += (size_t)c.arg;
		r->p += c.arg;
	}
	if(!acc){
		acc = malloc(1);
		if(!acc) return lwm2m_fail(r->err, LWM2M_ENOMEM, (long)h->off, "out of memory");
	}
	acc[total] = '\0';
	*owned = acc;
	*data = acc;
	*len = total;
	return 0;
}

int fmt_cbor_skip(struct fmt_cbor_rd *r, size_t max_depth)
{
	struct fmt_cbor_head h = { 0 };
	int rc;

	if(max_depth == 0){
		size_t off = fmt_cbor_off(r);
		return lwm2m_fail(r->err, LWM2M_ETOOBIG, (long)off, "CBOR: nested too deeply at byte %zu", off);
	}
	rc = fmt_cbor_head(r, &h);
	if(rc) return rc;
	switch(h.major){
	case FMT_CBOR_BYTES:
	case FMT_CBOR_TEXT: {
		const uint8_t *d;
		size_t n;
		uint8_t *owned;
		rc = fmt_cbor_string(r, &h, &d, &n, &owned);
		free(owned);
		return rc;
	}
	case FMT_CBOR_ARRAY:
	case FMT_CBOR_MAP: {
		uint64_t per = h.major == FMT_CBOR_MAP ? 2 : 1;
		if(h.indef){
			while(!fmt_cbor_break(r)){
				for(uint64_t k = 0; k < per; k++){
					rc = fmt_cbor_skip(r, max_depth - 1);
					if(rc) return rc;
				}
			}
			return 0;
		}
		/* Each item needs a byte: a count above the remaining input cannot be right. */
		if(h.arg > (uint64_t)(r->end - r->p)){
			return lwm2m_fail(r->err, LWM2M_EINVAL, (long)h.off,
					"CBOR: %s at byte %zu has more items than the input has bytes",
					major_names[h.major], h.off);
		}
		for(uint64_t i = 0; i < h.arg * per; i++){
			rc = fmt_cbor_skip(r, max_depth - 1);
			if(rc) return rc;
		}
		return 0;
	}
	case FMT_CBOR_TAG:
		return fmt_cbor_skip(r, max_depth - 1);
	default:
		return 0;
	}
}

double fmt_half_to_double(uint16_t h)
{
	int e = (h >> 10) & 0x1f;
	int m = h & 0x3ff;
	double v;

	if(e == 0) v = ldexp(m, -24);
	else if(e == 31) v = m ? NAN : INFINITY;
	else v = ldexp(m + 1024, e - 25);
	return (h & 0x8000) ? -v : v;
}

static double bits_to_float(uint32_t b)
{
	float f;
	memcpy(&f, &b, sizeof(f));
	return f;
}

static double bits_to_double(uint64_t b)
{
	double d;
	memcpy(&d, &b, sizeof(d));
	return d;
}

const char *fmt_where_str(const struct fmt_where *w, char *buf, size_t size)
{
	char p[LWM2M_PATH_STR_MAX] = "";

	if(!w) return "value";
	if(w->path) path_format(w->path, p, sizeof(p));
	snprintf(buf, size, "%s%s%s%s%s", w->fmt_name ? w->fmt_name : "", w->fmt_name ? " " : "",
			w->prefix ? w->prefix : "", w->prefix ? ":" : "", p);
	return buf;
}

/* Fails with the value's name in front; the name is formatted only here, on failure. */
static int wfail(struct fmt_cbor_rd *r, const struct fmt_where *w, int code, long off,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int wfail(struct fmt_cbor_rd *r, const struct fmt_where *w, int code, long off,
		const char *fmt, ...)
{
	char msg[LWM2M_ERROR_MSG_MAX], name[FMT_NODE_NAME_MAX];
	va_list ap;

	if(!r->err) return -code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return lwm2m_fail(r->err, code, off, "%s: %s", fmt_where_str(w, name, sizeof(name)), msg);
}

/* A value item as it is on the wire, before the resource type is applied. */
enum wire_kind { W_UINT, W_NEG, W_FLOAT, W_BOOL, W_NULL, W_BYTES, W_TEXT, W_TIME };

static const char *const wire_names[] = {
	"an unsigned integer", "a negative integer", "a float", "a boolean", "null",
	"a byte string", "a text string", "a tagged time",
};

struct wire {
	enum wire_kind kind;
	uint64_t u;
	int64_t i;             /* W_NEG, W_TIME */
	double f;
	bool b;
	const uint8_t *data;   /* W_BYTES, W_TEXT */
	size_t len;
	uint8_t *owned;
	size_t off;
};

static int read_int_item(struct fmt_cbor_rd *r, const struct fmt_cbor_head *h, int64_t *out)
{
	if(h->major == FMT_CBOR_UINT && h->arg <= (uint64_t)INT64_MAX){
		*out = (int64_t)h->arg;
		return 0;
	}
	if(h->major == FMT_CBOR_NEGINT && h->arg <= (uint64_t)INT64_MAX){
		*out = -1 - (int64_t)h->arg;
		return 0;
	}
	return lwm2m_fail(r->err, LWM2M_ERANGE, (long)h->off,
			"CBOR: integer at byte %zu is outside the 64-bit signed range", h->off);
}

static bool float_to_int64(double f, int64_t *out)
{
	if(!(f >= -9223372036854775808.0 && f < 9223372036854775808.0)) return false;
	*out = (int64_t)f;
	return true;
}

/* Tag 4: [exponent, mantissa], both integers; value = mantissa * 10^exponent. */
static int read_decimal_fraction(struct fmt_cbor_rd *r, size_t off, double *out)
{
	struct fmt_cbor_head a = { 0 }, e = { 0 }, m = { 0 };
	int64_t exp, mant;
	int rc;

	rc = fmt_cbor_head(r, &a);
	if(rc) return rc;
	if(a.major != FMT_CBOR_ARRAY || a.indef || a.arg != 2){
		return lwm2m_fail(r->err, LWM2M_EINVAL, (long)off,
				"CBOR: tag 4 at byte %zu needs an array of two integers", off);
	}
	if((rc = fmt_cbor_head(r, &e)) != 0) return rc;
	if(e.major > FMT_CBOR_NEGINT || (rc = read_int_item(r, &e, &exp)) != 0){
		return rc ? rc : lwm2m_fail(r->err, LWM2M_EINVAL, (long)e.off,
				"CBOR: tag 4 exponent at byte %zu is not an integer", e.off);
	}
	if((rc = fmt_cbor_head(r, &m)) != 0) return rc;
	if(m.major > FMT_CBOR_NEGINT || (rc = read_int_item(r, &m, &mant)) != 0){
		return rc ? rc : lwm2m_fail(r->err, LWM2M_EINVAL, (long)m.off,
				"CBOR: tag 4 mantissa at byte %zu is not an integer", m.off);
	}
	if(exp < -400 || exp > 400){
		return lwm2m_fail(r->err, LWM2M_ERANGE, (long)off, "CBOR: tag 4 exponent out of range at byte %zu",
				off);
	}
	*out = (double)mant * pow(10.0, (double)exp);
	return 0;
}

static int read_wire(struct fmt_cbor_rd *r, struct wire *w, const struct fmt_where *what)
{
	struct fmt_cbor_head h = { 0 };
	int rc;

	/* no memset: this runs once per value; each kind sets what it uses */
	w->owned = NULL;
	w->data = NULL;
	w->len = 0;
	w->off = fmt_cbor_off(r);
	rc = fmt_cbor_head(r, &h);
	if(rc) return rc;
	switch(h.major){
	case FMT_CBOR_UINT:
		w->kind = W_UINT;
		w->u = h.arg;
		return 0;
	case FMT_CBOR_NEGINT:
		if(h.arg > (uint64_t)INT64_MAX){
			return wfail(r, what, LWM2M_ERANGE, (long)h.off,
					"negative integer at byte %zu is below the 64-bit range", h.off);
		}
		w->kind = W_NEG;
		w->i = -1 - (int64_t)h.arg;
		return 0;
	case FMT_CBOR_BYTES:
	case FMT_CBOR_TEXT:
		w->kind = h.major == FMT_CBOR_BYTES ? W_BYTES : W_TEXT;
		return fmt_cbor_string(r, &h, &w->data, &w->len, &w->owned);
	case FMT_CBOR_ARRAY:
	case FMT_CBOR_MAP:
		return wfail(r, what, LWM2M_EINVAL, (long)h.off, "%s at byte %zu is not a value",
				h.major == FMT_CBOR_ARRAY ? "an array" : "a map", h.off);
	case FMT_CBOR_TAG:
		break;
	default:
		switch(h.ai){
		case 20:
		case 21:
			w->kind = W_BOOL;
			w->b = h.ai == 21;
			return 0;
		case 22:
			w->kind = W_NULL;
			return 0;
		case 25:
			w->kind = W_FLOAT;
			w->f = fmt_half_to_double((uint16_t)h.arg);
			return 0;
		case 26:
			w->kind = W_FLOAT;
			w->f = bits_to_float((uint32_t)h.arg);
			return 0;
		case 27:
			w->kind = W_FLOAT;
			w->f = bits_to_double(h.arg);
			return 0;
		default:
			return wfail(r, what, LWM2M_EINVAL, (long)h.off,
					"simple value %" PRIu64 " at byte %zu is not a value",
					h.ai == 24 ? h.arg : h.ai, h.off);
		}
	}
	/* Tags: 0 and 1 are times, 4 a decimal fraction; nothing else carries an LwM2M value. */
	if(h.arg == 0){
		struct fmt_cbor_head t = { 0 };
		if((rc = fmt_cbor_head(r, &t)) != 0) return rc;
		if(t.major != FMT_CBOR_TEXT){
			return wfail(r, what, LWM2M_EINVAL, (long)t.off,
					"tag 0 at byte %zu needs a text string", h.off);
		}
		if((rc = fmt_cbor_string(r, &t, &w->data, &w->len, &w->owned)) != 0) return rc;
		w->kind = W_TIME;
		if(fmt_parse_rfc3339((const char *)w->data, w->len, &w->i) != 0){
			return wfail(r, what, LWM2M_EINVAL, (long)t.off,
					"tag 0 at byte %zu holds no RFC 3339 date-time", h.off);
		}
		return 0;
	}
	if(h.arg == 1){
		/* epoch seconds: an integer or a float, never another tag (no recursion here) */
		struct fmt_cbor_head t = { 0 };
		double f = 0;
		bool ok = false;
		if((rc = fmt_cbor_head(r, &t)) != 0) return rc;
		w->kind = W_TIME;
		if(t.major == FMT_CBOR_UINT || t.major == FMT_CBOR_NEGINT){
			ok = read_int_item(r, &t, &w->i) == 0;
		}else if(t.major == FMT_CBOR_SIMPLE && t.ai >= 25 && t.ai <= 27){
			f = t.ai == 25 ? fmt_half_to_double((uint16_t)t.arg) :
				t.ai == 26 ? bits_to_float((uint32_t)t.arg) : bits_to_double(t.arg);
			ok = float_to_int64(floor(f), &w->i);       /* whole seconds */
		}
		if(!ok){
			return wfail(r, what, LWM2M_EINVAL, (long)h.off,
					"tag 1 at byte %zu needs a number of seconds", h.off);
		}
		return 0;
	}
	if(h.arg == 4){
		w->kind = W_FLOAT;
		return read_decimal_fraction(r, h.off, &w->f);
	}
	return wfail(r, what, LWM2M_EINVAL, (long)h.off, "tag %" PRIu64 " at byte %zu is not an LwM2M value",
			h.arg, h.off);
}

static int wire_mismatch(struct fmt_cbor_rd *r, const struct wire *w, enum lwm2m_type want,
		const struct fmt_where *what)
{
	return wfail(r, what, LWM2M_ETYPE, (long)w->off, "expected %s, got %s at byte %zu",
			lwm2m_type_name(want), wire_names[w->kind], w->off);
}

static int set_bytes(struct fmt_cbor_rd *r, struct lwm2m_value *v, enum lwm2m_type t,
		const uint8_t *p, size_t len)
{
	return r->pool ? node_pool_set_bytes(r->pool, v, t, p, len) : value_set_bytes(v, t, p, len);
}

static int set_text(struct fmt_cbor_rd *r, const struct wire *w, enum lwm2m_type t,
		const struct fmt_where *what, struct lwm2m_value *out)
{
	if(t != LWM2M_TYPE_OPAQUE && !fmt_utf8_valid(w->data, w->len)){
		return wfail(r, what, LWM2M_EINVAL, (long)w->off, "invalid UTF-8 in the text at byte %zu",
				w->off);
	}
	if(set_bytes(r, out, t, w->data, w->len) != 0){
		return lwm2m_fail(r->err, LWM2M_ENOMEM, (long)w->off, "out of memory");
	}
	return 0;
}

static int wire_to_value(struct fmt_cbor_rd *r, const struct wire *w, enum lwm2m_type want,
		const struct fmt_where *what, struct lwm2m_value *out)
{
	int64_t i;

	switch(want){
	case LWM2M_TYPE_NONE:
		switch(w->kind){
		case W_UINT:
			if(w->u <= (uint64_t)INT64_MAX){
				out->type = LWM2M_TYPE_INTEGER;
				out->v.i = (int64_t)w->u;
			}else{
				out->type = LWM2M_TYPE_UNSIGNED;
				out->v.u = w->u;
			}
			return 0;
		case W_NEG: out->type = LWM2M_TYPE_INTEGER; out->v.i = w->i; return 0;
		case W_FLOAT: out->type = LWM2M_TYPE_FLOAT; out->v.f = w->f; return 0;
		case W_BOOL: out->type = LWM2M_TYPE_BOOLEAN; out->v.b = w->b; return 0;
		case W_NULL: out->type = LWM2M_TYPE_NONE; return 0;
		case W_BYTES: return set_text(r, w, LWM2M_TYPE_OPAQUE, what, out);
		case W_TEXT: return set_text(r, w, LWM2M_TYPE_STRING, what, out);
		case W_TIME: out->type = LWM2M_TYPE_TIME; out->v.i = w->i; return 0;
		}
		break;
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
		if(w->kind == W_TEXT) return set_text(r, w, want, what, out);
		break;
	case LWM2M_TYPE_OPAQUE:
		if(w->kind == W_BYTES) return set_text(r, w, want, what, out);
		break;
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		if(w->kind == W_UINT && w->u > (uint64_t)INT64_MAX){
			return wfail(r, what, LWM2M_ERANGE, (long)w->off,
					"%" PRIu64 " at byte %zu is above the %s range", w->u, w->off,
					lwm2m_type_name(want));
		}
		if(w->kind == W_UINT) i = (int64_t)w->u;
		else if(w->kind == W_NEG || w->kind == W_TIME) i = w->i;
		else if(w->kind == W_FLOAT && float_to_int64(w->f, &i) && (double)i == w->f) { /* integral */ }
		else if(w->kind == W_TEXT && want == LWM2M_TYPE_TIME &&
				fmt_parse_rfc3339((const char *)w->data, w->len, &i) == 0) { /* untagged date */ }
		else break;
		out->type = want;
		out->v.i = i;
		return 0;
	case LWM2M_TYPE_UNSIGNED:
		if(w->kind == W_UINT){
			out->v.u = w->u;
		}else if(w->kind == W_FLOAT && w->f >= 0 && w->f < 18446744073709551616.0 &&
				floor(w->f) == w->f){
			out->v.u = (uint64_t)w->f;
		}else if(w->kind == W_TIME && w->i >= 0){
			out->v.u = (uint64_t)w->i;
		}else if(w->kind == W_NEG || w->kind == W_TIME){
			return wfail(r, what, LWM2M_ERANGE, (long)w->off,
					"negative value at byte %zu for an unsigned resource", w->off);
		}else{
			break;
		}
		out->type = want;
		return 0;
	case LWM2M_TYPE_FLOAT:
		if(w->kind == W_FLOAT) out->v.f = w->f;
		else if(w->kind == W_UINT) out->v.f = (double)w->u;
		else if(w->kind == W_NEG) out->v.f = (double)w->i;
		else break;
		out->type = want;
		return 0;
	case LWM2M_TYPE_BOOLEAN:
		if(w->kind != W_BOOL) break;
		out->type = want;
		out->v.b = w->b;
		return 0;
	case LWM2M_TYPE_OBJLNK: {
		size_t len = w->len;
		if(w->kind != W_TEXT) break;
		/* Zephyr's CBOR writer counts the C string's NUL into the length. */
		if(len > 0 && w->data[len - 1] == '\0') len--;
		if(fmt_parse_objlnk((const char *)w->data, len, &out->v.lnk.obj, &out->v.lnk.inst) != 0){
			return wfail(r, what, LWM2M_EINVAL, (long)w->off,
					"the object link at byte %zu is not \"oid:iid\"", w->off);
		}
		out->type = want;
		return 0;
	}
	}
	return wire_mismatch(r, w, want, what);
}

/* The usual cases, straight from the head: an integer for an Integer, a float for a Float,
 * a boolean, a definite text for a String. 1 = done, 0 = take the general path. */
static int read_value_fast(struct fmt_cbor_rd *r, enum lwm2m_type want, const struct fmt_where *what,
		struct lwm2m_value *out, int *rc)
{
	const uint8_t *start = r->p;
	struct fmt_cbor_head h;

	if(r->p >= r->end) return 0;
	switch(*r->p >> 5){
	case FMT_CBOR_UINT:
	case FMT_CBOR_NEGINT:
		if(want != LWM2M_TYPE_INTEGER && want != LWM2M_TYPE_NONE) return 0;
		if(fmt_cbor_head(r, &h) != 0 || h.arg > (uint64_t)INT64_MAX) break;
		out->type = LWM2M_TYPE_INTEGER;
		out->v.i = h.major == FMT_CBOR_UINT ? (int64_t)h.arg : -1 - (int64_t)h.arg;
		*rc = 0;
		return 1;
	case FMT_CBOR_TEXT:
		if((want != LWM2M_TYPE_STRING && want != LWM2M_TYPE_NONE) || (*r->p & 0x1f) == 31) return 0;
		if(fmt_cbor_head(r, &h) != 0 || h.arg > (uint64_t)(r->end - r->p)) break;
		if(!fmt_utf8_valid(r->p, (size_t)h.arg)){
			*rc = wfail(r, what, LWM2M_EINVAL, (long)h.off, "invalid UTF-8 in the text at byte %zu", h.off);
			return 1;
		}
		*rc = set_bytes(r, out, LWM2M_TYPE_STRING, r->p, (size_t)h.arg) == 0 ? 0 :
			lwm2m_fail(r->err, LWM2M_ENOMEM, (long)h.off, "out of memory");
		r->p += h.arg;
		return 1;
	case FMT_CBOR_SIMPLE:
		if(*r->p == 0xf4 || *r->p == 0xf5){
			if(want != LWM2M_TYPE_BOOLEAN && want != LWM2M_TYPE_NONE) return 0;
			out->type = LWM2M_TYPE_BOOLEAN;
			out->v.b = *r->p++ == 0xf5;
			*rc = 0;
			return 1;
		}
		if((*r->p & 0x1f) < 25 || (*r->p & 0x1f) > 27) return 0;
		if(want != LWM2M_TYPE_FLOAT && want != LWM2M_TYPE_NONE) return 0;
		if(fmt_cbor_head(r, &h) != 0) break;
		out->type = LWM2M_TYPE_FLOAT;
		out->v.f = h.ai == 25 ? fmt_half_to_double((uint16_t)h.arg) :
			h.ai == 26 ? bits_to_float((uint32_t)h.arg) : bits_to_double(h.arg);
		*rc = 0;
		return 1;
	default:
		return 0;
	}
	r->p = start;        /* malformed: let the general path say what is wrong */
	return 0;
}

int fmt_cbor_read_value(struct fmt_cbor_rd *r, enum lwm2m_type want, const struct fmt_where *what,
		struct lwm2m_value *out)
{
	struct wire w;
	int rc;

	if(read_value_fast(r, want, what, out, &rc)) return rc;
	rc = read_wire(r, &w, what);

	if(rc == 0){
		if(w.kind == W_NULL && want != LWM2M_TYPE_NONE){
			rc = wfail(r, what, LWM2M_ETYPE, (long)w.off, "null at byte %zu for a %s resource", w.off,
					lwm2m_type_name(want));
		}else{
			rc = wire_to_value(r, &w, want, what, out);
		}
	}
	free(w.owned);
	return rc;
}

/* ---- writer --------------------------------------------------------------------------- */

int fmt_cbor_put_head(struct lwm2m_buf *b, uint8_t major, uint64_t arg)
{
	uint8_t tmp[9];
	size_t n;

	major = (uint8_t)(major << 5);
	if(arg < 24){
		tmp[0] = major | (uint8_t)arg;
		n = 1;
	}else if(arg <= 0xff){
		tmp[0] = major | 24;
		tmp[1] = (uint8_t)arg;
		n = 2;
	}else if(arg <= 0xffff){
		tmp[0] = major | 25;
		tmp[1] = (uint8_t)(arg >> 8);
		tmp[2] = (uint8_t)arg;
		n = 3;
	}else if(arg <= 0xffffffffu){
		tmp[0] = major | 26;
		for(int i = 0; i < 4; i++) tmp[1 + i] = (uint8_t)(arg >> (24 - 8 * i));
		n = 5;
	}else{
		tmp[0] = major | 27;
		for(int i = 0; i < 8; i++) tmp[1 + i] = (uint8_t)(arg >> (56 - 8 * i));
		n = 9;
	}
	return buf_append(b, tmp, n);
}

int fmt_cbor_put_int(struct lwm2m_buf *b, int64_t v)
{
	if(v >= 0) return fmt_cbor_put_head(b, FMT_CBOR_UINT, (uint64_t)v);
	return fmt_cbor_put_head(b, FMT_CBOR_NEGINT, (uint64_t)(-(v + 1)));
}

static int put_bits(struct lwm2m_buf *b, uint8_t ib, uint64_t bits, int bytes)
{
	uint8_t tmp[9];

	tmp[0] = ib;
	for(int i = 0; i < bytes; i++) tmp[1 + i] = (uint8_t)(bits >> (8 * (bytes - 1 - i)));
	return buf_append(b, tmp, (size_t)bytes + 1);
}

int fmt_cbor_put_double(struct lwm2m_buf *b, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	return put_bits(b, 0xfb, bits, 8);
}

/* The half-precision bits of v when v is exactly representable, else -1. */
static int32_t half_exact(double v)
{
	uint16_t sign = signbit(v) ? 0x8000 : 0;
	double a = fabs(v), t;
	int e;

	if(isnan(v)) return 0x7e00;
	if(isinf(v)) return sign | 0x7c00;
	if(a == 0) return sign;
	if(a < ldexp(1, -14)){
		t = ldexp(a, 24);                 /* subnormal: a = t * 2^-24, t < 1024 */
		return t == floor(t) ? (int32_t)(sign | (uint16_t)t) : -1;
	}
	if(a > 65504) return -1;
	frexp(a, &e);                         /* a = m * 2^e with 0.5 <= m < 1 */
	e -= 1;                               /* a = 1.f * 2^e */
	t = ldexp(a, 10 - e);                 /* 1024..2047 when exact */
	if(t != floor(t)) return -1;
	return (int32_t)(sign | (uint16_t)((e + 15) << 10) | (uint16_t)((uint32_t)t - 1024));
}

int fmt_cbor_put_float_shortest(struct lwm2m_buf *b, double v)
{
	int32_t half = half_exact(v);
	float f;

	if(half >= 0) return put_bits(b, 0xf9, (uint64_t)half, 2);
	f = (float)v;
	if((double)f == v){
		uint32_t bits;
		memcpy(&bits, &f, sizeof(bits));
		return put_bits(b, 0xfa, bits, 4);
	}
	return fmt_cbor_put_double(b, v);
}

int fmt_cbor_put_string(struct lwm2m_buf *b, uint8_t major, const void *p, size_t len)
{
	int rc = fmt_cbor_put_head(b, major, len);
	return rc ? rc : buf_append(b, p, len);
}

int fmt_cbor_put_value(struct lwm2m_buf *b, const struct lwm2m_value *v, enum fmt_cbor_style st)
{
	char tmp[40];
	size_t n;
	int rc;

	switch(v->type){
	case LWM2M_TYPE_NONE:
		return buf_append_byte(b, 0xf6);
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
		return fmt_cbor_put_string(b, FMT_CBOR_TEXT, v->v.bytes.data, v->v.bytes.len);
	case LWM2M_TYPE_OPAQUE:
		return fmt_cbor_put_string(b, FMT_CBOR_BYTES, v->v.bytes.data, v->v.bytes.len);
	case LWM2M_TYPE_INTEGER:
		return fmt_cbor_put_int(b, v->v.i);
	case LWM2M_TYPE_UNSIGNED:
		return fmt_cbor_put_head(b, FMT_CBOR_UINT, v->v.u);
	case LWM2M_TYPE_FLOAT:
		return st == FMT_CBOR_STYLE_SINGLE ? fmt_cbor_put_double(b, v->v.f) :
			fmt_cbor_put_float_shortest(b, v->v.f);
	case LWM2M_TYPE_BOOLEAN:
		return buf_append_byte(b, v->v.b ? 0xf5 : 0xf4);
	case LWM2M_TYPE_TIME:
		if(st == FMT_CBOR_STYLE_SINGLE){
			/* Zephyr writes (and reads) tag 0 text; outside years 0..9999 use tag 1. */
			n = fmt_format_rfc3339(v->v.i, tmp, sizeof(tmp));
			if(n){
				rc = fmt_cbor_put_head(b, FMT_CBOR_TAG, 0);
				return rc ? rc : fmt_cbor_put_string(b, FMT_CBOR_TEXT, tmp, n);
			}
			rc = fmt_cbor_put_head(b, FMT_CBOR_TAG, 1);
			if(rc) return rc;
		}
		return fmt_cbor_put_int(b, v->v.i);
	case LWM2M_TYPE_OBJLNK:
		n = (size_t)snprintf(tmp, sizeof(tmp), "%u:%u", (unsigned)v->v.lnk.obj, (unsigned)v->v.lnk.inst);
		return fmt_cbor_put_string(b, FMT_CBOR_TEXT, tmp, n);
	}
	return -LWM2M_EINVAL;
}

/* ---- content format 60 ---------------------------------------------------------------- */

int fmt_cbor_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	struct fmt_cbor_rd r;
	struct fmt_dec d;
	struct lwm2m_path path;
	enum lwm2m_type type;
	struct lwm2m_node *node = NULL;
	struct fmt_where what = { "CBOR", NULL, NULL };
	int rc;

	rc = fmt_single_target(req, typer, "CBOR", &path, &type, err);
	if(rc) return rc;
	if(len == 0) return lwm2m_fail(err, LWM2M_EINVAL, 0, "CBOR: empty payload");
	fmt_dec_init(&d, typer, lim, len, out, err);
	d.pool = NULL;                  /* one value: nothing to share a block with */
	fmt_cbor_rd_init(&r, buf, len, err);
	rc = fmt_dec_push(&d, 0, &node);
	if(rc) return rc;
	node->path = path;
	what.path = &node->path;
	rc = fmt_cbor_read_value(&r, type, &what, &node->value);
	if(rc == 0 && !fmt_cbor_at_end(&r)){
		size_t off = fmt_cbor_off(&r);
		rc = lwm2m_fail(err, LWM2M_EINVAL, (long)off, "CBOR: %zu bytes after the value at byte %zu",
				len - off, off);
	}
	return rc;
}

int fmt_cbor_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err)
{
	const struct lwm2m_node *node;
	int rc = fmt_single_node(in, req, "CBOR", &node, err);

	return rc ? rc : fmt_cbor_put_value(out, &node->value, FMT_CBOR_STYLE_SINGLE);
}
