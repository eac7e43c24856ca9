/* Link-format <-> JSON for the tool (link-format has no node form). */
#include "tool.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *attr_to_json(const struct lf_attr *a)
{
	json_t *o = json_object();

	if(!o) return NULL;
	if(json_object_set_new(o, "name", json_string(a->name)) != 0) goto fail;
	if(a->value && json_object_set_new(o, "value", json_string(a->value)) != 0) goto fail;
	if(a->quoted && json_object_set_new(o, "quoted", json_true()) != 0) goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

static json_t *link_to_json(const struct lf_link *l)
{
	json_t *o = json_object();
	json_t *attrs = json_array();

	if(!o || !attrs) goto fail;
	for(size_t i = 0; i < l->n_attrs; i++){
		if(json_array_append_new(attrs, attr_to_json(&l->attrs[i])) != 0) goto fail;
	}
	if(json_object_set_new(o, "uri", json_string(l->uri)) != 0) goto fail_o;
	if(json_object_set_new(o, "attributes", attrs) != 0) goto fail_o;
	if(l->bare && json_object_set_new(o, "bare", json_true()) != 0) goto fail_o;
	return o;
fail:
	json_decref(attrs);
fail_o:
	json_decref(o);
	return NULL;
}

int links_to_json(const struct lf_links *links, struct lwm2m_buf *out, struct lwm2m_error *err)
{
	json_t *root = json_object();
	json_t *arr = json_array();
	char *text = NULL;
	int rc = -LWM2M_ENOMEM;

	if(!root || !arr){
		json_decref(arr);
		goto done;
	}
	if(json_object_set_new(root, "links", arr) != 0) goto done;
	for(size_t i = 0; i < links->count; i++){
		if(json_array_append_new(arr, link_to_json(&links->items[i])) != 0) goto done;
	}
	text = json_dumps(root, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	if(!text) goto done;
	rc = buf_append(out, text, strlen(text));
	if(rc == 0) rc = buf_append_byte(out, '\n');
done:
	free(text);
	json_decref(root);
	if(rc != 0) return lwm2m_fail(err, rc, -1, "cannot write the links as JSON");
	return 0;
}

static char *dup_json_string(json_t *v)
{
	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

static int attr_from_json(json_t *j, struct lf_attr *a, size_t li, size_t ai,
		struct lwm2m_error *err)
{
	json_t *name = json_object_get(j, "name");
	json_t *value = json_object_get(j, "value");
	json_t *quoted = json_object_get(j, "quoted");

	if(!json_is_object(j) || !json_is_string(name) || (value && !json_is_string(value)) ||
			(quoted && !json_is_boolean(quoted))){
		return lwm2m_fail(err, LWM2M_EINVAL, -1, "links[%zu].attributes[%zu]: expected "
				"{\"name\": string, \"value\"?: string, \"quoted\"?: bool}", li, ai);
	}
	a->name = dup_json_string(name);
	a->value = value ? dup_json_string(value) : NULL;
	a->quoted = quoted && json_is_true(quoted);
	if(!a->name || (value && !a->value)) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	return 0;
}

static int link_from_json(json_t *j, struct lf_link *l, size_t li, struct lwm2m_error *err)
{
	json_t *uri = json_object_get(j, "uri");
	json_t *attrs = json_object_get(j, "attributes");
	json_t *bare = json_object_get(j, "bare");
	int rc;

	if(!json_is_object(j) || !json_is_string(uri) || (attrs && !json_is_array(attrs)) ||
			(bare && !json_is_boolean(bare))){
		return lwm2m_fail(err, LWM2M_EINVAL, -1,
				"links[%zu]: expected {\"uri\": string, \"attributes\": [...]}", li);
	}
	if(!(l->uri = dup_json_string(uri))) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	l->bare = bare && json_is_true(bare);
	if(!attrs || json_array_size(attrs) == 0) return 0;
	l->attrs = calloc(json_array_size(attrs), sizeof(*l->attrs));
	if(!l->attrs) return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	for(size_t i = 0; i < json_array_size(attrs); i++){
		l->n_attrs = i + 1;
		rc = attr_from_json(json_array_get(attrs, i), &l->attrs[i], li, i, err);
		if(rc != 0) return rc;
	}
	return 0;
}

int links_from_json(const char *text, size_t len, struct lf_links *out, struct lwm2m_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *arr;
	int rc = 0;

	out->items = NULL;
	out->count = 0;
	if(!root) return lwm2m_fail(err, LWM2M_EINVAL, jerr.position, "invalid JSON: %s", jerr.text);
	arr = json_is_object(root) ? json_object_get(root, "links") : root;
	if(!json_is_array(arr)){
		json_decref(root);
		return lwm2m_fail(err, LWM2M_EINVAL, 0, "expected {\"links\": [...]} or an array of links");
	}
	if(json_array_size(arr) > 0){
		out->items = calloc(json_array_size(arr), sizeof(*out->items));
		if(!out->items) rc = lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
	}
	for(size_t i = 0; rc == 0 && i < json_array_size(arr); i++){
		out->count = i + 1;
		rc = link_from_json(json_array_get(arr, i), &out->items[i], i, err);
	}
	json_decref(root);
	if(rc != 0) lf_links_free(out);
	return rc;
}

static int hex_value(char c)
{
	if(c >= '0' && c <= '9') return c - '0';
	if(c >= 'a' && c <= 'f') return c - 'a' + 10;
	if(c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *text, size_t len, struct lwm2m_buf *out, struct lwm2m_error *err)
{
	int hi = -1;
	size_t hi_at = 0;

	for(size_t i = 0; i < len; i++){
		char c = text[i];
		int v;

		if(c == ' ' || c == '\t' || c == '\n' || c == '\r'){
			if(hi >= 0) return lwm2m_fail(err, LWM2M_EINVAL, (long)hi_at, "half a hex byte");
			continue;
		}
		v = hex_value(c);
		if(v < 0){
			return lwm2m_fail(err, LWM2M_EINVAL, (long)i, "byte 0x%02x is not a hex digit",
					(unsigned)(unsigned char)c);
		}
		if(hi < 0){
			hi = v;
			hi_at = i;
			continue;
		}
		if(buf_append_byte(out, (uint8_t)(hi << 4 | v)) != 0)
			return lwm2m_fail(err, LWM2M_ENOMEM, -1, "out of memory");
		hi = -1;
	}
	if(hi >= 0) return lwm2m_fail(err, LWM2M_EINVAL, (long)hi_at, "odd number of hex digits");
	return 0;
}

int hex_encode(const uint8_t *p, size_t len, struct lwm2m_buf *out)
{
	static const char digits[] = "0123456789abcdef";

	for(size_t i = 0; i < len; i++){
		uint8_t pair[2] = {(uint8_t)digits[p[i] >> 4], (uint8_t)digits[p[i] & 15]};
		int rc = buf_append(out, pair, 2);
		if(rc != 0) return rc;
	}
	return buf_append_byte(out, '\n');
}
