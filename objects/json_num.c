/* Pull reader for the JSON data formats, with exact integers (see json_num.h). */
#include "json_num.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt_internal.h"
#include "../util/buf.h"

struct json_rd_block {
	struct json_rd_block *next;
	char data[];
};

/* ---- numbers ------------------------------------------------------------------------- */

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* strtod needs a NUL-terminated copy; numbers are short, long ones go to the heap. */
static int to_double(const char *s, size_t len, double *out)
{
	char small[128];
	char *copy = small;

	if(len >= sizeof(small)){
		copy = malloc(len + 1);
		if(!copy) return -LWM2M_ENOMEM;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	*out = strtod(copy, NULL);
	if(copy != small) free(copy);
	return 0;
}

int json_num_lex(const char *s, size_t len, struct json_num *out, size_t *used)
{
	size_t i = 0;
	bool neg = false, integral = true, overflow = false;
	uint64_t mag = 0;
	int rc;

	if(i < len && s[i] == '-'){
		neg = true;
		i++;
	}
	if(i >= len || !is_digit(s[i])) return -LWM2M_EINVAL;
	if(s[i] == '0'){
		i++;
		if(i < len && is_digit(s[i])) return -LWM2M_EINVAL;   /* no leading zeros */
	} else {
		while(i < len && is_digit(s[i])){
			unsigned d = (unsigned)(s[i] - '0');
			if(mag > (UINT64_MAX - d) / 10) overflow = true;
			else mag = mag * 10 + d;
			i++;
		}
	}
	if(i < len && s[i] == '.'){
		integral = false;
		i++;
		if(i >= len || !is_digit(s[i])) return -LWM2M_EINVAL;
		while(i < len && is_digit(s[i])) i++;
	}
	if(i < len && (s[i] == 'e' || s[i] == 'E')){
		integral = false;
		i++;
		if(i < len && (s[i] == '+' || s[i] == '-')) i++;
		if(i >= len || !is_digit(s[i])) return -LWM2M_EINVAL;
		while(i < len && is_digit(s[i])) i++;
	}
	memset(out, 0, sizeof(*out));
	rc = to_double(s, i, &out->f);
	if(rc) return rc;
	if(!integral){
		out->kind = JSON_NUM_FLOAT;
		if(!isfinite(out->f)) return -LWM2M_ERANGE;
	} else if(overflow || (neg && mag > (uint64_t)INT64_MAX + 1)){
		out->kind = JSON_NUM_BIGINT;
		if(!isfinite(out->f)) return -LWM2M_ERANGE;
	} else if(neg){
		out->kind = JSON_NUM_INT;
		out->i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else if(mag > (uint64_t)INT64_MAX){
		out->kind = JSON_NUM_UINT;
		out->u = mag;
	} else {
		out->kind = JSON_NUM_INT;
		out->i = (int64_t)mag;
	}
	*used = i;
	return 0;
}

void json_num_from_int(struct json_num *out, int64_t v)
{
	memset(out, 0, sizeof(*out));
	out->kind = JSON_NUM_INT;
	out->i = v;
	out->f = (double)v;
}

void json_num_from_uint(struct json_num *out, uint64_t v)
{
	if(v <= (uint64_t)INT64_MAX){
		json_num_from_int(out, (int64_t)v);
		return;
	}
	memset(out, 0, sizeof(*out));
	out->kind = JSON_NUM_UINT;
	out->u = v;
	out->f = (double)v;
}

void json_num_from_double(struct json_num *out, double v)
{
	memset(out, 0, sizeof(*out));
	out->kind = JSON_NUM_FLOAT;
	out->f = v;
}

void json_num_from_double_int(struct json_num *out, double v)
{
	/* 2^63 is exactly representable; the range check keeps the cast defined. */
	if(isfinite(v) && v == floor(v) && v >= -9223372036854775808.0 && v < 9223372036854775808.0)
		json_num_from_int(out, (int64_t)v);
	else
		json_num_from_double(out, v);
}

/* ---- reader -------------------------------------------------------------------------- */

void json_rd_init(struct json_rd *r, const uint8_t *buf, size_t len, size_t max_depth,
		struct lwm2m_error *err)
{
	r->start = buf;
	r->p = buf;
	r->end = buf + len;
	r->max_depth = max_depth ? max_depth : FMT_DEFAULT_MAX_DEPTH;
	r->err = err;
	r->blocks = NULL;
}

void json_rd_release(struct json_rd *r)
{
	while(r->blocks){
		struct json_rd_block *next = r->blocks->next;
		free(r->blocks);
		r->blocks = next;
	}
}

void json_rd_free(struct json_rd *r)
{
	if(r) json_rd_release(r);
}

static int fail(struct json_rd *r, int code, const char *what)
{
	return lwm2m_fail(r->err, code, (long)json_rd_off(r), "JSON: %s at byte %zu", what,
			json_rd_off(r));
}

bool json_rd_ws(struct json_rd *r)
{
	while(r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
	return r->p < r->end;
}

int json_rd_peek(struct json_rd *r)
{
	return json_rd_ws(r) ? *r->p : 0;
}

bool json_rd_accept(struct json_rd *r, char c)
{
	if(json_rd_ws(r) && *r->p == (uint8_t)c){
		r->p++;
		return true;
	}
	return false;
}

int json_rd_expect(struct json_rd *r, char c, const char *what)
{
	char msg[64];

	if(json_rd_accept(r, c)) return 0;
	snprintf(msg, sizeof(msg), "expected %s", what);
	return fail(r, LWM2M_EINVAL, msg);
}

/* Length of the UTF-8 sequence starting at p (1..4), or 0 when it is not well formed
 * (overlong forms, surrogates and code points above U+10FFFF are refused). */
static size_t utf8_seq(const uint8_t *p, const uint8_t *end)
{
	uint8_t c = p[0];
	size_t n;
	uint32_t cp;

	if(c < 0x80) return 1;
	if(c >= 0xc2 && c <= 0xdf){ n = 2; cp = c & 0x1f; }
	else if(c >= 0xe0 && c <= 0xef){ n = 3; cp = c & 0x0f; }
	else if(c >= 0xf0 && c <= 0xf4){ n = 4; cp = c & 0x07; }
	else return 0;
	if((size_t)(end - p) < n) return 0;
	for(size_t i = 1; i < n; i++){
		if((p[i] & 0xc0) != 0x80) return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
			(n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static int hex4(const uint8_t *p, uint32_t *out)
{
	uint32_t v = 0;

	for(int i = 0; i < 4; i++){
		uint8_t c = p[i];
		v <<= 4;
		if(c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
		else if(c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
		else if(c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
		else return -1;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if(cp < 0x80){
		o[0] = (char)cp;
		return 1;
	}
	if(cp < 0x800){
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if(cp < 0x10000){
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* One escape at r->p (just after the backslash); writes the bytes to o. */
static int unescape_one(struct json_rd *r, char *o, size_t *n)
{
	uint32_t cp, lo;
	uint8_t c;

	if(r->p >= r->end) return fail(r, LWM2M_EINVAL, "unterminated string");
	c = *r->p++;
	switch(c){
	case '"': case '\\': case '/': o[0] = (char)c; *n = 1; return 0;
	case 'b': o[0] = '\b'; *n = 1; return 0;
	case 'f': o[0] = '\f'; *n = 1; return 0;
	case 'n': o[0] = '\n'; *n = 1; return 0;
	case 'r': o[0] = '\r'; *n = 1; return 0;
	case 't': o[0] = '\t'; *n = 1; return 0;
	case 'u': break;
	default: r->p--; return fail(r, LWM2M_EINVAL, "bad escape in string");
	}
	if(r->end - r->p < 4 || hex4(r->p, &cp)) return fail(r, LWM2M_EINVAL, "bad \\u escape");
	r->p += 4;
	if(cp >= 0xdc00 && cp <= 0xdfff) return fail(r, LWM2M_EINVAL, "lone low surrogate");
	if(cp >= 0xd800 && cp <= 0xdbff){
		if(r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' || hex4(r->p + 2, &lo) ||
				lo < 0xdc00 || lo > 0xdfff)
			return fail(r, LWM2M_EINVAL, "lone high surrogate");
		r->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	*n = put_utf8(o, cp);
	return 0;
}

/* The string holds escapes: find its end, then decode it into a new block. */
static int string_slow(struct json_rd *r, const uint8_t *body, const char **s, size_t *len)
{
	const uint8_t *q = r->p;
	struct json_rd_block *blk;
	size_t raw, n = 0;

	while(q < r->end && *q != '"'){
		if(*q == '\\') q++;
		q++;
	}
	if(q >= r->end) return fail(r, LWM2M_EINVAL, "unterminated string");
	/* Decoded text is never longer than its escaped form. */
	raw = (size_t)(q - body);
	blk = malloc(sizeof(*blk) + raw + 1);
	if(!blk) return lwm2m_fail(r->err, LWM2M_ENOMEM, -1, "JSON: out of memory");
	blk->next = r->blocks;
	r->blocks = blk;
	memcpy(blk->data, body, (size_t)(r->p - body));
	n = (size_t)(r->p - body);
	while(r->p < r->end && *r->p != '"'){
		uint8_t c = *r->p;
		if(c == '\\'){
			size_t k = 0;
			int rc;
			r->p++;
			rc = unescape_one(r, blk->data + n, &k);
			if(rc) return rc;
			n += k;
		} else if(c < 0x20){
			return fail(r, LWM2M_EINVAL, "control character in string");
		} else {
			size_t k = utf8_seq(r->p, r->end);
			if(!k) return fail(r, LWM2M_EINVAL, "invalid UTF-8 in string");
			memcpy(blk->data + n, r->p, k);
			n += k;
			r->p += k;
		}
	}
	if(r->p >= r->end) return fail(r, LWM2M_EINVAL, "unterminated string");
	r->p++;
	blk->data[n] = '\0';
	*s = blk->data;
	*len = n;
	return 0;
}

int json_rd_string(struct json_rd *r, const char **s, size_t *len)
{
	const uint8_t *body;

	if(!json_rd_accept(r, '"')) return fail(r, LWM2M_EINVAL, "expected a string");
	body = r->p;
	while(r->p < r->end){
		uint8_t c = *r->p;
		if(c == '"'){
			*s = (const char *)body;
			*len = (size_t)(r->p - body);
			r->p++;
			return 0;
		}
		if(c == '\\') return string_slow(r, body, s, len);
		if(c < 0x20) return fail(r, LWM2M_EINVAL, "control character in string");
		if(c < 0x80){
			r->p++;
		} else {
			size_t k = utf8_seq(r->p, r->end);
			if(!k) return fail(r, LWM2M_EINVAL, "invalid UTF-8 in string");
			r->p += k;
		}
	}
	return fail(r, LWM2M_EINVAL, "unterminated string");
}

int json_rd_number(struct json_rd *r, struct json_num *out)
{
	size_t used = 0;
	int rc;

	json_rd_ws(r);
	rc = json_num_lex((const char *)r->p, (size_t)(r->end - r->p), out, &used);
	if(rc == -LWM2M_ERANGE) return fail(r, LWM2M_ERANGE, "number out of range");
	if(rc == -LWM2M_ENOMEM) return lwm2m_fail(r->err, rc, -1, "JSON: out of memory");
	if(rc) return fail(r, LWM2M_EINVAL, "malformed number");
	r->p += used;
	return 0;
}

static bool match_word(struct json_rd *r, const char *w)
{
	size_t n = strlen(w);

	if((size_t)(r->end - r->p) < n || memcmp(r->p, w, n)) return false;
	r->p += n;
	return true;
}

int json_rd_literal(struct json_rd *r, char *kind)
{
	json_rd_ws(r);
	if(match_word(r, "true")) *kind = 't';
	else if(match_word(r, "false")) *kind = 'f';
	else if(match_word(r, "null")) *kind = 'n';
	else return fail(r, LWM2M_EINVAL, "unexpected character");
	return 0;
}

int json_rd_skip(struct json_rd *r, size_t depth)
{
	int c = json_rd_peek(r), rc;

	if(c == '{' || c == '['){
		char close = c == '{' ? '}' : ']';
		if(depth >= r->max_depth) return fail(r, LWM2M_ETOOBIG, "nesting too deep");
		r->p++;
		if(json_rd_accept(r, close)) return 0;
		do {
			if(c == '{'){
				const char *k;
				size_t kl;
				rc = json_rd_string(r, &k, &kl);
				if(!rc) rc = json_rd_expect(r, ':', "':'");
				if(rc) return rc;
			}
			rc = json_rd_skip(r, depth + 1);
			if(rc) return rc;
		} while(json_rd_accept(r, ','));
		return json_rd_expect(r, close, c == '{' ? "',' or '}'" : "',' or ']'");
	}
	if(c == '"'){
		const char *s;
		size_t n;
		return json_rd_string(r, &s, &n);
	}
	if(c == '-' || is_digit(c)){
		struct json_num num;
		return json_rd_number(r, &num);
	}
	if(c == 0) return fail(r, LWM2M_EINVAL, "unexpected end of input");
	char kind;
	return json_rd_literal(r, &kind);
}

/* ---- writer -------------------------------------------------------------------------- */

int json_put_string(struct lwm2m_buf *b, const char *s, size_t len)
{
	static const char hexd[] = "0123456789abcdef";
	size_t run = 0;
	int rc = buf_append_byte(b, '"');

	for(size_t i = 0; i < len && !rc; i++){
		uint8_t c = (uint8_t)s[i];
		char esc[6];
		size_t en = 2;

		if(c >= 0x20 && c != '"' && c != '\\') continue;
		rc = buf_append(b, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch(c){
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hexd[c >> 4];
			esc[5] = hexd[c & 15];
			en = 6;
		}
		if(!rc) rc = buf_append(b, esc, en);
	}
	if(!rc) rc = buf_append(b, s + run, len - run);
	if(!rc) rc = buf_append_byte(b, '"');
	return rc;
}

int json_put_num(struct lwm2m_buf *b, const struct json_num *n, struct lwm2m_error *err)
{
	char tmp[FMT_DOUBLE_STR_MAX + 8];
	size_t len;

	switch(n->kind){
	case JSON_NUM_INT:
		len = (size_t)snprintf(tmp, sizeof(tmp), "%" PRId64, n->i);
		break;
	case JSON_NUM_UINT:
		len = (size_t)snprintf(tmp, sizeof(tmp), "%" PRIu64, n->u);
		break;
	default:
		if(!isfinite(n->f))
			return lwm2m_fail(err, LWM2M_ENOTSUP, -1,
					"JSON cannot carry the float %s", isnan(n->f) ? "NaN" : "Infinity");
		len = fmt_format_double(n->f, tmp, sizeof(tmp));
	}
	return buf_append(b, tmp, len);
}
