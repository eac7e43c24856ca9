/* OMA LwM2M JSON (content format 11543, LwM2M 1.0 TS 6.4.4): decode and encode.
 *
 *   {"bn":"/3/0/","bt":25462634,"e":[{"n":"0","sv":"Open Mobile Alliance"},{"n":"9","v":95,"t":-5}]}
 *
 * The document's keys may come in any order ("bt" after "e" is common); a document
 * without "e" fails. Names are bn + n concatenated (the leading '/' optional, "2/0/" works),
 * then resolved like SenML names (fmt_senml.h: alternate path, gateway prefix). Entries
 * carry v (number, exact integers), sv (string; base64 for an opaque resource), bv
 * (boolean) or ov ("oid:iid"), plus an optional t added to bt. Without a type from the
 * typer, v gives a FLOAT (what Leshan does for objects it does not know), sv a STRING.
 * An entry without a value, the same path twice at the same time, and a single resource
 * without entries fail; an empty "e" for an instance or a multiple resource gives the
 * empty marker node, as in SenML.
 *
 * Encoding writes one bn (the request path in SENML_LAYOUT_REQUEST, the instance of the
 * nodes in SENML_LAYOUT_INSTANCE), n relative to it (left out when empty), absolute t for
 * timestamped nodes and never bt; floats shortest with ".0" for integral values; opaque as
 * padded standard base64 in sv. */
#ifndef OBJ_FMT_OMAJSON_H
#define OBJ_FMT_OMAJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fmt.h"
#include "fmt_senml.h"

int omajson_decode(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err);
int omajson_encode(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_buf *out, struct lwm2m_error *err);

/* With options (alternate path; layout for the encoder; groups are not used). */
int omajson_decode_ex(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		const struct senml_opts *opts, struct lwm2m_nodes *out, struct lwm2m_error *err);
int omajson_encode_ex(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		const struct senml_opts *opts, struct lwm2m_buf *out, struct lwm2m_error *err);

/* The document layer (no model): entries are SenML records using n, t and one value kind
 * (SENML_V_NUM for v, SENML_V_STR for sv, SENML_V_BOOL for bv, SENML_V_OBJLNK for ov). */
struct omajson_doc {
	bool has_bn;
	char *bn;               /* owned, NUL-terminated */
	size_t bn_len;
	bool has_bt;
	struct json_num bt;
	struct senml_pack e;
};

void omajson_doc_init(struct omajson_doc *d);
void omajson_doc_free(struct omajson_doc *d);      /* accepts NULL */
int omajson_parse(const uint8_t *buf, size_t len, const struct fmt_limits *lim,
		struct omajson_doc *out, struct lwm2m_error *err);
/* Keys in the order bn, e, bt; entries n, value, t. */
int omajson_write(const struct omajson_doc *d, struct lwm2m_buf *out, struct lwm2m_error *err);

#endif
