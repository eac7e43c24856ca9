/* The value model: node lists and values (see node.h). */
#include "node.h"

#include <math.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fmt_internal.h"
#include "../util/lwm2m_err.h"

/* ---- pooled value bytes ---------------------------------------------------------------- */

/* A block of pooled value bytes: entries of [the block's address][bytes][NUL], each aligned
 * for the address, so that a value finds its block from its data pointer alone. `refs`
 * counts the values living in the block, plus BLOCK_BIAS while a pool still carves from it
 * (values released meanwhile can then never bring it to zero); the pool takes the bias
 * back, less the entries it handed out, when it lets go. Atomic: the values of one decode
 * may end up being released on different threads. */
struct node_block {
	atomic_size_t refs;
	size_t size;                   /* bytes of data[] */
	size_t used;
	size_t carved;                 /* entries handed out (only the filling pool touches it) */
	unsigned char data[];
};

#define BLOCK_BIAS (SIZE_MAX / 2)
#define BLOCK_MIN ((size_t)512)
#define BLOCK_MAX ((size_t)32 * 1024)
/* larger values get an allocation of their own: a block never holds much unused room */
#define POOLED_MAX (BLOCK_MAX / 8)
#define ENTRY_HEAD sizeof(struct node_block *)

_Static_assert(offsetof(struct node_block, data) % alignof(struct node_block *) == 0,
		"block entries start aligned");

static size_t entry_size(size_t len)
{
	size_t a = alignof(struct node_block *);
	return (ENTRY_HEAD + len + 1 + a - 1) & ~(a - 1);
}

static struct node_block *block_of(const uint8_t *data)
{
	struct node_block *b;
	memcpy(&b, data - ENTRY_HEAD, sizeof(b));
	return b;
}

/* Drops n references (values, or the pool's bias less what it carved). */
static void block_release(struct node_block *b, size_t n)
{
	if(atomic_fetch_sub_explicit(&b->refs, n, memory_order_acq_rel) == n) free(b);
}

void node_pool_init(struct node_pool *pool, size_t input_len)
{
	size_t first = input_len / 4;

	pool->cur = NULL;
	pool->next_size = first < BLOCK_MIN ? BLOCK_MIN : first > BLOCK_MAX ? BLOCK_MAX : first;
}

void node_pool_done(struct node_pool *pool)
{
	if(pool->cur) block_release(pool->cur, BLOCK_BIAS - pool->cur->carved);
	pool->cur = NULL;
}

/* A new block with room for `need` bytes, replacing the current one; NULL when out of
 * memory (the current block stays). */
static struct node_block *pool_grow(struct node_pool *pool, size_t need)
{
	size_t size = pool->next_size > need ? pool->next_size : need;
	struct node_block *b = malloc(sizeof(*b) + size);

	if(!b) return NULL;
	atomic_init(&b->refs, BLOCK_BIAS);
	b->size = size;
	b->used = 0;
	b->carved = 0;
	node_pool_done(pool);
	pool->cur = b;
	pool->next_size = size * 2 < BLOCK_MAX ? size * 2 : BLOCK_MAX;
	return b;
}

static bool type_has_bytes(enum lwm2m_type t);

int node_pool_set_bytes(struct node_pool *pool, struct lwm2m_value *v, enum lwm2m_type t,
		const void *p, size_t len)
{
	struct node_block *b = pool->cur;
	size_t need = entry_size(len);
	uint8_t *data;

	if(!type_has_bytes(t)) return -LWM2M_ETYPE;
	if(len > POOLED_MAX) return value_set_bytes(v, t, p, len);
	if(!b || b->size - b->used < need){
		b = pool_grow(pool, need);
		if(!b) return value_set_bytes(v, t, p, len);
	}
	memcpy(b->data + b->used, &b, sizeof(b));
	data = b->data + b->used + ENTRY_HEAD;
	if(len) memcpy(data, p, len);
	data[len] = '\0';
	b->used += need;
	b->carved++;
	if(type_has_bytes(v->type)) value_free(v);
	v->type = t;
	v->pooled = true;
	v->v.bytes.data = data;
	v->v.bytes.len = len;
	return 0;
}

/* ---- node lists ------------------------------------------------------------------------ */

void nodes_init(struct lwm2m_nodes *n)
{
	memset(n, 0, sizeof(*n));
}

void nodes_free(struct lwm2m_nodes *n)
{
	struct node_block *run = NULL;     /* pooled values come in runs from one block: */
	size_t run_len = 0;                /* one release per run */

	if(!n) return;
	for(size_t i = 0; i < n->count; i++){
		struct lwm2m_node *node = &n->items[i];
		struct node_block *b;
		/* no calls for what holds no memory: large lists are mostly numbers */
		if(node->prefix) free(node->prefix);
		if(!type_has_bytes(node->value.type)) continue;
		if(!node->value.pooled){
			free(node->value.v.bytes.data);
			continue;
		}
		b = block_of(node->value.v.bytes.data);
		if(b != run){
			if(run) block_release(run, run_len);
			run = b;
			run_len = 0;
		}
		run_len++;
	}
	if(run) block_release(run, run_len);
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
	return fmt_path_key(p);
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

	/* Decoders mostly produce sorted output already: check in one pass first, each key
	 * computed once. */
	if(count > 0){
		uint64_t prev = path_key(&n->items[0].path);
		for(size_t i = 1; i < count && sorted; i++){
			const struct lwm2m_node *a = &n->items[i - 1], *b = &n->items[i];
			uint64_t k = path_key(&b->path);
			if(a->prefix || b->prefix) sorted = fmt_node_cmp(a, b) <= 0;
			else sorted = prev < k || (prev == k && a->path.len <= b->path.len);
			prev = k;
		}
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
	if(type_has_bytes(v->type)){
		if(v->pooled) block_release(block_of(v->v.bytes.data), 1);
		else free(v->v.bytes.data);
	}
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
