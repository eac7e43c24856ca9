/* Unit tests of COSE_Encrypt0 / AES-CCM-16-64-128 and the LwM2M MQTT wrapper
 * (binding/cose.c). Expected bytes come from RFC 9052 (= RFC 8152) Appendix C.4 or were
 * computed independently of this code (Python cryptography's AESCCM and cbor2); the
 * refusal vectors are written by hand here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "binding/cose.h"
#include "binding/mqtt_codec.h"

/* ------------------------------------------------------------------ helpers ---- */

struct bytes {
	uint8_t b[2048];
	size_t n;
};

/* Append the hex digits of h (spaces ignored) to out. */
static void hex_add(struct bytes *out, const char *h)
{
	while(*h){
		unsigned v;
		if(*h == ' '){
			h++;
			continue;
		}
		assert_true(sscanf(h, "%2x", &v) == 1);
		assert_true(out->n < sizeof(out->b));
		out->b[out->n++] = (uint8_t)v;
		h += 2;
	}
}

static void hex(struct bytes *out, const char *h)
{
	out->n = 0;
	hex_add(out, h);
}

static void add_byte(struct bytes *out, uint8_t c)
{
	assert_true(out->n < sizeof(out->b));
	out->b[out->n++] = c;
}

static void assert_msg_has(const struct lwm2m_error *err, const char *part)
{
	if(!strstr(err->msg, part)){
		fail_msg("error message \"%s\" lacks \"%s\"", err->msg, part);
	}
}

static void assert_buf(const struct lwm2m_buf *b, const struct bytes *want)
{
	assert_int_equal(b->len, want->n);
	assert_memory_equal(b->data, want->b, want->n);
}

/* RFC 9052 C.4: the 128-bit key "our-secret2", no kid in the examples. */
static const char RFC_KEY[] = "849b5786457c1491be3a76dcea6c4271";
static const char RFC_IV[] = "89f52f65a1c580933b5261a78c";
static const char RFC_BASE_IV[] = "89f52f65a1c58093";
static const char RFC_CONTENT[] = "This is the content.";
static const char RFC_C41[] = "d08343a1010aa1054d89f52f65a1c580933b5261a78c581c"
	"5974e1b99a3a4cc09a659aa2e9e7fff161d38ce71cb45ce460ffb569";
static const char RFC_C42[] = "d08343a1010aa1064261a7581c"
	"252a8911d465c125b6764739700f0141ed09192de139e053bd09abca";

static void rfc_key(struct cose_key *k, bool with_base_iv)
{
	struct bytes key, base;
	struct lwm2m_error err;

	hex(&key, RFC_KEY);
	assert_int_equal(cose_key_from_object23(k, 10, key.b, key.n, NULL, 0, &err), 0);
	if(with_base_iv){
		hex(&base, RFC_BASE_IV);
		assert_int_equal(cose_key_set_base_iv(k, base.b, base.n, &err), 0);
	}
}

/* A /23-style key: Key and KID are the raw octets of String resources. */
static const char LW_KEY[] = "0123456789abcdef";
static const char LW_KID[] = "kid-1";
static const char LW_IV[] = "0102030405060708090a0b0c0d";
static const char LW_BASE_IV[] = "a0a1a2a3a4a5a6a7a8a9aaabac";

static void lw_key(struct cose_key *k)
{
	struct bytes base;
	struct lwm2m_error err;

	assert_int_equal(cose_key_from_object23(k, 10, (const uint8_t *)LW_KEY, 16,
		(const uint8_t *)LW_KID, strlen(LW_KID), &err), 0);
	hex(&base, LW_BASE_IV);
	assert_int_equal(cose_key_set_base_iv(k, base.b, base.n, &err), 0);
}

/* Independently computed vectors under lw_key (spec 1.12 messages as plaintext). */
static const char READ_MSG[] = "a3010902183805662f332f302f30";      /* Read /3/0/0 tok 56 */
static const char OBS_RESULT[] = "a402184d074239351218cd1300";       /* 205 tok 77 "95" */
static const char LW_E0_FULL[] = "8343a1010aa204456b69642d31054d0102030405060708090a0b0c0d"
	"56e10131f41bfebbd52581df5e4bed9886eb4579732cf4";
static const char LW_WRAP_FULL[] = "a20158348183"
	"43a1010aa204456b69642d31054d0102030405060708090a0b0c0d"
	"56e10131f41bfebbd52581df5e4bed9886eb4579732cf402a0";
static const char LW_E0_PARTIAL[] = "8343a1010aa204456b69642d3106410555"
	"52f07d765e2c571c79e99b0098fd2a1781b292a1b1";
static const char LW_WRAP_PARTIAL[] = "a2015827818343a1010aa204456b69642d3106410555"
	"52f07d765e2c571c79e99b0098fd2a1781b292a1b102a0";
static const char LW_AAD[] = "tenant-a/lwm2m/rd/ep1";
static const char LW_E0_AAD[] = "8343a1010aa204456b69642d31054d0102030405060708090a0b0c0d"
	"56e10131f41bfebbd52581df5e4bedb75e1616bca2b7d1";
/* ciphertext+tag of READ_MSG under protected h'a1010a', LW_IV, no external AAD */
static const char LW_CT[] = "56e10131f41bfebbd52581df5e4bed9886eb4579732cf4";
static const char KID_HDR[] = "04456b69642d31";
static const char IV_HDR[] = "054d0102030405060708090a0b0c0d";

static struct cose_iv full_iv(const char *h)
{
	struct cose_iv iv;
	struct bytes b;

	memset(&iv, 0, sizeof(iv));
	hex(&b, h);
	assert_int_equal(b.n, COSE_NONCE_LEN);
	iv.kind = COSE_IV_FULL;
	memcpy(iv.full, b.b, COSE_NONCE_LEN);
	return iv;
}

static struct cose_iv partial_iv(uint64_t seq)
{
	struct cose_iv iv;

	memset(&iv, 0, sizeof(iv));
	iv.kind = COSE_IV_PARTIAL;
	iv.seq = seq;
	return iv;
}

/* Unprotect m under k; on success compare the plaintext with want_hex. */
static int open_bare(const struct cose_key *k, const struct bytes *m, struct lwm2m_buf *pt,
	struct cose_iv *iv, struct lwm2m_error *err)
{
	memset(err, 0, sizeof(*err));
	return cose_encrypt0_unprotect(k, NULL, 0, m->b, m->n, pt, iv, err);
}

static void assert_opens_to(const struct cose_key *k, const struct bytes *m,
	const char *want_hex)
{
	struct lwm2m_buf pt;
	struct lwm2m_error err;
	struct bytes want;
	int rc;

	hex(&want, want_hex);
	buf_init(&pt, 0);
	rc = open_bare(k, m, &pt, NULL, &err);
	if(rc) fail_msg("unprotect failed: %s", err.msg);
	assert_buf(&pt, &want);
	buf_free(&pt);
}

/* Unprotect must refuse m with rc and a message holding part, writing nothing. */
static void assert_refused(const struct cose_key *k, const struct bytes *m, int rc,
	const char *part)
{
	struct lwm2m_buf pt;
	struct lwm2m_error err;
	int got;

	buf_init(&pt, 0);
	got = open_bare(k, m, &pt, NULL, &err);
	if(got != rc){
		fail_msg("expected %d, got %d (%s) for %zu bytes", rc, got, err.msg, m->n);
	}
	assert_int_equal(err.code, -rc);
	assert_msg_has(&err, part);
	assert_int_equal(pt.len, 0);
	buf_free(&pt);
}

