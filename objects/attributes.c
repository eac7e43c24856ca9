/* Notification attributes: Write-Attributes query parsing, consistency rules, query text. */
#include "attributes.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest number text accepted; the formatter never writes more than ~330 characters. */
#define ATTR_NUMBER_MAX 400

static const char *const attr_names[LWM2M_ATTR_COUNT] = {
	[LWM2M_ATTR_PMIN] = "pmin",
	[LWM2M_ATTR_PMAX] = "pmax",
	[LWM2M_ATTR_GT] = "gt",
	[LWM2M_ATTR_LT] = "lt",
	[LWM2M_ATTR_ST] = "st",
	[LWM2M_ATTR_EPMIN] = "epmin",
	[LWM2M_ATTR_EPMAX] = "epmax",
	[LWM2M_ATTR_EDGE] = "edge",
	[LWM2M_ATTR_CON] = "con",
	[LWM2M_ATTR_HQMAX] = "hqmax",
};

/* Query emission order: periods first, then thresholds, then the 1.2 additions. */
static const enum lwm2m_attr_id attr_query_order[LWM2M_ATTR_COUNT] = {
	LWM2M_ATTR_PMIN, LWM2M_ATTR_PMAX, LWM2M_ATTR_EPMIN, LWM2M_ATTR_EPMAX,
	LWM2M_ATTR_LT, LWM2M_ATTR_GT, LWM2M_ATTR_ST,
	LWM2M_ATTR_EDGE, LWM2M_ATTR_CON, LWM2M_ATTR_HQMAX,
};

#define ATTR_ALL_BITS ((1u << LWM2M_ATTR_COUNT) - 1u)
#define ATTR_THRESHOLD_BITS (LWM2M_ATTR_BIT(LWM2M_ATTR_GT) | LWM2M_ATTR_BIT(LWM2M_ATTR_LT) \
		| LWM2M_ATTR_BIT(LWM2M_ATTR_ST) | LWM2M_ATTR_BIT(LWM2M_ATTR_EDGE))

const char *attr_name(enum lwm2m_attr_id id)
{
	if((unsigned)id >= LWM2M_ATTR_COUNT) return NULL;
	return attr_names[id];
}

