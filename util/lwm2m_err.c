#include "lwm2m_err.h"

#include <stdarg.h>
#include <stdio.h>

int lwm2m_fail(struct lwm2m_error *err, int code, long offset, const char *fmt, ...)
{
	if(code < 0) code = -code;
	if(err){
		va_list ap;
		err->code = code;
		err->has_offset = offset >= 0;
		err->offset = offset >= 0 ? (size_t)offset : 0;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
}

const char *lwm2m_strerror(int code)
{
	if(code < 0) code = -code;
	switch(code){
		case LWM2M_OK: return "success";
		case LWM2M_EINVAL: return "malformed input";
		case LWM2M_ENOMEM: return "out of memory";
		case LWM2M_ETOOBIG: return "too large";
		case LWM2M_ENOTSUP: return "not supported";
		case LWM2M_ENOENT: return "not found";
		case LWM2M_ERANGE: return "out of range";
		case LWM2M_ETYPE: return "wrong type";
		case LWM2M_EEXIST: return "already exists";
		case LWM2M_EFULL: return "full";
		case LWM2M_EOFFLINE: return "offline";
	}
	return "unknown error";
}
