/* Content-format dispatch (decode, encode, convert), content-format names, and the helpers
 * every codec shares (fmt_internal.h). */
#include "fmt.h"
#include "fmt_internal.h"
#include "fmt_senml.h"
#include "fmt_omajson.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- typer ---------------------------------------------------------------------------- */

int fmt_is_multiple(const struct fmt_typer *t, const char *prefix, const struct lwm2m_path *p)
{
	int m;

	if(!t || !t->is_multiple) return -1;
	m = t->is_multiple(t->ctx, prefix, p);
	return m > 0 ? 1 : m == 0 ? 0 : -1;
}

/* ---- decoding context ----------------------------------------------------------------- */

static bool same_prefix(const char *a, const char *b)
{
	if(!a || !b) return a == b;
	return strcmp(a, b) == 0;
}

size_t fmt_limits_depth(const struct fmt_limits *lim)
{
	return lim && lim->max_depth ? lim->max_depth : FMT_DEFAULT_MAX_DEPTH;
}

void fmt_dec_init(struct fmt_dec *d, const struct fmt_typer *typer, const struct fmt_limits *lim,
		size_t input_len, struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	size_t max = lim && lim->max_nodes ? lim->max_nodes : FMT_DEFAULT_MAX_NODES;

	d->typer = typer;
	d->out = out;
	d->err = err;
	d->pool = NULL;   /* decoders that share string blocks set their own */
	/* Every node costs at least one input byte in every format except a lone empty string
	 * in plain text: bounding by the input keeps memory proportional to it. */
	if(input_len < SIZE_MAX && input_len + 1 < max) max = input_len + 1;
	d->max_nodes = max;
	d->max_depth = fmt_limits_depth(lim);
	d->unsorted = false;
	d->nested = false;
	d->last_len = 0;
	d->last_key = 0;
}

int fmt_dec_finish(struct fmt_dec *d, const char *fmt_name)
{
	if(!d->unsorted && !d->nested) return 0;
	if(d->unsorted) nodes_sort(d->out);
	return fmt_nodes_check_unique(d->out, fmt_name, d->err);
}

void fmt_dec_reserve(struct fmt_dec *d, size_t n)
{
	struct lwm2m_nodes *out = d->out;
	struct lwm2m_node *items;
	size_t cap;

	if(n > d->max_nodes) n = d->max_nodes;
	if(out->cap - out->count >= n) return;
	cap = out->count + n;
	if(cap < out->count || cap > SIZE_MAX / sizeof(*items)) return;
	items = realloc(out->items, cap * sizeof(*items));
	if(!items) return;
	out->items = items;
	out->cap = cap;
}

int fmt_dec_push_slow(struct fmt_dec *d, size_t offset, struct lwm2m_node **node)
{
	if(d->out->count >= d->max_nodes){
		return lwm2m_fail(d->err, LWM2M_ETOOBIG, (long)offset,
				"more than %zu values at byte %zu", d->max_nodes, offset);
	}
	*node = nodes_push(d->out);
	if(!*node) return lwm2m_fail(d->err, LWM2M_ENOMEM, (long)offset, "out of memory at byte %zu", offset);
	return 0;
}

/* ---- node lists ----------------------------------------------------------------------- */

const char *fmt_node_name(const struct lwm2m_node *n, char *buf, size_t size)
{
	char p[LWM2M_PATH_STR_MAX];

	path_format(&n->path, p, sizeof(p));
	if(n->prefix) snprintf(buf, size, "%.60s:%s", n->prefix, p);
	else snprintf(buf, size, "%s", p);
	return buf;
}

int fmt_nodes_check_unique(const struct lwm2m_nodes *n, const char *fmt_name,
		struct lwm2m_error *err)
{
	char a_name[FMT_NODE_NAME_MAX], b_name[FMT_NODE_NAME_MAX];

