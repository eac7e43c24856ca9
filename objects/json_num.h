/* A small pull reader for the JSON-based data formats (SenML JSON, SenML-ETCH JSON, OMA
 * LwM2M JSON), with exact numbers.
 *
 * Why not jansson: it rejects integers above INT64_MAX, and an LwM2M Unsigned Integer
 * resource carries the whole 0..2^64-1 range. This reader lexes every number itself and
 * keeps integer literals exact (signed 64-bit, unsigned 64-bit), with a double beside
 * them; it also reports byte offsets in errors and never reads past the buffer.
 *
 * Strings are returned as (pointer, length) slices into the input when they hold no
 * escapes (zero copy); escaped strings are decoded into blocks owned by the reader that
 * stay valid until json_rd_release() or json_rd_free(). */
#ifndef OBJ_JSON_NUM_H
#define OBJ_JSON_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/lwm2m_err.h"

enum json_num_kind {
	JSON_NUM_INT = 0,    /* integer literal within int64: i (and f) */
	JSON_NUM_UINT,       /* integer literal above INT64_MAX, up to UINT64_MAX: u (and f) */
	JSON_NUM_FLOAT,      /* literal with a fraction or an exponent: f */
	JSON_NUM_BIGINT,     /* integer literal outside the 64-bit ranges: f approximates it */
};

/* An exact number. `f` is always set (the nearest double), whatever the kind. */
struct json_num {
	enum json_num_kind kind;
	int64_t i;
	uint64_t u;
	double f;
};

/* Lex one JSON number (RFC 8259 grammar exactly: no '+', no leading zeros, no bare '.',
 * no NaN) at the start of s[0..len). *used = bytes consumed. 0 or -LWM2M_EINVAL. */
int json_num_lex(const char *s, size_t len, struct json_num *out, size_t *used);

/* Set `out` from values of other sources. */
void json_num_from_int(struct json_num *out, int64_t v);
void json_num_from_uint(struct json_num *out, uint64_t v);
void json_num_from_double(struct json_num *out, double v);
/* An integral double within int64 becomes JSON_NUM_INT, anything else JSON_NUM_FLOAT. */
void json_num_from_double_int(struct json_num *out, double v);

struct json_rd_block;

struct json_rd {
	const uint8_t *start;
	const uint8_t *p;
	const uint8_t *end;
	size_t max_depth;
	struct lwm2m_error *err;
	struct json_rd_block *blocks;    /* decoded escaped strings, owned */
};

void json_rd_init(struct json_rd *r, const uint8_t *buf, size_t len, size_t max_depth,
		struct lwm2m_error *err);
/* Frees the decoded-string blocks (earlier string slices may dangle afterwards). */
void json_rd_release(struct json_rd *r);
void json_rd_free(struct json_rd *r);

static inline size_t json_rd_off(const struct json_rd *r)
{
	return (size_t)(r->p - r->start);
}

/* Skips whitespace; true when input remains. */
bool json_rd_ws(struct json_rd *r);
/* After whitespace: the next byte, or 0 at the end of input. */
int json_rd_peek(struct json_rd *r);
/* After whitespace: consume `c` when it is next. */
bool json_rd_accept(struct json_rd *r, char c);
/* After whitespace: consume `c` or fail ("expected <what>"). */
int json_rd_expect(struct json_rd *r, char c, const char *what);

/* After whitespace: a string; *s and *len point into the input or into a reader block (the
 * block version is NUL-terminated; an input slice is not). Invalid UTF-8, raw control
 * characters and bad escapes (lone surrogates too) are errors. */
int json_rd_string(struct json_rd *r, const char **s, size_t *len);
int json_rd_number(struct json_rd *r, struct json_num *out);
/* After whitespace: true, false or null. *kind = 't', 'f' or 'n'. */
int json_rd_literal(struct json_rd *r, char *kind);
/* Skips one whole value; `depth` = the nesting level of the value (bounded by max_depth). */
int json_rd_skip(struct json_rd *r, size_t depth);

/* Appends the JSON string form of s[0..len) (quotes and escapes) to a buffer. */
struct lwm2m_buf;
int json_put_string(struct lwm2m_buf *b, const char *s, size_t len);
/* Appends a number: integers exactly, floats in their shortest form that reads back the
 * same (always with a '.' or an exponent). Non-finite floats fail with -LWM2M_ENOTSUP. */
int json_put_num(struct lwm2m_buf *b, const struct json_num *n, struct lwm2m_error *err);

#endif
