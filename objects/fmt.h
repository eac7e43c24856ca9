/* Content formats: decode a payload into nodes, encode nodes into a payload, convert.
 *
 * Types come from a typer (normally the object model, see model.h); self-describing
 * formats (CBOR, SenML, LwM2M CBOR) fall back to the wire type when the typer has
 * none; TLV and plain text without a type fail with -LWM2M_ETYPE and a message that
 * says so. */
#ifndef OBJ_FMT_H
#define OBJ_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"
#include "../util/buf.h"
#include "../util/lwm2m_err.h"

enum lwm2m_cf {
	LWM2M_CF_TEXT = 0,
	LWM2M_CF_LINK = 40,
	LWM2M_CF_OPAQUE = 42,
	LWM2M_CF_CBOR = 60,
	LWM2M_CF_SENML_JSON = 110,
	LWM2M_CF_SENML_CBOR = 112,
	LWM2M_CF_SENML_ETCH_JSON = 320,
	LWM2M_CF_SENML_ETCH_CBOR = 322,
	LWM2M_CF_TLV = 11542,
	LWM2M_CF_OMA_JSON = 11543,
	LWM2M_CF_LWM2M_CBOR = 11544,
};

/* Answers "what type has this resource?" for decoders and encoders. */
struct fmt_typer {
	/* Type of a resource or resource-instance path (prefix = gateway prefix or NULL);
	 * LWM2M_TYPE_NONE when unknown. */
	enum lwm2m_type (*type_of)(void *ctx, const char *prefix, const struct lwm2m_path *p);
	/* 1 when the resource /o/i/r is multi-instance, 0 when single, -1 when unknown. */
	int (*is_multiple)(void *ctx, const char *prefix, const struct lwm2m_path *p);
	void *ctx;
};

struct fmt_limits {
	size_t max_nodes;      /* 0 = default (65536) */
	size_t max_depth;      /* nesting bound for CBOR-based formats; 0 = default (16) */
	size_t max_output;     /* encoder output bound; 0 = none */
};

/* Decode `buf` (content format cf) addressed to `req` (NULL = root) into `out`
 * (appended, then sorted). On error `out` is left as it was given. */
int fmt_decode(uint16_t cf, const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err);

/* Encode `in` for a request on `req` into `out` (appended). */
int fmt_encode(uint16_t cf, const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err);

/* Decode with `from` and encode with `to`; fails clearly when `to` cannot carry the content
 * (e.g. "TLV cannot carry a composite of two objects"). */
int fmt_convert(uint16_t from, uint16_t to, const uint8_t *buf, size_t len,
		const struct lwm2m_path *req, const struct fmt_typer *typer,
		const struct fmt_limits *lim, struct lwm2m_buf *out, struct lwm2m_error *err);

/* Names: "text", "link", "opaque", "cbor", "senml-json", "senml-cbor", "senml-etch-json",
 * "senml-etch-cbor", "tlv", "oma-json", "lwm2m-cbor", or a decimal number. -1 if unknown. */
int fmt_cf_parse(const char *s);
const char *fmt_cf_name(uint16_t cf);          /* NULL if unknown */
const char *fmt_cf_media_type(uint16_t cf);    /* IANA media type, NULL if unknown */
int fmt_cf_from_media_type(const char *mt);    /* tolerates parameters and case; -1 if unknown */

#endif
