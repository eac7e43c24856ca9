/* Vector handlers for link_format.json, path.json, attributes.json and objlnk.json. */
#include "runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objects/attributes.h"
#include "objects/link_format.h"
#include "objects/objlnk.h"
#include "objects/path.h"
#include "util/buf.h"

/* ------------------------------------------------------------------ link_format */

static bool expected_quoted(json_t *attr)
{
	return json_is_true(json_object_get(attr, "quoted"));
}

static int compare_links(const struct lf_links *got, json_t *exp_links, const char *what,
		char *why, size_t why_len)
{
	if(json_array_size(exp_links) != got->count){
		return vec_fail(why, why_len, "%s: %zu links, expected %zu", what, got->count,
				json_array_size(exp_links));
	}
	for(size_t i = 0; i < got->count; i++){
		const struct lf_link *l = &got->items[i];
		json_t *el = json_array_get(exp_links, i);
		const char *uri = vec_str(el, "uri");
		json_t *attrs = json_object_get(el, "attributes");

		if(!uri || strcmp(uri, l->uri) != 0){
			return vec_fail(why, why_len, "%s: link %zu uri \"%s\", expected \"%s\"", what, i,
					l->uri, uri ? uri : "?");
		}
		if(json_array_size(attrs) != l->n_attrs){
			return vec_fail(why, why_len, "%s: link %zu has %zu attributes, expected %zu", what,
					i, l->n_attrs, json_array_size(attrs));
		}
		for(size_t k = 0; k < l->n_attrs; k++){
			const struct lf_attr *a = &l->attrs[k];
			json_t *ea = json_array_get(attrs, k);
			const char *name = vec_str(ea, "name");
			const char *value = vec_str(ea, "value");

			if(!name || strcmp(name, a->name) != 0){
				return vec_fail(why, why_len, "%s: link %zu attribute %zu is %s, expected %s",
						what, i, k, a->name, name ? name : "?");
			}
			if((value == NULL) != (a->value == NULL) || (value && strcmp(value, a->value) != 0)){
				return vec_fail(why, why_len, "%s: %s=%s, expected %s", what, a->name,
						a->value ? a->value : "(none)", value ? value : "(none)");
			}
			if(expected_quoted(ea) != a->quoted){
				return vec_fail(why, why_len, "%s: %s quoted=%d, expected %d", what, a->name,
						(int)a->quoted, (int)expected_quoted(ea));
			}
		}
	}
	return VEC_PASS;
}

/* The expected JSON links as a struct lf_links pointing into the JSON strings. */
static int links_from_json(json_t *exp_links, struct lf_links *out)
{
	size_t n = json_array_size(exp_links);

	out->count = n;
	out->items = calloc(n ? n : 1, sizeof(*out->items));
	if(!out->items) return -1;
	for(size_t i = 0; i < n; i++){
		json_t *el = json_array_get(exp_links, i);
		json_t *attrs = json_object_get(el, "attributes");
		size_t na = json_array_size(attrs);
		struct lf_link *l = &out->items[i];

		l->uri = (char *)vec_str(el, "uri");
		l->n_attrs = na;
		l->attrs = calloc(na ? na : 1, sizeof(*l->attrs));
		if(!l->uri || !l->attrs) return -1;
		for(size_t k = 0; k < na; k++){
			json_t *ea = json_array_get(attrs, k);
			l->attrs[k].name = (char *)vec_str(ea, "name");
			l->attrs[k].value = (char *)vec_str(ea, "value");
			l->attrs[k].quoted = expected_quoted(ea);
		}
	}
	return 0;
}

/* Frees only the arrays of links_from_json (the strings belong to the JSON). */
static void links_from_json_free(struct lf_links *l)
{
	for(size_t i = 0; l->items && i < l->count; i++) free(l->items[i].attrs);
	free(l->items);
}

