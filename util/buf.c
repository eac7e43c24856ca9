#include "buf.h"
#include "lwm2m_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct lwm2m_buf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
}

void buf_free(struct lwm2m_buf *b)
{
	if(!b) return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_reset(struct lwm2m_buf *b)
{
	b->len = 0;
}

int buf_reserve(struct lwm2m_buf *b, size_t extra)
{
	size_t need, cap;
	uint8_t *p;

	if(extra > SIZE_MAX - b->len) return -LWM2M_ETOOBIG;
	need = b->len + extra;
	if(b->limit && need > b->limit) return -LWM2M_ETOOBIG;
	if(need <= b->cap) return 0;
	cap = b->cap ? b->cap : 64;
	while(cap < need){
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	}
	p = realloc(b->data, cap);
	if(!p) return -LWM2M_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_append(struct lwm2m_buf *b, const void *p, size_t n)
{
	int rc;
	if(n == 0) return 0;
	rc = buf_reserve(b, n);
	if(rc) return rc;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int buf_append_byte(struct lwm2m_buf *b, uint8_t c)
{
	return buf_append(b, &c, 1);
}

int buf_printf(struct lwm2m_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if(n < 0) return -LWM2M_EINVAL;
	rc = buf_reserve(b, (size_t)n + 1);   /* room for vsnprintf's NUL */
	if(rc) return rc;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

uint8_t *buf_steal(struct lwm2m_buf *b, size_t *len)
{
	uint8_t *p = b->data;
	if(len) *len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
