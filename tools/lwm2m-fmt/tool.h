/* lwm2m-fmt: decode, encode and convert LwM2M payloads from the command line. */
#ifndef LWM2M_FMT_TOOL_H
#define LWM2M_FMT_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include "objects/link_format.h"
#include "util/buf.h"
#include "util/lwm2m_err.h"

/* Exit codes. */
#define TOOL_OK 0
#define TOOL_FAILED 1      /* invalid input, or the operation failed */
#define TOOL_USAGE 2       /* bad command line */

/* Link-format payloads as JSON: {"links":[{"uri":"/3/0","attributes":[{"name":"ver",
 * "value":"1.1","quoted":true}]}]} (the shape of the vectors' link_format.json). */
int links_to_json(const struct lf_links *links, struct lwm2m_buf *out, struct lwm2m_error *err);
int links_from_json(const char *text, size_t len, struct lf_links *out, struct lwm2m_error *err);

/* Hex text (whitespace between bytes allowed) to bytes; err says at which character. */
int hex_decode(const char *text, size_t len, struct lwm2m_buf *out, struct lwm2m_error *err);
/* Bytes to lowercase hex with a final newline. */
int hex_encode(const uint8_t *p, size_t len, struct lwm2m_buf *out);

#endif