static void assert_refused_hex(const struct cose_key *k, const char *h, int rc,
	const char *part)
{
	struct bytes m;

	hex(&m, h);
	assert_refused(k, &m, rc, part);
}

static void assert_mqtt_refused(const struct cose_key *k, const char *h, int rc,
	const char *part)
{
	struct lwm2m_buf pt;
	struct lwm2m_error err = { 0 };
	struct bytes m;
	int got;

	hex(&m, h);
	buf_init(&pt, 0);
	got = cose_mqtt_unprotect(k, NULL, 0, m.b, m.n, &pt, NULL, &err);
	if(got != rc) fail_msg("expected %d, got %d (%s)", rc, got, err.msg);
	assert_msg_has(&err, part);
	assert_int_equal(pt.len, 0);
	buf_free(&pt);
}

/* ---------------------------------------------------------- RFC 9052 C.4 ------ */

static void test_rfc_c41_protect_exact(void **state)
{
	struct cose_key k;
	struct cose_iv iv = full_iv(RFC_IV);
	struct lwm2m_buf out;
	struct lwm2m_error err;
	struct bytes want;

	(void)state;
	rfc_key(&k, false);
	buf_init(&out, 0);
	assert_int_equal(cose_encrypt0_protect(&k, &iv, COSE_F_TAGGED, NULL, 0,
		(const uint8_t *)RFC_CONTENT, strlen(RFC_CONTENT), &out, &err), 0);
	hex(&want, RFC_C41);
	assert_buf(&out, &want);
	/* untagged: the same bytes without the leading d0 */
	buf_reset(&out);
	assert_int_equal(cose_encrypt0_protect(&k, &iv, 0, NULL, 0,
		(const uint8_t *)RFC_CONTENT, strlen(RFC_CONTENT), &out, &err), 0);
	assert_int_equal(out.len, want.n - 1);
	assert_memory_equal(out.data, want.b + 1, want.n - 1);
	buf_free(&out);
}

static void test_rfc_c41_unprotect(void **state)
{
	struct cose_key k;
	struct cose_iv iv, want_iv = full_iv(RFC_IV);
	struct lwm2m_buf pt;
	struct lwm2m_error err;
	struct bytes m;

	(void)state;
	rfc_key(&k, false);
	hex(&m, RFC_C41);
	buf_init(&pt, 0);
	assert_int_equal(open_bare(&k, &m, &pt, &iv, &err), 0);
	assert_int_equal(pt.len, strlen(RFC_CONTENT));
	assert_memory_equal(pt.data, RFC_CONTENT, pt.len);
	assert_int_equal(iv.kind, COSE_IV_FULL);
	assert_memory_equal(iv.full, want_iv.full, COSE_NONCE_LEN);
	/* the untagged form opens too */
	buf_reset(&pt);
	assert_int_equal(cose_encrypt0_unprotect(&k, NULL, 0, m.b + 1, m.n - 1, &pt, NULL, &err),
		0);
	assert_int_equal(pt.len, strlen(RFC_CONTENT));
	buf_free(&pt);
}

static void test_rfc_c42_partial_iv(void **state)
{
	struct cose_key k;
	struct cose_iv iv = partial_iv(0x61a7), got;
	struct lwm2m_buf out, pt;
	struct lwm2m_error err;
	struct bytes want;

	(void)state;
	rfc_key(&k, true);
	buf_init(&out, 0);
	buf_init(&pt, 0);
	assert_int_equal(cose_encrypt0_protect(&k, &iv, COSE_F_TAGGED, NULL, 0,
		(const uint8_t *)RFC_CONTENT, strlen(RFC_CONTENT), &out, &err), 0);
	hex(&want, RFC_C42);
	assert_buf(&out, &want);
	assert_int_equal(open_bare(&k, &want, &pt, &got, &err), 0);
	assert_int_equal(pt.len, strlen(RFC_CONTENT));
	assert_memory_equal(pt.data, RFC_CONTENT, pt.len);
	assert_int_equal(got.kind, COSE_IV_PARTIAL);
	assert_int_equal(got.seq, 0x61a7);
	/* without the base IV the same key refuses the Partial IV */
	rfc_key(&k, false);
	assert_refused(&k, &want, -LWM2M_ENOTSUP, "no base IV");
	buf_free(&out);
	buf_free(&pt);
}

static void test_parse_view(void **state)
{
	struct cose_encrypt0_view v;
	struct lwm2m_error err;
	struct bytes m, ct;

	(void)state;
	hex(&m, LW_E0_FULL);
	assert_int_equal(cose_encrypt0_parse(m.b, m.n, &v, &err), 0);
	assert_false(v.tagged);
	assert_int_equal(v.protected_hdr.len, 3);
	assert_memory_equal(v.protected_hdr.ptr, "\xa1\x01\x0a", 3);
	assert_true(v.has_kid);
	assert_int_equal(v.kid.len, 5);
	assert_memory_equal(v.kid.ptr, "kid-1", 5);
	assert_int_equal(v.iv_kind, COSE_IV_FULL);
	assert_int_equal(v.iv.len, 13);
	assert_int_equal(v.iv.ptr[0], 0x01);
	hex(&ct, LW_CT);
	assert_int_equal(v.ciphertext.len, ct.n - 1);
	assert_memory_equal(v.ciphertext.ptr, ct.b + 1, ct.n - 1);

	hex(&m, RFC_C42);
	assert_int_equal(cose_encrypt0_parse(m.b, m.n, &v, &err), 0);
	assert_true(v.tagged);
	assert_false(v.has_kid);
	assert_int_equal(v.iv_kind, COSE_IV_PARTIAL);
	assert_int_equal(v.iv.len, 2);
	assert_int_equal(v.seq, 0x61a7);
}

/* ------------------------------------------------------- LwM2M over MQTT ------ */

static void test_mqtt_wrapper_vectors(void **state)
{
	struct cose_key k;
	struct cose_iv iv = full_iv(LW_IV), got;
	struct lwm2m_buf out, pt;
	struct lwm2m_error err;
	struct bytes msg, want;
	struct lwm2m_op op;

	(void)state;
	lw_key(&k);
	buf_init(&out, 0);
	buf_init(&pt, 0);
	hex(&msg, READ_MSG);
	assert_int_equal(cose_mqtt_protect(&k, &iv, NULL, 0, msg.b, msg.n, &out, &err), 0);
	hex(&want, LW_WRAP_FULL);
	assert_buf(&out, &want);
	/* the MQTT codec sees a protected message and leaves it to this module */
	assert_int_equal(mqtt_codec_decode(out.data, out.len, LWM2M_IFACE_RD, NULL, &op, &err),
		-LWM2M_ENOTSUP);
	assert_msg_has(&err, "COSE-protected");
	assert_true(cose_looks_protected(out.data, out.len));
	assert_int_equal(cose_mqtt_unprotect(&k, NULL, 0, out.data, out.len, &pt, &got, &err), 0);
	assert_buf(&pt, &msg);
	assert_int_equal(got.kind, COSE_IV_FULL);
	assert_memory_equal(got.full, iv.full, COSE_NONCE_LEN);
	assert_int_equal(mqtt_codec_decode(pt.data, pt.len, LWM2M_IFACE_RD, NULL, &op, &err), 0);
	assert_int_equal(op.kind, LWM2M_OP_READ);
	assert_int_equal(op.token, 56);

	/* Partial IV 5 with a 13-byte base IV */
	buf_reset(&out);
	buf_reset(&pt);
	iv = partial_iv(5);
	hex(&msg, OBS_RESULT);
	assert_int_equal(cose_mqtt_protect(&k, &iv, NULL, 0, msg.b, msg.n, &out, &err), 0);
	hex(&want, LW_WRAP_PARTIAL);
	assert_buf(&out, &want);
	assert_int_equal(cose_mqtt_unprotect(&k, NULL, 0, out.data, out.len, &pt, &got, &err), 0);
	assert_buf(&pt, &msg);
	assert_int_equal(got.kind, COSE_IV_PARTIAL);
	assert_int_equal(got.seq, 5);

	/* the bare COSE_Encrypt0 inside is the same vector */
	buf_reset(&out);
	assert_int_equal(cose_encrypt0_protect(&k, &iv, 0, NULL, 0, msg.b, msg.n, &out, &err), 0);
	hex(&want, LW_E0_PARTIAL);
	assert_buf(&out, &want);
	buf_free(&out);
	buf_free(&pt);
}