int attr_from_name(const char *name, size_t len)
{
	for(int i = 0; i < LWM2M_ATTR_COUNT; i++){
		if(strlen(attr_names[i]) == len && memcmp(attr_names[i], name, len) == 0) return i;
	}
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static uint64_t *uint_slot(struct lwm2m_attrs *a, enum lwm2m_attr_id id)
{
	switch(id){
		case LWM2M_ATTR_PMIN: return &a->pmin;
		case LWM2M_ATTR_PMAX: return &a->pmax;
		case LWM2M_ATTR_EPMIN: return &a->epmin;
		case LWM2M_ATTR_EPMAX: return &a->epmax;
		case LWM2M_ATTR_HQMAX: return &a->hqmax;
		default: return NULL;
	}
}

static double *number_slot(struct lwm2m_attrs *a, enum lwm2m_attr_id id)
{
	switch(id){
		case LWM2M_ATTR_GT: return &a->gt;
		case LWM2M_ATTR_LT: return &a->lt;
		case LWM2M_ATTR_ST: return &a->st;
		default: return NULL;
	}
}

static int parse_uint(const char *name, const char *s, size_t len, uint64_t *out,
		struct lwm2m_error *err)
{
	uint64_t v = 0;

	if(len == 0) return lwm2m_fail(err, LWM2M_EINVAL, 0, "%s: empty value", name);
	for(size_t i = 0; i < len; i++){
		unsigned d;
		if(!is_digit(s[i])){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)i,
					"%s: expected an unsigned integer, found '%c' at byte %zu", name,
					(s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?', i);
		}
		d = (unsigned)(s[i] - '0');
		if(v > (UINT64_MAX - d) / 10u){
			return lwm2m_fail(err, LWM2M_ERANGE, 0, "%s: value too large", name);
		}
		v = v * 10u + d;
	}
	*out = v;
	return 0;
}

/* [+-] 1*DIGIT ["." 1*DIGIT] [("e"/"E") [+-] 1*DIGIT]: the TS grammar plus sign and
 * exponent (read leniently on input, never written). Returns the length matched. */
static size_t match_number(const char *s, size_t len)
{
	size_t i = 0, d;

	if(i < len && (s[i] == '+' || s[i] == '-')) i++;
	for(d = i; i < len && is_digit(s[i]); i++){}
	if(i == d) return 0;
	if(i < len && s[i] == '.'){
		i++;
		for(d = i; i < len && is_digit(s[i]); i++){}
		if(i == d) return 0;
	}
	if(i < len && (s[i] == 'e' || s[i] == 'E')){
		i++;
		if(i < len && (s[i] == '+' || s[i] == '-')) i++;
		for(d = i; i < len && is_digit(s[i]); i++){}
		if(i == d) return 0;
	}
	return i;
}

static int parse_number(const char *name, const char *s, size_t len, double *out,
		struct lwm2m_error *err)
{
	char tmp[ATTR_NUMBER_MAX + 1];
	double v;

	if(len == 0) return lwm2m_fail(err, LWM2M_EINVAL, 0, "%s: empty value", name);
	if(match_number(s, len) != len){
		return lwm2m_fail(err, LWM2M_EINVAL, 0, "%s: \"%.*s\" is not a decimal number", name,
				(int)(len > 32 ? 32 : len), s);
	}
	if(len > ATTR_NUMBER_MAX){
		return lwm2m_fail(err, LWM2M_ETOOBIG, 0, "%s: number longer than %d characters", name,
				ATTR_NUMBER_MAX);
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	v = strtod(tmp, NULL);
	if(!isfinite(v)) return lwm2m_fail(err, LWM2M_ERANGE, 0, "%s: number out of range", name);
	*out = v;
	return 0;
}

int attr_parse_value(enum lwm2m_attr_id id, const char *s, size_t len, struct lwm2m_attrs *out,
		struct lwm2m_error *err)
{
	const char *name = attr_name(id);
	uint64_t *u;
	double *d;
	int rc;

	if(!name) return lwm2m_fail(err, LWM2M_EINVAL, -1, "attribute id %d unknown", (int)id);
	if(len && !s) return lwm2m_fail(err, LWM2M_EINVAL, -1, "%s: no value text", name);
	if((u = uint_slot(out, id)) != NULL){
		rc = parse_uint(name, s, len, u, err);
	}else if((d = number_slot(out, id)) != NULL){
		rc = parse_number(name, s, len, d, err);
		if(rc == 0 && id == LWM2M_ATTR_ST && *d < 0){
			rc = lwm2m_fail(err, LWM2M_EINVAL, 0, "st: must not be negative");
		}
	}else{
		uint8_t *flag = id == LWM2M_ATTR_EDGE ? &out->edge : &out->con;
		if(len != 1 || (s[0] != '0' && s[0] != '1')){
			return lwm2m_fail(err, LWM2M_EINVAL, 0, "%s: value must be 0 or 1", name);
		}
		*flag = (uint8_t)(s[0] - '0');
		rc = 0;
	}
	if(rc) return rc;
	out->set |= LWM2M_ATTR_BIT(id);
	out->unset &= ~LWM2M_ATTR_BIT(id);
	return 0;
}

/* One "name[=value]" segment of a query; base = its offset in the whole query. */
static int parse_segment(const char *s, size_t len, size_t base, struct lwm2m_attrs *out,
		struct lwm2m_error *err)
{
	const char *eq = memchr(s, '=', len);
	size_t name_len = eq ? (size_t)(eq - s) : len;
	int id;
	int rc;

	if(name_len == 0){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)base, "attributes: empty name at byte %zu", base);
	}
	id = attr_from_name(s, name_len);
	if(id < 0){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)base,
				"attributes: unknown or read-only attribute \"%.*s\" at byte %zu",
				(int)(name_len > 32 ? 32 : name_len), s, base);
	}
	if((out->set | out->unset) & LWM2M_ATTR_BIT(id)){
		return lwm2m_fail(err, LWM2M_EINVAL, (long)base, "attributes: %s given twice (byte %zu)",
				attr_names[id], base);
	}
	if(!eq){
		out->unset |= LWM2M_ATTR_BIT(id);   /* valueless: remove it at this level */
		return 0;
	}
	rc = attr_parse_value((enum lwm2m_attr_id)id, eq + 1, len - name_len - 1, out, err);
	if(rc && err){
		err->has_offset = true;
		err->offset = base + name_len + 1;
	}
	return rc;
}

