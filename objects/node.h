/* The value model every data format decodes into and encodes from.
 *
 * A payload becomes a flat list of leaf nodes sorted by path: each node is one
 * resource (/o/i/r) or resource instance (/o/i/r/ri) with its LwM2M type, value,
 * optional timestamp and optional gateway prefix. The list order is the tree's
 * depth-first order, so object / instance / resource grouping is recovered by
 * walking it (see nodes_* helpers). Empty multi-instance resources and empty
 * instances are kept as marker nodes so that they survive a round trip. */
#ifndef OBJ_NODE_H
#define OBJ_NODE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "path.h"
#include "types.h"

struct lwm2m_value {
	enum lwm2m_type type;
	/* bytes.data sits in a block shared with other values of one decode (see node_pool):
	 * still owned by this value, released by value_free / nodes_free like any other */
	bool pooled;
	union {
		int64_t i;                         /* INTEGER, TIME (seconds since the epoch) */
		uint64_t u;                        /* UNSIGNED */
		double f;                          /* FLOAT */
		bool b;                            /* BOOLEAN */
		struct { uint16_t obj, inst; } lnk;  /* OBJLNK */
		struct { uint8_t *data; size_t len; } bytes;  /* STRING, OPAQUE, CORELNK: owned (release
		                                                  with value_free, never free()), always
		                                                  followed by a NUL not counted in len */
	} v;
};

enum lwm2m_node_kind {
	LWM2M_NODE_VALUE = 0,          /* a leaf with a value */
	LWM2M_NODE_EMPTY_MULTIPLE,     /* a multi-instance resource with no instances (path /o/i/r) */
	LWM2M_NODE_EMPTY_INSTANCE,     /* an object instance with no resources (path /o/i) */
};

struct lwm2m_node {
	struct lwm2m_path path;
	char *prefix;                  /* gateway end-device prefix, owned; NULL when none */
	enum lwm2m_node_kind kind;
	struct lwm2m_value value;
	bool has_time;
	double time;                   /* absolute seconds (base time already applied) */
};

struct lwm2m_nodes {
	struct lwm2m_node *items;      /* owned */
	size_t count;
	size_t cap;
};

void nodes_init(struct lwm2m_nodes *n);
void nodes_free(struct lwm2m_nodes *n);          /* frees every node's strings too; accepts NULL */
/* Append a zeroed node and return it (NULL on allocation failure). */
struct lwm2m_node *nodes_push(struct lwm2m_nodes *n);
/* Stable sort by (prefix, path). */
void nodes_sort(struct lwm2m_nodes *n);

void value_free(struct lwm2m_value *v);
/* Set a STRING/OPAQUE/CORELNK value from bytes (copied). */
int value_set_bytes(struct lwm2m_value *v, enum lwm2m_type t, const void *p, size_t len);
int value_copy(struct lwm2m_value *dst, const struct lwm2m_value *src);
bool value_equal(const struct lwm2m_value *a, const struct lwm2m_value *b);

/* For decoders: the bytes of many values carved out of shared blocks instead of one
 * allocation each. Each value still owns its bytes (value_free, value_copy, moving nodes
 * to another list, freeing values one at a time or from another thread all work as with
 * value_set_bytes); a block is freed with the last value in it, so one value kept alive
 * keeps its block (at most a few tens of KB) allocated. */
struct node_block;
struct node_pool {
	struct node_block *cur;        /* the block being filled; NULL before the first string */
	size_t next_size;              /* size of the next block */
};
/* input_len (the payload size) sizes the first block. */
void node_pool_init(struct node_pool *pool, size_t input_len);
/* value_set_bytes with the copy in the pool (a large one gets its own allocation). */
int node_pool_set_bytes(struct node_pool *pool, struct lwm2m_value *v, enum lwm2m_type t,
		const void *p, size_t len);
/* The pool lets go of its block; the values keep what they use. */
void node_pool_done(struct node_pool *pool);

#endif
