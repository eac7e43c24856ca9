/* What the SenML JSON and SenML CBOR fuzz targets run, for one wire format: decode (typed
 * and untyped, plain and ETCH), the path list and record layers; whatever decodes must
 * encode, and the encoding must decode again to as many nodes. */
#ifndef FUZZ_SENML_H
#define FUZZ_SENML_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_typer.h"
#include "objects/fmt_senml.h"

typedef int (*fuzz_senml_decode_ex_fn)(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		const struct senml_opts *opts, bool etch, struct lwm2m_nodes *out,
		struct lwm2m_error *err);
typedef int (*fuzz_senml_encode_ex_fn)(const struct lwm2m_nodes *in, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		const struct senml_opts *opts, bool etch, struct lwm2m_buf *out,
		struct lwm2m_error *err);
typedef int (*fuzz_senml_decode_fn)(const uint8_t *buf, size_t len, const struct lwm2m_path *req,
		const struct fmt_typer *typer, const struct fmt_limits *lim,
		struct lwm2m_nodes *out, struct lwm2m_error *err);
typedef int (*fuzz_senml_parse_fn)(const uint8_t *buf, size_t len, const struct fmt_limits *lim,
		struct senml_pack *out, struct lwm2m_error *err);
typedef int (*fuzz_senml_write_fn)(const struct senml_rec *recs, size_t n, struct lwm2m_buf *out,
		struct lwm2m_error *err);

struct fuzz_senml_codec {
	fuzz_senml_decode_ex_fn decode_ex;
	fuzz_senml_encode_ex_fn encode_ex;
	const struct senml_opts *opts;          /* of the first re-encoding */
	const struct senml_opts *zephyr;        /* of the second */
	fuzz_senml_encode_ex_fn other_encode_ex; /* the other wire format, third */
	int other_fail_ok;                      /* a failure code the other format may give (0: none) */
	fuzz_senml_decode_fn decode;
	struct lwm2m_path req;                  /* of the typed decode */
	uint16_t paths_cf;                      /* of the path list layer */
	fuzz_senml_parse_fn parse;
	fuzz_senml_write_fn write;
};

static inline void fuzz_senml_round_trip(const struct fuzz_senml_codec *c, const uint8_t *data, size_t size,
		bool etch, const struct fmt_typer *t)
{
	struct lwm2m_nodes n, again;
	struct lwm2m_error err;
	struct lwm2m_buf out;

	nodes_init(&n);
	nodes_init(&again);
	buf_init(&out, 0);
	if(c->decode_ex(data, size, NULL, t, NULL, NULL, etch, &n, &err) == 0){
		if(c->encode_ex(&n, NULL, t, NULL, c->opts, etch, &out, &err) != 0) abort();
		if(c->decode_ex(out.data, out.len, NULL, t, NULL, NULL, etch, &again, &err) != 0) abort();
		if(again.count != n.count) abort();
		buf_reset(&out);
		if(c->encode_ex(&n, NULL, t, NULL, c->zephyr, etch, &out, &err) != 0) abort();
		buf_reset(&out);
		if(c->other_encode_ex(&n, NULL, t, NULL, NULL, etch, &out, &err) != 0 &&
				(c->other_fail_ok == 0 || err.code != c->other_fail_ok)) abort();
	}
	nodes_free(&n);
	nodes_free(&again);
	buf_free(&out);
}

static inline int fuzz_senml_one(const struct fuzz_senml_codec *c, const uint8_t *data, size_t size)
{
	struct lwm2m_nodes n;
	struct lwm2m_error err;
	struct lwm2m_path *paths = NULL;
	struct senml_pack p;
	struct lwm2m_buf out;
	size_t np = 0;

	fuzz_senml_round_trip(c, data, size, false, &fuzz_typer);
	fuzz_senml_round_trip(c, data, size, true, &fuzz_typer);
	fuzz_senml_round_trip(c, data, size, false, NULL);

	nodes_init(&n);
	c->decode(data, size, &c->req, &fuzz_typer, NULL, &n, &err);
	nodes_free(&n);

	if(senml_etch_paths_decode(c->paths_cf, data, size, &paths, &np, &err) == 0){
		buf_init(&out, 0);
		if(senml_etch_paths_encode(c->paths_cf, paths, np, &out, &err) != 0) abort();
		buf_free(&out);
	}
	free(paths);

	senml_pack_init(&p);
	if(c->parse(data, size, NULL, &p, &err) == 0){
		buf_init(&out, 0);
		c->write(p.recs, p.count, &out, &err);
		buf_free(&out);
	}
	senml_pack_free(&p);
	return 0;
}

#endif