	for(size_t i = 1; i < n->count; i++){
		const struct lwm2m_node *a = &n->items[i - 1], *b = &n->items[i];

		if(!same_prefix(a->prefix, b->prefix)) continue;
		if(!path_starts_with(&b->path, &a->path)) continue;
		/* Sorted depth-first: an ancestor is always right before its first descendant. */
		fmt_node_name(a, a_name, sizeof(a_name));
		if(a->path.len == b->path.len){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s: %s appears twice", fmt_name, a_name);
		}
		fmt_node_name(b, b_name, sizeof(b_name));
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s: %s is given both as %s and with %s below it",
				fmt_name, a_name,
				a->kind == LWM2M_NODE_EMPTY_INSTANCE ? "an empty instance" :
				a->kind == LWM2M_NODE_EMPTY_MULTIPLE ? "an empty multi-instance resource" :
				"a single value", b_name);
	}
	return 0;
}

int fmt_nodes_sort_unique(struct lwm2m_nodes *n, const char *fmt_name, struct lwm2m_error *err)
{
	uint64_t ka, kb;

	if(n->count < 2) return 0;
	ka = fmt_path_key(&n->items[0].path);
	for(size_t i = 1; i < n->count; i++, ka = kb){
		const struct lwm2m_node *a = &n->items[i - 1], *b = &n->items[i];
		bool same = !a->prefix && !b->prefix;
		unsigned shift;

		kb = fmt_path_key(&b->path);
		if(!same){
			int c = fmt_node_cmp(a, b);
			if(c > 0) goto unsorted;
			same = c == 0 || same_prefix(a->prefix, b->prefix);
			if(!same) continue;
		}
		if(ka > kb || (ka == kb && a->path.len > b->path.len)) goto unsorted;
		/* b inside a (or equal): a no longer, same IDs down to a's level */
		shift = 16u * (unsigned)(LWM2M_PATH_MAX_DEPTH - a->path.len);
		if(a->path.len <= b->path.len && (a->path.len == 0 || (ka >> shift) == (kb >> shift))){
			return fmt_nodes_check_unique(n, fmt_name, err);    /* words the message */
		}
	}
	return 0;
unsorted:
	nodes_sort(n);
	return fmt_nodes_check_unique(n, fmt_name, err);
}

int fmt_nodes_check_input(const struct lwm2m_nodes *n, const struct lwm2m_path *req,
		struct lwm2m_error *err)
{
	char name[FMT_NODE_NAME_MAX], rp[LWM2M_PATH_STR_MAX];

	for(size_t i = 0; i < n->count; i++){
		const struct lwm2m_node *node = &n->items[i];
		uint8_t len = node->path.len;
		bool ok;

		switch(node->kind){
		case LWM2M_NODE_VALUE:
			ok = len == 3 || len == 4;
			if(ok && ((int)node->value.type < LWM2M_TYPE_NONE ||
					(int)node->value.type > LWM2M_TYPE_CORELNK)){
				return lwm2m_fail(err, LWM2M_EINVAL, -1, "node %zu (%s) has an unknown type %d",
						i, fmt_node_name(node, name, sizeof(name)), (int)node->value.type);
			}
			break;
		case LWM2M_NODE_EMPTY_MULTIPLE:
			ok = len == 3;
			break;
		case LWM2M_NODE_EMPTY_INSTANCE:
			ok = len == 2;
			break;
		default:
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "node %zu has an unknown kind %d", i,
					(int)node->kind);
		}
		if(!ok || len > LWM2M_PATH_MAX_DEPTH){
			return lwm2m_fail(err, LWM2M_EINVAL, -1,
					"node %zu (%s): a %s needs a path of %s", i,
					fmt_node_name(node, name, sizeof(name)),
					node->kind == LWM2M_NODE_VALUE ? "value" :
					node->kind == LWM2M_NODE_EMPTY_MULTIPLE ? "empty multi-instance resource" :
					"empty instance",
					node->kind == LWM2M_NODE_VALUE ? "/o/i/r or /o/i/r/ri" :
					node->kind == LWM2M_NODE_EMPTY_MULTIPLE ? "/o/i/r" : "/o/i");
		}
		if(req && !path_starts_with(&node->path, req)){
			path_format(req, rp, sizeof(rp));
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s is outside the request path %s",
					fmt_node_name(node, name, sizeof(name)), rp);
		}
	}
	return 0;
}