int attr_parse_query_raw(const char *q, size_t len, struct lwm2m_attrs *out,
		struct lwm2m_error *err)
{
	struct lwm2m_attrs a;
	size_t pos = 0;
	int rc;

	memset(&a, 0, sizeof(a));
	if(len && !q) return lwm2m_fail(err, LWM2M_EINVAL, -1, "attributes: no query text");
	/* An empty query carries no attributes; an empty segment anywhere else is garbage. */
	while(len > 0){
		const char *amp = memchr(q + pos, '&', len - pos);
		size_t seg = amp ? (size_t)(amp - (q + pos)) : len - pos;

		if(seg == 0){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)pos,
					"attributes: empty segment at byte %zu", pos);
		}
		rc = parse_segment(q + pos, seg, pos, &a, err);
		if(rc) return rc;
		pos += seg;
		if(!amp) break;
		pos++;
		if(pos == len){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)pos, "attributes: query ends with '&'");
		}
	}
	*out = a;
	return 0;
}

int attr_parse_query(const char *q, size_t len, struct lwm2m_attrs *out, struct lwm2m_error *err)
{
	struct lwm2m_attrs a;
	int rc = attr_parse_query_raw(q, len, &a, err);

	if(!rc) rc = attr_validate(&a, err);
	if(!rc) *out = a;
	return rc;
}

static bool is_set(const struct lwm2m_attrs *a, enum lwm2m_attr_id id)
{
	return (a->set & LWM2M_ATTR_BIT(id)) != 0;
}

/* What a single value may hold, whatever the other attributes are. */
static int check_values(const struct lwm2m_attrs *a, struct lwm2m_error *err)
{
	if((a->set | a->unset) & ~ATTR_ALL_BITS){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "attributes: unknown attribute bits");
	}
	if(a->set & a->unset){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "attributes: an attribute is both set and unset");
	}
	if((is_set(a, LWM2M_ATTR_GT) && !isfinite(a->gt)) || (is_set(a, LWM2M_ATTR_LT) && !isfinite(a->lt))
			|| (is_set(a, LWM2M_ATTR_ST) && !isfinite(a->st))){
		return lwm2m_fail(err, LWM2M_ERANGE, -1, "attributes: gt, lt and st must be finite");
	}
	if(is_set(a, LWM2M_ATTR_EDGE) && a->edge > 1){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "attributes: edge must be 0 or 1");
	}
	if(is_set(a, LWM2M_ATTR_CON) && a->con > 1){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "attributes: con must be 0 or 1");
	}
	if(is_set(a, LWM2M_ATTR_ST) && a->st < 0){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "attributes: st must not be negative");
	}
	return 0;
}

int attr_validate(const struct lwm2m_attrs *a, struct lwm2m_error *err)
{
	int rc = check_values(a, err);

	if(rc) return rc;
	if(is_set(a, LWM2M_ATTR_LT) && is_set(a, LWM2M_ATTR_GT)){
		if(!(a->lt < a->gt)){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "attributes: lt must be less than gt");
		}
		/* Written as lt + 2*st < gt; overflow to inf makes it fail, as it should. */
		if(is_set(a, LWM2M_ATTR_ST) && !(a->lt + 2.0 * a->st < a->gt)){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "attributes: lt + 2*st must be less than gt");
		}
	}
	if(is_set(a, LWM2M_ATTR_PMIN) && is_set(a, LWM2M_ATTR_PMAX) && a->pmin > a->pmax){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "attributes: pmin must not exceed pmax");
	}
	if(is_set(a, LWM2M_ATTR_EPMIN) && is_set(a, LWM2M_ATTR_EPMAX) && a->epmin > a->epmax){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "attributes: epmin must not exceed epmax");
	}
	return 0;
}

int attr_validate_level(const struct lwm2m_attrs *a, const struct lwm2m_path *p,
		struct lwm2m_error *err)
{
	uint32_t present = a->set | a->unset;

