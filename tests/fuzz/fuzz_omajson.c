/* Fuzz OMA LwM2M JSON: decode (typed and untyped) and the document layer; whatever
 * decodes must encode, and the encoding must decode again to as many nodes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_typer.h"
#include "objects/fmt_omajson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

	round_trip(data, size, &fuzz_typer);
	round_trip(data, size, NULL);

	nodes_init(&n);
	omajson_decode(data, size, &req, &fuzz_typer, NULL, &n, &err);
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
