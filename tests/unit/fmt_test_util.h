/* Helpers shared by the data-format unit tests (each tests/unit/test_*.c is a program of
 * its own, so they are static inline here). Include after <cmocka.h> and the objects/
 * headers the test needs. */
#ifndef FMT_TEST_UTIL_H
#define FMT_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "objects/fmt.h"
#include "objects/node.h"
#include "objects/path.h"

/* A path literal; fails the test if it does not parse. */
static inline struct lwm2m_path P(const char *s)
{
	struct lwm2m_path p;
	assert_int_equal(path_parse(s, strlen(s), &p, NULL), 0);
	return p;
}

/* Appends a node of type t at path (value otherwise empty). */
static inline struct lwm2m_node *add_node(struct lwm2m_nodes *n, const char *path, enum lwm2m_type t)
{
	struct lwm2m_node *x = nodes_push(n);
	assert_non_null(x);
	x->path = P(path);
	x->value.type = t;
	return x;
}

/* Hex digits (spaces skipped) into out; the byte count. */
static inline size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;
	unsigned b;

	while(*hex){
		if(*hex == ' '){
			hex++;
			continue;
		}
		assert_int_equal(sscanf(hex, "%2x", &b), 1);
		out[n++] = (uint8_t)b;
		hex += 2;
	}
	return n;
}

/* ---- a typer over a table of resources: ctx is a struct fmt_test_model ---- */

struct fmt_test_res {
	uint16_t obj, res;
	enum lwm2m_type type;
	int multiple;
};

struct fmt_test_model {
	const struct fmt_test_res *res;
	size_t n;
};

static inline const struct fmt_test_res *fmt_test_find(const struct fmt_test_model *m, const struct lwm2m_path *p)
{
	for(size_t i = 0; p->len >= 3 && i < m->n; i++){
		if(m->res[i].obj == p->ids[0] && m->res[i].res == p->ids[2]) return &m->res[i];
	}
	return NULL;
}

static inline enum lwm2m_type fmt_test_type_of(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	const struct fmt_test_res *r = fmt_test_find(ctx, p);
	(void)prefix;
	return r ? r->type : LWM2M_TYPE_NONE;
}

static inline int fmt_test_is_multiple(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	const struct fmt_test_res *r = fmt_test_find(ctx, p);
	(void)prefix;
	return r ? r->multiple : -1;
}

/* static const struct fmt_typer typer = FMT_TEST_TYPER(model); with model an array of
 * struct fmt_test_res. */
#define FMT_TEST_TYPER(model) { fmt_test_type_of, fmt_test_is_multiple, \
	(void *)&(const struct fmt_test_model){ (model), sizeof(model) / sizeof((model)[0]) } }

#endif
