/* Fuzz target: plain text (0) and opaque (42). The first byte picks the resource type
 * (0 = unknown) and the content format (bit 7: opaque); the rest is the payload. Whatever
 * decodes must encode, and decode again to the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "objects/fmt.h"

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
	struct lwm2m_path req = { 4, { 3, 0, 1, 7 } };
	struct lwm2m_error err;
	uint16_t cf;

	if(size < 1) return 0;
	type = (enum lwm2m_type)((data[0] & 0x7f) % 10);
	cf = data[0] & 0x80 ? LWM2M_CF_OPAQUE : LWM2M_CF_TEXT;
	data++;
	size--;
	nodes_init(&first);
	nodes_init(&second);
	buf_init(&out, 0);
	if(fmt_decode(cf, data, size, &req, &typer, NULL, &first, &err) == 0){
		if(first.count != 1) abort();
		if(fmt_encode(cf, &first, &req, &typer, NULL, &out, &err) != 0) abort();
		if(fmt_decode(cf, out.data, out.len, &req, &typer, NULL, &second, &err) != 0) abort();
		if(second.count != 1 || !value_equal(&first.items[0].value, &second.items[0].value)) abort();
		/* opaque and strings come back byte for byte */
		if(cf == LWM2M_CF_OPAQUE && (out.len != size || (size && memcmp(out.data, data, size)))) abort();
	}
	nodes_free(&first);
	nodes_free(&second);
	buf_free(&out);
	return 0;
}
