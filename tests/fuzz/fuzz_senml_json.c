/* Fuzz SenML JSON / SenML-ETCH JSON: decode (typed and untyped, plain and ETCH), the path
 * list and record layers; whatever decodes must encode, and the encoding must decode again
 * to as many nodes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "objects/fmt_senml.h"

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
	/* object 3442: the resource id picks the type; elsewhere no type */
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

static void round_trip(const uint8_t *data, size_t size, bool etch, const struct fmt_typer *t)
{
	struct lwm2m_nodes n, again;
	struct lwm2m_error err;
	struct lwm2m_buf out;
	static const struct senml_opts zephyr = { .layout = SENML_LAYOUT_INSTANCE, .alt_path = "/a" };

	nodes_init(&n);
	nodes_init(&again);
	buf_init(&out, 0);
	if(senml_json_decode_ex(data, size, NULL, t, NULL, NULL, etch, &n, &err) == 0){
		if(senml_json_encode_ex(&n, NULL, t, NULL, NULL, etch, &out, &err) != 0) abort();
		if(senml_json_decode_ex(out.data, out.len, NULL, t, NULL, NULL, etch, &again, &err) != 0) abort();
		if(again.count != n.count) abort();
		buf_reset(&out);
		if(senml_json_encode_ex(&n, NULL, t, NULL, &zephyr, etch, &out, &err) != 0) abort();
		buf_reset(&out);
		if(senml_cbor_encode_ex(&n, NULL, t, NULL, NULL, etch, &out, &err) != 0) abort();
	}
	nodes_free(&n);
	nodes_free(&again);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;
	struct lwm2m_path req = { 2, { 3442, 0, 0, 0 } }, *paths = NULL;
	struct senml_pack p;
	struct lwm2m_buf out;
	size_t np = 0;

	round_trip(data, size, false, &typer);
	round_trip(data, size, true, &typer);
	round_trip(data, size, false, NULL);

	nodes_init(&n);
	senml_json_decode(data, size, &req, &typer, NULL, &n, &err);
	nodes_free(&n);

	if(senml_etch_paths_decode(LWM2M_CF_SENML_ETCH_JSON, data, size, &paths, &np, &err) == 0){
		buf_init(&out, 0);
		if(senml_etch_paths_encode(LWM2M_CF_SENML_ETCH_JSON, paths, np, &out, &err) != 0) abort();
		buf_free(&out);
	}
	free(paths);

	senml_pack_init(&p);
	if(senml_json_parse(data, size, NULL, &p, &err) == 0){
		buf_init(&out, 0);
		senml_json_write(p.recs, p.count, &out, &err);
		buf_free(&out);
	}
	senml_pack_free(&p);
	return 0;
}
