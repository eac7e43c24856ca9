/* Nodes <-> the JSON node model (see node_json.h). */
#include "node_json.h"
#include "fmt_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_SAFE_INT 9007199254740992LL     /* 2^53: doubles hold every integer up to it */

static json_t *json_int64(int64_t i)
{
	char tmp[24];

	if(i >= -JSON_SAFE_INT && i <= JSON_SAFE_INT) return json_integer((json_int_t)i);
	snprintf(tmp, sizeof(tmp), "%" PRId64, i);
	return json_string(tmp);
}

json_t *node_json_value(const struct lwm2m_value *v)
{
	char tmp[40];
	json_t *j;
	char *hex;

	switch(v->type){
	case LWM2M_TYPE_NONE:
		return json_null();
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
		return json_stringn((const char *)v->v.bytes.data, v->v.bytes.len);
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		return json_int64(v->v.i);
	case LWM2M_TYPE_UNSIGNED:
		if(v->v.u <= (uint64_t)JSON_SAFE_INT) return json_integer((json_int_t)v->v.u);
		snprintf(tmp, sizeof(tmp), "%" PRIu64, v->v.u);
		return json_string(tmp);
	case LWM2M_TYPE_FLOAT:
		if(isnan(v->v.f)) return json_string("NaN");
		if(isinf(v->v.f)) return json_string(v->v.f < 0 ? "-Infinity" : "Infinity");
		return json_real(v->v.f);
	case LWM2M_TYPE_BOOLEAN:
		return json_boolean(v->v.b);
	case LWM2M_TYPE_OPAQUE:
		if(v->v.bytes.len > (SIZE_MAX - 1) / 2) return NULL;
		hex = malloc(2 * v->v.bytes.len + 1);
		if(!hex) return NULL;
		fmt_hex(v->v.bytes.data, v->v.bytes.len, hex);
		j = json_stringn(hex, 2 * v->v.bytes.len);
		free(hex);
		return j;
	case LWM2M_TYPE_OBJLNK:
		snprintf(tmp, sizeof(tmp), "%u:%u", (unsigned)v->v.lnk.obj, (unsigned)v->v.lnk.inst);
		return json_string(tmp);
	}
	return NULL;
}

static json_t *node_time(double t)
{
	if(t == floor(t) && fabs(t) <= (double)JSON_SAFE_INT) return json_integer((json_int_t)t);
	return json_real(t);
}

static int node_to_json(const struct lwm2m_node *n, size_t i, json_t **out, struct lwm2m_error *err)
{
	char path[LWM2M_PATH_STR_MAX];
	json_t *o = json_object(), *value;
	const char *type;
	int bad = 0;

	if(!o) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	path_format(&n->path, path, sizeof(path));
	switch(n->kind){
	case LWM2M_NODE_EMPTY_MULTIPLE:
		type = "multiple";
		value = json_array();
		break;
	case LWM2M_NODE_EMPTY_INSTANCE:
		type = "instance";
		value = json_array();
		break;
	default:
		type = lwm2m_type_name(n->value.type);
		if(!type){
			json_decref(o);
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "node %zu: unknown type %d", i, (int)n->value.type);
		}
		value = node_json_value(&n->value);
		break;
	}
	if(!value){
		json_decref(o);
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "node %zu (%s): the %s value has no JSON form "
				"(invalid UTF-8?)", i, path, type);
	}
	bad |= json_object_set_new(o, "path", json_string(path));
	bad |= json_object_set_new(o, "type", json_string(type));
	bad |= json_object_set_new(o, "value", value);
	if(n->has_time) bad |= json_object_set_new(o, "time", node_time(n->time));
	if(n->prefix){
		json_t *p = json_string(n->prefix);
		if(!p){
			json_decref(o);
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "node %zu (%s): prefix is not UTF-8", i, path);
		}
		bad |= json_object_set_new(o, "prefix", p);
	}
	if(bad){
		json_decref(o);
		return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	}
	*out = o;
	return 0;
}

int node_json_from_nodes(const struct lwm2m_nodes *in, json_t **out, struct lwm2m_error *err)
{
	json_t *a = json_array();
	int rc;

	if(!a) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	for(size_t i = 0; i < in->count; i++){
		json_t *o = NULL;
		rc = node_to_json(&in->items[i], i, &o, err);
		if(rc == 0 && json_array_append_new(a, o) != 0){
			rc = lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
		}
		if(rc){
			json_decref(a);
			return rc;
		}
	}
	*out = a;
	return 0;
}

/* ---- JSON -> nodes -------------------------------------------------------------------- */

