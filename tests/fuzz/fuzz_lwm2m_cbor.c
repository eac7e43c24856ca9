/* Fuzz target: LwM2M CBOR. The first byte picks the request path (root, /3, /3/0, /3/0/r)
 * and the limits; the rest is the payload. Whatever decodes must encode, and decode again
 * to the same nodes (an untyped time comes back as an integer: the encoder writes times as
 * plain integers). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "objects/fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Resource r has type r % 10 (0 = unknown: the wire type is kept). */
static enum lwm2m_type fz_type(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	(void)ctx;
	(void)prefix;
	return p->len >= 3 ? (enum lwm2m_type)(p->ids[2] % 10) : LWM2M_TYPE_NONE;
}

static int fz_multiple(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	(void)ctx;
	(void)prefix;
	return p->ids[2] % 4 == 1;
}

static bool same_value(const struct lwm2m_value *a, const struct lwm2m_value *b)
{
	if(a->type == LWM2M_TYPE_TIME && b->type == LWM2M_TYPE_INTEGER) return a->v.i == b->v.i;
	return value_equal(a, b);
}

static bool same_nodes(const struct lwm2m_nodes *a, const struct lwm2m_nodes *b)
{
	if(a->count != b->count) return false;
	for(size_t i = 0; i < a->count; i++){
		const char *pa = a->items[i].prefix, *pb = b->items[i].prefix;
		if(path_compare(&a->items[i].path, &b->items[i].path) != 0) return false;
		if((pa == NULL) != (pb == NULL) || (pa && strcmp(pa, pb) != 0)) return false;
		if(a->items[i].kind != b->items[i].kind) return false;
		if(!same_value(&a->items[i].value, &b->items[i].value)) return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fmt_typer typer = { fz_type, fz_multiple, NULL };
	struct lwm2m_nodes first, second;
	struct lwm2m_buf out;
	struct lwm2m_path req;
	struct fmt_limits lim = { 0, 0, 0 };
	struct lwm2m_error err;

	if(size < 1) return 0;
	req = (struct lwm2m_path){ (uint8_t)(data[0] % 4), { 3, 0, (uint16_t)((data[0] >> 2) & 15), 0 } };
	if(data[0] & 0x40) lim.max_depth = 3;
	if(data[0] & 0x80) lim.max_nodes = 4;
	data++;
	size--;
	nodes_init(&first);
	nodes_init(&second);
	buf_init(&out, 0);
	if(fmt_decode(LWM2M_CF_LWM2M_CBOR, data, size, &req, &typer, &lim, &first, &err) == 0){
		if(fmt_encode(LWM2M_CF_LWM2M_CBOR, &first, &req, &typer, NULL, &out, &err) != 0) abort();
		if(fmt_decode(LWM2M_CF_LWM2M_CBOR, out.data, out.len, &req, &typer, NULL, &second, &err) != 0) abort();
		if(!same_nodes(&first, &second)) abort();
	}
	nodes_free(&first);
	nodes_free(&second);
	buf_free(&out);
	return 0;
}
