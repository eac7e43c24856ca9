/* Fuzz target: Write-Attributes queries. Whatever attr_parse_query (or the raw parser)
 * accepts, attr_format_query must write and the same parser must read back unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "objects/attributes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct lwm2m_attrs *a, const struct lwm2m_attrs *b)
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

typedef int (*parser)(const char *, size_t, struct lwm2m_attrs *, struct lwm2m_error *);

static void round_trip(parser parse, const char *s, size_t size)
{
	struct lwm2m_attrs a, b;
	struct lwm2m_buf out;

	if(parse(s, size, &a, NULL) != 0) return;
	if(attr_validate(&a, NULL) != 0 && parse == attr_parse_query) abort();
	buf_init(&out, 0);
	if(attr_format_query(&a, &out) != 0) abort();
	if(parse((const char *)out.data, out.len, &b, NULL) != 0) abort();
	if(!same(&a, &b)) abort();
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct lwm2m_attrs a;

	round_trip(attr_parse_query, s, size);
	round_trip(attr_parse_query_raw, s, size);
	/* the full parser accepts a subset of what the raw one does */
	if(attr_parse_query(s, size, &a, NULL) == 0 && attr_parse_query_raw(s, size, &a, NULL) != 0) abort();
	return 0;
}