static int lf_decode_check(json_t *v, const char *text, size_t len, char *why, size_t why_len)
{
	json_t *exp = json_object_get(json_object_get(v, "expected"), "links");
	struct lf_links got, again;
	struct lwm2m_error err = { 0 };
	struct lwm2m_buf b;
	int verdict;

	if(!json_is_array(exp)) return vec_fail(why, why_len, "expected has no \"links\" array");
	if(lf_parse(text, len, NULL, &got, &err) != 0){
		return vec_fail(why, why_len, "decode refused a valid payload: %s", err.msg);
	}
	verdict = compare_links(&got, exp, "decode", why, why_len);
	/* The writer must give text that reads back to the same links. */
	buf_init(&b, 0);
	if(verdict == VEC_PASS && lf_format(&got, &b) != 0){
		verdict = vec_fail(why, why_len, "re-encoding the decoded links failed");
	}else if(verdict == VEC_PASS){
		if(lf_parse((const char *)b.data, b.len, NULL, &again, &err) != 0){
			verdict = vec_fail(why, why_len, "re-encoded text does not parse: %s", err.msg);
		}else{
			verdict = compare_links(&again, exp, "re-encode round trip", why, why_len);
			lf_links_free(&again);
		}
	}
	buf_free(&b);
	lf_links_free(&got);
	return verdict;
}

/* An "error" vector. The default reading tolerates whitespace after ',' and a bare
 * "lwm2m=1.x" root (spec section 4); when only those make the difference, the strict
 * RFC 6690 mode must refuse it and the default mode accepting it is the documented choice. */
static int lf_error_check(const char *text, size_t len, char *why, size_t why_len)
{
	struct lf_limits strict = { .strict = true };
	struct lf_links got;
	int rc;

	rc = lf_parse(text, len, NULL, &got, NULL);
	if(rc != 0) return VEC_PASS;
	lf_links_free(&got);
	rc = lf_parse(text, len, &strict, &got, NULL);
	if(rc == 0){
		lf_links_free(&got);
		return vec_fail(why, why_len, "decode accepted a payload that must be refused");
	}
	return vec_deviation(why, why_len,
			"refused in strict RFC 6690 mode; the default mode accepts it on purpose "
			"(whitespace after ',' / bare lwm2m= root, as LwM2M payloads use them)");
}

static int lf_encode_check(json_t *v, const char *text, size_t len, char *why, size_t why_len)
{
	json_t *exp = json_object_get(json_object_get(v, "expected"), "links");
	struct lf_links in = { 0 };
	struct lwm2m_buf b;
	int verdict = VEC_PASS;

	if(!json_is_array(exp)) return vec_fail(why, why_len, "expected has no \"links\" array");
	if(links_from_json(exp, &in) != 0){
		links_from_json_free(&in);
		return vec_fail(why, why_len, "malformed expected links");
	}
	buf_init(&b, 0);
	if(lf_format(&in, &b) != 0){
		verdict = vec_fail(why, why_len, "encoder refused the links");
	}else if(b.len != len || (len && memcmp(b.data, text, len) != 0)){
		verdict = vec_fail(why, why_len, "encoded \"%.*s\", expected \"%s\"", (int)b.len,
				b.data ? (const char *)b.data : "", text);
	}
	buf_free(&b);
	links_from_json_free(&in);
	return verdict;
}

int vec_run_link_format(json_t *v, char *why, size_t why_len)
{
	size_t len;
	const char *text = vec_text(v, &len);
	int verdict = VEC_PASS;

	if(!text) return vec_fail(why, why_len, "no text");
	if(json_object_get(v, "depth")){
		return vec_fail(why, why_len, "Discover depth vectors need the Discover builder");
	}
	if(vec_expects_error(v)) return lf_error_check(text, len, why, why_len);
	if(vec_decodes(v)) verdict = lf_decode_check(v, text, len, why, why_len);
	if(verdict == VEC_PASS && vec_encodes(v)) verdict = lf_encode_check(v, text, len, why, why_len);
	return verdict;
}

/* ------------------------------------------------------------------ path */

static int expected_level(json_t *exp, const char *key, bool *present, long *value)
{
	json_t *f = json_object_get(exp, key);

	*present = json_is_integer(f);
	*value = *present ? (long)json_integer_value(f) : -1;
	return (f == NULL || json_is_null(f) || json_is_integer(f)) ? 0 : -1;
}

