/* Fuzz SenML JSON / SenML-ETCH JSON: decode (typed and untyped, plain and ETCH), the path
 * list and record layers; whatever decodes must encode, and the encoding must decode again
 * to as many nodes. */
#include <stdint.h>

#include "fuzz_senml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct senml_opts zephyr = { .layout = SENML_LAYOUT_INSTANCE, .alt_path = "/a" };

static const struct fuzz_senml_codec json = {
	.decode_ex = senml_json_decode_ex,
	.encode_ex = senml_json_encode_ex,
	.opts = NULL,
	.zephyr = &zephyr,
	.other_encode_ex = senml_cbor_encode_ex,
	.other_fail_ok = 0,                     /* CBOR carries every value */
	.decode = senml_json_decode,
	.req = { 2, { 3442, 0, 0, 0 } },
	.paths_cf = LWM2M_CF_SENML_ETCH_JSON,
	.parse = senml_json_parse,
	.write = senml_json_write,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_senml_one(&json, data, size);
}
