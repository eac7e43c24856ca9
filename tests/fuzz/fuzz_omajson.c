/* Fuzz OMA LwM2M JSON: decode (typed and untyped) and the document layer; whatever
 * decodes must encode, and the encoding must decode again to as many nodes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "objects/fmt_omajson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum lwm2m_type f_type_of(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	static const enum lwm2m_type types[] = {
		LWM2M_TYPE_STRING, LWM2M_TYPE_INTEGER, LWM2M_TYPE_UNSIGNED, LWM2M_TYPE_FLOAT,
		LWM2M_TYPE_BOOLEAN, LWM2M_TYPE_OPAQUE, LWM2M_TYPE_TIME, LWM2M_TYPE_OBJLNK,
		LWM2M_TYPE_CORELNK, LWM2M_TYPE_NONE,
	};
	(void)ctx;
	(void)prefix;
	if(p->len < 3 || p->ids[0] != 3442) return LWM2M_TYPE_NONE;
	return types[p->ids[2] % 10];
}

static int f_is_multiple(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	(void)ctx;
	(void)prefix;
	return p->len >= 3 ? (p->ids[2] & 1) : -1;
}

static const struct fmt_typer typer = { f_type_of, f_is_multiple, NULL };

static void round_trip(const uint8_t *data, size_t size, const struct fmt_typer *t)
{
	struct lwm2m_nodes n, again;
	struct lwm2m_error err;
	struct lwm2m_buf out;
	static const struct senml_opts zephyr = { .layout = SENML_LAYOUT_INSTANCE };

	nodes_init(&n);
	nodes_init(&again);
	buf_init(&out, 0);
	if(omajson_decode(data, size, NULL, t, NULL, &n, &err) == 0){
		if(omajson_encode(&n, NULL, t, NULL, &out, &err) != 0) abort();
		if(omajson_decode(out.data, out.len, NULL, t, NULL, &again, &err) != 0) abort();
		if(again.count != n.count) abort();
		buf_reset(&out);
		if(omajson_encode_ex(&n, NULL, t, NULL, &zephyr, &out, &err) != 0) abort();
	}
	nodes_free(&n);
	nodes_free(&again);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;
	struct lwm2m_path req = { 2, { 3442, 0, 0, 0 } };
	struct omajson_doc d;
	struct lwm2m_buf out;

	round_trip(data, size, &typer);
	round_trip(data, size, NULL);

	nodes_init(&n);
	omajson_decode(data, size, &req, &typer, NULL, &n, &err);
	nodes_free(&n);

	omajson_doc_init(&d);
	if(omajson_parse(data, size, NULL, &d, &err) == 0){
		buf_init(&out, 0);
		omajson_write(&d, &out, &err);
		buf_free(&out);
	}
	omajson_doc_free(&d);
	return 0;
}
