/* Objlnk text form "objectId:instanceId" (plain text, SenML "vlo", CBOR text). */
#ifndef OBJ_OBJLNK_H
#define OBJ_OBJLNK_H

#include <stddef.h>
#include <stdint.h>

#include "../util/lwm2m_err.h"

/* Longest text form: "65535:65535" plus NUL. */
#define OBJLNK_STR_MAX 12

/* Parse "3:0": both halves required, decimal digits only (no sign, no whitespace), each
 * 0..65535. */
int objlnk_parse(const char *s, size_t len, uint16_t *obj, uint16_t *inst,
		struct lwm2m_error *err);

/* Write "obj:inst" into buf (at least OBJLNK_STR_MAX bytes, NUL-terminated). Returns the
 * length, or 0 when buf is too small. */
size_t objlnk_format(uint16_t obj, uint16_t inst, char *buf, size_t size);

#endif
