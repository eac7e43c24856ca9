/* Fuzz target: link-format reading, writing and the registration object list.
 * Whatever lf_parse accepts, lf_format must write and lf_parse must read back to the
 * same links; the same for lf_parse_object_list and lf_format_object_list. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "objects/link_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_attrs(const struct lf_attr *a, size_t na, const struct lf_attr *b, size_t nb)
{
	if(na != nb) return false;
	for(size_t i = 0; i < na; i++){
		if(strcmp(a[i].name, b[i].name) != 0 || a[i].quoted != b[i].quoted) return false;
		if((a[i].value == NULL) != (b[i].value == NULL)) return false;
		if(a[i].value && strcmp(a[i].value, b[i].value) != 0) return false;
	}
	return true;
}

static bool same_links(const struct lf_links *a, const struct lf_links *b)
{
	if(a->count != b->count) return false;
	for(size_t i = 0; i < a->count; i++){
		const struct lf_link *x = &a->items[i], *y = &b->items[i];
		if(strcmp(x->uri, y->uri) != 0 || x->bare != y->bare) return false;
		if(!same_attrs(x->attrs, x->n_attrs, y->attrs, y->n_attrs)) return false;
	}
	return true;
}

static bool same_lists(const struct lf_object_list *a, const struct lf_object_list *b)
{
	if(strcmp(a->alt_path, b->alt_path) != 0 || a->n_ct != b->n_ct || a->count != b->count) return false;
	if(a->n_ct && memcmp(a->cts, b->cts, a->n_ct * sizeof(a->cts[0])) != 0) return false;
	for(size_t i = 0; i < a->count; i++){
		const struct lf_object_entry *x = &a->items[i], *y = &b->items[i];
		if(x->obj != y->obj || x->has_inst != y->has_inst || x->inst != y->inst) return false;
		if((x->ver == NULL) != (y->ver == NULL) || (x->ver && strcmp(x->ver, y->ver) != 0)) return false;
		if(!same_attrs(x->attrs, x->n_attrs, y->attrs, y->n_attrs)) return false;
	}
	return true;
}

static void check_links(const char *s, size_t size, const struct lf_limits *lim)
{
	struct lf_links a, b;
	struct lwm2m_buf out;

	if(lf_parse(s, size, lim, &a, NULL) != 0) return;
	buf_init(&out, 0);
	if(lf_format(&a, &out) != 0) abort();                 /* everything read can be written */
	if(out.len <= LF_DEFAULT_MAX_LEN){
		if(lf_parse((const char *)out.data, out.len, lim, &b, NULL) != 0) abort();
		if(!same_links(&a, &b)) abort();
		lf_links_free(&b);
	}
	buf_free(&out);
	lf_links_free(&a);
}

static void check_object_list(const char *s, size_t size)
{
	struct lf_object_list a, b;
	struct lwm2m_buf out;

	if(lf_parse_object_list(s, size, &a, NULL) != 0) return;
	buf_init(&out, 0);
	if(lf_format_object_list(&a, &out) != 0) abort();
	if(out.len <= LF_DEFAULT_MAX_LEN){
		if(lf_parse_object_list((const char *)out.data, out.len, &b, NULL) != 0) abort();
		if(!same_lists(&a, &b)) abort();
		lf_object_list_free(&b);
	}
	buf_free(&out);
	lf_object_list_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct lf_limits strict = { .strict = true }, generic = { .generic = true };
	const char *s = (const char *)data;
	struct lf_links l;

	check_links(s, size, NULL);
	check_links(s, size, &strict);
	check_links(s, size, &generic);
	/* the strict reading is a subset of the default one, the default of the generic one */
	if(lf_parse(s, size, &strict, &l, NULL) == 0){
		lf_links_free(&l);
		if(lf_parse(s, size, NULL, &l, NULL) != 0) abort();
		lf_links_free(&l);
	}
	if(lf_parse(s, size, NULL, &l, NULL) == 0){
		lf_links_free(&l);
		if(lf_parse(s, size, &generic, &l, NULL) != 0) abort();
		lf_links_free(&l);
	}
	check_object_list(s, size);
	return 0;
}
