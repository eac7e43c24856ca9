/* Golden-vector runner: `vector_runner <vectors dir> [name ...]` loads every *.json file of
 * the directory (or only the named ones, "tlv" for tlv.json), hands each vector to the
 * handler named after its file, and prints per file "name.json: N passed, M failed", one
 * line per failure ("  FAIL <id>: <why>") and last "vectors: N passed, M failed".
 * Exit status 1 when anything failed.
 *
 * A handler gets one vector object and returns
 *   VEC_PASS (1)      the vector holds,
 *   VEC_FAIL (0)      it does not; `why` says what differed,
 *   VEC_DEVIATION (2) a documented, deliberate difference from the vector's source was
 *                     checked instead (counted as passed, `why` names the reason and it is
 *                     printed as "  NOTE <id>: <why>").
 * Handlers not written yet are weak: a file whose handler is missing fails every vector
 * with "no handler yet". */
#ifndef VEC_RUNNER_H
#define VEC_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define VEC_FAIL 0
#define VEC_PASS 1
#define VEC_DEVIATION 2

typedef int (*vec_handler)(json_t *vector, char *why, size_t why_len);

/* objects: link-format, paths, attributes, objlnk (vec_links.c) */
int vec_run_link_format(json_t *vector, char *why, size_t why_len);
int vec_run_path(json_t *vector, char *why, size_t why_len);
int vec_run_attributes(json_t *vector, char *why, size_t why_len);
int vec_run_objlnk(json_t *vector, char *why, size_t why_len);

/* content formats (vec_formats_*.c) */
int vec_run_tlv(json_t *vector, char *why, size_t why_len) __attribute__((weak));
int vec_run_plain_text(json_t *vector, char *why, size_t why_len) __attribute__((weak));
int vec_run_cbor(json_t *vector, char *why, size_t why_len) __attribute__((weak));
int vec_run_lwm2m_cbor(json_t *vector, char *why, size_t why_len) __attribute__((weak));
int vec_run_senml_json(json_t *vector, char *why, size_t why_len) __attribute__((weak));
int vec_run_senml_cbor(json_t *vector, char *why, size_t why_len) __attribute__((weak));
int vec_run_oma_json(json_t *vector, char *why, size_t why_len) __attribute__((weak));

/* ---- helpers for handlers (runner.c) ---- */

/* Writes the reason into why and returns VEC_FAIL:  return vec_fail(why, n, "got %d", x); */
int vec_fail(char *why, size_t why_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Same, returning VEC_DEVIATION. */
int vec_deviation(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* String member of the vector, or NULL when absent or not a string. */
const char *vec_str(json_t *vector, const char *key);

/* The "text" payload with its length (JSON strings may hold NUL); NULL when absent. */
const char *vec_text(json_t *vector, size_t *len);

/* "bytes_hex" decoded into a malloc'd buffer (caller frees; non-NULL even when empty).
 * Returns 0, or -1 when absent or not lowercase/uppercase hex of even length. */
int vec_hex(json_t *vector, uint8_t **out, size_t *len);

/* direction checks: "decode"/"both" and "encode"/"both". */
bool vec_decodes(json_t *vector);
bool vec_encodes(json_t *vector);

/* True when "expected" is the string "error". */
bool vec_expects_error(json_t *vector);

#endif
