/* Fuzz target: COSE_Encrypt0 unprotect and the MQTT wrapper (binding/cose.c), with two
 * fixed keys: the RFC 9052 C.4 key (no kid, 8-byte base IV) and a /23-style key (kid
 * "kid-1", 13-byte base IV). Every input is unprotected as a bare COSE_Encrypt0 and as an
 * MQTT payload under both keys. A refusal must be reported consistently and write
 * nothing; an accepted message must parse, look protected, and its plaintext must seal
 * again and open to the same bytes with the same IV. The input is also sealed as content
 * and must come back unchanged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binding/cose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { \
	if(!(cond)){ \
		fprintf(stderr, "fuzz_cose: %s failed at line %d\n", #cond, __LINE__); \
		abort(); \
	} \
} while(0)

static void make_keys(struct cose_key *rfc, struct cose_key *lw)
{
	static const uint8_t rfc_key[16] = {
		0x84, 0x9b, 0x57, 0x86, 0x45, 0x7c, 0x14, 0x91,
		0xbe, 0x3a, 0x76, 0xdc, 0xea, 0x6c, 0x42, 0x71,
	};
	static const uint8_t rfc_base[8] = { 0x89, 0xf5, 0x2f, 0x65, 0xa1, 0xc5, 0x80, 0x93 };
	static const uint8_t lw_base[13] = {
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac,
	};

	CHECK(cose_key_from_object23(rfc, 10, rfc_key, 16, NULL, 0, NULL) == 0);
	CHECK(cose_key_set_base_iv(rfc, rfc_base, sizeof(rfc_base), NULL) == 0);
	CHECK(cose_key_from_object23(lw, 10, (const uint8_t *)"0123456789abcdef", 16,
		(const uint8_t *)"kid-1", 5, NULL) == 0);
	CHECK(cose_key_set_base_iv(lw, lw_base, sizeof(lw_base), NULL) == 0);
}

static bool same_iv(const struct cose_iv *a, const struct cose_iv *b)
{
	if(a->kind != b->kind) return false;
	if(a->kind == COSE_IV_FULL) return memcmp(a->full, b->full, COSE_NONCE_LEN) == 0;
	return a->seq == b->seq;
}

/* Seal plain again with iv and check that it opens to the same bytes and IV. */
static void reseal(const struct cose_key *k, const struct cose_iv *iv, bool mqtt,
	unsigned flags, const uint8_t *plain, size_t len)
{
	struct lwm2m_buf out, back;
	struct lwm2m_error err;
	struct cose_iv got;

	buf_init(&out, 0);
	buf_init(&back, 0);
	if(mqtt){
		CHECK(cose_mqtt_protect(k, iv, NULL, 0, plain, len, &out, &err) == 0);
		CHECK(cose_mqtt_unprotect(k, NULL, 0, out.data, out.len, &back, &got, &err) == 0);
	}else{
		CHECK(cose_encrypt0_protect(k, iv, flags, NULL, 0, plain, len, &out, &err) == 0);
		CHECK(cose_encrypt0_unprotect(k, NULL, 0, out.data, out.len, &back, &got, &err) == 0);
	}
	CHECK(cose_looks_protected(out.data, out.len));
	CHECK(back.len == len && (len == 0 || memcmp(back.data, plain, len) == 0));
	CHECK(same_iv(iv, &got));
	buf_free(&out);
	buf_free(&back);
}

static void check_refusal(int rc, const struct lwm2m_error *err, const struct lwm2m_buf *pt)
{
	CHECK(rc < 0);
	CHECK(err->code == -rc && err->msg[0] != '\0');
	CHECK(pt->len == 0);
}

static void check_bare(const struct cose_key *k, const uint8_t *data, size_t size)
{
	struct cose_encrypt0_view v;
	struct lwm2m_error err, perr;
	struct lwm2m_buf pt;
	struct cose_iv iv;
	int rc, prc;

	memset(&err, 0, sizeof(err));
	buf_init(&pt, 0);
	prc = cose_encrypt0_parse(data, size, &v, &perr);
	rc = cose_encrypt0_unprotect(k, NULL, 0, data, size, &pt, &iv, &err);
	if(rc){
		check_refusal(rc, &err, &pt);
		if(prc) CHECK(prc == rc);   /* structure problems come first */
		buf_free(&pt);
		return;
	}
	CHECK(prc == 0);
	CHECK(cose_looks_protected(data, size));
	CHECK(v.ciphertext.len == pt.len + COSE_TAG_LEN);
	CHECK(v.iv_kind == iv.kind);
	reseal(k, &iv, false, v.tagged ? COSE_F_TAGGED : 0, pt.data, pt.len);
	buf_free(&pt);
}

static void check_mqtt(const struct cose_key *k, const uint8_t *data, size_t size)
{
	struct lwm2m_error err;
	struct lwm2m_buf pt;
	struct lwm2m_view e0;
	struct cose_iv iv;
	int rc;

	memset(&err, 0, sizeof(err));
	buf_init(&pt, 0);
	rc = cose_mqtt_unprotect(k, NULL, 0, data, size, &pt, &iv, &err);
	if(rc){
		check_refusal(rc, &err, &pt);
		CHECK(!err.has_offset || err.offset <= size);
		buf_free(&pt);
		return;
	}
	CHECK(cose_mqtt_unwrap(data, size, &e0, &err) == 0);
	CHECK(e0.ptr >= data && e0.ptr + e0.len <= data + size);
	CHECK(cose_looks_protected(data, size));
	reseal(k, &iv, true, 0, pt.data, pt.len);
	buf_free(&pt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cose_key rfc, lw;
	struct cose_iv iv;
	size_t n = size > 4096 ? 4096 : size;

	make_keys(&rfc, &lw);
	(void)cose_looks_protected(data, size);
	check_bare(&rfc, data, size);
	check_bare(&lw, data, size);
	check_mqtt(&rfc, data, size);
	check_mqtt(&lw, data, size);

	/* the input as content, under an IV taken from its first bytes */
	memset(&iv, 0, sizeof(iv));
	iv.kind = size && (data[0] & 1) ? COSE_IV_PARTIAL : COSE_IV_FULL;
	if(size) memcpy(iv.full, data, size < COSE_NONCE_LEN ? size : COSE_NONCE_LEN);
	memcpy(&iv.seq, iv.full, sizeof(iv.seq));
	reseal(&lw, &iv, size % 3 == 0, size % 2 ? COSE_F_TAGGED : 0, data, n);
	cose_key_wipe(&rfc);
	cose_key_wipe(&lw);
	return 0;
}