	if(p->len < LWM2M_PATH_RESOURCE && (present & ATTR_THRESHOLD_BITS)){
		for(int i = 0; i < LWM2M_ATTR_COUNT; i++){
			if(present & ATTR_THRESHOLD_BITS & LWM2M_ATTR_BIT(i)){
				return lwm2m_fail(err, LWM2M_EINVAL, -1,
						"attributes: %s applies only to a resource or resource instance",
						attr_names[i]);
			}
		}
	}
	return 0;
}

/* Splits "%.*e" output ("-1.2345e-07") into sign, digit string and decimal exponent. */
static void split_exponent_form(const char *e, bool *neg, char *digits, size_t *ndigits, int *exp10)
{
	size_t n = 0;

	*neg = *e == '-';
	if(*e == '-' || *e == '+') e++;
	for(; *e && *e != 'e' && *e != 'E'; e++){
		if(is_digit(*e)) digits[n++] = *e;
	}
	*exp10 = (*e == 'e' || *e == 'E') ? atoi(e + 1) : 0;
	while(n > 1 && digits[n - 1] == '0') n--;     /* 1.50 -> 1.5 */
	*ndigits = n;
}

int attr_format_number(double v, struct lwm2m_buf *out)
{
	char e[48], digits[24], text[ATTR_NUMBER_MAX];
	size_t nd, n = 0;
	int exp10, point, prec;
	bool neg;

	if(!isfinite(v)) return -LWM2M_EINVAL;
	if(v == 0) return buf_append(out, "0", 1);
	/* The fewest significant digits that read back to exactly v. */
	for(prec = 1; prec <= 17; prec++){
		snprintf(e, sizeof(e), "%.*e", prec - 1, v);
		if(strtod(e, NULL) == v) break;
	}
	split_exponent_form(e, &neg, digits, &nd, &exp10);
	point = exp10 + 1;   /* digits before the decimal point */
	if(neg) text[n++] = '-';
	if(point <= 0){
		text[n++] = '0';
		text[n++] = '.';
		for(int i = 0; i < -point; i++) text[n++] = '0';
		memcpy(text + n, digits, nd);
		n += nd;
	}else if((size_t)point >= nd){
		memcpy(text + n, digits, nd);
		n += nd;
		for(size_t i = nd; i < (size_t)point; i++) text[n++] = '0';
	}else{
		memcpy(text + n, digits, (size_t)point);
		n += (size_t)point;
		text[n++] = '.';
		memcpy(text + n, digits + point, nd - (size_t)point);
		n += nd - (size_t)point;
	}
	return buf_append(out, text, n);
}

int attr_format_value(enum lwm2m_attr_id id, const struct lwm2m_attrs *a, struct lwm2m_buf *out)
{
	struct lwm2m_attrs tmp;
	const uint64_t *u;
	const double *d;
	char num[24];
	int n;

	if((unsigned)id >= LWM2M_ATTR_COUNT || !is_set(a, id)) return -LWM2M_EINVAL;
	tmp = *a;   /* the slot helpers take a mutable struct */
	if((u = uint_slot(&tmp, id)) != NULL){
		n = snprintf(num, sizeof(num), "%llu", (unsigned long long)*u);
		return buf_append(out, num, (size_t)n);
	}
	if((d = number_slot(&tmp, id)) != NULL) return attr_format_number(*d, out);
	n = snprintf(num, sizeof(num), "%u", (unsigned)(id == LWM2M_ATTR_EDGE ? a->edge : a->con));
	return buf_append(out, num, (size_t)n);
}

int attr_format_query(const struct lwm2m_attrs *a, struct lwm2m_buf *out)
{
	size_t start = out->len;
	bool first = true;
	int rc = 0;

	if(check_values(a, NULL) != 0) return -LWM2M_EINVAL;
	for(int i = 0; i < LWM2M_ATTR_COUNT && rc == 0; i++){
		enum lwm2m_attr_id id = attr_query_order[i];
		const char *name = attr_names[id];

		if(!((a->set | a->unset) & LWM2M_ATTR_BIT(id))) continue;
		if(!first) rc = buf_append_byte(out, '&');
		first = false;
		if(rc == 0) rc = buf_append(out, name, strlen(name));
		if(rc == 0 && is_set(a, id)){
			rc = buf_append_byte(out, '=');
			if(rc == 0) rc = attr_format_value(id, a, out);
		}
	}
	if(rc) out->len = start;
	return rc;
}
