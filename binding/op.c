#include "op.h"

#include <string.h>

void op_init(struct lwm2m_op *op)
{
	memset(op, 0, sizeof(*op));
}

const char *op_kind_name(enum lwm2m_op_kind kind)
{
	static const char *const names[LWM2M_OP_KIND_COUNT] = {
		[LWM2M_OP_NONE] = "None",
		[LWM2M_OP_BOOTSTRAP_REQUEST] = "Bootstrap-Request",
		[LWM2M_OP_BOOTSTRAP_WRITE] = "Bootstrap-Write",
		[LWM2M_OP_BOOTSTRAP_READ] = "Bootstrap-Read",
		[LWM2M_OP_BOOTSTRAP_DELETE] = "Bootstrap-Delete",
		[LWM2M_OP_BOOTSTRAP_DISCOVER] = "Bootstrap-Discover",
		[LWM2M_OP_BOOTSTRAP_FINISH] = "Bootstrap-Finish",
		[LWM2M_OP_BOOTSTRAP_PACK_REQUEST] = "Bootstrap-Pack-Request",
		[LWM2M_OP_REGISTER] = "Register",
		[LWM2M_OP_UPDATE] = "Update",
		[LWM2M_OP_DEREGISTER] = "De-register",
		[LWM2M_OP_READ] = "Read",
		[LWM2M_OP_READ_COMPOSITE] = "Read-Composite",
		[LWM2M_OP_DISCOVER] = "Discover",
		[LWM2M_OP_WRITE] = "Write",
		[LWM2M_OP_WRITE_PARTIAL] = "Write-Partial-Update",
		[LWM2M_OP_WRITE_ATTRIBUTES] = "Write-Attributes",
		[LWM2M_OP_WRITE_COMPOSITE] = "Write-Composite",
		[LWM2M_OP_EXECUTE] = "Execute",
		[LWM2M_OP_CREATE] = "Create",
		[LWM2M_OP_DELETE] = "Delete",
		[LWM2M_OP_OBSERVE] = "Observe",
		[LWM2M_OP_OBSERVE_COMPOSITE] = "Observe-Composite",
		[LWM2M_OP_CANCEL_OBSERVE] = "Cancel-Observe",
		[LWM2M_OP_NOTIFY] = "Notify",
		[LWM2M_OP_SEND] = "Send",
	};
	if((unsigned)kind >= LWM2M_OP_KIND_COUNT) return "Unknown";
	return names[kind];
}

bool op_kind_from_device(enum lwm2m_op_kind kind)
{
	switch(kind){
		case LWM2M_OP_BOOTSTRAP_REQUEST:
		case LWM2M_OP_BOOTSTRAP_PACK_REQUEST:
		case LWM2M_OP_REGISTER:
		case LWM2M_OP_UPDATE:
		case LWM2M_OP_DEREGISTER:
		case LWM2M_OP_NOTIFY:
		case LWM2M_OP_SEND:
			return true;
		default:
			return false;
	}
}

enum lwm2m_iface op_kind_iface(enum lwm2m_op_kind kind)
{
	return (kind >= LWM2M_OP_BOOTSTRAP_REQUEST && kind <= LWM2M_OP_BOOTSTRAP_PACK_REQUEST)
		? LWM2M_IFACE_BS : LWM2M_IFACE_RD;
}

const char *op_result_name(uint16_t result)
{
	switch(result){
		case 201: return "Created";
		case 202: return "Deleted";
		case 203: return "Valid";
		case 204: return "Changed";
		case 205: return "Content";
		case 231: return "Continue";
		case 400: return "Bad Request";
		case 401: return "Unauthorized";
		case 402: return "Bad Option";
		case 403: return "Forbidden";
		case 404: return "Not Found";
		case 405: return "Method Not Allowed";
		case 406: return "Not Acceptable";
		case 408: return "Request Entity Incomplete";
		case 409: return "Conflict";
		case 412: return "Precondition Failed";
		case 413: return "Request Entity Too Large";
		case 415: return "Unsupported Content-Format";
		case 500: return "Internal Server Error";
		case 501: return "Not Implemented";
		case 502: return "Bad Gateway";
		case 503: return "Service Unavailable";
		case 504: return "Gateway Timeout";
		case 505: return "Proxying Not Supported";
	}
	return "Unknown";
}

uint16_t op_success_result(enum lwm2m_op_kind kind)
{
	switch(kind){
		case LWM2M_OP_REGISTER:
		case LWM2M_OP_CREATE:
			return 201;
		case LWM2M_OP_DEREGISTER:
		case LWM2M_OP_DELETE:
		case LWM2M_OP_BOOTSTRAP_DELETE:
			return 202;
		case LWM2M_OP_READ:
		case LWM2M_OP_READ_COMPOSITE:
		case LWM2M_OP_DISCOVER:
		case LWM2M_OP_OBSERVE:
		case LWM2M_OP_OBSERVE_COMPOSITE:
		case LWM2M_OP_CANCEL_OBSERVE:
		case LWM2M_OP_BOOTSTRAP_READ:
		case LWM2M_OP_BOOTSTRAP_DISCOVER:
		case LWM2M_OP_BOOTSTRAP_PACK_REQUEST:
			return 205;
		default:
			return 204;
	}
}

struct lwm2m_view op_view_str(const char *s)
{
	struct lwm2m_view v = { (const uint8_t *)s, s ? strlen(s) : 0 };
	return v;
}

bool op_view_eq_str(struct lwm2m_view v, const char *s)
{
	size_t n = strlen(s);
	return v.len == n && (n == 0 || memcmp(v.ptr, s, n) == 0);
}