static void test_mqtt_unwrap_view(void **state)
{
	struct lwm2m_view e0;
	struct lwm2m_error err;
	struct bytes m, want;

	(void)state;
	hex(&m, LW_WRAP_FULL);
	assert_int_equal(cose_mqtt_unwrap(m.b, m.n, &e0, &err), 0);
	hex(&want, LW_E0_FULL);
	assert_int_equal(e0.len, want.n);
	assert_memory_equal(e0.ptr, want.b, want.n);
	assert_ptr_equal(e0.ptr, m.b + 5);
}

static void test_external_aad(void **state)
{
	struct cose_key k;
	struct cose_iv iv = full_iv(LW_IV);
	struct lwm2m_buf out, pt;
	struct lwm2m_error err;
	struct bytes m, msg;

	(void)state;
	lw_key(&k);
	buf_init(&out, 0);
	buf_init(&pt, 0);
	hex(&msg, READ_MSG);
	assert_int_equal(cose_encrypt0_protect(&k, &iv, 0, (const uint8_t *)LW_AAD,
		strlen(LW_AAD), msg.b, msg.n, &out, &err), 0);
	hex(&m, LW_E0_AAD);
	assert_buf(&out, &m);
	assert_int_equal(cose_encrypt0_unprotect(&k, (const uint8_t *)LW_AAD, strlen(LW_AAD),
		m.b, m.n, &pt, NULL, &err), 0);
	assert_buf(&pt, &msg);
	/* missing or different external AAD: authentication fails */
	assert_refused(&k, &m, -LWM2M_EINVAL, "authentication failed");
	buf_reset(&pt);
	assert_int_equal(cose_encrypt0_unprotect(&k, (const uint8_t *)LW_AAD, 5, m.b, m.n, &pt,
		NULL, &err), -LWM2M_EINVAL);
	assert_msg_has(&err, "authentication failed");
	assert_int_equal(pt.len, 0);
	/* and a message sealed without AAD does not open with one */
	hex(&m, LW_E0_FULL);
	assert_int_equal(cose_encrypt0_unprotect(&k, (const uint8_t *)LW_AAD, strlen(LW_AAD),
		m.b, m.n, &pt, NULL, &err), -LWM2M_EINVAL);
	buf_free(&out);
	buf_free(&pt);
}

static void test_wrong_key(void **state)
{
	struct cose_key k;
	struct lwm2m_error err;
	struct bytes m;

	(void)state;
	assert_int_equal(cose_key_from_object23(&k, 10, (const uint8_t *)"0123456789abcdeF", 16,
		(const uint8_t *)LW_KID, strlen(LW_KID), &err), 0);
	hex(&m, LW_E0_FULL);
	assert_refused(&k, &m, -LWM2M_EINVAL, "authentication failed");
}

/* --------------------------------------------------- headers that are read ------ */

/* [h'a1010a', {unprotected}, ct]: the unprotected bucket is not authenticated, so the
 * ciphertext of LW_E0_FULL still opens when only that bucket changes. */
static void with_unprotected(struct bytes *m, const char *unprot_hex)
{
	hex(m, "8343a1010a");
	hex_add(m, unprot_hex);
	hex_add(m, LW_CT);
}

static void test_headers_accepted(void **state)
{
	struct cose_key k;
	struct bytes m;
	char h[512];

	(void)state;
	lw_key(&k);
	/* labels in the other order, unknown integer and text labels, content type */
	snprintf(h, sizeof(h), "a2%s%s", IV_HDR, KID_HDR);
	with_unprotected(&m, h);
	assert_opens_to(&k, &m, READ_MSG);
	snprintf(h, sizeof(h), "a6%s0318 3c 1907d0 f6 3a0001869f 82 01 a1 61 61 42 0102"
		" 63 78 79 7a 9f f5 f4 ff %s", KID_HDR, IV_HDR);
	with_unprotected(&m, h);
	assert_opens_to(&k, &m, READ_MSG);
	/* indefinite map; unknown value nested up to the limit (map = level 2, 6 more) */
	snprintf(h, sizeof(h), "bf%s 07 818181818181 00 %s ff", KID_HDR, IV_HDR);
	with_unprotected(&m, h);
	assert_opens_to(&k, &m, READ_MSG);
	/* tags of every head size inside an ignored value */
	snprintf(h, sizeof(h), "a3%s07 d0 d4 c6 d81b d90100 da00010000 db0000000100000000 01 %s",
		KID_HDR, IV_HDR);
	with_unprotected(&m, h);
	assert_opens_to(&k, &m, READ_MSG);
	/* tag 16 written with a one-byte argument */
	hex(&m, "d810");
	hex_add(&m, LW_E0_FULL);
	assert_opens_to(&k, &m, READ_MSG);
	/* indefinite array, tagged */
	hex(&m, "d09f43a1010aa2");
	hex_add(&m, KID_HDR);
	hex_add(&m, IV_HDR);
	hex_add(&m, LW_CT);
	hex_add(&m, "ff");
	assert_opens_to(&k, &m, READ_MSG);
	/* protected header with content type and an unknown label (computed externally) */
	hex(&m, "8350a3010a03183c39ffff8201a161614162a204456b69642d31054d0102030405060708090a0b"
		"0c0d56e10131f41bfebbd52581df5e4bed55ac5976dcbbdb19");
	assert_opens_to(&k, &m, READ_MSG);
	/* kid in the protected header */
	hex(&m, "834aa2010a04456b69642d31a1054d0102030405060708090a0b0c0d56e10131f41bfebbd525"
		"81df5e4bed0e41ecd79c9d5509");
	assert_opens_to(&k, &m, READ_MSG);
}

/* ----------------------------------------------------------------- refusals ---- */

