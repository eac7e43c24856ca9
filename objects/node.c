/* The value model: node lists and values (see node.h). */
#include "node.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fmt_internal.h"
#include "../util/lwm2m_err.h"

void nodes_init(struct lwm2m_nodes *n)
{
	memset(n, 0, sizeof(*n));
}

static bool type_has_bytes(enum lwm2m_type t);

void nodes_free(struct lwm2m_nodes *n)
{
	if(!n) return;
	for(size_t i = 0; i < n->count; i++){
		struct lwm2m_node *node = &n->items[i];
		/* no calls for what holds no memory: large lists are mostly numbers */
		if(node->prefix) free(node->prefix);
		if(type_has_bytes(node->value.type)) free(node->value.v.bytes.data);
	}
	free(n->items);
	n->items = NULL;
	n->count = n->cap = 0;
}

struct lwm2m_node *nodes_push(struct lwm2m_nodes *n)
{
	struct lwm2m_node *node;

	if(n->count == n->cap){
		size_t cap = n->cap ? n->cap * 2 : 8;
		struct lwm2m_node *items;

		if(cap > SIZE_MAX / sizeof(*items)) return NULL;
		items = realloc(n->items, cap * sizeof(*items));
		if(!items) return NULL;
		n->items = items;
		n->cap = cap;
	}
	node = &n->items[n->count++];
	memset(node, 0, sizeof(*node));
	return node;
}

/* NULL prefix (the device itself) sorts before every named end device. */
static int prefix_compare(const char *a, const char *b)
{
	if(a == b) return 0;
	if(!a) return -1;
	if(!b) return 1;
	return strcmp(a, b);
}

/* The IDs packed into one number (absent levels as 0): comparing keys, then lengths, is
 * path_compare's order (parents before children, then by IDs) in two integer compares. */
static uint64_t path_key(const struct lwm2m_path *p)
{
	uint64_t k = 0;
	for(int i = 0; i < LWM2M_PATH_MAX_DEPTH; i++) k = (k << 16) | (i < p->len ? p->ids[i] : 0);
	return k;
}

int fmt_node_cmp(const struct lwm2m_node *a, const struct lwm2m_node *b)
{
	uint64_t ka, kb;
	int c;

	if(a->prefix || b->prefix){
		c = prefix_compare(a->prefix, b->prefix);
		if(c) return c;
	}
	ka = path_key(&a->path);
	kb = path_key(&b->path);
	if(ka != kb) return ka < kb ? -1 : 1;
	return a->path.len < b->path.len ? -1 : a->path.len > b->path.len;
}

static void merge_runs(const struct lwm2m_node *src, struct lwm2m_node *dst, size_t lo,
		size_t mid, size_t hi)
{
	size_t i = lo, j = mid, k = lo;

	while(i < mid && j < hi){
		/* "<=" keeps equal nodes in their original order: the sort is stable. */
		if(fmt_node_cmp(&src[i], &src[j]) <= 0) dst[k++] = src[i++];
		else dst[k++] = src[j++];
	}
	while(i < mid) dst[k++] = src[i++];
	while(j < hi) dst[k++] = src[j++];
}

static void insertion_sort(struct lwm2m_node *a, size_t n)
{
	for(size_t i = 1; i < n; i++){
		struct lwm2m_node tmp = a[i];
		size_t j = i;
		while(j > 0 && fmt_node_cmp(&a[j - 1], &tmp) > 0){
			a[j] = a[j - 1];
			j--;
		}
		a[j] = tmp;
	}
}

void nodes_sort(struct lwm2m_nodes *n)
{
	struct lwm2m_node *tmp, *src, *dst;
	size_t count = n->count, width;
	bool sorted = true;

	/* Decoders mostly produce sorted output already: check in one pass first. */
	for(size_t i = 1; i < count && sorted; i++){
		if(fmt_node_cmp(&n->items[i - 1], &n->items[i]) > 0) sorted = false;
	}
	if(sorted) return;
	tmp = malloc(count * sizeof(*tmp));
	if(!tmp){
		insertion_sort(n->items, count);   /* slow but needs no memory */
		return;
	}
	/* Bottom-up merge sort, ping-ponging between the list and tmp. */
	src = n->items;
	dst = tmp;
	for(width = 1; width < count; width *= 2){
		for(size_t lo = 0; lo < count; lo += 2 * width){
			size_t mid = lo + width < count ? lo + width : count;
			size_t hi = lo + 2 * width < count ? lo + 2 * width : count;
			merge_runs(src, dst, lo, mid, hi);
		}
		struct lwm2m_node *t = src;
		src = dst;
		dst = t;
	}
	if(src != n->items) memcpy(n->items, src, count * sizeof(*tmp));
	free(tmp);
}

static bool type_has_bytes(enum lwm2m_type t)
{
	return t == LWM2M_TYPE_STRING || t == LWM2M_TYPE_OPAQUE || t == LWM2M_TYPE_CORELNK;
}

void value_free(struct lwm2m_value *v)
{
	if(!v) return;
	if(type_has_bytes(v->type)) free(v->v.bytes.data);
	memset(v, 0, sizeof(*v));
}

int value_set_bytes(struct lwm2m_value *v, enum lwm2m_type t, const void *p, size_t len)
{
	uint8_t *data;

	if(!type_has_bytes(t)) return -LWM2M_ETYPE;
	if(len == SIZE_MAX) return -LWM2M_ETOOBIG;
	data = malloc(len + 1);
	if(!data) return -LWM2M_ENOMEM;
	if(len) memcpy(data, p, len);
	data[len] = '\0';
	value_free(v);
	v->type = t;
	v->v.bytes.data = data;
	v->v.bytes.len = len;
	return 0;
}

int value_copy(struct lwm2m_value *dst, const struct lwm2m_value *src)
{
	if(type_has_bytes(src->type)){
		struct lwm2m_value tmp = { 0 };
		int rc = value_set_bytes(&tmp, src->type, src->v.bytes.data, src->v.bytes.len);
		if(rc) return rc;
		value_free(dst);
		*dst = tmp;
		return 0;
	}
	value_free(dst);
	*dst = *src;
	return 0;
}

bool value_equal(const struct lwm2m_value *a, const struct lwm2m_value *b)
{
	if(a->type != b->type) return false;
	switch(a->type){
	case LWM2M_TYPE_NONE:
		return true;
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_OPAQUE:
	case LWM2M_TYPE_CORELNK:
		return a->v.bytes.len == b->v.bytes.len &&
			(a->v.bytes.len == 0 || !memcmp(a->v.bytes.data, b->v.bytes.data, a->v.bytes.len));
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		return a->v.i == b->v.i;
	case LWM2M_TYPE_UNSIGNED:
		return a->v.u == b->v.u;
	case LWM2M_TYPE_FLOAT:
		/* NaN equals NaN and -0.0 differs from 0.0: "the same value came back". */
		if(isnan(a->v.f) || isnan(b->v.f)) return isnan(a->v.f) && isnan(b->v.f);
		return a->v.f == b->v.f && signbit(a->v.f) == signbit(b->v.f);
	case LWM2M_TYPE_BOOLEAN:
		return a->v.b == b->v.b;
	case LWM2M_TYPE_OBJLNK:
		return a->v.lnk.obj == b->v.lnk.obj && a->v.lnk.inst == b->v.lnk.inst;
	}
	return false;
}
