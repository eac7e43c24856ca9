/* The internal operation model: every transport (MQTT map, HTTP request, CoAP message)
 * translates to and from struct lwm2m_op.
 *
 * An op never owns memory: its views point into a buffer owned by whoever decoded it
 * (the inbox message, the HTTP request, the CoAP PDU) or built it. Keep that buffer alive
 * as long as the op. */
#ifndef BINDING_OP_H
#define BINDING_OP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "../objects/attributes.h"

/* Which interface a message travels on: the MQTT topic level "rd" or "bs". */
enum lwm2m_iface {
	LWM2M_IFACE_RD = 0,
	LWM2M_IFACE_BS = 1,
};

enum lwm2m_op_kind {
	LWM2M_OP_NONE = 0,
	/* Bootstrap interface */
	LWM2M_OP_BOOTSTRAP_REQUEST,
	LWM2M_OP_BOOTSTRAP_WRITE,
	LWM2M_OP_BOOTSTRAP_READ,
	LWM2M_OP_BOOTSTRAP_DELETE,
	LWM2M_OP_BOOTSTRAP_DISCOVER,
	LWM2M_OP_BOOTSTRAP_FINISH,
	LWM2M_OP_BOOTSTRAP_PACK_REQUEST,
	/* Registration interface */
	LWM2M_OP_REGISTER,
	LWM2M_OP_UPDATE,
	LWM2M_OP_DEREGISTER,
	/* Device management and service enablement */
	LWM2M_OP_READ,
	LWM2M_OP_READ_COMPOSITE,
	LWM2M_OP_DISCOVER,
	LWM2M_OP_WRITE,               /* replace */
	LWM2M_OP_WRITE_PARTIAL,       /* partial update */
	LWM2M_OP_WRITE_ATTRIBUTES,
	LWM2M_OP_WRITE_COMPOSITE,
	LWM2M_OP_EXECUTE,
	LWM2M_OP_CREATE,
	LWM2M_OP_DELETE,
	/* Information reporting */
	LWM2M_OP_OBSERVE,
	LWM2M_OP_OBSERVE_COMPOSITE,
	LWM2M_OP_CANCEL_OBSERVE,
	LWM2M_OP_NOTIFY,
	LWM2M_OP_SEND,
	LWM2M_OP_KIND_COUNT
};

/* A byte range inside someone else's buffer; not NUL-terminated. */
struct lwm2m_view {
	const uint8_t *ptr;
	size_t len;
};

/* Which optional fields of an op are present. */
enum lwm2m_op_field {
	LWM2M_F_TOKEN    = 1u << 0,
	LWM2M_F_EP       = 1u << 1,
	LWM2M_F_PCT      = 1u << 2,
	LWM2M_F_URI      = 1u << 3,
	LWM2M_F_PATHS    = 1u << 4,
	LWM2M_F_PAYLOAD  = 1u << 5,
	LWM2M_F_LIFETIME = 1u << 6,
	LWM2M_F_VERSION  = 1u << 7,
	LWM2M_F_BINDING  = 1u << 8,
	LWM2M_F_SMS      = 1u << 9,
	LWM2M_F_CT       = 1u << 10,
	LWM2M_F_DEPTH    = 1u << 11,
	LWM2M_F_PID      = 1u << 12,   /* HTTP/CoAP only: MQTT has no key for it */
	LWM2M_F_QUEUE    = 1u << 13,   /* HTTP/CoAP "Q" flag; MQTT carries Q inside the binding */
	LWM2M_F_ATTRS    = 1u << 14,   /* attrs.set or attrs.unset non-empty */
	LWM2M_F_RESULT   = 1u << 15,
};

struct lwm2m_op {
	enum lwm2m_op_kind kind;      /* request kind; for a response the kind answered, if known */
	bool is_response;
	uint16_t result;              /* responses: CoAP code as c*100+dd (205 = 2.05 Content) */
	uint64_t token;
	uint32_t fields;              /* enum lwm2m_op_field bits */

	struct lwm2m_view ep;         /* endpoint name claimed inside the message (MQTT key 3, HTTP ?ep=) */
	struct lwm2m_view uri;        /* target path text, e.g. "/3/0/0" */
	struct lwm2m_view paths;      /* composite path list (MQTT: SenML-ETCH CBOR bytes) */
	struct lwm2m_view payload;
	struct lwm2m_view version;    /* "1.2" */
	struct lwm2m_view binding;    /* "MQ" */
	struct lwm2m_view sms;
	struct lwm2m_view pid;

	uint16_t content_format;      /* valid with LWM2M_F_CT */
	uint16_t pct;                 /* valid with LWM2M_F_PCT */
	uint64_t lifetime;            /* seconds; valid with LWM2M_F_LIFETIME */
	uint8_t depth;                /* 0..3; valid with LWM2M_F_DEPTH */
	struct lwm2m_attrs attrs;     /* valid with LWM2M_F_ATTRS */
};

void op_init(struct lwm2m_op *op);

/* "Register", "Read-Composite" ... */
const char *op_kind_name(enum lwm2m_op_kind kind);

/* True for the operations a client (device) may originate: Bootstrap-Request,
 * Bootstrap-Pack-Request, Register, Update, De-register, Notify, Send. */
bool op_kind_from_device(enum lwm2m_op_kind kind);

/* The interface an operation belongs to (Bootstrap ops on BS, everything else on RD). */
enum lwm2m_iface op_kind_iface(enum lwm2m_op_kind kind);

/* "Content" for 205, "Not Found" for 404 ...; "Unknown" otherwise. */
const char *op_result_name(uint16_t result);

/* Success code the spec gives for an operation (Register 201, Read 205, Delete 202 ...). */
uint16_t op_success_result(enum lwm2m_op_kind kind);

/* Views from C strings / equality helpers. */
struct lwm2m_view op_view_str(const char *s);
bool op_view_eq_str(struct lwm2m_view v, const char *s);

#endif