static int hex_digit(char c)
{
	if(c >= '0' && c <= '9') return c - '0';
	if(c >= 'a' && c <= 'f') return c - 'a' + 10;
	if(c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static int parse_int_json(json_t *j, bool want_unsigned, int64_t *i, uint64_t *u)
{
	if(json_is_integer(j)){
		json_int_t v = json_integer_value(j);
		if(want_unsigned){
			if(v < 0) return -LWM2M_ERANGE;
			*u = (uint64_t)v;
		}else{
			*i = (int64_t)v;
		}
		return 0;
	}
	if(json_is_real(j)){
		double d = json_real_value(j);
		if(d != floor(d)) return -LWM2M_EINVAL;
		if(want_unsigned){
			if(!(d >= 0 && d < 18446744073709551616.0)) return -LWM2M_ERANGE;
			*u = (uint64_t)d;
		}else{
			if(!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return -LWM2M_ERANGE;
			*i = (int64_t)d;
		}
		return 0;
	}
	if(json_is_string(j)){
		const char *s = json_string_value(j);
		size_t n = json_string_length(j);
		return want_unsigned ? fmt_parse_uint64(s, n, u) : fmt_parse_int64(s, n, i);
	}
	return -LWM2M_ETYPE;
}

int node_json_parse_value(enum lwm2m_type type, json_t *j, struct lwm2m_value *out,
		struct lwm2m_error *err)
{
	const char *s = json_is_string(j) ? json_string_value(j) : NULL;
	size_t n = s ? json_string_length(j) : 0;
	int rc = -LWM2M_ETYPE;

	switch(type){
	case LWM2M_TYPE_NONE:
		if(json_is_null(j)) rc = 0;
		break;
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
		if(s){
			rc = value_set_bytes(out, type, s, n);
			if(rc) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
			return 0;
		}
		break;
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		rc = parse_int_json(j, false, &out->v.i, NULL);
		break;
	case LWM2M_TYPE_UNSIGNED:
		rc = parse_int_json(j, true, NULL, &out->v.u);
		break;
	case LWM2M_TYPE_FLOAT:
		if(json_is_number(j)){
			out->v.f = json_number_value(j);
			rc = 0;
		}else if(s){
			rc = fmt_parse_double(s, n, &out->v.f);
		}
		break;
	case LWM2M_TYPE_BOOLEAN:
		if(json_is_boolean(j)){
			out->v.b = json_is_true(j);
			rc = 0;
		}
		break;
	case LWM2M_TYPE_OPAQUE:
		if(s){
			uint8_t *data;
			if(n % 2) return lwm2m_fail(err, LWM2M_EINVAL, -1, "opaque hex has an odd length");
			data = malloc(n / 2 + 1);
			if(!data) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
			for(size_t k = 0; k < n / 2; k++){
				int hi = hex_digit(s[2 * k]), lo = hex_digit(s[2 * k + 1]);
				if(hi < 0 || lo < 0){
					free(data);
					return lwm2m_fail(err, LWM2M_EINVAL, -1, "opaque value is not hex");
				}
				data[k] = (uint8_t)(hi << 4 | lo);
			}
			data[n / 2] = '\0';
			value_free(out);
			out->type = type;
			out->v.bytes.data = data;
			out->v.bytes.len = n / 2;
			return 0;
		}
		break;
	case LWM2M_TYPE_OBJLNK:
		if(s) rc = fmt_parse_objlnk(s, n, &out->v.lnk.obj, &out->v.lnk.inst);
		break;
	}
	if(rc){
		return lwm2m_fail(err, rc == -LWM2M_ERANGE ? LWM2M_ERANGE : LWM2M_EINVAL, -1,
				"not a valid %s value", lwm2m_type_name(type) ? lwm2m_type_name(type) : "?");
	}
	out->type = type;
	return 0;
}

static int json_to_node(json_t *o, size_t i, struct lwm2m_node *n, struct lwm2m_error *err)
{
	json_t *jp = json_object_get(o, "path"), *jt = json_object_get(o, "type");
	json_t *jv = json_object_get(o, "value"), *jtime = json_object_get(o, "time");
	json_t *jprefix = json_object_get(o, "prefix");
	const char *type;
	enum lwm2m_type t;
	struct lwm2m_error sub;
	int rc;

	if(!json_is_object(o)) return lwm2m_fail(err, LWM2M_EINVAL, -1, "node %zu is not an object", i);
	if(!json_is_string(jp) || !json_is_string(jt) || !jv){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "node %zu needs \"path\", \"type\" and \"value\"", i);
	}
	rc = path_parse(json_string_value(jp), json_string_length(jp), &n->path, &sub);
	if(rc) return lwm2m_fail(err, rc, -1, "node %zu: %s", i, sub.msg);
	type = json_string_value(jt);
	if(!strcmp(type, "multiple") || !strcmp(type, "instance")){
		if(!json_is_array(jv) || json_array_size(jv) != 0){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "node %zu: a \"%s\" marker takes an empty array", i,
					type);
		}
		n->kind = type[0] == 'm' ? LWM2M_NODE_EMPTY_MULTIPLE : LWM2M_NODE_EMPTY_INSTANCE;
	}else{
		t = lwm2m_type_from_name(type);
		if(t == LWM2M_TYPE_NONE && strcmp(type, "none") != 0){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "node %zu: unknown type \"%s\"", i, type);
		}
		rc = node_json_parse_value(t, jv, &n->value, &sub);
		if(rc) return lwm2m_fail(err, rc, -1, "node %zu: %s", i, sub.msg);
	}
	if(jtime){
		if(!json_is_number(jtime)) return lwm2m_fail(err, LWM2M_EINVAL, -1, "node %zu: \"time\" is not a number", i);
		n->has_time = true;
		n->time = json_number_value(jtime);
	}
	if(jprefix){
		if(!json_is_string(jprefix)){
			return lwm2m_fail(err, LWM2M_EINVAL, -1, "node %zu: \"prefix\" is not a string", i);
		}
		n->prefix = strdup(json_string_value(jprefix));
		if(!n->prefix) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	}
	return 0;
}

int node_json_to_nodes(json_t *array, struct lwm2m_nodes *out, struct lwm2m_error *err)
{
	struct lwm2m_nodes tmp;
	int rc = 0;

	if(!json_is_array(array)) return lwm2m_fail(err, LWM2M_EINVAL, -1, "nodes: not a JSON array");
	nodes_init(&tmp);
	for(size_t i = 0; i < json_array_size(array) && rc == 0; i++){
		struct lwm2m_node *n = nodes_push(&tmp);
		if(!n){
			rc = lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
			break;
		}
		rc = json_to_node(json_array_get(array, i), i, n, err);
	}
	if(rc == 0){
		rc = fmt_nodes_move(out, &tmp);
		if(rc) lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	}
	nodes_free(&tmp);
	return rc;
}
