/* Fuzz SenML CBOR / SenML-ETCH CBOR: decode (typed and untyped, plain and ETCH), the path
 * list and record layers; whatever decodes must encode, and the encoding must decode again
 * to as many nodes. */
#include <stdint.h>

#include "fuzz_senml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct senml_opts leshan = { .cbor_bt_tag4 = true };
static const struct senml_opts zephyr = { .layout = SENML_LAYOUT_INSTANCE };

static const struct fuzz_senml_codec cbor = {
	.decode_ex = senml_cbor_decode_ex,
	.encode_ex = senml_cbor_encode_ex,
	.opts = &leshan,
	.zephyr = &zephyr,
	.other_encode_ex = senml_json_encode_ex,
	.other_fail_ok = LWM2M_ENOTSUP,         /* JSON cannot carry NaN or infinities */
	.decode = senml_cbor_decode,
	.req = { 3, { 3442, 0, 1, 0 } },
	.paths_cf = LWM2M_CF_SENML_ETCH_CBOR,
	.parse = senml_cbor_parse,
	.write = senml_cbor_write,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_senml_one(&cbor, data, size);
}
