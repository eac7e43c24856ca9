/* Fuzz target: CBOR (60), one value. The first byte picks the resource type (0 = unknown:
 * the wire type); the rest is the payload. Whatever decodes must encode, and decode again
 * to the same value. The CBOR skipper must accept every payload the value reader does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "objects/fmt.h"
#include "objects/fmt_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum lwm2m_type fz_type(void *ctx, const char *prefix, const struct lwm2m_path *p)
{
	(void)prefix;
	(void)p;
	return *(const enum lwm2m_type *)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum lwm2m_type type;
	const struct fmt_typer typer = { fz_type, NULL, &type };
	struct lwm2m_nodes first, second;
	struct lwm2m_buf out;
	struct lwm2m_path req = { 3, { 3, 0, 1, 0 } };
	struct fmt_cbor_rd r;
	struct lwm2m_error err;

	if(size < 1) return 0;
	type = (enum lwm2m_type)(data[0] % 10);
	data++;
	size--;
	nodes_init(&first);
	nodes_init(&second);
	buf_init(&out, 0);
	if(fmt_decode(LWM2M_CF_CBOR, data, size, &req, &typer, NULL, &first, &err) == 0){
		fmt_cbor_rd_init(&r, data, size, NULL);
		if(fmt_cbor_skip(&r, 16) != 0 || !fmt_cbor_at_end(&r)) abort();
		if(fmt_encode(LWM2M_CF_CBOR, &first, &req, &typer, NULL, &out, &err) != 0) abort();
		if(fmt_decode(LWM2M_CF_CBOR, out.data, out.len, &req, &typer, NULL, &second, &err) != 0) abort();
		if(first.count != 1 || second.count != 1) abort();
		if(!value_equal(&first.items[0].value, &second.items[0].value)) abort();
	}
	nodes_free(&first);
	nodes_free(&second);
	buf_free(&out);
	return 0;
}