int vec_run_path(json_t *v, char *why, size_t why_len)
{
	static const char *const keys[4] = { "object", "instance", "resource", "resource_instance" };
	json_t *exp = json_object_get(v, "expected");
	size_t len;
	const char *text = vec_text(v, &len);
	struct lwm2m_error err = { 0 };
	struct lwm2m_path p, again;
	char buf[LWM2M_PATH_STR_MAX];
	size_t n;
	uint8_t levels = 0;

	if(!text) return vec_fail(why, why_len, "no text");
	if(vec_expects_error(v)){
		return path_parse(text, len, &p, NULL) != 0 ? VEC_PASS
			: vec_fail(why, why_len, "accepted a path that must be refused");
	}
	if(path_parse(text, len, &p, &err) != 0) return vec_fail(why, why_len, "refused: %s", err.msg);
	for(int i = 0; i < 4; i++){
		bool present;
		long val;
		if(expected_level(exp, keys[i], &present, &val) != 0){
			return vec_fail(why, why_len, "expected.%s is not an integer or null", keys[i]);
		}
		if(present && levels != i) return vec_fail(why, why_len, "expected has a gap at %s", keys[i]);
		if(present) levels++;
		if(present && (p.len <= i || p.ids[i] != val)){
			return vec_fail(why, why_len, "%s: got %ld, expected %ld", keys[i],
					p.len > i ? (long)p.ids[i] : -1L, val);
		}
	}
	if(p.len != levels) return vec_fail(why, why_len, "%u levels, expected %u", p.len, levels);
	n = path_format(&p, buf, sizeof(buf));
	if(n == 0 || path_parse(buf, n, &again, NULL) != 0 || path_compare(&p, &again) != 0){
		return vec_fail(why, why_len, "format/parse round trip failed (\"%s\")", buf);
	}
	return VEC_PASS;
}

/* ------------------------------------------------------------------ attributes */

/* Read-only <PROPERTIES> attributes that a Leshan attribute set carries but a LwM2M 1.2
 * Write-Attributes query cannot set. */
static bool is_read_only_attr(const char *name)
{
	return strcmp(name, "dim") == 0 || strcmp(name, "ver") == 0 || strcmp(name, "ssid") == 0
		|| strcmp(name, "uri") == 0;
}

static const char *first_read_only(json_t *exp_attrs)
{
	size_t i;
	json_t *a;

	json_array_foreach(exp_attrs, i, a){
		const char *name = vec_str(a, "name");
		if(name && is_read_only_attr(name)) return name;
	}
	return NULL;
}

/* The expected attribute list as struct lwm2m_attrs. */
static int attrs_from_json(json_t *list, struct lwm2m_attrs *out, char *why, size_t why_len)
{
	size_t i;
	json_t *a;

	memset(out, 0, sizeof(*out));
	json_array_foreach(list, i, a){
		const char *name = vec_str(a, "name");
		json_t *val = json_object_get(a, "value");
		int id = name ? attr_from_name(name, strlen(name)) : -1;
		double d;

		if(id < 0) return vec_fail(why, why_len, "expected attribute %s unknown", name ? name : "?");
		if(!val){
			out->unset |= LWM2M_ATTR_BIT(id);
			continue;
		}
		if(!json_is_number(val)) return vec_fail(why, why_len, "expected %s is not a number", name);
		d = json_number_value(val);
		out->set |= LWM2M_ATTR_BIT(id);
		switch(id){
			case LWM2M_ATTR_PMIN: out->pmin = (uint64_t)d; break;
			case LWM2M_ATTR_PMAX: out->pmax = (uint64_t)d; break;
			case LWM2M_ATTR_EPMIN: out->epmin = (uint64_t)d; break;
			case LWM2M_ATTR_EPMAX: out->epmax = (uint64_t)d; break;
			case LWM2M_ATTR_HQMAX: out->hqmax = (uint64_t)d; break;
			case LWM2M_ATTR_GT: out->gt = d; break;
			case LWM2M_ATTR_LT: out->lt = d; break;
			case LWM2M_ATTR_ST: out->st = d; break;
			case LWM2M_ATTR_EDGE: out->edge = (uint8_t)d; break;
			case LWM2M_ATTR_CON: out->con = (uint8_t)d; break;
			default: break;
		}
	}
	return VEC_PASS;
}