int fmt_nodes_move(struct lwm2m_nodes *to, struct lwm2m_nodes *from)
{
	if(from->count == 0) return 0;
	if(to->count == 0 && to->items == NULL){
		*to = *from;
		nodes_init(from);
		return 0;
	}
	if(to->cap - to->count < from->count){
		size_t cap = to->count + from->count;
		struct lwm2m_node *items;

		if(cap < to->count || cap > SIZE_MAX / sizeof(*items)) return -LWM2M_ENOMEM;
		items = realloc(to->items, cap * sizeof(*items));
		if(!items) return -LWM2M_ENOMEM;
		to->items = items;
		to->cap = cap;
	}
	memcpy(to->items + to->count, from->items, from->count * sizeof(*from->items));
	to->count += from->count;
	free(from->items);
	nodes_init(from);
	return 0;
}

/* ---- single-value formats ------------------------------------------------------------- */

int fmt_single_node(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const char *fmt_name, const struct lwm2m_node **node, struct lwm2m_error *err)
{
	char name[FMT_NODE_NAME_MAX], rp[LWM2M_PATH_STR_MAX];
	const struct lwm2m_node *n;

	if(in->count == 0) return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s: no value to encode", fmt_name);
	n = &in->items[0];
	if(in->count > 1){
		/* The usual cause: several instances of one resource. */
		if(n->path.len == 4){
			struct lwm2m_path res = n->path;
			res.len = 3;
			path_format(&res, rp, sizeof(rp));
			return lwm2m_fail(err, LWM2M_ENOTSUP, -1,
					"%s cannot carry a multi-instance resource (%s has %zu values)",
					fmt_name, rp, in->count);
		}
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "%s carries a single value, got %zu values",
				fmt_name, in->count);
	}
	if(n->kind == LWM2M_NODE_EMPTY_MULTIPLE){
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "%s cannot carry a multi-instance resource (%s)",
				fmt_name, fmt_node_name(n, name, sizeof(name)));
	}
	if(n->kind == LWM2M_NODE_EMPTY_INSTANCE){
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "%s cannot carry an object instance (%s)",
				fmt_name, fmt_node_name(n, name, sizeof(name)));
	}
	if(req && req->len == 3 && n->path.len == 4){
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "%s cannot carry a multi-instance resource (%s)",
				fmt_name, fmt_node_name(n, name, sizeof(name)));
	}
	if(req && req->len && path_compare(req, &n->path) != 0){
		path_format(req, rp, sizeof(rp));
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s: the value is for %s, the request for %s",
				fmt_name, fmt_node_name(n, name, sizeof(name)), rp);
	}
	*node = n;
	return 0;
}

int fmt_single_target(const struct lwm2m_path *req, const struct fmt_typer *typer,
		const char *fmt_name, struct lwm2m_path *path, enum lwm2m_type *type,
		struct lwm2m_error *err)
{
	char rp[LWM2M_PATH_STR_MAX];

	if(!req || req->len < 3){
		if(req) path_format(req, rp, sizeof(rp));
		else snprintf(rp, sizeof(rp), "/");
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1,
				"%s carries one resource value: the request path %s is not a resource",
				fmt_name, rp);
	}
	path_format(req, rp, sizeof(rp));
	if(req->len == 3 && fmt_is_multiple(typer, NULL, req) == 1){
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "%s cannot carry a multi-instance resource (%s)",
				fmt_name, rp);
	}
	*path = *req;
	*type = fmt_type_of(typer, NULL, req);
	return 0;
}

