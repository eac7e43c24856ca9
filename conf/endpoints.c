/* The endpoints file: JSON (jansson) -> checked, typed, immutable settings per endpoint.
 * The schema is documented in docs/endpoints-file.md; keep the two in step. */
#include "endpoints.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "../objects/link_format.h"
#include "../objects/objlnk.h"

struct endpoints {
	struct endpoint_conf *entries;           /* file order */
	size_t count;
	const struct endpoint_conf **exact;      /* sorted by name */
	size_t exact_count;
	const struct endpoint_conf **patterns;   /* sorted by prefix (the name without '*') */
	size_t pattern_count;
	size_t longest_prefix;
	const struct endpoint_conf *fallback;    /* "*" */
};

/* Shown names are cut so that the problem itself still fits in the error line. */
#define SHOWN_MAX 40

struct parse_ctx {
	const char *file;
	const struct obj_registry *model;
	struct lwm2m_error *err;
	bool in_entry;
	char entry[SHOWN_MAX + 4];               /* the entry being read, printable */
};

/* ---- Error messages ---- */

/* A printable, shortened copy of untrusted text for an error line. */
static void shown(char *dst, size_t size, const char *s)
{
	size_t n = 0, limit = size - 4;          /* room for "..." and the NUL */

	for(; *s && n < limit; s++){
		unsigned char ch = (unsigned char)*s;
		dst[n++] = (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\') ? '?' : (char)ch;
	}
	if(*s){
		/* Cut at a character boundary: the line stays valid UTF-8. */
		while(n > 0 && ((unsigned char)dst[n - 1] & 0xc0) == 0x80) n--;
		if(n > 0 && (unsigned char)dst[n - 1] >= 0xc0) n--;
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
}

/* The refusal: where in the file, then `place` (a prefix, may be ""), then what fmt says. */
static int vfail(struct parse_ctx *c, int code, const char *place, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static int vfail(struct parse_ctx *c, int code, const char *place, const char *fmt, va_list ap)
{
	char what[LWM2M_ERROR_MSG_MAX];

	vsnprintf(what, sizeof(what), fmt, ap);
	if(c->in_entry){
		return lwm2m_fail(c->err, code, -1, "endpoints file %s: entry \"%s\": %s%s", c->file,
				c->entry, place, what);
	}
	return lwm2m_fail(c->err, code, -1, "endpoints file %s: %s%s", c->file, place, what);
}

static int fail(struct parse_ctx *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parse_ctx *c, int code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(c, code, "", fmt, ap);
	va_end(ap);
	return rc;
}

static int fail_nomem(struct parse_ctx *c)
{
	return fail(c, LWM2M_ENOMEM, "out of memory");
}

/* ---- Small JSON helpers ---- */

/* Every key of `obj` must be one of `allowed` (NULL-terminated). where = NULL: the entry
 * or the document itself. */
static int check_keys(struct parse_ctx *c, json_t *obj, const char *where,
		const char *const *allowed)
{
	const char *key;
	json_t *val;

	json_object_foreach(obj, key, val){
		size_t i = 0;
		char k[SHOWN_MAX + 4];

		while(allowed[i] && strcmp(allowed[i], key) != 0) i++;
		if(allowed[i]) continue;
		shown(k, sizeof(k), key);
		if(!where) return fail(c, LWM2M_EINVAL, "unknown key \"%s\"", k);
		return fail(c, LWM2M_EINVAL, "%s: unknown key \"%s\"", where, k);
	}
	return 0;
}

static int expect_object(struct parse_ctx *c, json_t *j, const char *where)
{
	if(json_is_object(j)) return 0;
	if(!where) return fail(c, LWM2M_ETYPE, "expected an object");
	return fail(c, LWM2M_ETYPE, "%s: expected an object", where);
}

/* An object whose every key is one of `allowed`. */
static int expect_keys(struct parse_ctx *c, json_t *obj, const char *where,
		const char *const *allowed)
{
	int rc = expect_object(c, obj, where);

	return rc != 0 ? rc : check_keys(c, obj, where, allowed);
}

/* A copy of a JSON string of min..max bytes without control characters. */
static int take_text(struct parse_ctx *c, json_t *j, const char *where, size_t min, size_t max,
		char **out)
{
	const char *s;
	size_t len;

	if(!json_is_string(j)) return fail(c, LWM2M_ETYPE, "%s: expected a string", where);
	s = json_string_value(j);
	len = json_string_length(j);
	if(len < min || len > max){
		return fail(c, LWM2M_ERANGE, "%s: %zu bytes, expected %zu..%zu", where, len, min, max);
	}
	for(size_t i = 0; i < len; i++){
		unsigned char ch = (unsigned char)s[i];
		if(ch < 0x20 || ch == 0x7f) return fail(c, LWM2M_EINVAL, "%s: control character", where);
	}
	*out = strdup(s);
	return *out ? 0 : fail_nomem(c);
}

/* ---- Byte strings: hex, base64, text ---- */

static int hex_digit(char ch)
{
	if(ch >= '0' && ch <= '9') return ch - '0';
	if(ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
	if(ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
	return -1;
}

/* Decodes into a new block (with one spare byte so empty input still allocates). */
static int hex_decode(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t *b;

	if(len % 2 != 0) return -LWM2M_EINVAL;
	b = malloc(len / 2 + 1);
	if(!b) return -LWM2M_ENOMEM;
	for(size_t i = 0; i < len; i += 2){
		int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
		if(hi < 0 || lo < 0){
			free(b);
			return -LWM2M_EINVAL;
		}
		b[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*out = b;
	*out_len = len / 2;
	return 0;
}

static int b64_digit(char ch)
{
	if(ch >= 'A' && ch <= 'Z') return ch - 'A';
	if(ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
	if(ch >= '0' && ch <= '9') return ch - '0' + 52;
	if(ch == '+') return 62;
	if(ch == '/') return 63;
	return -1;
}

/* RFC 4648 base64 with padding; the unused bits of the last digit must be zero, so that
 * every byte string has exactly one spelling. */
static int b64_decode(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
	size_t pad = 0, n = 0;
	uint8_t *b;

	if(len % 4 != 0) return -LWM2M_EINVAL;
	if(len > 0 && s[len - 1] == '='){
		pad++;
		if(s[len - 2] == '=') pad++;
	}
	b = malloc(len / 4 * 3 + 1);
	if(!b) return -LWM2M_ENOMEM;
	for(size_t i = 0; i < len; i += 4){
		bool last = i + 4 == len;
		size_t digits = last ? 4 - pad : 4;
		uint32_t acc = 0;

		for(size_t k = 0; k < 4; k++){
			int d = k < digits ? b64_digit(s[i + k]) : 0;
			if(d < 0 || (k >= digits && s[i + k] != '=')) goto bad;
			acc = acc << 6 | (uint32_t)d;
		}
		if((digits == 2 && (acc & 0xffff)) || (digits == 3 && (acc & 0xff))) goto bad;
		b[n++] = (uint8_t)(acc >> 16);
		if(digits > 2) b[n++] = (uint8_t)(acc >> 8);
		if(digits > 3) b[n++] = (uint8_t)acc;
	}
	*out = b;
	*out_len = n;
	return 0;
bad:
	free(b);
	return -LWM2M_EINVAL;
}

static int text_copy(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t *b = malloc(len + 1);

	if(!b) return -LWM2M_ENOMEM;
	memcpy(b, s, len);
	*out = b;
	*out_len = len;
	return 0;
}

enum bytes_form { BYTES_HEX, BYTES_BASE64, BYTES_TEXT };

static int bytes_decode(enum bytes_form form, const char *s, size_t len, uint8_t **out,
		size_t *out_len)
{
	switch(form){
		case BYTES_HEX: return hex_decode(s, len, out, out_len);
		case BYTES_BASE64: return b64_decode(s, len, out, out_len);
		case BYTES_TEXT: return text_copy(s, len, out, out_len);
	}
	return -LWM2M_EINVAL;
}

static const char *const bytes_form_names[] = { "hex", "base64", "text" };

/* ---- Ranges of the object model ---- */

/* The model's RangeEnumeration for numbers ("0..255", "1..65534", "-90..90") and for
 * string or opaque lengths ("0..255", "6", "16,32,48"): a comma list of values and
 * "low..high" intervals. Anything else is a prose note and checks nothing. */
enum range_answer { RANGE_NONE = -1, RANGE_OUT = 0, RANGE_IN = 1 };

/* A value to check: integer resources and lengths compare exactly, floats as doubles. */
struct range_value {
	bool is_float;
	int64_t i;
	double f;
};

/* One bound: the text up to "..", ',' or a space, read as the value's kind. */
static bool read_bound(const char **p, bool is_float, struct range_value *out)
{
	char num[32], *end;
	size_t n = 0;

	while(**p == ' ') (*p)++;
	while((*p)[n] && (*p)[n] != ',' && (*p)[n] != ' ' && !((*p)[n] == '.' && (*p)[n + 1] == '.')){
		if(n == sizeof(num) - 1) return false;
		num[n] = (*p)[n];
		n++;
	}
	num[n] = '\0';
	if(!(num[0] == '-' || num[0] == '.' || (num[0] >= '0' && num[0] <= '9'))) return false;
	errno = 0;
	out->is_float = is_float;
	if(is_float) out->f = strtod(num, &end);
	else out->i = strtoll(num, &end, 10);
	if(errno != 0 || *end != '\0') return false;
	*p += n;
	while(**p == ' ') (*p)++;
	return true;
}

static int cmp_value(const struct range_value *a, const struct range_value *b)
{
	if(a->is_float) return a->f < b->f ? -1 : a->f > b->f ? 1 : 0;
	return a->i < b->i ? -1 : a->i > b->i ? 1 : 0;
}

static enum range_answer in_range(const char *range, const struct range_value *v)
{
	const char *p = range;
	bool inside = false;

	if(!*p) return RANGE_NONE;
	for(;;){
		struct range_value lo, hi;

		if(!read_bound(&p, v->is_float, &lo)) return RANGE_NONE;
		hi = lo;
		if(p[0] == '.' && p[1] == '.'){
			p += 2;
			if(!read_bound(&p, v->is_float, &hi) || cmp_value(&hi, &lo) < 0) return RANGE_NONE;
		}
		if(cmp_value(v, &lo) >= 0 && cmp_value(v, &hi) <= 0) inside = true;
		if(!*p) break;
		if(*p++ != ',') return RANGE_NONE;
	}
	return inside ? RANGE_IN : RANGE_OUT;
}

/* ---- Paths ---- */

/* A path written in its one canonical form ("/0/1": leading '/', no trailing '/'). */
static int take_path(struct parse_ctx *c, const char *s, const char *where,
		struct lwm2m_path *out)
{
	char canon[LWM2M_PATH_STR_MAX], sh[SHOWN_MAX + 4];

	shown(sh, sizeof(sh), s);
	if(path_parse(s, strlen(s), out, NULL) != 0 || path_format(out, canon, sizeof(canon)) == 0
			|| strcmp(canon, s) != 0){
		return fail(c, LWM2M_EINVAL, "%s: bad path \"%s\"", where, sh);
	}
	return 0;
}

typedef bool (*path_rule_fn)(const struct lwm2m_path *p);

static bool delete_target(const struct lwm2m_path *p)
{
	return p->len <= LWM2M_PATH_INSTANCE;
}

static bool read_target(const struct lwm2m_path *p)
{
	return p->len >= LWM2M_PATH_OBJECT && p->len <= LWM2M_PATH_INSTANCE
		&& (p->ids[0] == 1 || p->ids[0] == 2);
}

/* An array of paths that `rule` allows; `rule_text` says which in the message. */
static int take_path_list(struct parse_ctx *c, json_t *arr, const char *where,
		path_rule_fn rule, const char *rule_text, struct lwm2m_path **out, size_t *count)
{
	size_t n, i;
	json_t *item;

	if(!json_is_array(arr)) return fail(c, LWM2M_ETYPE, "%s: expected an array of paths", where);
	n = json_array_size(arr);
	*out = calloc(n ? n : 1, sizeof(**out));
	if(!*out) return fail_nomem(c);
	json_array_foreach(arr, i, item){
		int rc;

		if(!json_is_string(item)){
			return fail(c, LWM2M_ETYPE, "%s: item %zu: expected a path string", where, i);
		}
		rc = take_path(c, json_string_value(item), where, &(*out)[i]);
		if(rc != 0) return rc;
		if(!rule(&(*out)[i])){
			return fail(c, LWM2M_EINVAL, "%s: \"%s\" is not %s", where,
					json_string_value(item), rule_text);
		}
		*count = i + 1;
	}
	return 0;
}

/* ---- Typed values ---- */

/* "resource 7" or "resource 16 instance 0", after the write's path. */
struct value_place {
	const char *path;
	uint16_t res;
	bool has_inst;
	uint16_t inst;
};

static int fail_value(struct parse_ctx *c, int code, const struct value_place *vp,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail_value(struct parse_ctx *c, int code, const struct value_place *vp,
		const char *fmt, ...)
{
	char place[LWM2M_ERROR_MSG_MAX];
	va_list ap;
	int rc;

	if(vp->has_inst){
		snprintf(place, sizeof(place), "bootstrap.write \"%s\" resource %u instance %u: ",
				vp->path, vp->res, vp->inst);
	}else{
		snprintf(place, sizeof(place), "bootstrap.write \"%s\" resource %u: ", vp->path,
				vp->res);
	}
	va_start(ap, fmt);
	rc = vfail(c, code, place, fmt, ap);
	va_end(ap);
	return rc;
}

/* Refuses a value outside the resource's RangeEnumeration; a length is named as one. */
static int check_range(struct parse_ctx *c, const struct value_place *vp,
		const struct obj_resource_def *rd, const struct range_value *rv, bool is_length)
{
	if(in_range(rd->range_enum, rv) != RANGE_OUT) return 0;
	if(rv->is_float){
		return fail_value(c, LWM2M_ERANGE, vp, "%g is out of range %s", rv->f, rd->range_enum);
	}
	return fail_value(c, LWM2M_ERANGE, vp, "%s%lld is out of range %s",
			is_length ? "length " : "", (long long)rv->i, rd->range_enum);
}

static int check_length(struct parse_ctx *c, const struct value_place *vp,
		const struct obj_resource_def *rd, size_t len)
{
	struct range_value rv = { .i = len <= INT64_MAX ? (int64_t)len : INT64_MAX };

	return check_range(c, vp, rd, &rv, true);
}

/* Integer, Time and Unsigned Integer resources. */
static int value_integer(struct parse_ctx *c, const struct value_place *vp,
		const struct obj_resource_def *rd, json_t *j, struct lwm2m_value *out)
{
	bool is_unsigned = rd->type == LWM2M_TYPE_UNSIGNED;
	json_int_t v;

	if(!json_is_integer(j)){
		return fail_value(c, LWM2M_ETYPE, vp, is_unsigned ? "expected an unsigned integer"
				: rd->type == LWM2M_TYPE_TIME ? "expected an integer (seconds since 1970)"
				: "expected an integer");
	}
	v = json_integer_value(j);
	if(is_unsigned && v < 0){
		return fail_value(c, LWM2M_ERANGE, vp, "%lld is below 0 (unsigned)", (long long)v);
	}
	out->type = rd->type;
	if(is_unsigned) out->v.u = (uint64_t)v;
	else out->v.i = v;
	return check_range(c, vp, rd, &(struct range_value){ .i = v }, false);
}

static int value_float(struct parse_ctx *c, const struct value_place *vp,
		const struct obj_resource_def *rd, json_t *j, struct lwm2m_value *out)
{
	double v;
	int rc;

	if(!json_is_number(j)) return fail_value(c, LWM2M_ETYPE, vp, "expected a number");
	v = json_number_value(j);
	rc = check_range(c, vp, rd, &(struct range_value){ .is_float = true, .f = v }, false);
	if(rc != 0) return rc;
	out->type = LWM2M_TYPE_FLOAT;
	out->v.f = v;
	return 0;
}

static int value_boolean(struct parse_ctx *c, const struct value_place *vp, json_t *j,
		struct lwm2m_value *out)
{
	if(!json_is_boolean(j)) return fail_value(c, LWM2M_ETYPE, vp, "expected a boolean");
	out->type = LWM2M_TYPE_BOOLEAN;
	out->v.b = json_is_true(j);
	return 0;
}

static int value_text(struct parse_ctx *c, const struct value_place *vp,
		const struct obj_resource_def *rd, json_t *j, struct lwm2m_value *out)
{
	const char *s;
	size_t len;

	if(!json_is_string(j)){
		return fail_value(c, LWM2M_ETYPE, vp, rd->type == LWM2M_TYPE_CORELNK
				? "expected a string (CoRE link format)" : "expected a string");
	}
	s = json_string_value(j);
	len = json_string_length(j);
	if(rd->type == LWM2M_TYPE_CORELNK){
		struct lf_limits lim = { .generic = true, .max_len = len + 1 };
		struct lf_links links = { 0 };
		struct lwm2m_error lerr;

		if(lf_parse(s, len, &lim, &links, &lerr) != 0){
			return fail_value(c, LWM2M_EINVAL, vp, "not CoRE link format: %s", lerr.msg);
		}
		lf_links_free(&links);
	}
	if(check_length(c, vp, rd, len) != 0) return -LWM2M_ERANGE;   /* err is filled */
	if(value_set_bytes(out, rd->type, s, len) != 0) return fail_nomem(c);
	return 0;
}

static int value_opaque(struct parse_ctx *c, const struct value_place *vp,
		const struct obj_resource_def *rd, json_t *j, struct lwm2m_value *out)
{
	const char *key;
	json_t *val;
	uint8_t *bytes;
	size_t len;
	int rc;

	if(!json_is_object(j) || json_object_size(j) != 1){
		return fail_value(c, LWM2M_ETYPE, vp,
				"expected {\"hex\": \"..\"}, {\"base64\": \"..\"} or {\"text\": \"..\"}");
	}
	json_object_foreach(j, key, val){
		size_t form = 0;

		while(form < 3 && strcmp(key, bytes_form_names[form]) != 0) form++;
		if(form == 3 || !json_is_string(val)){
			return fail_value(c, LWM2M_ETYPE, vp,
					"expected {\"hex\": \"..\"}, {\"base64\": \"..\"} or {\"text\": \"..\"}");
		}
		rc = bytes_decode((enum bytes_form)form, json_string_value(val), json_string_length(val),
				&bytes, &len);
		if(rc == -LWM2M_ENOMEM) return fail_nomem(c);
		if(rc != 0) return fail_value(c, LWM2M_EINVAL, vp, "bad %s", key);
		rc = check_length(c, vp, rd, len);
		if(rc == 0 && value_set_bytes(out, LWM2M_TYPE_OPAQUE, bytes, len) != 0) rc = fail_nomem(c);
		free(bytes);
		return rc;
	}
	return -LWM2M_EINVAL;     /* not reached: the object has one member */
}

static int value_objlnk(struct parse_ctx *c, const struct value_place *vp, json_t *j,
		struct lwm2m_value *out)
{
	if(!json_is_string(j)
			|| objlnk_parse(json_string_value(j), json_string_length(j), &out->v.lnk.obj,
				&out->v.lnk.inst, NULL) != 0){
		return fail_value(c, LWM2M_ETYPE, vp, "expected an object link \"object:instance\"");
	}
	out->type = LWM2M_TYPE_OBJLNK;
	return 0;
}

static int convert_value(struct parse_ctx *c, const struct value_place *vp,
		const struct obj_resource_def *rd, json_t *j, struct lwm2m_value *out)
{
	switch(rd->type){
		case LWM2M_TYPE_STRING:
		case LWM2M_TYPE_CORELNK: return value_text(c, vp, rd, j, out);
		case LWM2M_TYPE_INTEGER:
		case LWM2M_TYPE_TIME:
		case LWM2M_TYPE_UNSIGNED: return value_integer(c, vp, rd, j, out);
		case LWM2M_TYPE_FLOAT: return value_float(c, vp, rd, j, out);
		case LWM2M_TYPE_BOOLEAN: return value_boolean(c, vp, j, out);
		case LWM2M_TYPE_OPAQUE: return value_opaque(c, vp, rd, j, out);
		case LWM2M_TYPE_OBJLNK: return value_objlnk(c, vp, j, out);
		case LWM2M_TYPE_NONE: break;
	}
	return fail_value(c, LWM2M_ETYPE, vp, "cannot be written (no value type)");
}

/* ---- Bootstrap writes ---- */

/* A decimal ID "0".."65535" without sign, spaces or leading zeros. */
static bool parse_id(const char *s, uint16_t *out)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if(n == 0 || n > 5 || (n > 1 && s[0] == '0')) return false;
	for(size_t i = 0; i < n; i++){
		if(s[i] < '0' || s[i] > '9') return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if(v > LWM2M_ID_MAX) return false;
	*out = (uint16_t)v;
	return true;
}

static struct lwm2m_node *push_node(struct lwm2m_nodes *nodes, const struct lwm2m_path *inst,
		uint16_t res)
{
	struct lwm2m_node *n = nodes_push(nodes);

	if(!n) return NULL;
	n->path = *inst;
	n->path.len = LWM2M_PATH_RESOURCE;
	n->path.ids[2] = res;
	return n;
}

static int write_multiple(struct parse_ctx *c, const struct lwm2m_path *inst,
		const char *path_text, const struct obj_resource_def *rd, json_t *j,
		struct lwm2m_nodes *nodes)
{
	struct value_place vp = { path_text, rd->id, false, 0 };
	const char *key;
	json_t *val;
	int rc;

	if(!json_is_object(j)){
		return fail_value(c, LWM2M_ETYPE, &vp,
				"multi-instance: expected an object of resource instances {\"0\": ..}");
	}
	if(json_object_size(j) == 0){
		struct lwm2m_node *n = push_node(nodes, inst, rd->id);
		if(!n) return fail_nomem(c);
		n->kind = LWM2M_NODE_EMPTY_MULTIPLE;
		return 0;
	}
	json_object_foreach(j, key, val){
		struct lwm2m_node *n;
		char sh[SHOWN_MAX + 4];

		vp.has_inst = false;
		if(!parse_id(key, &vp.inst)){
			shown(sh, sizeof(sh), key);
			return fail_value(c, LWM2M_EINVAL, &vp, "bad resource instance id \"%s\"", sh);
		}
		vp.has_inst = true;
		n = push_node(nodes, inst, rd->id);
		if(!n) return fail_nomem(c);
		n->path.len = LWM2M_PATH_RESOURCE_INSTANCE;
		n->path.ids[3] = vp.inst;
		rc = convert_value(c, &vp, rd, val, &n->value);
		if(rc != 0) return rc;
	}
	return 0;
}

static int write_resource(struct parse_ctx *c, const struct obj_def *def,
		const struct lwm2m_path *inst, const char *path_text, const char *key, json_t *j,
		struct lwm2m_nodes *nodes)
{
	const struct obj_resource_def *rd;
	struct lwm2m_node *n;
	uint16_t rid;
	char sh[SHOWN_MAX + 4];

	if(!parse_id(key, &rid)){
		shown(sh, sizeof(sh), key);
		return fail(c, LWM2M_EINVAL, "bootstrap.write \"%s\": bad resource id \"%s\"",
				path_text, sh);
	}
	rd = obj_def_resource(def, rid);
	if(!rd){
		return fail(c, LWM2M_ENOENT, "bootstrap.write \"%s\": object %u (%s) has no resource %u",
				path_text, def->id, def->name, rid);
	}
	if(rd->type == LWM2M_TYPE_NONE){
		return fail(c, LWM2M_EINVAL, "bootstrap.write \"%s\": resource %u (%s) is executable, "
				"not writable", path_text, rid, rd->name);
	}
	if(rd->multiple) return write_multiple(c, inst, path_text, rd, j, nodes);
	n = push_node(nodes, inst, rid);
	if(!n) return fail_nomem(c);
	return convert_value(c, &(struct value_place){ path_text, rid, false, 0 }, rd, j, &n->value);
}

static int write_instance(struct parse_ctx *c, const char *path_text, json_t *j,
		struct endpoint_write *w)
{
	const struct obj_def *def;
	const char *key;
	json_t *val;
	int rc;

	rc = take_path(c, path_text, "bootstrap.write", &w->path);
	if(rc != 0) return rc;
	if(w->path.len != LWM2M_PATH_INSTANCE){
		return fail(c, LWM2M_EINVAL, "bootstrap.write \"%s\": expected an object instance "
				"path /object/instance", path_text);
	}
	if(w->path.ids[1] == LWM2M_ID_MAX){
		return fail(c, LWM2M_ERANGE, "bootstrap.write \"%s\": instance 65535 is reserved",
				path_text);
	}
	def = obj_registry_find(c->model, w->path.ids[0], NULL);
	if(!def){
		return fail(c, LWM2M_ENOENT, "bootstrap.write \"%s\": unknown object %u", path_text,
				w->path.ids[0]);
	}
	if(!def->multiple && w->path.ids[1] != 0){
		return fail(c, LWM2M_ERANGE, "bootstrap.write \"%s\": object %u (%s) is single-instance: "
				"use instance 0", path_text, def->id, def->name);
	}
	if(!json_is_object(j)){
		return fail(c, LWM2M_ETYPE, "bootstrap.write \"%s\": expected an object of resources",
				path_text);
	}
	json_object_foreach(j, key, val){
		rc = write_resource(c, def, &w->path, path_text, key, val, &w->nodes);
		if(rc != 0) return rc;
	}
	if(w->nodes.count == 0){
		struct lwm2m_node *n = nodes_push(&w->nodes);
		if(!n) return fail_nomem(c);
		n->path = w->path;
		n->kind = LWM2M_NODE_EMPTY_INSTANCE;
	}
	nodes_sort(&w->nodes);
	return 0;
}

static int take_writes(struct parse_ctx *c, json_t *obj, struct endpoint_bootstrap *bs)
{
	const char *key;
	json_t *val;
	size_t n;
	int rc;

	rc = expect_object(c, obj, "bootstrap.write");
	if(rc != 0) return rc;
	n = json_object_size(obj);
	bs->writes = calloc(n ? n : 1, sizeof(*bs->writes));
	if(!bs->writes) return fail_nomem(c);
	json_object_foreach(obj, key, val){
		struct endpoint_write *w = &bs->writes[bs->write_count++];

		nodes_init(&w->nodes);
		rc = write_instance(c, key, val, w);
		if(rc != 0) return rc;
	}
	return 0;
}

/* ---- Sections ---- */

static int take_format(struct parse_ctx *c, json_t *j, int *out)
{
	int cf = -1;

	if(json_is_string(j)) cf = fmt_cf_parse(json_string_value(j));
	else if(json_is_integer(j) && json_integer_value(j) >= 0 && json_integer_value(j) <= 65535)
		cf = (int)json_integer_value(j);
	switch(cf){
		case LWM2M_CF_TLV:
		case LWM2M_CF_SENML_JSON:
		case LWM2M_CF_SENML_CBOR:
		case LWM2M_CF_LWM2M_CBOR:
			*out = cf;
			return 0;
	}
	return fail(c, LWM2M_EINVAL, "bootstrap.format: expected \"tlv\", \"senml-json\", "
			"\"senml-cbor\" or \"lwm2m-cbor\"");
}

static int take_bootstrap(struct parse_ctx *c, json_t *obj, struct endpoint_bootstrap *bs)
{
	static const char *const keys[] = { "delete", "write", "discover", "read", "format", NULL };
	json_t *j;
	int rc;

	rc = expect_keys(c, obj, "bootstrap", keys);
	if(rc != 0) return rc;
	bs->present = true;
	bs->format = -1;
	if((j = json_object_get(obj, "delete")) != NULL){
		rc = take_path_list(c, j, "bootstrap.delete", delete_target, "/, /object or "
				"/object/instance", &bs->deletes, &bs->delete_count);
		if(rc != 0) return rc;
	}
	if((j = json_object_get(obj, "read")) != NULL){
		rc = take_path_list(c, j, "bootstrap.read", read_target, "/1, /1/instance, /2 or "
				"/2/instance", &bs->reads, &bs->read_count);
		if(rc != 0) return rc;
	}
	if((j = json_object_get(obj, "discover")) != NULL){
		if(!json_is_boolean(j)) return fail(c, LWM2M_ETYPE, "bootstrap.discover: expected a boolean");
		bs->discover = json_is_true(j);
	}
	if((j = json_object_get(obj, "format")) != NULL){
		rc = take_format(c, j, &bs->format);
		if(rc != 0) return rc;
	}
	if((j = json_object_get(obj, "write")) != NULL) return take_writes(c, j, bs);
	return 0;
}

/* "hex:0011..", "base64:..", "text:..". */
static int take_psk_key(struct parse_ctx *c, json_t *j, struct endpoint_upstream *up)
{
	const char *s;
	size_t len, form;
	int rc;

	if(!json_is_string(j)){
		return fail(c, LWM2M_ETYPE, "upstream.psk.key: expected \"hex:..\", \"base64:..\" or "
				"\"text:..\"");
	}
	s = json_string_value(j);
	len = json_string_length(j);
	for(form = 0; form < 3; form++){
		size_t n = strlen(bytes_form_names[form]);
		if(len > n && strncmp(s, bytes_form_names[form], n) == 0 && s[n] == ':') break;
	}
	if(form == 3){
		return fail(c, LWM2M_EINVAL, "upstream.psk.key: expected \"hex:..\", \"base64:..\" or "
				"\"text:..\"");
	}
	{
		size_t skip = strlen(bytes_form_names[form]) + 1;
		rc = bytes_decode((enum bytes_form)form, s + skip, len - skip, &up->psk_key,
				&up->psk_key_len);
	}
	if(rc == -LWM2M_ENOMEM) return fail_nomem(c);
	if(rc != 0) return fail(c, LWM2M_EINVAL, "upstream.psk.key: bad %s", bytes_form_names[form]);
	if(up->psk_key_len == 0 || up->psk_key_len > ENDPOINT_PSK_KEY_MAX){
		return fail(c, LWM2M_ERANGE, "upstream.psk.key: %zu bytes, expected 1..%u",
				up->psk_key_len, ENDPOINT_PSK_KEY_MAX);
	}
	return 0;
}

static int take_psk(struct parse_ctx *c, json_t *obj, struct endpoint_upstream *up)
{
	static const char *const keys[] = { "identity", "key", NULL };
	json_t *j;
	int rc;

	rc = expect_keys(c, obj, "upstream.psk", keys);
	if(rc != 0) return rc;
	up->kind = ENDPOINT_CRED_PSK;
	if((j = json_object_get(obj, "identity")) != NULL){
		rc = take_text(c, j, "upstream.psk.identity", 1, ENDPOINT_PSK_IDENTITY_MAX,
				&up->psk_identity);
		if(rc != 0) return rc;
	}
	if((j = json_object_get(obj, "key")) == NULL){
		return fail(c, LWM2M_EINVAL, "upstream.psk: \"key\" is missing");
	}
	return take_psk_key(c, j, up);
}

/* An absolute path to a readable regular file. Only regular files are opened: a FIFO
 * would block, some devices act on open. */
static int take_file(struct parse_ctx *c, json_t *obj, const char *key, const char *section,
		bool required, char **out)
{
	json_t *j = json_object_get(obj, key);
	char where[48], sh[SHOWN_MAX + 4];
	struct stat st;
	int fd, rc;

	snprintf(where, sizeof(where), "%s.%s", section, key);
	if(!j){
		if(!required) return 0;
		return fail(c, LWM2M_EINVAL, "%s: \"%s\" is missing", section, key);
	}
	if(!json_is_string(j) || json_string_value(j)[0] != '/'){
		return fail(c, LWM2M_EINVAL, "%s: expected an absolute file path", where);
	}
	rc = take_text(c, j, where, 2, 4096, out);
	if(rc != 0) return rc;
	shown(sh, sizeof(sh), *out);
	if(stat(*out, &st) != 0) return fail(c, LWM2M_ENOENT, "%s: %s: %s", where, sh, strerror(errno));
	if(!S_ISREG(st.st_mode)) return fail(c, LWM2M_ENOENT, "%s: %s: not a regular file", where, sh);
	fd = open(*out, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if(fd < 0) return fail(c, LWM2M_ENOENT, "%s: %s: %s", where, sh, strerror(errno));
	close(fd);
	return 0;
}

static int take_x509(struct parse_ctx *c, json_t *obj, struct endpoint_upstream *up)
{
	static const char *const keys[] = { "cert", "key", "ca", NULL };
	int rc;

	rc = expect_keys(c, obj, "upstream.x509", keys);
	if(rc != 0) return rc;
	up->kind = ENDPOINT_CRED_X509;
	rc = take_file(c, obj, "cert", "upstream.x509", true, &up->cert_file);
	if(rc == 0) rc = take_file(c, obj, "key", "upstream.x509", true, &up->key_file);
	if(rc == 0) rc = take_file(c, obj, "ca", "upstream.x509", false, &up->ca_file);
	return rc;
}

static int take_rpk(struct parse_ctx *c, json_t *obj, struct endpoint_upstream *up)
{
	static const char *const keys[] = { "key", NULL };
	int rc;

	rc = expect_keys(c, obj, "upstream.rpk", keys);
	if(rc != 0) return rc;
	up->kind = ENDPOINT_CRED_RPK;
	return take_file(c, obj, "key", "upstream.rpk", true, &up->key_file);
}

static int take_upstream(struct parse_ctx *c, json_t *obj, struct endpoint_upstream *up)
{
	static const char *const keys[] = { "psk", "x509", "rpk", NULL };
	json_t *j;
	int rc;

	rc = expect_keys(c, obj, "upstream", keys);
	if(rc != 0) return rc;
	if(json_object_size(obj) != 1){
		return fail(c, LWM2M_EINVAL, "upstream: expected exactly one of \"psk\", \"x509\", \"rpk\"");
	}
	if((j = json_object_get(obj, "psk")) != NULL) return take_psk(c, j, up);
	if((j = json_object_get(obj, "x509")) != NULL) return take_x509(c, j, up);
	return take_rpk(c, json_object_get(obj, "rpk"), up);
}

/* Host name or IPv4 (RFC 3986 reg-name without percent-encoding), or "[IPv6]". */
static bool url_host_ok(const char *h, size_t len)
{
	if(len == 0) return false;
	if(h[0] == '['){
		if(len < 4 || h[len - 1] != ']') return false;
		for(size_t i = 1; i + 1 < len; i++){
			if(!(hex_digit(h[i]) >= 0 || h[i] == ':' || h[i] == '.')) return false;
		}
		return true;
	}
	for(size_t i = 0; i < len; i++){
		char ch = h[i];
		if(!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
				|| ch == '-' || ch == '.' || ch == '_' || ch == '~')) return false;
	}
	return true;
}

static bool url_port_ok(const char *p, size_t len)
{
	unsigned long v = 0;

	if(len == 0 || len > 5) return false;
	for(size_t i = 0; i < len; i++){
		if(p[i] < '0' || p[i] > '9') return false;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* "http[s]://host[:port][/path]": no user info, query or fragment; printable ASCII. */
static bool url_ok(const char *u)
{
	const char *auth, *end, *colon;
	size_t hlen;

	if(strncmp(u, "http://", 7) == 0) auth = u + 7;
	else if(strncmp(u, "https://", 8) == 0) auth = u + 8;
	else return false;
	for(const char *p = u; *p; p++){
		if(*p <= ' ' || *p >= 0x7f || *p == '?' || *p == '#') return false;
	}
	end = auth + strcspn(auth, "/");
	colon = NULL;
	for(const char *p = auth; p < end; p++){
		if(*p == '@') return false;
		if(*p == ']') colon = NULL;
		if(*p == ':') colon = p;
	}
	hlen = (size_t)((colon ? colon : end) - auth);
	if(!url_host_ok(auth, hlen)) return false;
	return !colon || url_port_ok(colon + 1, (size_t)(end - colon - 1));
}

static int take_http(struct parse_ctx *c, json_t *obj, struct endpoint_http *http)
{
	static const char *const keys[] = { "url", "identity", NULL };
	json_t *j;
	size_t len, keep;
	int rc;

	rc = expect_keys(c, obj, "http", keys);
	if(rc != 0) return rc;
	if((j = json_object_get(obj, "url")) == NULL) return fail(c, LWM2M_EINVAL, "http: \"url\" is missing");
	rc = take_text(c, j, "http.url", 1, 2048, &http->url);
	if(rc != 0) return rc;
	if(!url_ok(http->url)){
		char sh[SHOWN_MAX + 4];
		shown(sh, sizeof(sh), http->url);
		return fail(c, LWM2M_EINVAL, "http.url: \"%s\" is not http[s]://host[:port][/path]", sh);
	}
	/* "http://h:1/base/" and "http://h:1/base" are the same base URL: keep one form. */
	len = strlen(http->url);
	keep = (size_t)(strstr(http->url, "://") + 3 - http->url);
	keep += strcspn(http->url + keep, "/");
	while(len > keep && http->url[len - 1] == '/') http->url[--len] = '\0';
	if((j = json_object_get(obj, "identity")) != NULL){
		return take_text(c, j, "http.identity", 1, ENDPOINT_NAME_MAX, &http->identity);
	}
	return 0;
}

/* ---- Entries ---- */

/* Entry names are endpoint names (usable as one MQTT topic level) or patterns with one
 * '*' at the end. */
static int take_name(struct parse_ctx *c, const char *name, struct endpoint_conf *e)
{
	size_t len = strlen(name);

	if(len == 0 || len > ENDPOINT_NAME_MAX){
		return fail(c, LWM2M_EINVAL, "endpoint names are 1..%u bytes", ENDPOINT_NAME_MAX);
	}
	for(size_t i = 0; i < len; i++){
		unsigned char ch = (unsigned char)name[i];
		if(ch < 0x20 || ch == 0x7f) return fail(c, LWM2M_EINVAL, "control character in the name");
		if(ch == '/' || ch == '+' || ch == '#'){
			return fail(c, LWM2M_EINVAL, "'/', '+' and '#' cannot be in an endpoint name");
		}
		if(ch == '*' && i + 1 != len){
			return fail(c, LWM2M_EINVAL, "bad pattern: '*' may only end a name");
		}
	}
	if(name[0] == '$') return fail(c, LWM2M_EINVAL, "endpoint names cannot start with '$'");
	e->match = len == 1 && name[0] == '*' ? ENDPOINT_MATCH_DEFAULT
		: name[len - 1] == '*' ? ENDPOINT_MATCH_PREFIX : ENDPOINT_MATCH_EXACT;
	e->name = strdup(name);
	return e->name ? 0 : fail_nomem(c);
}

static int take_entry(struct parse_ctx *c, const char *name, json_t *obj, struct endpoint_conf *e)
{
	static const char *const keys[] = { "upstream", "http", "bootstrap", NULL };
	json_t *j;
	int rc;

	c->in_entry = true;
	shown(c->entry, sizeof(c->entry), name);
	rc = take_name(c, name, e);
	if(rc == 0) rc = expect_keys(c, obj, NULL, keys);
	if(rc != 0) return rc;
	e->bootstrap.format = -1;
	if((j = json_object_get(obj, "upstream")) != NULL && (rc = take_upstream(c, j, &e->upstream)) != 0)
		return rc;
	if((j = json_object_get(obj, "http")) != NULL && (rc = take_http(c, j, &e->http)) != 0)
		return rc;
	if((j = json_object_get(obj, "bootstrap")) != NULL)
		return take_bootstrap(c, j, &e->bootstrap);
	return 0;
}

static void entry_free(struct endpoint_conf *e)
{
	free(e->name);
	free(e->upstream.psk_identity);
	free(e->upstream.psk_key);
	free(e->upstream.cert_file);
	free(e->upstream.key_file);
	free(e->upstream.ca_file);
	free(e->http.url);
	free(e->http.identity);
	free(e->bootstrap.deletes);
	free(e->bootstrap.reads);
	for(size_t i = 0; i < e->bootstrap.write_count; i++) nodes_free(&e->bootstrap.writes[i].nodes);
	free(e->bootstrap.writes);
}

void endpoints_free(struct endpoints *eps)
{
	if(!eps) return;
	for(size_t i = 0; i < eps->count; i++) entry_free(&eps->entries[i]);
	free(eps->entries);
	free(eps->exact);
	free(eps->patterns);
	free(eps);
}

/* ---- Lookup index ---- */

static int cmp_names(const void *a, const void *b)
{
	const struct endpoint_conf *x = *(const struct endpoint_conf *const *)a;
	const struct endpoint_conf *y = *(const struct endpoint_conf *const *)b;

	return strcmp(x->name, y->name);
}

/* Byte order, then shorter first: the order of pattern prefixes (names without '*'). */
static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	int d = memcmp(a, b, alen < blen ? alen : blen);

	if(d != 0) return d;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static int cmp_prefixes(const void *a, const void *b)
{
	const struct endpoint_conf *x = *(const struct endpoint_conf *const *)a;
	const struct endpoint_conf *y = *(const struct endpoint_conf *const *)b;

	return cmp_bytes(x->name, strlen(x->name) - 1, y->name, strlen(y->name) - 1);
}

static int build_index(struct endpoints *eps)
{
	eps->exact = calloc(eps->count ? eps->count : 1, sizeof(*eps->exact));
	eps->patterns = calloc(eps->count ? eps->count : 1, sizeof(*eps->patterns));
	if(!eps->exact || !eps->patterns) return -LWM2M_ENOMEM;
	for(size_t i = 0; i < eps->count; i++){
		const struct endpoint_conf *e = &eps->entries[i];
		size_t plen;

		switch(e->match){
			case ENDPOINT_MATCH_EXACT:
				eps->exact[eps->exact_count++] = e;
				break;
			case ENDPOINT_MATCH_PREFIX:
				eps->patterns[eps->pattern_count++] = e;
				plen = strlen(e->name) - 1;
				if(plen > eps->longest_prefix) eps->longest_prefix = plen;
				break;
			case ENDPOINT_MATCH_DEFAULT:
				eps->fallback = e;
				break;
		}
	}
	qsort(eps->exact, eps->exact_count, sizeof(*eps->exact), cmp_names);
	qsort(eps->patterns, eps->pattern_count, sizeof(*eps->patterns), cmp_prefixes);
	return 0;
}

/* The pattern whose prefix is exactly ep[0..len). */
static const struct endpoint_conf *find_pattern(const struct endpoints *eps, const char *ep,
		size_t len)
{
	size_t lo = 0, hi = eps->pattern_count;

	while(lo < hi){
		size_t mid = lo + (hi - lo) / 2;
		const char *name = eps->patterns[mid]->name;
		int d = cmp_bytes(name, strlen(name) - 1, ep, len);

		if(d == 0) return eps->patterns[mid];
		if(d < 0) lo = mid + 1;
		else hi = mid;
	}
	return NULL;
}

const struct endpoint_conf *endpoints_find(const struct endpoints *eps, const char *endpoint)
{
	size_t lo, hi, len;

	if(!eps || !endpoint) return NULL;
	lo = 0;
	hi = eps->exact_count;
	while(lo < hi){
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(eps->exact[mid]->name, endpoint);
		if(d == 0) return eps->exact[mid];
		if(d < 0) lo = mid + 1;
		else hi = mid;
	}
	len = strlen(endpoint);
	for(size_t n = len < eps->longest_prefix ? len : eps->longest_prefix; n > 0; n--){
		const struct endpoint_conf *e = find_pattern(eps, endpoint, n);
		if(e) return e;
	}
	return eps->fallback;
}

size_t endpoints_count(const struct endpoints *eps)
{
	return eps ? eps->count : 0;
}

const struct endpoint_conf *endpoints_at(const struct endpoints *eps, size_t i)
{
	return eps && i < eps->count ? &eps->entries[i] : NULL;
}

const char *endpoint_psk_identity(const struct endpoint_conf *conf, const char *endpoint)
{
	return conf && conf->upstream.psk_identity ? conf->upstream.psk_identity : endpoint;
}

/* ---- Loading ---- */

static int take_document(struct parse_ctx *c, json_t *root, struct endpoints *eps)
{
	static const char *const keys[] = { "endpoints", NULL };
	json_t *all, *val;
	const char *key;
	int rc;

	rc = expect_keys(c, root, NULL, keys);
	if(rc != 0) return rc;
	all = json_object_get(root, "endpoints");
	if(!all) return fail(c, LWM2M_EINVAL, "\"endpoints\" is missing");
	rc = expect_object(c, all, "endpoints");
	if(rc != 0) return rc;
	eps->entries = calloc(json_object_size(all) ? json_object_size(all) : 1, sizeof(*eps->entries));
	if(!eps->entries) return fail_nomem(c);
	json_object_foreach(all, key, val){
		rc = take_entry(c, key, val, &eps->entries[eps->count++]);
		if(rc != 0) return rc;
	}
	c->in_entry = false;
	return build_index(eps) == 0 ? 0 : fail_nomem(c);
}

struct endpoints *endpoints_parse(const char *json, size_t len, const char *name_for_errors,
		const struct obj_registry *model, struct lwm2m_error *err)
{
	struct parse_ctx c = { .file = name_for_errors ? name_for_errors : "(buffer)",
		.model = model, .err = err };
	struct endpoints *eps;
	json_error_t jerr;
	json_t *root;

	if(!model){
		fail(&c, LWM2M_EINVAL, "no object model");
		return NULL;
	}
	root = json_loadb(json ? json : "", json ? len : 0, JSON_REJECT_DUPLICATES, &jerr);
	if(!root){
		/* The reader's text quotes the input near the error: keep the line one line. */
		for(char *p = jerr.text; *p; p++) if((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
		lwm2m_fail(err, LWM2M_EINVAL, jerr.position, "endpoints file %s: line %d column %d: %s",
				c.file, jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	eps = calloc(1, sizeof(*eps));
	if(!eps){
		fail_nomem(&c);
	}else if(take_document(&c, root, eps) != 0){
		endpoints_free(eps);
		eps = NULL;
	}
	json_decref(root);
	return eps;
}

static int read_all(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while(got < size){
		ssize_t n = read(fd, buf + got, size - got);
		if(n < 0 && errno == EINTR) continue;
		if(n <= 0) return -1;
		got += (size_t)n;
	}
	return 0;
}

struct endpoints *endpoints_load_file(const char *path, const struct obj_registry *model,
		struct lwm2m_error *err)
{
	struct endpoints *eps = NULL;
	struct stat st;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if(fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)){
		lwm2m_fail(err, LWM2M_ENOENT, -1, "endpoints file %s: cannot read: %s", path,
				fd < 0 ? strerror(errno) : "not a regular file");
		if(fd >= 0) close(fd);
		return NULL;
	}
	if((uintmax_t)st.st_size > ENDPOINTS_FILE_MAX){
		lwm2m_fail(err, LWM2M_ETOOBIG, -1, "endpoints file %s: larger than %u bytes", path,
				ENDPOINTS_FILE_MAX);
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if(!buf){
		lwm2m_fail(err, LWM2M_ENOMEM, -1, "endpoints file %s: out of memory", path);
	}else if(read_all(fd, buf, (size_t)st.st_size) != 0){
		lwm2m_fail(err, LWM2M_EINVAL, -1, "endpoints file %s: cannot read: %s", path,
				errno ? strerror(errno) : "short read");
	}else{
		eps = endpoints_parse(buf, (size_t)st.st_size, path, model, err);
	}
	free(buf);
	close(fd);
	return eps;
}
