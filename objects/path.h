/* LwM2M paths: "/", "/o", "/o/i", "/o/i/r", "/o/i/r/ri" (each ID 0..65535). */
#ifndef OBJ_PATH_H
#define OBJ_PATH_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "../util/lwm2m_err.h"

#define LWM2M_PATH_MAX_DEPTH 4
#define LWM2M_ID_MAX 65535u
/* Longest text form: "/65535/65535/65535/65535" plus NUL. */
#define LWM2M_PATH_STR_MAX 25

enum lwm2m_path_level {
	LWM2M_PATH_ROOT = 0,
	LWM2M_PATH_OBJECT = 1,
	LWM2M_PATH_INSTANCE = 2,
	LWM2M_PATH_RESOURCE = 3,
	LWM2M_PATH_RESOURCE_INSTANCE = 4,
};

struct lwm2m_path {
	uint8_t len;                          /* number of IDs, 0 = root */
	uint16_t ids[LWM2M_PATH_MAX_DEPTH];   /* object, instance, resource, resource instance */
};

/* Parse a numeric path ("/3/0/1", "/" or "" = root; one trailing '/' tolerated; the
 * leading '/' may be left out, "3/0/1", as Zephyr writes paths).
 * Rejects non-digits, IDs above 65535, empty segments, more than four levels. */
int path_parse(const char *s, size_t len, struct lwm2m_path *out, struct lwm2m_error *err);

/* Write the text form into buf (at least LWM2M_PATH_STR_MAX bytes). Returns the length
 * (0 with an empty string when buf is too small). */
size_t path_format(const struct lwm2m_path *p, char *buf, size_t size);

/* True when `prefix` equals `p` or is an ancestor of it. */
bool path_starts_with(const struct lwm2m_path *p, const struct lwm2m_path *prefix);

/* Total order: parents sort before children, then by IDs. */
int path_compare(const struct lwm2m_path *a, const struct lwm2m_path *b);

#endif