static void test_refused_algorithm(void **state)
{
	struct cose_key k;
	struct bytes m;
	char h[256];

	(void)state;
	lw_key(&k);
	snprintf(h, sizeof(h), "8343a1010ba2%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_ENOTSUP, "alg 11");
	snprintf(h, sizeof(h), "8343a10126a2%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_ENOTSUP, "alg -7 ");
	snprintf(h, sizeof(h), "8347a1016441313238a2%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_ENOTSUP, "\"A128\"");
	snprintf(h, sizeof(h), "8345a101f94900a2%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "alg: expected an integer");
	/* alg only in the unprotected bucket, missing, or in both */
	snprintf(h, sizeof(h), "8340a3010a%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "must be in the protected header");
	snprintf(h, sizeof(h), "8340a2%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "no alg");
	snprintf(h, sizeof(h), "8343a10302a2%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "no alg");
	snprintf(h, sizeof(h), "8343a1010aa3010a%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "in both");
	/* crit */
	snprintf(h, sizeof(h), "8346a2010a028101a2%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_ENOTSUP, "crit");
	/* parse alone refuses a foreign algorithm too */
	snprintf(h, sizeof(h), "8343a10101a2%s%s%s", KID_HDR, IV_HDR, LW_CT);
	hex(&m, h);
	{
		struct cose_encrypt0_view v;
		struct lwm2m_error err;
		assert_int_equal(cose_encrypt0_parse(m.b, m.n, &v, &err), -LWM2M_ENOTSUP);
	}
}

static void test_refused_iv(void **state)
{
	struct cose_key k, nobase;
	struct lwm2m_error err;
	char h[256];

	(void)state;
	lw_key(&k);
	assert_int_equal(cose_key_from_object23(&nobase, 10, (const uint8_t *)LW_KEY, 16,
		(const uint8_t *)LW_KID, strlen(LW_KID), &err), 0);
	snprintf(h, sizeof(h), "8343a1010aa1%s%s", KID_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "no IV (5) and no Partial IV");
	snprintf(h, sizeof(h), "8343a1010aa3%s%s064101%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "both IV (5) and Partial IV (6)");
	snprintf(h, sizeof(h), "8343a1010aa2%s054c0102030405060708090a0b0c%s", KID_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "has 12 bytes");
	snprintf(h, sizeof(h), "8343a1010aa2%s054e0102030405060708090a0b0c0d0e%s", KID_HDR,
		LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "has 14 bytes");
	snprintf(h, sizeof(h), "8343a1010aa2%s056d41424344454647484950515253%s", KID_HDR,
		LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "IV (5): expected a byte string");
	snprintf(h, sizeof(h), "8343a1010aa2%s055f4d0102030405060708090a0b0c0dff%s", KID_HDR,
		LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "indefinite-length");
	snprintf(h, sizeof(h), "8343a1010aa2%s0640%s", KID_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "is empty");
	snprintf(h, sizeof(h), "8343a1010aa2%s06420001%s", KID_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "leading zero");
	snprintf(h, sizeof(h), "8343a1010aa2%s0649010203040506070809%s", KID_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_ERANGE, "9 bytes");
	snprintf(h, sizeof(h), "8343a1010aa2%s064105%s", KID_HDR, LW_CT);
	assert_refused_hex(&nobase, h, -LWM2M_ENOTSUP, "no base IV");
	/* with the base IV it is well-formed and reaches the crypto */
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "authentication failed");
}

static void test_refused_kid(void **state)
{
	struct cose_key k, rfc;
	struct lwm2m_error err;
	struct bytes m;
	char h[512];

	(void)state;
	lw_key(&k);
	rfc_key(&rfc, false);
	snprintf(h, sizeof(h), "8343a1010aa204456b69642d32%s%s", IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_ENOENT, "does not name this key");
	snprintf(h, sizeof(h), "8343a1010aa204446b69642d%s%s", IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_ENOENT, "does not name this key");
	snprintf(h, sizeof(h), "8343a1010aa1%s%s", IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_ENOENT, "no kid");
	assert_refused_hex(&rfc, LW_E0_FULL, -LWM2M_ENOENT, "the key has no kid");
	snprintf(h, sizeof(h), "8343a1010aa204656b69642d31%s%s", IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "kid (4): expected a byte string");
	/* a kid longer than any key's */
	hex(&m, "8343a1010aa2045841");
	for(int i = 0; i < 65; i++) add_byte(&m, 'k');
	hex_add(&m, IV_HDR);
	hex_add(&m, LW_CT);
	assert_refused(&k, &m, -LWM2M_ENOENT, "does not name this key");
	/* the error offset points at the kid, in the payload for the MQTT wrapper */
	snprintf(h, sizeof(h), "a2015834818343a1010aa204456b69642d32%s%s02a0", IV_HDR, LW_CT);
	hex(&m, h);
	{
		struct lwm2m_buf pt;
		buf_init(&pt, 0);
		assert_int_equal(cose_mqtt_unprotect(&k, NULL, 0, m.b, m.n, &pt, NULL, &err),
			-LWM2M_ENOENT);
		assert_true(err.has_offset);
		assert_int_equal(err.offset, 13);
		buf_free(&pt);
	}
}

static void test_refused_labels(void **state)
{
	struct cose_key k;
	char h[256];

	(void)state;
	lw_key(&k);
	snprintf(h, sizeof(h), "8343a1010aa3%s%s%s", KID_HDR, KID_HDR, IV_HDR);
	strcat(h, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "duplicate label 4");
	snprintf(h, sizeof(h), "8345a2010a010aa2%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "duplicate label 1");
	snprintf(h, sizeof(h), "8343a1010aa3%s%s410000%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "not an integer or text string");
	snprintf(h, sizeof(h), "8343a1010aa3%s%sf500%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "not an integer or text string");
	/* kid both protected and unprotected */
	snprintf(h, sizeof(h), "834aa2010a04456b69642d31a2%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "in both");
}

static void test_refused_structure(void **state)
{
	struct cose_key k;
	struct bytes m;
	char h[512];

	(void)state;
	lw_key(&k);
	/* trailing bytes after the message, inside the protected header */
	snprintf(h, sizeof(h), "%s00", LW_E0_FULL);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "1 trailing bytes after COSE_Encrypt0");
	snprintf(h, sizeof(h), "8344a1010a00a2%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "protected header: 1 trailing");
	snprintf(h, sizeof(h), "8341 0a a2%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "protected header: expected a map");
	snprintf(h, sizeof(h), "83a1010aa2%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "protected header: expected a byte string");
	snprintf(h, sizeof(h), "83 5f43a1010aff a2%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "indefinite-length");
	snprintf(h, sizeof(h), "8343a1010a80%s", LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "unprotected header: expected a map");
	/* ciphertext */
	snprintf(h, sizeof(h), "8343a1010aa2%s%sf6", KID_HDR, IV_HDR);
	assert_refused_hex(&k, h, -LWM2M_ENOTSUP, "detached");
	snprintf(h, sizeof(h), "8343a1010aa2%s%s4701020304050607", KID_HDR, IV_HDR);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "shorter than the 8-byte tag");
	snprintf(h, sizeof(h), "8343a1010aa2%s%s680102030405060708", KID_HDR, IV_HDR);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "ciphertext: expected a byte string");
	snprintf(h, sizeof(h), "8343a1010aa2%s%s5f%sff", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "indefinite-length");
	/* the array */
	snprintf(h, sizeof(h), "8443a1010aa2%s%s%s80", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_ENOTSUP, "COSE_Encrypt (with recipients)");
	snprintf(h, sizeof(h), "8243a1010aa2%s%s", KID_HDR, IV_HDR);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "array of 2");
	snprintf(h, sizeof(h), "9f43a1010aa2%s%sff", KID_HDR, IV_HDR);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "has 2 elements");
	snprintf(h, sizeof(h), "9f43a1010aa2%s%s%s80ff", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "more than 3 elements");
	snprintf(h, sizeof(h), "d1%s", LW_E0_FULL);
	assert_refused_hex(&k, h, -LWM2M_ENOTSUP, "tag 17");
	snprintf(h, sizeof(h), "d818%s", LW_E0_FULL);
	assert_refused_hex(&k, h, -LWM2M_ENOTSUP, "tag 24");
	snprintf(h, sizeof(h), "d0d0%s", LW_E0_FULL);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "second tag");
	assert_refused_hex(&k, "a0", -LWM2M_EINVAL, "expected the COSE_Encrypt0 array");
	assert_refused_hex(&k, "", -LWM2M_EINVAL, "truncated");
	assert_refused_hex(&k, "8343a1010abbffffffffffffffff", -LWM2M_EINVAL, "exceeds the input");
	assert_refused_hex(&k, "8343a1010aa21c0000000000", -LWM2M_EINVAL, "malformed CBOR");
	snprintf(h, sizeof(h), "8343a1010abf%s%sff ff%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "unexpected break");
	/* a protected header above COSE_PROTECTED_MAX */
	hex(&m, "83590101");
	for(int i = 0; i < 257; i++) add_byte(&m, 0);
	hex_add(&m, "a2");
	hex_add(&m, KID_HDR);
	hex_add(&m, IV_HDR);
	hex_add(&m, LW_CT);
	assert_refused(&k, &m, -LWM2M_ETOOBIG, "at most 256");
}

static void test_refused_nesting(void **state)
{
	struct cose_key k;
	struct bytes m;
	char h[512];

	(void)state;
	lw_key(&k);
	/* unprotected map = level 2; 7 nested arrays reach level 9 */
	snprintf(h, sizeof(h), "a3%s07 81818181818181 00 %s", KID_HDR, IV_HDR);
	with_unprotected(&m, h);
	assert_refused(&k, &m, -LWM2M_EINVAL, "nested deeper than 8");
	/* the same through maps and tags, and inside the protected header (map = level 1) */
	snprintf(h, sizeof(h), "a3%s07 a101a101a101a101a101a101a10100 %s", KID_HDR, IV_HDR);
	with_unprotected(&m, h);
	assert_refused(&k, &m, -LWM2M_EINVAL, "nested deeper than 8");
	snprintf(h, sizeof(h), "a3%s07 c1c2c3 8181818181818100 %s", KID_HDR, IV_HDR);
	with_unprotected(&m, h);
	assert_refused(&k, &m, -LWM2M_EINVAL, "nested deeper than 8");
	snprintf(h, sizeof(h), "834da2010a07818181818181818100a2%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_refused_hex(&k, h, -LWM2M_EINVAL, "nested deeper than 8");
	/* malformed content inside an ignored value: reserved tag heads, truncated tag */
	snprintf(h, sizeof(h), "a3%s07 dc00 %s", KID_HDR, IV_HDR);
	with_unprotected(&m, h);
	assert_refused(&k, &m, -LWM2M_EINVAL, "malformed CBOR (initial byte 0xdc)");
	snprintf(h, sizeof(h), "a3%s07 df00 %s", KID_HDR, IV_HDR);
	with_unprotected(&m, h);
	assert_refused(&k, &m, -LWM2M_EINVAL, "malformed CBOR (initial byte 0xdf)");
	assert_refused_hex(&k, "db00000000", -LWM2M_EINVAL, "truncated CBOR");
	assert_refused_hex(&k, "d8", -LWM2M_EINVAL, "truncated CBOR");
	/* malformed content inside an ignored value */
	snprintf(h, sizeof(h), "a3%s07 5f01ff %s", KID_HDR, IV_HDR);
	with_unprotected(&m, h);
	assert_refused(&k, &m, -LWM2M_EINVAL, "malformed CBOR");
	snprintf(h, sizeof(h), "a3%s07 bf01ff %s", KID_HDR, IV_HDR);
	with_unprotected(&m, h);
	assert_refused(&k, &m, -LWM2M_EINVAL, "ends after a key");
}

static void test_refused_mqtt_wrapper(void **state)
{
	struct cose_key k;
	char h[512];

	(void)state;
	lw_key(&k);
	snprintf(h, sizeof(h), "a1015834818343a1010aa2%s%s%s", KID_HDR, IV_HDR, LW_CT);
	assert_mqtt_refused(&k, h, -LWM2M_EINVAL, "lacks key 2");
	assert_mqtt_refused(&k, "a102a0", -LWM2M_EINVAL, "lacks key 1");
	snprintf(h, sizeof(h), "a2015834818343a1010aa2%s%s%s02a10109", KID_HDR, IV_HDR, LW_CT);
	assert_mqtt_refused(&k, h, -LWM2M_EINVAL, "must be the empty map");
	snprintf(h, sizeof(h), "a2015834818343a1010aa2%s%s%s02f6", KID_HDR, IV_HDR, LW_CT);
	assert_mqtt_refused(&k, h, -LWM2M_EINVAL, "must be the empty map");
	snprintf(h, sizeof(h), "a3015834818343a1010aa2%s%s%s02a00300", KID_HDR, IV_HDR, LW_CT);
	assert_mqtt_refused(&k, h, -LWM2M_EINVAL, "is not 1 or 2");
	assert_mqtt_refused(&k, "a301f601f602a0", -LWM2M_EINVAL, "not COSE-protected");
	assert_mqtt_refused(&k, "a201f602a3010902183805662f332f302f30", -LWM2M_EINVAL,
		"not COSE-protected");
	assert_mqtt_refused(&k, "a3010902183805662f332f302f30", -LWM2M_EINVAL,
		"expected a byte string");
	assert_mqtt_refused(&k, "a201410102a0a0", -LWM2M_EINVAL, "trailing bytes after the wrapper");
	assert_mqtt_refused(&k, "a2014180 02a0", -LWM2M_EINVAL, "holds no COSE message");
	assert_mqtt_refused(&k, "a201439f ff00 02a0", -LWM2M_EINVAL, "holds no COSE message");
	assert_mqtt_refused(&k, "a2014382f6f602a0", -LWM2M_ENOTSUP, "one is supported");
	assert_mqtt_refused(&k, "a201449ff6f6ff02a0", -LWM2M_ENOTSUP, "one is supported");
	assert_mqtt_refused(&k, "a2014281f602a0", -LWM2M_EINVAL, "expected the COSE_Encrypt0 array");
	assert_mqtt_refused(&k, "a20142a00002a0", -LWM2M_EINVAL, "msg-wrapper: expected an array");
	assert_mqtt_refused(&k, "a2014381f60002a0", -LWM2M_EINVAL, "msg-wrapper: 1 trailing");
	assert_mqtt_refused(&k, "a2015f4181ff02a0", -LWM2M_EINVAL, "indefinite-length");
	assert_mqtt_refused(&k, "83", -LWM2M_EINVAL, "expected a map");
	/* a bare COSE_Encrypt0 is not the MQTT payload shape */
	assert_mqtt_refused(&k, LW_E0_FULL, -LWM2M_EINVAL, "expected a map");
	/* the COSE message inside is checked like a bare one */
	snprintf(h, sizeof(h), "a2015834818343a1010ba2%s%s%s02a0", KID_HDR, IV_HDR, LW_CT);
	assert_mqtt_refused(&k, h, -LWM2M_ENOTSUP, "alg 11");
}

static void test_mqtt_wrapper_shapes_accepted(void **state)
{
	struct cose_key k;
	struct lwm2m_buf pt;
	struct lwm2m_error err;
	struct bytes m, want;
	char h[512];
	const char *shapes[] = {
		/* key 2 first */
		"a202a0015834818343a1010aa2%s%s%s",
		/* indefinite outer map and indefinite empty key 2 */
		"bf015834818343a1010aa2%s%s%s02bfffff",
		/* indefinite msg-wrapper array, tagged COSE message */
		"a20158369fd08343a1010aa2%s%s%sff02a0",
	};

	(void)state;
	lw_key(&k);
	hex(&want, READ_MSG);
	for(size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++){
		snprintf(h, sizeof(h), shapes[i], KID_HDR, IV_HDR, LW_CT);
		hex(&m, h);
		buf_init(&pt, 0);
		if(cose_mqtt_unprotect(&k, NULL, 0, m.b, m.n, &pt, NULL, &err) != 0){
			fail_msg("shape %zu: %s", i, err.msg);
		}
		assert_buf(&pt, &want);
		assert_true(cose_looks_protected(m.b, m.n));
		buf_free(&pt);
	}
}

/* Every proper prefix of a valid message is refused. */
static void test_truncation_every_prefix(void **state)
{
	struct cose_key k;
	struct lwm2m_buf pt;
	struct lwm2m_error err;
	const char *msgs[] = { LW_E0_FULL, LW_E0_PARTIAL, LW_WRAP_FULL, LW_WRAP_PARTIAL };
	struct bytes m;

	(void)state;
	lw_key(&k);
	buf_init(&pt, 0);
	for(size_t i = 0; i < 4; i++){
		bool wrapped = i >= 2;
		hex(&m, msgs[i]);
		for(size_t n = 0; n < m.n; n++){
			int rc = wrapped ? cose_mqtt_unprotect(&k, NULL, 0, m.b, n, &pt, NULL, &err)
				: cose_encrypt0_unprotect(&k, NULL, 0, m.b, n, &pt, NULL, &err);
			if(rc == 0) fail_msg("message %zu: prefix of %zu bytes accepted", i, n);
			assert_int_equal(pt.len, 0);
		}
		assert_int_equal(wrapped ? cose_mqtt_unprotect(&k, NULL, 0, m.b, m.n, &pt, NULL, &err)
			: cose_encrypt0_unprotect(&k, NULL, 0, m.b, m.n, &pt, NULL, &err), 0);
		buf_reset(&pt);
	}
	buf_free(&pt);
}

/* Flipping any single bit of a protected message makes it fail. */
static void test_bit_flips_refused(void **state)
{
	struct cose_key k, rfc;
	struct lwm2m_buf pt;
	struct lwm2m_error err;
	const char *msgs[] = { LW_E0_FULL, LW_E0_PARTIAL, LW_E0_AAD, RFC_C41, RFC_C42,
		LW_WRAP_FULL, LW_WRAP_PARTIAL };
	struct bytes m;

	(void)state;
	lw_key(&k);
	rfc_key(&rfc, true);
	buf_init(&pt, 0);
	for(size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++){
		const struct cose_key *key = i == 3 || i == 4 ? &rfc : &k;
		bool wrapped = i >= 5;
		const uint8_t *aad = i == 2 ? (const uint8_t *)LW_AAD : NULL;
		size_t aad_len = i == 2 ? strlen(LW_AAD) : 0;

		hex(&m, msgs[i]);
		for(size_t byte = 0; byte < m.n; byte++){
			for(unsigned bit = 0; bit < 8; bit++){
				int rc;
				m.b[byte] ^= (uint8_t)(1u << bit);
				rc = wrapped ? cose_mqtt_unprotect(key, aad, aad_len, m.b, m.n, &pt, NULL, &err)
					: cose_encrypt0_unprotect(key, aad, aad_len, m.b, m.n, &pt, NULL, &err);
				if(rc == 0){
					fail_msg("message %zu: flip of bit %u in byte %zu accepted", i, bit,
						byte);
				}
				assert_true(rc < 0);
				assert_int_equal(err.code, -rc);
				assert_int_equal(pt.len, 0);
				m.b[byte] ^= (uint8_t)(1u << bit);
			}
		}
		/* and unflipped it still opens */
		assert_int_equal(wrapped ? cose_mqtt_unprotect(key, aad, aad_len, m.b, m.n, &pt, NULL,
			&err) : cose_encrypt0_unprotect(key, aad, aad_len, m.b, m.n, &pt, NULL, &err), 0);
		buf_reset(&pt);
	}
	buf_free(&pt);
}

/* ------------------------------------------------------------- round trips ---- */

static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
	uint32_t x = 2463534242u ^ seed;

	for(size_t i = 0; i < n; i++){
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

/* Protect and unprotect plain[0..n) with one IV; check the Partial IV's encoded size. */
static void round_trip(const struct cose_key *k, const struct cose_iv *iv, unsigned flags,
	const uint8_t *aad, size_t aad_len, const uint8_t *plain, size_t n, bool mqtt)
{
	struct lwm2m_buf out, pt;
	struct lwm2m_error err;
	struct cose_iv got;
	int rc;

	buf_init(&out, 0);
	buf_init(&pt, 0);
	rc = mqtt ? cose_mqtt_protect(k, iv, aad, aad_len, plain, n, &out, &err)
		: cose_encrypt0_protect(k, iv, flags, aad, aad_len, plain, n, &out, &err);
	if(rc) fail_msg("protect of %zu bytes: %s", n, err.msg);
	assert_true(cose_looks_protected(out.data, out.len));
	rc = mqtt ? cose_mqtt_unprotect(k, aad, aad_len, out.data, out.len, &pt, &got, &err)
		: cose_encrypt0_unprotect(k, aad, aad_len, out.data, out.len, &pt, &got, &err);
	if(rc) fail_msg("unprotect of %zu bytes: %s", n, err.msg);
	assert_int_equal(pt.len, n);
	if(n) assert_memory_equal(pt.data, plain, n);
	assert_int_equal(got.kind, iv->kind);
	if(iv->kind == COSE_IV_FULL) assert_memory_equal(got.full, iv->full, COSE_NONCE_LEN);
	else assert_int_equal(got.seq, iv->seq);
	if(!mqtt){
		struct cose_encrypt0_view v;
		assert_int_equal(cose_encrypt0_parse(out.data, out.len, &v, &err), 0);
		assert_int_equal(v.tagged, (flags & COSE_F_TAGGED) != 0);
		assert_int_equal(v.ciphertext.len, n + COSE_TAG_LEN);
		/* the ciphertext differs from the plaintext (the keystream is not zero) */
		if(n >= 16) assert_memory_not_equal(v.ciphertext.ptr, plain, 16);
	}
	buf_free(&out);
	buf_free(&pt);
}

static void test_round_trips_many_sizes(void **state)
{
	static uint8_t plain[COSE_CONTENT_MAX];
	struct cose_key k, rfc;
	struct cose_iv iv = full_iv(LW_IV);
	static const size_t big[] = { 511, 512, 1000, 4096, 65534, COSE_CONTENT_MAX };

	(void)state;
	lw_key(&k);
	rfc_key(&rfc, false);
	fill_pattern(plain, sizeof(plain), 7);
	for(size_t n = 0; n <= 300; n++){
		struct cose_iv p = partial_iv(n * 977u);
		iv.full[0] = (uint8_t)n;
		round_trip(&k, &iv, n % 2 ? COSE_F_TAGGED : 0, NULL, 0, plain, n, false);
		round_trip(&k, &p, 0, (const uint8_t *)LW_AAD, n % 22, plain, n, n % 3 == 0);
		round_trip(&rfc, &iv, 0, NULL, 0, plain + 1, n, n % 2 == 0);
	}
	for(size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++){
		round_trip(&k, &iv, 0, NULL, 0, plain, big[i], false);
		round_trip(&k, &iv, 0, NULL, 0, plain, big[i], true);
	}
}

static void test_partial_iv_encoding(void **state)
{
	static const struct {
		uint64_t seq;
		size_t len;
	} cases[] = {
		{ 0, 1 }, { 1, 1 }, { 255, 1 }, { 256, 2 }, { 0xffff, 2 }, { 0x10000, 3 },
		{ 0xffffffffu, 4 }, { 0x100000000ull, 5 }, { 0x00ffffffffffffffull, 7 },
		{ 0x0100000000000000ull, 8 }, { UINT64_MAX, 8 },
	};
	struct cose_key k;
	struct lwm2m_buf out;
	struct lwm2m_error err;
	struct cose_encrypt0_view v;

	(void)state;
	lw_key(&k);
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		struct cose_iv iv = partial_iv(cases[i].seq);
		buf_init(&out, 0);
		assert_int_equal(cose_encrypt0_protect(&k, &iv, 0, NULL, 0, (const uint8_t *)"x", 1,
			&out, &err), 0);
		assert_int_equal(cose_encrypt0_parse(out.data, out.len, &v, &err), 0);
		assert_int_equal(v.iv_kind, COSE_IV_PARTIAL);
		assert_int_equal(v.iv.len, cases[i].len);
		assert_int_equal(v.seq, cases[i].seq);
		assert_int_equal(v.iv.ptr[v.iv.len - 1], (uint8_t)cases[i].seq);
		buf_free(&out);
		round_trip(&k, &iv, 0, NULL, 0, (const uint8_t *)"hello", 5, true);
	}
}

/* Distinct sequence numbers give distinct nonces, hence distinct ciphertexts. */
static void test_distinct_ivs_distinct_ciphertexts(void **state)
{
	struct cose_key k;
	struct lwm2m_buf a, b;
	struct lwm2m_error err;
	struct cose_iv i1 = partial_iv(1), i2 = partial_iv(256);
	struct cose_encrypt0_view va, vb;
	uint8_t zeros[32] = { 0 };

	(void)state;
	lw_key(&k);
	buf_init(&a, 0);
	buf_init(&b, 0);
	assert_int_equal(cose_encrypt0_protect(&k, &i1, 0, NULL, 0, zeros, 32, &a, &err), 0);
	assert_int_equal(cose_encrypt0_protect(&k, &i2, 0, NULL, 0, zeros, 32, &b, &err), 0);
	assert_int_equal(cose_encrypt0_parse(a.data, a.len, &va, &err), 0);
	assert_int_equal(cose_encrypt0_parse(b.data, b.len, &vb, &err), 0);
	assert_memory_not_equal(va.ciphertext.ptr, vb.ciphertext.ptr, 32);
	buf_free(&a);
	buf_free(&b);
}

/* ---------------------------------------------------- limits and arguments ---- */

static void test_protect_refusals(void **state)
{
	static uint8_t big[COSE_CONTENT_MAX + 1];
	uint8_t aad[COSE_EXT_AAD_MAX + 1] = { 0 };
	struct cose_key k, nobase;
	struct cose_iv iv = full_iv(LW_IV), p = partial_iv(1), bad = full_iv(LW_IV);
	struct lwm2m_buf out;
	struct lwm2m_error err;

	(void)state;
	lw_key(&k);
	assert_int_equal(cose_key_from_object23(&nobase, 10, (const uint8_t *)LW_KEY, 16, NULL, 0,
		&err), 0);
	buf_init(&out, 0);
	assert_int_equal(cose_encrypt0_protect(&k, &iv, 0, NULL, 0, big, sizeof(big), &out, &err),
		-LWM2M_ETOOBIG);
	assert_msg_has(&err, "65536 bytes of content exceed 65535");
	assert_int_equal(cose_mqtt_protect(&k, &iv, NULL, 0, big, sizeof(big), &out, &err),
		-LWM2M_ETOOBIG);
	assert_int_equal(cose_encrypt0_protect(&k, &iv, 0, aad, sizeof(aad), big, 1, &out, &err),
		-LWM2M_ETOOBIG);
	assert_msg_has(&err, "external AAD");
	assert_int_equal(cose_encrypt0_protect(&nobase, &p, 0, NULL, 0, big, 1, &out, &err),
		-LWM2M_ENOTSUP);
	assert_msg_has(&err, "base IV");
	bad.kind = (enum cose_iv_kind)7;
	assert_int_equal(cose_encrypt0_protect(&k, &bad, 0, NULL, 0, big, 1, &out, &err),
		-LWM2M_EINVAL);
	assert_int_equal(cose_encrypt0_protect(NULL, &iv, 0, NULL, 0, big, 1, &out, &err),
		-LWM2M_EINVAL);
	assert_int_equal(cose_encrypt0_protect(&k, NULL, 0, NULL, 0, big, 1, &out, &err),
		-LWM2M_EINVAL);
	assert_int_equal(cose_encrypt0_protect(&k, &iv, 0, NULL, 0, NULL, 1, &out, &err),
		-LWM2M_EINVAL);
	assert_int_equal(cose_encrypt0_protect(&k, &iv, 0, NULL, 5, big, 1, &out, &err),
		-LWM2M_EINVAL);
	assert_int_equal(cose_encrypt0_protect(&k, &iv, 0, NULL, 0, big, 1, NULL, &err),
		-LWM2M_EINVAL);
	assert_int_equal(out.len, 0);
	/* the maximum external AAD is fine */
	round_trip(&k, &iv, 0, aad, COSE_EXT_AAD_MAX, big, 3, false);
	assert_int_equal(cose_encrypt0_unprotect(&k, aad, sizeof(aad), big, 10, &out, NULL, &err),
		-LWM2M_ETOOBIG);
	assert_int_equal(cose_encrypt0_unprotect(&k, NULL, 3, big, 10, &out, NULL, &err),
		-LWM2M_EINVAL);
	assert_int_equal(cose_encrypt0_unprotect(NULL, NULL, 0, big, 10, &out, NULL, &err),
		-LWM2M_EINVAL);
	nobase.base_iv_len = COSE_NONCE_LEN + 1;
	assert_int_equal(cose_encrypt0_unprotect(&nobase, NULL, 0, big, 10, &out, NULL, &err),
		-LWM2M_EINVAL);
	assert_int_equal(cose_encrypt0_protect(&nobase, &iv, 0, NULL, 0, big, 1, &out, &err),
		-LWM2M_EINVAL);
	nobase.base_iv_len = 0;
	nobase.kid_len = COSE_KID_MAX + 1;
	assert_int_equal(cose_encrypt0_protect(&nobase, &iv, 0, NULL, 0, big, 1, &out, &err),
		-LWM2M_EINVAL);
	buf_free(&out);
}

static void test_output_appends_and_limits(void **state)
{
	struct cose_key k;
	struct cose_iv iv = full_iv(LW_IV);
	struct lwm2m_buf out, pt;
	struct lwm2m_error err;
	struct bytes msg, want;

	(void)state;
	lw_key(&k);
	hex(&msg, READ_MSG);
	hex(&want, LW_E0_FULL);
	/* appends after what is there */
	buf_init(&out, 0);
	assert_int_equal(buf_append(&out, "ab", 2), 0);
	assert_int_equal(cose_encrypt0_protect(&k, &iv, 0, NULL, 0, msg.b, msg.n, &out, &err), 0);
	assert_int_equal(out.len, 2 + want.n);
	assert_memory_equal(out.data, "ab", 2);
	assert_memory_equal(out.data + 2, want.b, want.n);
	buf_free(&out);
	/* a limit one byte short refuses and leaves the buffer as it was */
	buf_init(&out, want.n + 1);
	assert_int_equal(buf_append(&out, "a", 1), 0);
	assert_int_equal(buf_append(&out, "b", 1), 0);
	assert_int_equal(cose_encrypt0_protect(&k, &iv, 0, NULL, 0, msg.b, msg.n, &out, &err),
		-LWM2M_ETOOBIG);
	assert_int_equal(out.len, 2);
	assert_memory_equal(out.data, "ab", 2);
	buf_free(&out);
	buf_init(&out, want.n);
	assert_int_equal(cose_encrypt0_protect(&k, &iv, 0, NULL, 0, msg.b, msg.n, &out, &err), 0);
	buf_free(&out);
	/* plaintext output: appended, limited */
	buf_init(&pt, 0);
	assert_int_equal(buf_append(&pt, "z", 1), 0);
	assert_int_equal(open_bare(&k, &want, &pt, NULL, &err), 0);
	assert_int_equal(pt.len, 1 + msg.n);
	assert_memory_equal(pt.data + 1, msg.b, msg.n);
	buf_free(&pt);
	buf_init(&pt, msg.n - 1);
	assert_int_equal(open_bare(&k, &want, &pt, NULL, &err), -LWM2M_ETOOBIG);
	assert_int_equal(pt.len, 0);
	buf_free(&pt);
	/* empty content */
	round_trip(&k, &iv, 0, NULL, 0, NULL, 0, false);
	round_trip(&k, &iv, 0, NULL, 0, NULL, 0, true);
}

static void test_key_from_object23(void **state)
{
	struct cose_key k;
	struct lwm2m_error err;
	uint8_t kid[COSE_KID_MAX + 1];
	static const uint8_t zero[sizeof(struct cose_key)];

	(void)state;
	memset(kid, 'k', sizeof(kid));
	assert_int_equal(cose_key_from_object23(&k, 11, (const uint8_t *)LW_KEY, 16, kid, 1,
		&err), -LWM2M_ENOTSUP);
	assert_msg_has(&err, "11");
	assert_int_equal(cose_key_from_object23(&k, 1, (const uint8_t *)LW_KEY, 16, kid, 1,
		&err), -LWM2M_ENOTSUP);
	assert_int_equal(cose_key_from_object23(&k, 10, (const uint8_t *)LW_KEY, 15, kid, 1,
		&err), -LWM2M_EINVAL);
	assert_msg_has(&err, "15 bytes");
	assert_int_equal(cose_key_from_object23(&k, 10, (const uint8_t *)"0123456789abcdefX", 17,
		kid, 1, &err), -LWM2M_EINVAL);
	assert_int_equal(cose_key_from_object23(&k, 10, NULL, 16, kid, 1, &err), -LWM2M_EINVAL);
	assert_int_equal(cose_key_from_object23(&k, 10, (const uint8_t *)LW_KEY, 16, NULL, 1,
		&err), -LWM2M_EINVAL);
	assert_int_equal(cose_key_from_object23(&k, 10, (const uint8_t *)LW_KEY, 16, kid,
		sizeof(kid), &err), -LWM2M_ETOOBIG);
	assert_int_equal(cose_key_from_object23(&k, 10, (const uint8_t *)LW_KEY, 16, kid,
		COSE_KID_MAX, &err), 0);
	assert_int_equal(k.kid_len, COSE_KID_MAX);
	assert_memory_equal(k.key, LW_KEY, 16);
	assert_int_equal(k.base_iv_len, 0);
	assert_int_equal(cose_key_set_base_iv(&k, kid, 0, &err), -LWM2M_EINVAL);
	assert_int_equal(cose_key_set_base_iv(&k, kid, 14, &err), -LWM2M_EINVAL);
	assert_int_equal(cose_key_set_base_iv(&k, kid, 13, &err), 0);
	assert_int_equal(k.base_iv_len, 13);
	cose_key_wipe(&k);
	assert_memory_equal(&k, zero, sizeof(k));
}

static void test_looks_protected(void **state)
{
	struct bytes m;
	static const char *const yes[] = {
		RFC_C41, LW_E0_FULL, LW_WRAP_FULL, LW_WRAP_PARTIAL,
		"a202a001410002a0",     /* key 2 first */
		"bf02a00141ff",         /* indefinite map */
		"d0", "9f40", "d810", "d9001083",
	};
	static const char *const no[] = {
		"", "a201f602a3010902183805662f332f302f30", "a3010902183805662f332f302f30",
		"a2020b12190194", "8301020340", "83", "ff", "a1", "a201", "8143a1010a",
		"a202818181818181818101014100",   /* key 1 hidden behind too deep a value */
		"d1", "c083", "d811", "dc",
	};

	(void)state;
	for(size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++){
		hex(&m, yes[i]);
		if(!cose_looks_protected(m.b, m.n)) fail_msg("yes[%zu] not recognised", i);
	}
	for(size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++){
		hex(&m, no[i]);
		if(cose_looks_protected(m.b, m.n)) fail_msg("no[%zu] taken as protected", i);
	}
	assert_false(cose_looks_protected(NULL, 4));
}

static void test_unprotected_answer(void **state)
{
	(void)state;
	assert_int_equal(cose_unprotected_answer(LWM2M_OP_REGISTER), 403);
	assert_int_equal(cose_unprotected_answer(LWM2M_OP_BOOTSTRAP_PACK_REQUEST), 401);
	assert_int_equal(cose_unprotected_answer(LWM2M_OP_BOOTSTRAP_REQUEST), 400);
	assert_int_equal(cose_unprotected_answer(LWM2M_OP_UPDATE), 400);
	assert_int_equal(cose_unprotected_answer(LWM2M_OP_DEREGISTER), 400);
	assert_int_equal(cose_unprotected_answer(LWM2M_OP_SEND), 400);
	assert_int_equal(cose_unprotected_answer(LWM2M_OP_READ), 400);
	assert_int_equal(cose_unprotected_answer(LWM2M_OP_NOTIFY), 0);
	assert_int_equal(cose_unprotected_answer(LWM2M_OP_NONE), 0);
	assert_int_equal(cose_unprotected_answer(LWM2M_OP_KIND_COUNT), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_c41_protect_exact),
		cmocka_unit_test(test_rfc_c41_unprotect),
		cmocka_unit_test(test_rfc_c42_partial_iv),
		cmocka_unit_test(test_parse_view),
		cmocka_unit_test(test_mqtt_wrapper_vectors),
		cmocka_unit_test(test_mqtt_unwrap_view),
		cmocka_unit_test(test_external_aad),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_headers_accepted),
		cmocka_unit_test(test_refused_algorithm),
		cmocka_unit_test(test_refused_iv),
		cmocka_unit_test(test_refused_kid),
		cmocka_unit_test(test_refused_labels),
		cmocka_unit_test(test_refused_structure),
		cmocka_unit_test(test_refused_nesting),
		cmocka_unit_test(test_refused_mqtt_wrapper),
		cmocka_unit_test(test_mqtt_wrapper_shapes_accepted),
		cmocka_unit_test(test_truncation_every_prefix),
		cmocka_unit_test(test_bit_flips_refused),
		cmocka_unit_test(test_round_trips_many_sizes),
		cmocka_unit_test(test_partial_iv_encoding),
		cmocka_unit_test(test_distinct_ivs_distinct_ciphertexts),
		cmocka_unit_test(test_protect_refusals),
		cmocka_unit_test(test_output_appends_and_limits),
		cmocka_unit_test(test_key_from_object23),
		cmocka_unit_test(test_looks_protected),
		cmocka_unit_test(test_unprotected_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
