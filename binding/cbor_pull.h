/* A pull reader of CBOR item heads over libcbor's streaming decoder, for the binding codecs
 * that walk CBOR themselves (the MQTT message map, COSE). Internal to binding/.
 *
 * libcbor's streaming decoder pushes one item head per call into callbacks; pull_next turns
 * that into one filled struct pull_item, so that a walk reads like a pull parser.
 * Offsets stay relative to buf: a reader over an embedded byte string (pos and end
 * inside it) reports offsets in the whole input. Refusals fill a struct lwm2m_error at
 * the offending item. */
#ifndef BINDING_CBOR_PULL_H
#define BINDING_CBOR_PULL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/lwm2m_err.h"

enum pull_kind {
	PULL_UINT, PULL_NEGINT, PULL_BSTR, PULL_TSTR, PULL_BSTR_INDEF, PULL_TSTR_INDEF,
	PULL_ARRAY, PULL_ARRAY_INDEF, PULL_MAP, PULL_MAP_INDEF, PULL_TAG, PULL_FLOAT, PULL_BOOL,
	PULL_NULL, PULL_UNDEF, PULL_BREAK
};

struct pull_item {
	enum pull_kind kind;
	uint64_t u;            /* uint, negint (value -1-u), tag, container count, bool */
	const uint8_t *ptr;    /* definite strings, inside the input */
	size_t len;
	double f;              /* floats */
	size_t off;            /* offset of the head in the input */
};

/* Each codec words its refusals its own way; the words are part of what it answers. */
enum pull_words {
	/* "malformed or unsupported CBOR"; floats, bools and undefined named apart; a map that
	 * ends after a key: "unexpected break" */
	PULL_WORDS_MQTT,
	/* "malformed CBOR"; floats, bools and undefined are a "simple value or float"; a map
	 * that ends after a key: "map at byte N ends after a key" */
	PULL_WORDS_COSE,
};

/* Reads buf[pos..end). */
struct pull_reader {
	const uint8_t *buf;
	size_t pos, end;
	unsigned max_depth;    /* pull_skip refuses containers nested deeper */
	/* Tag heads decoded here rather than by libcbor, whose 0.8 refuses the one-byte tags
	 * 6..20 as unassigned (COSE_Encrypt0's 16 among them). */
	bool every_tag;
	enum pull_words words;
};

/* "uint", "indefinite map" ... in the reader's words. */
const char *pull_kind_name(enum pull_words words, enum pull_kind kind);

/* The next item head into it (it->off = where it starts); a definite string's bytes are
 * consumed with it, a container's members are not. */
int pull_next(struct pull_reader *r, struct pull_item *it, struct lwm2m_error *err);

/* Skips what follows the head it (already read): a tag's content, an indefinite string's
 * chunks, a container's members. it lies inside a container at `level` (0 = inside none);
 * a container it opens is at level + 1, refused beyond r->max_depth. */
int pull_skip(struct pull_reader *r, const struct pull_item *it, unsigned level,
	struct lwm2m_error *err);

/* Iteration over the members of an array or map (map members = keys and values). */
struct pull_members {
	bool indef;
	uint64_t left;         /* definite: members still to read */
};

/* For the container whose head is c; refuses a definite count the input cannot hold. */
int pull_members_start(const struct pull_reader *r, const struct pull_item *c,
	struct pull_members *m, struct lwm2m_error *err);
/* The next member into it; *done when the container has ended (its break read). */
int pull_members_next(struct pull_reader *r, struct pull_members *m, struct pull_item *it,
	bool *done, struct lwm2m_error *err);

#endif
