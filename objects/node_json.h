/* Nodes <-> the JSON node model (the test vectors' "expected" lists, the REST values):
 *
 *   [{"path": "/3/0/1", "type": "integer", "value": 5, "time": 1367491215, "prefix": "dev1"}]
 *
 * Values by type: string/corelnk as JSON strings; integer, time and unsigned as JSON
 * numbers, or decimal strings beyond 2^53 (so the full 64-bit ranges survive JSON readers
 * that use doubles); float as a number, or "NaN", "Infinity", "-Infinity"; boolean as
 * true/false; opaque as lowercase hex ("" when empty); objlnk as "oid:iid"; none as null.
 * An empty multi-instance resource is {"path": "/o/i/r", "type": "multiple", "value": []},
 * an empty instance {"path": "/o/i", "type": "instance", "value": []}. "time" (seconds,
 * may be fractional) and "prefix" are optional. */
#ifndef OBJ_NODE_JSON_H
#define OBJ_NODE_JSON_H

#include <jansson.h>

#include "node.h"
#include "../util/lwm2m_err.h"

/* A new JSON array (owned by the caller) for `in`. */
int node_json_from_nodes(const struct lwm2m_nodes *in, json_t **out, struct lwm2m_error *err);

/* Appends the nodes of a JSON array to `out`, in the array's order. On error `out` is left
 * as it was given; the message names the array index. */
int node_json_to_nodes(json_t *array, struct lwm2m_nodes *out, struct lwm2m_error *err);

/* One value to JSON (new reference; NULL on allocation failure or invalid UTF-8). */
json_t *node_json_value(const struct lwm2m_value *v);
/* One JSON value of type `type` (the forms above) into `out` (which must be zeroed or
 * freed before). */
int node_json_parse_value(enum lwm2m_type type, json_t *j, struct lwm2m_value *out,
		struct lwm2m_error *err);

#endif
