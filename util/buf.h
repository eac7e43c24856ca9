/* A growable byte buffer with a hard size limit, for encoders. */
#ifndef LWM2M_BUF_H
#define LWM2M_BUF_H

#include <stddef.h>
#include <stdint.h>

struct lwm2m_buf {
	uint8_t *data;    /* owned; NULL until the first append */
	size_t len;
	size_t cap;
	size_t limit;     /* 0 = no limit; appends past it fail with -LWM2M_ETOOBIG */
};

void buf_init(struct lwm2m_buf *b, size_t limit);
void buf_free(struct lwm2m_buf *b);
void buf_reset(struct lwm2m_buf *b);          /* len = 0, keeps the memory */
int buf_reserve(struct lwm2m_buf *b, size_t extra);
int buf_append(struct lwm2m_buf *b, const void *p, size_t n);
int buf_append_byte(struct lwm2m_buf *b, uint8_t c);
int buf_printf(struct lwm2m_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the bytes to the caller (who frees them with free()); the buffer is left empty. */
uint8_t *buf_steal(struct lwm2m_buf *b, size_t *len);

#endif