static bool attrs_equal(const struct lwm2m_attrs *a, const struct lwm2m_attrs *b)
{
	if(a->set != b->set || a->unset != b->unset) return false;
#define SAME(id, f) (!(a->set & LWM2M_ATTR_BIT(id)) || a->f == b->f)
	return SAME(LWM2M_ATTR_PMIN, pmin) && SAME(LWM2M_ATTR_PMAX, pmax)
		&& SAME(LWM2M_ATTR_EPMIN, epmin) && SAME(LWM2M_ATTR_EPMAX, epmax)
		&& SAME(LWM2M_ATTR_HQMAX, hqmax) && SAME(LWM2M_ATTR_GT, gt)
		&& SAME(LWM2M_ATTR_LT, lt) && SAME(LWM2M_ATTR_ST, st)
		&& SAME(LWM2M_ATTR_EDGE, edge) && SAME(LWM2M_ATTR_CON, con);
#undef SAME
}

/* Parse as the vector asks: with a target path the full Write-Attributes checks (values,
 * cross-attribute rules, level); without one the parser alone (Leshan's parseUriQuery and
 * AttributeSet round trips do not apply cross-attribute rules). */
static int attr_decode(json_t *v, const char *text, size_t len, struct lwm2m_attrs *out,
		struct lwm2m_error *err)
{
	const char *target = vec_str(v, "path");
	struct lwm2m_path p;
	int rc;

	if(!target) return attr_parse_query_raw(text, len, out, err);
	rc = path_parse(target, strlen(target), &p, err);
	if(!rc) rc = attr_parse_query(text, len, out, err);
	if(!rc) rc = attr_validate_level(out, &p, err);
	return rc;
}

static int attr_check(json_t *v, const char *text, size_t len, json_t *exp_attrs, char *why,
		size_t why_len)
{
	struct lwm2m_attrs want, got;
	struct lwm2m_error err = { 0 };
	int verdict = attrs_from_json(exp_attrs, &want, why, why_len);

	if(verdict != VEC_PASS) return verdict;
	if(vec_decodes(v)){
		if(attr_decode(v, text, len, &got, &err) != 0){
			return vec_fail(why, why_len, "decode refused: %s", err.msg);
		}
		if(!attrs_equal(&got, &want)) return vec_fail(why, why_len, "decoded attributes differ");
	}
	if(vec_encodes(v)){
		struct lwm2m_buf b;
		buf_init(&b, 0);
		if(attr_format_query(&want, &b) != 0){
			verdict = vec_fail(why, why_len, "encoder refused the attributes");
		}else if(b.len != len || (len && memcmp(b.data, text, len) != 0)){
			verdict = vec_fail(why, why_len, "encoded \"%.*s\", expected \"%s\"", (int)b.len,
					b.data ? (const char *)b.data : "", text);
		}
		buf_free(&b);
	}
	return verdict;
}

