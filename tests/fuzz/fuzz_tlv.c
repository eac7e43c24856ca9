/* Fuzz target: OMA TLV. The first byte picks the request path (object, instance, resource,
 * resource instance); the rest is the payload. Whatever decodes must encode, and decode
 * again to the same nodes. The structural layer must agree with the node decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "objects/fmt.h"
#include "objects/tlv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Resource r has type 1 + r % 9 (never none); r % 4 == 1 is multi-instance. */
static enum lwm2m_type fz_type(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	(void)ctx;
	(void)prefix;
	return p->len >= 3 ? (enum lwm2m_type)(1 + p->ids[2] % 9) : LWM2M_TYPE_NONE;
}

static int fz_multiple(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	(void)ctx;
	(void)prefix;
	return p->ids[2] % 4 == 1;
}

static bool same_nodes(const struct lwm2m_nodes *a, const struct lwm2m_nodes *b)
{
	if(a->count != b->count) return false;
	for(size_t i = 0; i < a->count; i++){
		if(path_compare(&a->items[i].path, &b->items[i].path) != 0) return false;
		if(a->items[i].kind != b->items[i].kind) return false;
		if(!value_equal(&a->items[i].value, &b->items[i].value)) return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fmt_typer typer = { fz_type, fz_multiple, NULL };
	struct lwm2m_nodes first, second;
	struct lwm2m_buf out;
	struct lwm2m_path req;
	struct lwm2m_error err;
	int rc;

	if(size < 1) return 0;
	req = (struct lwm2m_path){ (uint8_t)(1 + data[0] % 4), { 3, 0, (uint16_t)(data[0] >> 2), 1 } };
	data++;
	size--;
	nodes_init(&first);
	nodes_init(&second);
	buf_init(&out, 0);
	rc = fmt_decode(LWM2M_CF_TLV, data, size, &req, &typer, NULL, &first, &err);
	/* a payload the node decoder takes is structurally valid TLV */
	if(rc == 0 && tlv_validate(data, size, 0, NULL) != 0) abort();
	if(rc == 0){
		if(fmt_encode(LWM2M_CF_TLV, &first, &req, &typer, NULL, &out, &err) != 0) abort();
		if(fmt_decode(LWM2M_CF_TLV, out.data, out.len, &req, &typer, NULL, &second, &err) != 0) abort();
		if(!same_nodes(&first, &second)) abort();
	}
	nodes_free(&first);
	nodes_free(&second);
	buf_free(&out);
	return 0;
}
