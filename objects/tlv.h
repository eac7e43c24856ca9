/* OMA TLV (content format 11542), structural layer: records and their value encodings,
 * without paths or an object model. fmt_decode/fmt_encode build on it; tests and tools use
 * it to look at raw TLV.
 *
 * A record is: type byte (bits 7-6 kind, bit 5 16-bit id, bits 4-3 length size, bits 2-0
 * inline length), id (1 or 2 bytes), length (0-3 bytes), value. Object instances and
 * multiple resources hold records; resources and resource instances hold a value. */
#ifndef OBJ_TLV_H
#define OBJ_TLV_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"
#include "../util/buf.h"
#include "../util/lwm2m_err.h"

enum tlv_kind {
	TLV_OBJECT_INSTANCE = 0,
	TLV_RESOURCE_INSTANCE = 1,
	TLV_MULTIPLE_RESOURCE = 2,
	TLV_RESOURCE_VALUE = 3,
};

struct tlv_record {
	enum tlv_kind kind;
	uint16_t id;
	const uint8_t *value;      /* points into the input */
	size_t len;
	size_t offset;             /* of the type byte, from the start of the outermost input */
};

/* "OBJECT_INSTANCE", "RESOURCE_INSTANCE", "MULTIPLE_RESOURCE", "RESOURCE_VALUE". */
const char *tlv_kind_name(enum tlv_kind k);
/* Inverse of tlv_kind_name; -1 when unknown. */
int tlv_kind_parse(const char *name);

/* Reads the record at buf[*pos] (len = bytes of buf), advancing *pos past it. `base` is
 * added to offsets in records and messages (the offset of buf in the outermost input).
 * Fails when the header or the value runs past len. */
int tlv_read(const uint8_t *buf, size_t len, size_t *pos, size_t base, struct tlv_record *rec,
		struct lwm2m_error *err);

/* Checks a whole record sequence: every record fits, object instances hold only resources
 * and multiple resources, multiple resources hold only resource instances. */
int tlv_validate(const uint8_t *buf, size_t len, size_t base, struct lwm2m_error *err);

/* Appends a record header (shortest id and length forms). */
int tlv_write_header(struct lwm2m_buf *out, enum tlv_kind kind, uint16_t id, size_t len);
/* Appends a whole record. */
int tlv_write(struct lwm2m_buf *out, enum tlv_kind kind, uint16_t id, const void *value,
		size_t len);

/* A resource value's bytes for `type`: integers and times in the shortest of 1/2/4/8 bytes
 * (two's complement), unsigned in the shortest of 1/2/4/8 bytes that keeps the top bit
 * clear below 2^63 (so a reader taking it as signed still gets it right), floats as 8-byte
 * doubles, booleans as one byte, object links as 2+2 bytes, strings/opaque/corelnk raw. */
int tlv_value_encode(const struct lwm2m_value *v, struct lwm2m_buf *out, struct lwm2m_error *err);
/* The inverse: integers/times 1, 2, 4 or 8 bytes, floats 4 or 8, booleans one byte 0 or 1,
 * object links 4 bytes, strings must be UTF-8. `what` names the value in messages. */
int tlv_value_decode(enum lwm2m_type type, const uint8_t *p, size_t len, const char *what,
		size_t offset, struct lwm2m_value *out, struct lwm2m_error *err);

#endif
