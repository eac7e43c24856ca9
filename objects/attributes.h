/* Notification attributes (Write-Attributes, Observe parameters, Discover output). */
#ifndef OBJ_ATTRIBUTES_H
#define OBJ_ATTRIBUTES_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "../util/buf.h"
#include "../util/lwm2m_err.h"
#include "path.h"

enum lwm2m_attr_id {
	LWM2M_ATTR_PMIN = 0,
	LWM2M_ATTR_PMAX,
	LWM2M_ATTR_GT,
	LWM2M_ATTR_LT,
	LWM2M_ATTR_ST,
	LWM2M_ATTR_EPMIN,
	LWM2M_ATTR_EPMAX,
	LWM2M_ATTR_EDGE,
	LWM2M_ATTR_CON,
	LWM2M_ATTR_HQMAX,
	LWM2M_ATTR_COUNT
};

#define LWM2M_ATTR_BIT(id) (1u << (id))

struct lwm2m_attrs {
	uint32_t set;     /* LWM2M_ATTR_BIT(id): present with a value */
	uint32_t unset;   /* LWM2M_ATTR_BIT(id): present without a value ("unset it") */
	uint64_t pmin, pmax, epmin, epmax, hqmax;
	double gt, lt, st;
	uint8_t edge, con;   /* 0 or 1 */
};

/* Query-string name of an attribute ("pmin"). */
const char *attr_name(enum lwm2m_attr_id id);

/* Parse a Write-Attributes query ("pmin=10&pmax=60&gt=5.5&lt") into attrs and check
 * consistency (lt < gt, lt + 2*st < gt, edge/con in 0..1, pmin <= pmax ...).
 * Unknown names, duplicates and malformed numbers are errors. */
int attr_parse_query(const char *q, size_t len, struct lwm2m_attrs *out, struct lwm2m_error *err);

/* Consistency rules alone (used by codecs that decode attributes from other encodings). */
int attr_validate(const struct lwm2m_attrs *a, struct lwm2m_error *err);

/* attr_parse_query without the cross-attribute rules: syntax, names, duplicates and each
 * value on its own (st >= 0, edge/con 0|1). For Write-Attributes, where the rules apply to
 * the request merged into the attributes already attached; run attr_validate on that. */
int attr_parse_query_raw(const char *q, size_t len, struct lwm2m_attrs *out,
		struct lwm2m_error *err);

/* Attribute id of a query name ("pmin", exact, lower case); -1 for any other name, including
 * the read-only <PROPERTIES> attributes (dim, ver, ssid, uri) that Write-Attributes cannot set. */
int attr_from_name(const char *name, size_t len);

/* Parse one value (the text after '=') of attribute `id` into out and mark it set.
 * pmin/pmax/epmin/epmax/hqmax: unsigned decimal integer; gt/lt/st: decimal number with
 * optional sign, fraction and exponent ("-5", "5.5", "1e1"), st not negative; edge/con:
 * "0" or "1". Checks the value alone, not its consistency with other attributes. */
int attr_parse_value(enum lwm2m_attr_id id, const char *s, size_t len, struct lwm2m_attrs *out,
		struct lwm2m_error *err);

/* Append a number as plain decimal text: the shortest digits that read back to the same
 * double, never an exponent ("10", "20.1", "0.0000000000009223372"). NaN/inf: -LWM2M_EINVAL. */
int attr_format_number(double v, struct lwm2m_buf *out);

/* Append the value text of one set attribute ("60", "5.5", "1"). */
int attr_format_value(enum lwm2m_attr_id id, const struct lwm2m_attrs *a, struct lwm2m_buf *out);

/* Append the query form of a, "pmin=10&pmax=60&lt" (set: name=value, unset: name), in the
 * order pmin pmax epmin epmax lt gt st edge con hqmax; nothing for an empty set.
 * Refuses (-LWM2M_EINVAL, nothing appended) values attr_parse_query_raw could not have
 * produced (unknown bits, set and unset at once, NaN/inf, st < 0, edge/con > 1); the
 * cross-attribute rules are not applied. The output parses back with attr_parse_query_raw
 * (and, when a passes attr_validate, with attr_parse_query) to the same attributes. */
int attr_format_query(const struct lwm2m_attrs *a, struct lwm2m_buf *out);

/* Level rules for a target path: gt, lt, st and edge (set or unset) only on resource or
 * resource-instance paths. Whether the resource is numeric/boolean is the caller's check. */
int attr_validate_level(const struct lwm2m_attrs *a, const struct lwm2m_path *p,
		struct lwm2m_error *err);

#endif