/* Removes the "name=value" segments of read-only attributes from a query. */
static char *strip_read_only(const char *text, size_t len, size_t *out_len)
{
	char *out = malloc(len + 1);
	size_t n = 0, pos = 0;

	if(!out) return NULL;
	while(pos <= len){
		const char *amp = memchr(text + pos, '&', len - pos);
		size_t seg = amp ? (size_t)(amp - (text + pos)) : len - pos;
		size_t name_len = strcspn(text + pos, "=&");
		char name[16];

		if(name_len > seg) name_len = seg;
		snprintf(name, sizeof(name), "%.*s", (int)name_len, text + pos);
		if(!is_read_only_attr(name)){
			if(n) out[n++] = '&';
			memcpy(out + n, text + pos, seg);
			n += seg;
		}
		if(!amp) break;
		pos += seg + 1;
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}

/* Leshan vectors whose attribute set holds dim or ver: our Write-Attributes parser refuses
 * them (read-only <PROPERTIES> attributes); the rest of the vector is checked as usual. */
static int attr_read_only_deviation(json_t *v, const char *text, size_t len, json_t *exp_attrs,
		const char *ro, char *why, size_t why_len)
{
	struct lwm2m_attrs got;
	struct lwm2m_error err = { 0 };
	json_t *rest = json_array();
	size_t i, rest_len;
	json_t *a;
	char *rest_text;
	int verdict;

	if(vec_decodes(v) && (attr_parse_query_raw(text, len, &got, &err) == 0
			|| !strstr(err.msg, ro))){
		json_decref(rest);
		return vec_fail(why, why_len, "a query with %s must be refused naming it", ro);
	}
	json_array_foreach(exp_attrs, i, a){
		const char *name = vec_str(a, "name");
		if(name && !is_read_only_attr(name)) json_array_append(rest, a);
	}
	rest_text = strip_read_only(text, len, &rest_len);
	verdict = rest_text ? attr_check(v, rest_text, rest_len, rest, why, why_len)
		: vec_fail(why, why_len, "out of memory");
	free(rest_text);
	json_decref(rest);
	if(verdict != VEC_PASS) return verdict;
	return vec_deviation(why, why_len,
			"%s is a read-only <PROPERTIES> attribute in LwM2M 1.2, not settable by "
			"Write-Attributes: refused; the other attributes checked", ro);
}

int vec_run_attributes(json_t *v, char *why, size_t why_len)
{
	size_t len;
	const char *text = vec_text(v, &len);
	json_t *exp_attrs;
	struct lwm2m_attrs got;
	const char *ro;

	if(!text) return vec_fail(why, why_len, "no text");
	if(vec_expects_error(v)){
		return attr_decode(v, text, len, &got, NULL) != 0 ? VEC_PASS
			: vec_fail(why, why_len, "accepted a query that must be refused");
	}
	exp_attrs = json_object_get(json_object_get(v, "expected"), "attributes");
	if(!json_is_array(exp_attrs)) return vec_fail(why, why_len, "expected has no attributes array");
	ro = first_read_only(exp_attrs);
	if(ro) return attr_read_only_deviation(v, text, len, exp_attrs, ro, why, why_len);
	return attr_check(v, text, len, exp_attrs, why, why_len);
}

/* ------------------------------------------------------------------ objlnk */

/* "a:b" from the expected node, read here independently of the code under test. */
static int expected_objlnk(json_t *v, unsigned *obj, unsigned *inst)
{
	json_t *node = json_array_get(json_object_get(v, "expected"), 0);
	const char *type = vec_str(node, "type");
	const char *value = vec_str(node, "value");
	char tail;

	if(!type || strcmp(type, "objlnk") != 0 || !value) return -1;
	if(sscanf(value, "%5u:%5u%c", obj, inst, &tail) != 2) return -1;
	return (*obj <= 65535 && *inst <= 65535) ? 0 : -1;
}

int vec_run_objlnk(json_t *v, char *why, size_t why_len)
{
	size_t len;
	const char *text = vec_text(v, &len);
	struct lwm2m_error err = { 0 };
	unsigned eo, ei;
	uint16_t o, i;

	if(!text) return vec_fail(why, why_len, "no text");
	if(vec_expects_error(v)){
		return objlnk_parse(text, len, &o, &i, NULL) != 0 ? VEC_PASS
			: vec_fail(why, why_len, "accepted \"%s\", which must be refused", text);
	}
	if(expected_objlnk(v, &eo, &ei) != 0) return vec_fail(why, why_len, "malformed expected node");
	if(vec_decodes(v)){
		if(objlnk_parse(text, len, &o, &i, &err) != 0) return vec_fail(why, why_len, "refused: %s", err.msg);
		if(o != eo || i != ei) return vec_fail(why, why_len, "got %u:%u, expected %u:%u", o, i, eo, ei);
	}
	if(vec_encodes(v)){
		char buf[OBJLNK_STR_MAX];
		size_t n = objlnk_format((uint16_t)eo, (uint16_t)ei, buf, sizeof(buf));
		if(n != len || memcmp(buf, text, len) != 0){
			return vec_fail(why, why_len, "formatted \"%s\", expected \"%s\"", buf, text);
		}
	}
	return VEC_PASS;
}
