/* Error codes and the error report shared by every pure module (codecs, parsers, formats).
 *
 * Functions return 0 or a negative -LWM2M_E* value and, when given one, fill a
 * struct lwm2m_error that says what was wrong and where, in words a log line can
 * carry as is. */
#ifndef LWM2M_ERR_H
#define LWM2M_ERR_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

enum lwm2m_errno {
	LWM2M_OK = 0,
	LWM2M_EINVAL = 1,   /* malformed input */
	LWM2M_ENOMEM = 2,   /* allocation failed */
	LWM2M_ETOOBIG = 3,  /* input or output above a configured limit */
	LWM2M_ENOTSUP = 4,  /* well-formed but not supported / not expressible */
	LWM2M_ENOENT = 5,   /* unknown object, endpoint, path ... */
	LWM2M_ERANGE = 6,   /* value out of range */
	LWM2M_ETYPE = 7,    /* wrong type, or no type known */
	LWM2M_EEXIST = 8,   /* already exists */
	LWM2M_EFULL = 9,    /* a bounded queue or table is full */
	LWM2M_EOFFLINE = 10, /* the peer is not connected */
};

#define LWM2M_ERROR_MSG_MAX 160

struct lwm2m_error {
	int code;                        /* one of enum lwm2m_errno (positive) */
	size_t offset;                   /* byte offset of the problem in the input, when has_offset */
	bool has_offset;
	char msg[LWM2M_ERROR_MSG_MAX];   /* one line, no trailing newline */
};

/* Fill err (when non-NULL) and return -code, so callers can write
 *   return lwm2m_fail(err, LWM2M_EINVAL, off, "key %d: expected uint", key); */
int lwm2m_fail(struct lwm2m_error *err, int code, long offset, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A short English name for a code, for logs ("malformed input"). */
const char *lwm2m_strerror(int code);

#endif