/* ---- text forms ----------------------------------------------------------------------- */

bool fmt_utf8_valid(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while(i < len){
		uint8_t c = p[i];
		uint32_t cp;
		size_t n;

		if(c < 0x80){
			uint64_t w;
			/* ASCII runs eight bytes at a time */
			while(len - i >= 8){
				memcpy(&w, p + i, 8);
				if(w & 0x8080808080808080ull) break;
				i += 8;
			}
			if(i < len && p[i] < 0x80) i++;
			continue;
		}
		if(c >= 0xc2 && c <= 0xdf){ n = 1; cp = c & 0x1f; }
		else if(c >= 0xe0 && c <= 0xef){ n = 2; cp = c & 0x0f; }
		else if(c >= 0xf0 && c <= 0xf4){ n = 3; cp = c & 0x07; }
		else return false;
		if(len - i - 1 < n) return false;
		for(size_t k = 1; k <= n; k++){
			uint8_t cc = p[i + k];
			if((cc & 0xc0) != 0x80) return false;
			cp = (cp << 6) | (cc & 0x3f);
		}
		/* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
		if((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
				(cp >= 0xd800 && cp <= 0xdfff)){
			return false;
		}
		i += n + 1;
	}
	return true;
}

int fmt_parse_uint64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if(len == 0) return -LWM2M_EINVAL;
	for(size_t i = 0; i < len; i++){
		unsigned d;
		if(s[i] < '0' || s[i] > '9') return -LWM2M_EINVAL;
		d = (unsigned)(s[i] - '0');
		if(v > (UINT64_MAX - d) / 10) return -LWM2M_ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int fmt_parse_int64(const char *s, size_t len, int64_t *out)
{
	bool neg = len > 0 && s[0] == '-';
	uint64_t mag;
	int rc = fmt_parse_uint64(s + neg, len - neg, &mag);

	if(rc) return rc;
	if(neg){
		if(mag > (uint64_t)INT64_MAX + 1) return -LWM2M_ERANGE;
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	}else{
		if(mag > (uint64_t)INT64_MAX) return -LWM2M_ERANGE;
		*out = (int64_t)mag;
	}
	return 0;
}

int fmt_parse_double(const char *s, size_t len, double *out)
{
	char tmp[512];
	size_t i = 0, digits = 0;
	char *end;

	if(len == 3 && !memcmp(s, "NaN", 3)){ *out = NAN; return 0; }
	if(len == 8 && !memcmp(s, "Infinity", 8)){ *out = INFINITY; return 0; }
	if(len == 9 && !memcmp(s, "-Infinity", 9)){ *out = -INFINITY; return 0; }
	/* Check the grammar first: strtod alone would take hex, "inf", leading spaces. */
	if(i < len && s[i] == '-') i++;
	while(i < len && s[i] >= '0' && s[i] <= '9'){ i++; digits++; }
	if(i < len && s[i] == '.'){
		i++;
		while(i < len && s[i] >= '0' && s[i] <= '9'){ i++; digits++; }
	}
	if(digits == 0) return -LWM2M_EINVAL;
	if(i < len && (s[i] == 'e' || s[i] == 'E')){
		size_t exp_digits = 0;
		i++;
		if(i < len && (s[i] == '+' || s[i] == '-')) i++;
		while(i < len && s[i] >= '0' && s[i] <= '9'){ i++; exp_digits++; }
		if(exp_digits == 0) return -LWM2M_EINVAL;
	}
	if(i != len) return -LWM2M_EINVAL;
	if(len >= sizeof(tmp)) return -LWM2M_ERANGE;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	*out = strtod(tmp, &end);
	if(end != tmp + len) return -LWM2M_EINVAL;
	if(errno == ERANGE && isinf(*out)) return -LWM2M_ERANGE;
	return 0;
}

size_t fmt_format_double(double v, char *buf, size_t size)
{
	int n = 0, prec;
	const char *e;

	if(isnan(v)) return (size_t)snprintf(buf, size, "NaN");
	if(isinf(v)) return (size_t)snprintf(buf, size, v < 0 ? "-Infinity" : "Infinity");
	for(prec = 1; prec <= 17; prec++){
		n = snprintf(buf, size, "%.*g", prec, v);
		if(n < 0 || (size_t)n >= size) return 0;
		if(strtod(buf, NULL) == v) break;
	}
	/* %g writes -10 as "-1e+01" at one digit: below 1e17, spell the digits out (more
	 * precision than the shortest still reads back exactly). */
	e = strchr(buf, 'e');
	if(e){
		int x = atoi(e + 1);
		if(x >= 0 && x < 17){
			n = snprintf(buf, size, "%.*g", x + 1 > prec ? x + 1 : prec, v);
			if(n < 0 || (size_t)n >= size) return 0;
		}
	}
	if(!strpbrk(buf, ".e")){
		if((size_t)n + 2 >= size) return 0;
		memcpy(buf + n, ".0", 3);
		n += 2;
	}
	return (size_t)n;
}

int fmt_parse_objlnk(const char *s, size_t len, uint16_t *obj, uint16_t *inst)
{
	const char *colon = memchr(s, ':', len);
	uint64_t o, i;

	if(!colon) return -LWM2M_EINVAL;
	if(fmt_parse_uint64(s, (size_t)(colon - s), &o) || o > LWM2M_ID_MAX) return -LWM2M_EINVAL;
	if(fmt_parse_uint64(colon + 1, len - (size_t)(colon - s) - 1, &i) || i > LWM2M_ID_MAX){
		return -LWM2M_EINVAL;
	}
	*obj = (uint16_t)o;
	*inst = (uint16_t)i;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool digits_at(const char *s, size_t len, size_t pos, size_t n, unsigned *out)
{
	unsigned v = 0;

	if(pos + n > len) return false;
	for(size_t i = 0; i < n; i++){
		if(s[pos + i] < '0' || s[pos + i] > '9') return false;
		v = v * 10 + (unsigned)(s[pos + i] - '0');
	}
	*out = v;
	return true;
}

int fmt_parse_rfc3339(const char *s, size_t len, int64_t *out)
{
	unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
	size_t i = 19;
	int64_t t, off = 0;
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if(!digits_at(s, len, 0, 4, &y) || len < 20 || s[4] != '-' || !digits_at(s, len, 5, 2, &mo) ||
			s[7] != '-' || !digits_at(s, len, 8, 2, &d) ||
			(s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
			!digits_at(s, len, 11, 2, &h) || s[13] != ':' || !digits_at(s, len, 14, 2, &mi) ||
			s[16] != ':' || !digits_at(s, len, 17, 2, &sec)){
		return -LWM2M_EINVAL;
	}
	if(mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60){
		return -LWM2M_EINVAL;
	}
	if(s[i] == '.'){
		size_t start = ++i;
		while(i < len && s[i] >= '0' && s[i] <= '9') i++;
		if(i == start) return -LWM2M_EINVAL;
	}
	if(i < len && (s[i] == 'Z' || s[i] == 'z')){
		i++;
	}else if(i < len && (s[i] == '+' || s[i] == '-')){
		if(!digits_at(s, len, i + 1, 2, &oh) || i + 3 >= len || s[i + 3] != ':' ||
				!digits_at(s, len, i + 4, 2, &om) || oh > 23 || om > 59){
			return -LWM2M_EINVAL;
		}
		off = (int64_t)oh * 3600 + (int64_t)om * 60;
		if(s[i] == '-') off = -off;
		i += 6;
	}else{
		return -LWM2M_EINVAL;
	}
	if(i != len) return -LWM2M_EINVAL;
	t = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec;
	*out = t - off;
	return 0;
}

size_t fmt_format_rfc3339(int64_t t, char *buf, size_t size)
{
	int64_t days, rem, y;
	unsigned m, d;
	int n;

	/* years 0..9999 only: beyond them RFC 3339 has no form */
	if(t < -62167219200LL || t > 253402300799LL) return 0;
	days = t / 86400;
	rem = t % 86400;
	if(rem < 0){
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	n = snprintf(buf, size, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u-00:00", y, m, d,
			(unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60));
	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

size_t fmt_hex(const uint8_t *p, size_t len, char *buf)
{
	static const char digits[] = "0123456789abcdef";

	for(size_t i = 0; i < len; i++){
		buf[2 * i] = digits[p[i] >> 4];
		buf[2 * i + 1] = digits[p[i] & 15];
	}
	buf[2 * len] = '\0';
	return 2 * len;
}

/* ---- dispatch ------------------------------------------------------------------------- */

typedef int (*fmt_decode_fn)(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err);
typedef int (*fmt_encode_fn)(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err);

struct fmt_entry {
	uint16_t cf;
	const char *name;
	const char *media_type;
	fmt_decode_fn decode;      /* NULL: this library does not read it */
	fmt_encode_fn encode;      /* NULL: this library does not write it */
	bool sorted;               /* the decoder returns its nodes sorted already */
};

static const struct fmt_entry formats[] = {
	{ LWM2M_CF_TEXT, "text", "text/plain;charset=utf-8", fmt_text_decode, fmt_text_encode, true },
	{ LWM2M_CF_LINK, "link", "application/link-format", NULL, NULL, false },
	{ LWM2M_CF_OPAQUE, "opaque", "application/octet-stream", fmt_opaque_decode, fmt_opaque_encode,
		true },
	{ LWM2M_CF_CBOR, "cbor", "application/cbor", fmt_cbor_decode, fmt_cbor_encode, true },
	{ LWM2M_CF_SENML_JSON, "senml-json", "application/senml+json", senml_json_decode,
		senml_json_encode, false },
	{ LWM2M_CF_SENML_CBOR, "senml-cbor", "application/senml+cbor", senml_cbor_decode,
		senml_cbor_encode, false },
	{ LWM2M_CF_SENML_ETCH_JSON, "senml-etch-json", "application/senml-etch+json",
		senml_etch_json_decode, senml_etch_json_encode, false },
	{ LWM2M_CF_SENML_ETCH_CBOR, "senml-etch-cbor", "application/senml-etch+cbor",
		senml_etch_cbor_decode, senml_etch_cbor_encode, false },
	{ LWM2M_CF_TLV, "tlv", "application/vnd.oma.lwm2m+tlv", fmt_tlv_decode, fmt_tlv_encode, true },
	{ LWM2M_CF_OMA_JSON, "oma-json", "application/vnd.oma.lwm2m+json", omajson_decode, omajson_encode,
		false },
	{ LWM2M_CF_LWM2M_CBOR, "lwm2m-cbor", "application/vnd.oma.lwm2m+cbor", fmt_lwm2m_cbor_decode,
		fmt_lwm2m_cbor_encode, true },
};

static const struct fmt_entry *fmt_find(uint16_t cf)
{
	for(size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++){
		if(formats[i].cf == cf) return &formats[i];
	}
	return NULL;
}

static const char *cf_label(uint16_t cf, char *buf, size_t size)
{
	const struct fmt_entry *e = fmt_find(cf);

	if(e) snprintf(buf, size, "%s (%u)", e->name, (unsigned)cf);
	else snprintf(buf, size, "content format %u", (unsigned)cf);
	return buf;
}

int fmt_decode(uint16_t cf, const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	const struct fmt_entry *e = fmt_find(cf);
	struct lwm2m_nodes tmp;
	char label[48];
	bool merge;
	int rc;

	if(!e || !e->decode){
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "cannot decode %s", cf_label(cf, label, sizeof(label)));
	}
	if(!buf && len) return lwm2m_fail(err, LWM2M_EINVAL, -1, "no payload buffer");
	if(!buf) buf = (const uint8_t *)"";
	nodes_init(&tmp);
	merge = out->count > 0;
	rc = e->decode(buf, len, req, typer, lim, &tmp, err);
	if(rc == 0){
		rc = fmt_nodes_move(out, &tmp);
		if(rc) lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	}
	nodes_free(&tmp);
	if(rc == 0 && (merge || !e->sorted)) nodes_sort(out);
	return rc;
}

int fmt_encode(uint16_t cf, const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err)
{
	const struct fmt_entry *e = fmt_find(cf);
	struct lwm2m_error local;
	size_t start = out->len, saved_limit = out->limit;
	char label[48];
	int rc;

	if(!err) err = &local;
	if(!e || !e->encode){
		return lwm2m_fail(err, LWM2M_ENOTSUP, -1, "cannot encode %s", cf_label(cf, label, sizeof(label)));
	}
	rc = fmt_nodes_check_input(in, req, err);
	if(rc) return rc;
	if(lim && lim->max_output){
		size_t cap = start + lim->max_output < start ? SIZE_MAX : start + lim->max_output;
		if(!out->limit || cap < out->limit) out->limit = cap;
	}
	err->code = 0;
	err->msg[0] = '\0';
	rc = e->encode(in, req, typer, lim, out, err);
	out->limit = saved_limit;
	if(rc){
		out->len = start;
		if(err->msg[0] == '\0'){
			/* A buffer failure deep inside an encoder: say which. */
			if(rc == -LWM2M_ETOOBIG) lwm2m_fail(err, rc, -1, "%s output is larger than the limit",
					cf_label(cf, label, sizeof(label)));
			else lwm2m_fail(err, rc, -1, "%s encoder: %s", cf_label(cf, label, sizeof(label)),
					lwm2m_strerror(rc));
		}
	}
	return rc;
}

int fmt_convert(uint16_t from, uint16_t to, const uint8_t *buf, size_t len,
		const struct lwm2m_path *req, const struct fmt_typer *typer,
		const struct fmt_limits *lim, struct lwm2m_buf *out, struct lwm2m_error *err)
{
	struct lwm2m_nodes nodes;
	int rc;

	nodes_init(&nodes);
	rc = fmt_decode(from, buf, len, req, typer, lim, &nodes, err);
	if(rc == 0) rc = fmt_encode(to, &nodes, req, typer, lim, out, err);
	nodes_free(&nodes);
	return rc;
}

/* ---- names ---------------------------------------------------------------------------- */

int fmt_cf_parse(const char *s)
{
	uint64_t v;

	if(!s) return -1;
	for(size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++){
		if(!strcasecmp(s, formats[i].name)) return formats[i].cf;
	}
	if(fmt_parse_uint64(s, strlen(s), &v) == 0 && v <= 65535) return (int)v;
	return -1;
}

const char *fmt_cf_name(uint16_t cf)
{
	const struct fmt_entry *e = fmt_find(cf);
	return e ? e->name : NULL;
}

const char *fmt_cf_media_type(uint16_t cf)
{
	const struct fmt_entry *e = fmt_find(cf);
	return e ? e->media_type : NULL;
}

/* Length of "type/subtype" without parameters and surrounding spaces. */
static size_t media_base(const char *s, const char **start)
{
	size_t n;

	while(*s == ' ' || *s == '\t') s++;
	*start = s;
	n = strcspn(s, ";");
	while(n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
	return n;
}

int fmt_cf_from_media_type(const char *mt)
{
	const char *base;
	size_t n;

	if(!mt) return -1;
	n = media_base(mt, &base);
	for(size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++){
		const char *fb;
		size_t fn = media_base(formats[i].media_type, &fb);
		if(fn == n && !strncasecmp(base, fb, n)) return formats[i].cf;
	}
	return -1;
}
